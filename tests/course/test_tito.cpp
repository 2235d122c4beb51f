// Unit tests for tito's course logic that the learner sees: prerequisites, unknown module ids,
// the not-implemented summary, the functions `module start` lists, a build folder carried along
// by a copied checkout, the commit tito hands the programs it runs (tools/tito/src/module_map,
// course, project, util).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "course.h"
#include "module_map.h"
#include "project.h"

namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// A temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("tito-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// 01 <- 02 <- 03 <- 05 (04 is a side branch of 02), 06 is planned.
tito::ModuleMap chain_map(const fs::path& root) {
  write(root / "modules" / "modules.json", R"({"modules": [
    {"id": "01", "name": "tensor", "status": "available"},
    {"id": "02", "name": "activations", "prerequisites": ["01"], "status": "available"},
    {"id": "03", "name": "layers", "prerequisites": ["02"], "status": "available"},
    {"id": "04", "name": "losses", "prerequisites": ["02"], "status": "available"},
    {"id": "05", "name": "autograd", "prerequisites": ["03"], "status": "available"},
    {"id": "06", "name": "optimizers", "prerequisites": ["05"], "status": "planned"}]})");
  return tito::load_module_map(root);
}

TEST(Tito, StartNamesEveryMissingPrerequisiteInOrder) {
  const TempDir dir;
  const auto map = chain_map(dir.path);
  EXPECT_EQ(map.missing_prerequisites("05", {}), (Strings{"01", "02", "03"}));
  EXPECT_EQ(map.missing_prerequisites("05", {"01", "03"}), (Strings{"02"}));
  EXPECT_EQ(map.missing_prerequisites("05", {"01", "02", "03"}), Strings{});
  EXPECT_EQ(map.missing_prerequisites("01", {}), Strings{});
}

// A module recommended before another comes just before it in the course order, and says why:
// the milestones that require it.
TEST(Tito, RecommendedBeforeMovesAModuleEarlyAndSaysWhy) {
  const TempDir dir;
  write(dir.path / "modules" / "modules.json", R"({"modules": [
    {"id": "01", "name": "tensor", "status": "available"},
    {"id": "02", "name": "spatial", "prerequisites": ["01"], "status": "available"},
    {"id": "03", "name": "transformers", "prerequisites": ["02"], "status": "available"},
    {"id": "04", "name": "acceleration", "prerequisites": ["01"], "recommended_before": ["02"],
     "status": "available"}],
    "milestones": [{"id": "1998", "requires": ["02", "04"]},
                   {"id": "2017", "requires": ["03", "04"]}]})");
  const auto map = tito::load_module_map(dir.path);
  Strings order;
  for (const tito::ModuleInfo* m : map.course_order()) order.push_back(m->id);
  EXPECT_EQ(order, (Strings{"01", "04", "02", "03"}));
  EXPECT_EQ(map.milestones_requiring("04"), (Strings{"1998", "2017"}));
  EXPECT_EQ(map.recommendation(map.module("04")),
            "take it before 02: milestones 1998, 2017 need it");
  EXPECT_EQ(map.recommendation(map.module("02")), "");

  write(dir.path / "modules" / "modules.json", R"({"modules": [
    {"id": "01", "name": "tensor", "recommended_before": ["07"]}]})");
  try {
    static_cast<void>(tito::load_module_map(dir.path));
    ADD_FAILURE() << "recommended_before naming an unknown module was accepted";
  } catch (const tito::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'recommended_before' names '07'"), std::string::npos)
        << e.what();
  }
}

// The course's own map: the milestones whose targets need the fast tier require module 18 (and
// 1997, whose LSTM is compared with 2017's GPT on the same kernels), and module 18 is
// recommended before 09 — the first module whose milestone needs it.
TEST(Tito, TheCourseMapMakesModule18LoadBearingFrom09On) {
  const auto map = tito::load_module_map(TITO_TEST_SOURCE_DIR);
  EXPECT_EQ(map.milestones_requiring("18"), (Strings{"1997", "1998", "2017"}));
  EXPECT_EQ(map.module("18").recommended_before, Strings{"09"});
  Strings order;
  for (const tito::ModuleInfo* m : map.course_order()) order.push_back(m->id);
  const auto at = [&](const std::string& id) {
    return std::find(order.begin(), order.end(), id) - order.begin();
  };
  EXPECT_EQ(at("18") + 1, at("09")) << "module 18 comes right before 09";
  EXPECT_EQ(order.size(), map.modules.size());
}

