// check_chapter_filters REPO_ROOT — every "Test it now" command of every available module's
// chapter that narrows the tests with -R selects tests of its part only, by this rule:
//
//   a filter selects what ctest's -R selects: the tests whose name "moduleNN.Suite.Test" the
//   regex finds; it must select at least one test; it takes test suites WHOLE, or single tests
//   by the start of their names ("Bce" takes Errors.BceDtypesAndShapes, "Sdpa\.Fully" takes
//   Sdpa.FullyMaskedRows…) — never through a word that happens to occur inside a test's name
//   ("Tanh" also finds Gelu.ExactAndTanhForms…, "Bucket" DdpTest.TheMlpsBuckets…); and no two
//   parts of a chapter select the same test.
//
// So tests are named after what they cover, and a part owns whole suites or the tests whose
// names start with its words. A command without -R runs the whole module (the chapter says so where
// it uses one). The test names come from the module's visible test sources (TEST, TEST_F, TEST_P
// with its INSTANTIATE_TEST_SUITE_P), as gtest_discover_tests names them: "moduleNN.Suite.Test" and
// "moduleNN.Instance/Suite.Test/param". Prints each problem with the chapter's line; exits 1
// when there is any. Run by ctest as course.chapter_filters (label course).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "module_map.h"
#include "util.h"

namespace {

namespace fs = std::filesystem;

struct TestName {
  std::string full;            // as ctest lists it (a parameterized test with the parameter "0")
  std::string suite;           // "Sigmoid"
  std::string test;            // "LimitsAndSymmetry"
  bool parameterized = false;  // a TEST_P: its instances' names end in parameters unknown here
};

// The module's visible tests, from its test sources.
std::vector<TestName> module_tests(const fs::path& root, const tito::ModuleInfo& module) {
  static const std::regex kTest(R"(\b(TEST|TEST_F|TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  static const std::regex kInstance(R"(\bINSTANTIATE_TEST_SUITE_P\s*\(\s*(\w+)\s*,\s*(\w+)\s*,)");
  std::vector<TestName> out;
  for (const auto& dir : module.tests) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".cpp") continue;
      const auto text = tito::read_file(entry.path());
      std::map<std::string, std::vector<std::string>> instances;  // suite -> instance names
      for (std::sregex_iterator it(text.begin(), text.end(), kInstance), end; it != end; ++it) {
        instances[(*it)[2]].push_back((*it)[1]);
      }
      for (std::sregex_iterator it(text.begin(), text.end(), kTest), end; it != end; ++it) {
        const std::string suite = (*it)[2], test = (*it)[3];
        const std::string prefix = "module" + module.id + ".";
        if ((*it)[1] != "TEST_P") {
          out.push_back({prefix + suite + "." + test, suite, test});
          continue;
        }
        for (const auto& instance : instances[suite]) {
          out.push_back({prefix + instance + "/" + suite + "." + test + "/0", suite, test, true});
        }
      }
    }
  }
  return out;
}

struct Command {
  int line = 0;
  std::string part;    // the "## ..." heading it is under
  std::string filter;  // the -R argument, unquoted ("" when none)
};

// The module test commands of the chapter's "### Test it now" code blocks (and those of any code
// block marked "# test it now"):
// ./tito test --module NN [-R FILTER] and ./tito module test NN [-R FILTER].
std::vector<Command> test_it_now_commands(const std::string& chapter, const std::string& id) {
  static const std::regex kCommand(
      R"(^\./tito (?:test --module (\d+)|module test (\d+))(?:\s+-R\s+("[^"]*"|'[^']*'|\S+))?)");
  std::vector<Command> out;
  std::istringstream in(chapter);
  std::string line, part;
  int number = 0;
  bool in_section = false, in_code = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("## ", 0) == 0) {
      part = line.substr(3);
      in_section = false;
    } else if (line.rfind("### ", 0) == 0) {
      in_section = line == "### Test it now";
    } else if (line.rfind("```", 0) == 0) {
      in_code = !in_code;
    } else if (in_code && (in_section || line.find("# test it now") != std::string::npos)) {
      std::smatch m;
      if (!std::regex_search(line, m, kCommand)) continue;
      const std::string module = m[1].matched ? m[1].str() : m[2].str();
      if (module != id) continue;
      std::string filter = m[3];
      if (filter.size() >= 2 && (filter[0] == '"' || filter[0] == '\'')) {
        filter = filter.substr(1, filter.size() - 2);
      }
      out.push_back({number, part, filter});
    }
  }
  return out;
}

std::vector<std::string> split_alternatives(const std::string& filter) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : filter) {
    if (c == '|') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  return out;
}