TEST(Tito, UnknownModuleOffersOnlyTheAvailableOnes) {
  const TempDir dir;
  const auto map = chain_map(dir.path);
  try {
    static_cast<void>(map.module("42"));
    FAIL() << "module 42 was found";
  } catch (const tito::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'42'"), std::string::npos) << what;
    EXPECT_NE(what.find("01, 02, 03, 04, 05)"), std::string::npos) << what;
    EXPECT_EQ(what.find("06"), std::string::npos) << what;
  }
  try {
    static_cast<void>(map.available_module("06"));
    FAIL() << "planned module 06 was offered";
  } catch (const tito::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("planned"), std::string::npos) << what;
    EXPECT_NE(what.find("01, 02, 03, 04, 05"), std::string::npos) << what;
  }
  EXPECT_EQ(map.available_module("03").name, "layers");
}

// A field of the wrong type is a tito::Error naming the field and the module, not an exception
// from the JSON library (found by fuzz_modules_json: "title": [...] ended tito with terminate).
TEST(Tito, ModulesJsonFieldsOfTheWrongTypeAreErrors) {
  const TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {R"("title": ["a"])", "'title' must be a string"},
      {R"("chapter": 3)", "'chapter' must be a string"},
      {R"("lab": {})", "'lab' must be a string"},
      {R"("status": true)", "'status' must be a string"},
      {R"("points": "100")", "'points' must be a number >= 0"},
      {R"("points": -5)", "'points' must be a number >= 0"}};
  for (const auto& [field, message] : cases) {
    write(dir.path / "modules" / "modules.json",
          R"({"modules": [{"id": "01", "name": "tensor", )" + field + "}]}");
    try {
      static_cast<void>(tito::load_module_map(dir.path));
      ADD_FAILURE() << field << " was accepted";
    } catch (const tito::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(message), std::string::npos) << what;
      EXPECT_NE(what.find("module \"01\""), std::string::npos) << what;
    }
  }
  write(dir.path / "modules" / "modules.json",
        R"({"modules": [], "milestones": [{"id": "1986", "directory": 1986}]})");
  try {
    static_cast<void>(tito::load_module_map(dir.path));
    ADD_FAILURE() << "a milestone directory that is a number was accepted";
  } catch (const tito::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'directory' must be a string"), std::string::npos)
        << e.what();
  }
  // Absent or null optional fields take their defaults.
  write(dir.path / "modules" / "modules.json",
        R"({"modules": [{"id": "01", "name": "tensor", "title": null, "points": null}]})");
  const auto map = tito::load_module_map(dir.path);
  EXPECT_EQ(map.module("01").title, "tensor");
  EXPECT_EQ(map.module("01").status, "planned");
  EXPECT_EQ(map.module("01").points, 0);
}

tito::TestCase failed(const std::string& name, const std::string& module, const std::string& fn) {
  return {name, tito::Outcome::kFailed,
          "unknown file: Failure\nC++ exception with description \"not implemented yet — module " +
              module + ": implement " + fn + " in f.cpp; read c.md\" thrown in the test body.\n"};
}

TEST(Tito, NotImplementedSummaryPutsTheRealBlockerFirst) {
  tito::TestRun run;
  run.ran = true;
  run.cases = {failed("a", "01 (tensor)", "Tensor::argmax"),
               failed("b", "01 (tensor)", "compute_numel"),
               failed("c", "01 (tensor)", "compute_numel"),
               failed("d", "02 (activations)", "relu"),
               failed("e", "01 (tensor)", "compute_numel"),
               failed("f", "01 (tensor)", "Tensor::view"),
               failed("g", "01 (tensor)", "Tensor::view"),
               {"h", tito::Outcome::kPassed, ""},
               {"i", tito::Outcome::kFailed, "x.cpp:3: Failure\nExpected equality\n"}};
  const auto summary = tito::not_implemented_summary(run);
  ASSERT_EQ(summary.size(), 4U);
  // Most failed tests first; equal counts: the earlier module first, then the order seen.
  EXPECT_EQ(summary[0].what, "implement compute_numel in f.cpp; read c.md");
  EXPECT_EQ(summary[0].tests, 3);
  EXPECT_EQ(summary[1].what, "implement Tensor::view in f.cpp; read c.md");
  EXPECT_EQ(summary[2].what, "implement Tensor::argmax in f.cpp; read c.md");
  EXPECT_EQ(summary[3].what, "implement relu in f.cpp; read c.md");
  EXPECT_EQ(summary[3].tests, 1);
}