// Whether an alternative of a filter names this test: the alternative, read as plain text (an
// escaped dot is a dot), is the start of the test's name ("Bce" names Errors.BceDtypesAndShapes)
// or of "Suite.Test" ("Sdpa\.Fully" names Sdpa.FullyMaskedRowsAreZero…). A word found inside
// the name ("Tanh" in Gelu.ExactAndTanhForms…) does not name it.
bool names_test(const std::string& alternative, const TestName& t) {
  std::string plain;
  for (size_t i = 0; i < alternative.size(); ++i) {
    if (alternative[i] == '\\' && i + 1 < alternative.size() && alternative[i + 1] == '.') continue;
    plain += alternative[i];
  }
  if (!plain.empty() && plain[0] == '.') plain.erase(0, 1);  // "\.Nll": a name starting "Nll"
  const auto starts = [&](const std::string& name) { return name.rfind(plain, 0) == 0; };
  return !plain.empty() && (starts(t.test) || starts(t.suite + "." + t.test));
}

// Whether an alternative picks instances of a parameterized test by their parameters,
// "OptimizerReference.*sgd": its text before ".*" is the suite. The parameters are data (read
// from the reference file when the tests run), so which instances it picks is not checked.
bool picks_instances(const std::string& alternative, const TestName& t) {
  const auto star = alternative.find(".*");
  return t.parameterized && star != std::string::npos && alternative.substr(0, star) == t.suite;
}

int check_module(const fs::path& root, const tito::ModuleInfo& module) {
  const auto commands = test_it_now_commands(tito::read_file(root / module.chapter), module.id);
  const auto tests = module_tests(root, module);
  int problems = 0;
  const auto problem = [&](const Command& c, const std::string& what) {
    std::cerr << module.chapter << ":" << c.line << ": (" << c.part << ") -R \"" << c.filter
              << "\": " << what << '\n';
    ++problems;
  };
  std::map<std::string, std::string> selected_by;  // test -> the part whose filter selects it
  for (const auto& c : commands) {
    if (c.filter.empty()) continue;  // the whole module
    std::regex regex;
    try {
      regex = std::regex(c.filter, std::regex::extended);
    } catch (const std::regex_error& e) {
      problem(c, std::string("not a regular expression: ") + e.what());
      continue;
    }
    const auto alternatives = split_alternatives(c.filter);
    std::map<std::string, std::pair<int, int>> suites;  // suite -> (selected, total)
    std::vector<const TestName*> selected;
    bool picks = false;
    for (const auto& t : tests) {
      auto& [chosen, total] = suites[t.suite];
      ++total;
      const bool by_parameter =
          std::any_of(alternatives.begin(), alternatives.end(),
                      [&](const std::string& alt) { return picks_instances(alt, t); });
      picks = picks || by_parameter;
      if (by_parameter) continue;  // some of its instances: the part's own, not compared
      if (!std::regex_search(t.full, regex)) continue;
      ++chosen;
      selected.push_back(&t);
    }
    if (selected.empty() && !picks) problem(c, "selects no test of module " + module.id);
    for (const auto* t : selected) {
      const auto [chosen, total] = suites[t->suite];
      const bool named = std::any_of(alternatives.begin(), alternatives.end(),
                                     [&](const std::string& alt) { return names_test(alt, *t); });
      if (chosen < total && !named) {
        problem(c, "selects " + t->full + " (" + std::to_string(chosen) + " of the " +
                       std::to_string(total) + " tests of suite " + t->suite +
                       "), but only through a word inside its name: take the suite whole, or name "
                       "the test by the start of its name");
      }
      const auto [it, fresh] = selected_by.emplace(t->full, c.part);
      if (!fresh && it->second != c.part) {
        problem(c, "selects " + t->full + ", which \"" + it->second +
                       "\" selects too; a test belongs to one part");
      }
    }
  }
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: check_chapter_filters REPO_ROOT\n";
    return 2;
  }
  try {
    const fs::path root = argv[1];
    const auto map = tito::load_module_map(root);
    int problems = 0, filters = 0;
    for (const auto& module : map.modules) {
      if (!module.available()) continue;
      problems += check_module(root, module);
      for (const auto& c : test_it_now_commands(tito::read_file(root / module.chapter), module.id))
        filters += c.filter.empty() ? 0 : 1;
    }
    if (problems > 0) {
      std::cerr << problems << " problem(s) in the chapters' \"Test it now\" filters\n";
      return 1;
    }
    std::cout << "every one of the " << filters
              << " \"Test it now\" filters selects exactly the tests of its part\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "check_chapter_filters: " << e.what() << '\n';
    return 2;
  }
}