// A forward that is wrong (NaN where a fully masked row must give 0) in a test that then calls
// the backward, still a stub: the got/expected must be shown, and before every stub-only failure.
TEST(Tito, RealFailuresComeFirstAndAreNotHiddenByALaterStub) {
  tito::TestRun run;
  run.ran = true;
  const std::string wrong_then_stub =
      "t.cpp:7: Failure\nValue of: match(out, want)\n  at [0, 1]: got -nan, expected 0\n"
      "unknown file: Failure\nC++ exception with description \"not implemented yet — module 12 "
      "(attention): implement attention_backward_reference in f.cpp; read c.md\" thrown in the "
      "test body.\n[  FAILED  ] Sdpa.FullyMaskedRows\n";
  run.cases = {failed("stub1", "12 (attention)", "attention_backward_reference"),
               {"wrong", tito::Outcome::kFailed, wrong_then_stub},
               failed("stub2", "12 (attention)", "attention_backward_reference"),
               {"crash", tito::Outcome::kCrashed, "(SEGFAULT)"},
               {"ok", tito::Outcome::kPassed, ""}};
  const auto lines = tito::failure_lines(wrong_then_stub);
  EXPECT_EQ(lines, (Strings{"Value of: match(out, want)", "  at [0, 1]: got -nan, expected 0"}));
  EXPECT_TRUE(tito::not_implemented_hint(wrong_then_stub).has_value());
  EXPECT_TRUE(tito::failure_lines(run.cases[0].output).empty());
  Strings order;
  for (const auto* c : tito::failures_in_order(run)) order.push_back(c->name);
  EXPECT_EQ(order, (Strings{"wrong", "crash", "stub1", "stub2"}));
}

// tito diagnose reruns exactly the failed tests: not one whose name merely contains another's.
TEST(Tito, ExactTestRegexSelectsOnlyTheNamedTests) {
  const std::regex regex(
      tito::exact_test_regex({"module04.Nll.Picks", "module06.Cases/Opt.Matches/sgd_plain"}),
      std::regex::extended);
  EXPECT_TRUE(std::regex_search("module04.Nll.Picks", regex));
  EXPECT_TRUE(std::regex_search("module06.Cases/Opt.Matches/sgd_plain", regex));
  EXPECT_FALSE(std::regex_search("module04.Nll.PicksMore", regex));
  EXPECT_FALSE(std::regex_search("xmodule04.Nll.Picks", regex));
  EXPECT_FALSE(std::regex_search("module04xNll.Picks", regex));  // the dot is a dot
}

TEST(Tito, CountsAgreeWithTheirNouns) {
  EXPECT_EQ(tito::counted(1, "test"), "1 test");
  EXPECT_EQ(tito::counted(0, "test"), "0 tests");
  EXPECT_EQ(tito::counted(2, "more failed test"), "2 more failed tests");
}

TEST(Tito, OverloadedFunctionsAreListedOnce) {
  EXPECT_EQ(tito::unique_in_order({"Tensor::sum", "Tensor::view", "Tensor::sum", "max"}),
            (Strings{"Tensor::sum", "Tensor::view", "max"}));
}

TEST(Tito, BuildFolderOfACopiedCheckoutIsStale) {
  const TempDir dir;
  const auto root = dir.path / "copy";
  const auto build = root / "build" / "release";
  EXPECT_EQ(tito::stale_cache_reason(build, root), std::nullopt);  // no cache yet
  const auto cache = [&](const fs::path& source, const fs::path& binary) {
    write(build / "CMakeCache.txt", "# comment\nCMAKE_CACHEFILE_DIR:INTERNAL=" + binary.string() +
                                        "\nCMAKE_HOME_DIRECTORY:INTERNAL=" + source.string() +
                                        "\n");
  };
  cache(root, build);
  EXPECT_EQ(tito::stale_cache_reason(build, root), std::nullopt);
  cache(root / "build" / "..", build);  // the same folder, spelt differently
  EXPECT_EQ(tito::stale_cache_reason(build, root), std::nullopt);
  const auto old = dir.path / "original";
  cache(old, old / "build" / "release");
  EXPECT_EQ(tito::stale_cache_reason(build, root), "configured for " + old.string());
  cache(root, old / "build" / "release");
  EXPECT_EQ(tito::stale_cache_reason(build, root),
            "configured for " + (old / "build" / "release").string());
}

// Runs git in `repo` with a throwaway identity; fails the test when git does.
void git(const fs::path& repo, std::vector<std::string> args) {
  args.insert(args.begin(),
              {"git", "-C", repo.string(), "-c", "user.name=t", "-c", "user.email=t@example.com"});
  const auto result = tito::capture(args);
  ASSERT_EQ(result.exit_code, 0) << tito::join_command(args) << ": " << result.output;
}

// What TINYTORCH_COMMIT is after export_commit(root), starting from `before` (nullptr: unset).
std::string exported_commit(const fs::path& root, const char* before) {
  if (before == nullptr) {
    unsetenv("TINYTORCH_COMMIT");
  } else {
    setenv("TINYTORCH_COMMIT", before, 1);
  }
  tito::export_commit(root);
  const char* after = std::getenv("TINYTORCH_COMMIT");
  std::string value = after == nullptr ? "(unset)" : after;
  unsetenv("TINYTORCH_COMMIT");
  return value;
}

TEST(Tito, ProgramsAreToldTheCommitTheyMeasure) {
  if (!tito::find_program("git")) GTEST_SKIP() << "git is not installed";
  const TempDir dir;
  EXPECT_EQ(exported_commit(dir.path, nullptr), "(unset)");  // not a checkout: the programs say so
  git(dir.path, {"init", "-q"});
  write(dir.path / "a.txt", "one\n");
  git(dir.path, {"add", "a.txt"});
  git(dir.path, {"commit", "-q", "-m", "first"});
  const auto head =
      tito::capture({"git", "-C", dir.path.string(), "rev-parse", "--short=7", "HEAD"});
  const std::string hash = head.output.substr(0, head.output.find('\n'));
  ASSERT_EQ(hash.size(), 7u) << head.output;

  EXPECT_EQ(exported_commit(dir.path, nullptr), hash);
  write(dir.path / "untracked.txt", "build output\n");  // untracked files do not count
  EXPECT_EQ(exported_commit(dir.path, nullptr), hash);
  write(dir.path / "a.txt", "two\n");  // a tracked file changed: not the commit's code
  EXPECT_EQ(exported_commit(dir.path, nullptr), hash + "-dirty");
  EXPECT_EQ(exported_commit(dir.path, "v1.0-release"), "v1.0-release");  // the caller's word wins
  // A course copied into a folder of that checkout is not its commit.
  write(dir.path / "copy" / "CMakeLists.txt", "\n");
  EXPECT_EQ(exported_commit(dir.path / "copy", nullptr), "(unset)");
}

}  // namespace

// Found by the junit fuzzer: a malformed character reference threw std::invalid_argument out of
// the parser (std::stoul). A reference that is not one is kept as text; a real one is decoded.
TEST(Tito, JunitReportWithMalformedCharacterReferencesParses) {
  const std::string xml =
      "<testsuite><testcase name=\"a&#;b&#x;c&#xZZ;d&#99999999;e&#65;&#x42;\" status=\"run\">"
      "</testcase></testsuite>";
  std::vector<tito::TestCase> cases;
  ASSERT_NO_THROW(cases = tito::parse_junit(xml));
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].name, "a&#;b&#x;c&#xZZ;d&#99999999;eAB");
}
