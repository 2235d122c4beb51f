#include "course.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "project.h"

namespace tito {

namespace {

using nlohmann::json;

// The code point of a character reference's body ("#65", "#x41"), or nullopt when it is not one
// (no digits, other characters, beyond Unicode's U+10FFFF): the caller then keeps the text as is.
// The report is written by ctest, but a test's name or output can put anything in it.
std::optional<uint32_t> character_reference(std::string_view entity) {
  if (entity.empty() || entity[0] != '#') return std::nullopt;
  const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
  const std::string_view digits = entity.substr(hex ? 2 : 1);
  uint32_t code = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() ||
      code > 0x10FFFF)
    return std::nullopt;
  return code;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const auto entity = s.substr(i + 1, semi - i - 1);
    if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "amp") {
      out += '&';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (const auto code = character_reference(entity)) {
      if (*code < 0x80) {
        out += static_cast<char>(*code);
      } else if (*code < 0x800) {
        out += static_cast<char>(0xC0 | (*code >> 6));
        out += static_cast<char>(0x80 | (*code & 0x3F));
      } else if (*code < 0x10000) {
        out += static_cast<char>(0xE0 | (*code >> 12));
        out += static_cast<char>(0x80 | ((*code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (*code & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (*code >> 18));
        out += static_cast<char>(0x80 | ((*code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((*code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (*code & 0x3F));
      }
    } else {
      out += s[i];
      continue;
    }
    i = semi;
  }
  return out;
}

std::string attribute(std::string_view tag, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  for (auto pos = tag.find(key); pos != std::string_view::npos; pos = tag.find(key, pos + 1)) {
    if (pos == 0 || std::isspace(static_cast<unsigned char>(tag[pos - 1])) == 0) continue;
    const auto start = pos + key.size();
    const auto end = tag.find('"', start);
    return xml_unescape(tag.substr(start, end - start));
  }
  return {};
}

// ctest's console summary: "\t  3 - module01.Views.T (SEGFAULT)" → name → status word.
// (Parsed by hand: GCC 12 warns inside std::regex under -fsanitize, and the warning is an error.)
std::map<std::string, std::string> failed_statuses(const std::string& console) {
  std::map<std::string, std::string> out;
  const auto section = console.find("The following tests FAILED:");
  if (section == std::string::npos) return out;
  std::istringstream in(console.substr(section));
  std::string line;
  while (std::getline(in, line)) {
    // <spaces> <digits> " - " <name without spaces> " (" <status> ")" <spaces>
    const auto number = line.find_first_not_of(" \t");
    if (number == std::string::npos || std::isdigit(static_cast<unsigned char>(line[number])) == 0)
      continue;
    const auto dash = line.find_first_not_of("0123456789", number);
    if (dash == std::string::npos || line.compare(dash, 3, " - ") != 0) continue;
    const auto name = dash + 3;
    const auto space = line.find(' ', name);
    const auto last = line.find_last_not_of(" \t\r");
    if (space == std::string::npos || space == name || line.compare(space, 2, " (") != 0 ||
        line[last] != ')' || last < space + 2) {
      continue;
    }
    out[line.substr(name, space - name)] = line.substr(space + 2, last - space - 2);
  }
  return out;
}

}  // namespace

int TestRun::count(Outcome outcome) const {
  int n = 0;
  for (const auto& c : cases) n += c.outcome == outcome ? 1 : 0;
  return n;
}

std::string outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kCrashed:
      return "crashed";
    case Outcome::kTimedOut:
      return "timed out";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

std::vector<TestCase> parse_junit(const std::string& xml) {
  std::vector<TestCase> cases;
  size_t pos = 0;
  while ((pos = xml.find("<testcase ", pos)) != std::string::npos) {
    const auto tag_end = xml.find('>', pos);
    if (tag_end == std::string::npos) break;
    const std::string_view tag(xml.data() + pos, tag_end - pos);
    TestCase tc;
    tc.name = attribute(tag, "name");
    const auto status = attribute(tag, "status");
    const bool self_closing = tag_end > 0 && xml[tag_end - 1] == '/';
    auto close = self_closing ? tag_end : xml.find("</testcase>", tag_end);
    if (close == std::string::npos) close = xml.size();
    const std::string_view body(xml.data() + tag_end + 1, close - tag_end - (self_closing ? 0 : 1));
    const auto out_begin = body.find("<system-out>");
    const auto out_end = body.find("</system-out>");
    if (out_begin != std::string_view::npos && out_end != std::string_view::npos) {
      tc.output = xml_unescape(body.substr(out_begin + 12, out_end - out_begin - 12));
    }
    if (status == "run") {
      tc.outcome = Outcome::kPassed;
    } else if (status == "disabled" || status == "notrun" ||
               body.find("<skipped") != std::string_view::npos) {
      tc.outcome = Outcome::kSkipped;
    } else {
      tc.outcome = Outcome::kFailed;
    }
    cases.push_back(std::move(tc));
    pos = close;
  }
  return cases;
}

bool build_module_tests(const fs::path& root, const std::string& preset, const ModuleMap& map,
                        const std::vector<std::string>& ids, bool hidden, int jobs) {
  if (ensure_configured(root, preset) != 0) {
    throw Error("configuring build/" + preset + " failed (see above)");
  }
  std::vector<std::string> targets;
  for (const auto& id : ids) {
    const std::string target = "test_module" + id;
    if (!has_target(root, preset, target)) {
      throw Error("module " + id + " has no test program '" + target + "' (modules/" +
                  map.module(id).dir_name() +
                  "/CMakeLists.txt should call tinytorch_add_module_tests(ID " + id + " ...))");
    }
    targets.push_back(target);
    if (hidden && has_target(root, preset, target + "_hidden"))
      targets.push_back(target + "_hidden");
  }
  return build(root, preset, targets, jobs) == 0;
}

std::string exact_test_regex(const std::vector<std::string>& names) {
  std::string regex = "^(";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) regex += '|';
    for (const char c : names[i]) {
      if (c == '.') regex += '\\';
      regex += c;
    }
  }
  return regex + ")$";
}

TestRun run_ctest(const fs::path& build, const CtestOptions& options, const fs::path& junit) {
  std::error_code ec;
  fs::remove(junit, ec);
  std::vector<std::string> argv;
  if (options.wall_limit > 0) {
    argv = {"timeout", "--kill-after=10", std::to_string(options.wall_limit)};
  }
  std::string labels;
  for (const auto& id : options.modules) labels += (labels.empty() ? "" : "|") + ("module" + id);
  argv.insert(argv.end(), {"ctest", "--test-dir", build.string(), "-j",
                           std::to_string(options.jobs), "--no-tests=error", "--output-junit",
                           fs::absolute(junit).string(), "-L", "^(" + labels + ")$"});
  if (!options.hidden) argv.insert(argv.end(), {"-LE", "^hidden$"});
  if (!options.filter.empty()) argv.insert(argv.end(), {"-R", options.filter});
  if (options.per_test_timeout > 0) {
    argv.insert(argv.end(), {"--timeout", std::to_string(options.per_test_timeout)});
  }
  TestRun run;
  const auto captured = capture(argv);
  run.exit_code = captured.exit_code;
  run.console = captured.output;
  run.wall_timeout = options.wall_limit > 0 && (run.exit_code == 124 || run.exit_code == 137);
  if (run.wall_timeout || !fs::exists(junit, ec)) return run;
  run.cases = parse_junit(read_file(junit));
  run.ran = true;
  const auto statuses = failed_statuses(run.console);
  for (auto& c : run.cases) {
    if (c.outcome != Outcome::kFailed) continue;
    const auto it = statuses.find(c.name);
    if (it == statuses.end() || it->second == "Failed") continue;
    c.outcome = it->second == "Timeout" ? Outcome::kTimedOut : Outcome::kCrashed;
    if (c.output.empty()) c.output = "(" + it->second + ")";
  }
  return run;
}

std::vector<std::string> failure_lines(const std::string& output, size_t max_lines) {
  // NOTE: gtest writes one block per failed assertion: "FILE:LINE: Failure" (or "unknown file:
  // Failure" for an exception), then the message, up to the next block or the next "[ ... ]"
  // line. A block that reports a stub's "not implemented yet" is the hint's business (and would
  // hide a real got/expected before it), so it is left out here.
  std::vector<std::vector<std::string>> blocks;
  std::istringstream in(output);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.size() >= 9 && line.compare(line.size() - 9, 9, ": Failure") == 0) {
      inside = true;
      blocks.emplace_back();
      continue;
    }
    if (!line.empty() && line[0] == '[') {  // "[  FAILED  ]", "[       OK ]", ...
      inside = false;
      continue;
    }
    if (inside && !line.empty()) blocks.back().push_back(line);
  }
  std::vector<std::string> out;
  for (const auto& block : blocks) {
    const bool stub = std::any_of(block.begin(), block.end(), [](const std::string& l) {
      return l.find(kNotImplemented) != std::string::npos;
    });
    if (stub) continue;
    for (const auto& l : block) {
      if (out.size() == max_lines) {
        out.emplace_back("...");
        return out;
      }
      out.push_back(l);
    }
  }
  return out;
}

bool is_real_failure(const TestCase& c) {
  if (c.outcome == Outcome::kPassed || c.outcome == Outcome::kSkipped) return false;
  return !not_implemented_hint(c.output) || !failure_lines(c.output, 1).empty();
}

std::vector<const TestCase*> failures_in_order(const TestRun& run) {
  std::vector<const TestCase*> real, stub_only;
  for (const auto& c : run.cases) {
    if (c.outcome == Outcome::kPassed || c.outcome == Outcome::kSkipped) continue;
    (is_real_failure(c) ? real : stub_only).push_back(&c);
  }
  real.insert(real.end(), stub_only.begin(), stub_only.end());
  return real;
}

std::optional<std::string> not_implemented_hint(const std::string& output) {
  const auto pos = output.find(kNotImplemented);
  if (pos == std::string::npos) return std::nullopt;
  auto end = output.find_first_of("\"\n", pos);
  if (end == std::string::npos) end = output.size();
  return output.substr(pos, end - pos);
}

std::vector<StubFailures> not_implemented_summary(const TestRun& run) {
  struct Entry {
    StubFailures stub;
    std::string module;  // "not implemented yet — module NN (name): ", the tie-break
  };
  std::vector<Entry> entries;  // in the order the failures came in
  for (const auto& c : run.cases) {
    if (c.outcome == Outcome::kPassed || c.outcome == Outcome::kSkipped) continue;
    const auto hint = not_implemented_hint(c.output);
    if (!hint) continue;
    const auto pos = std::min(hint->find("implement "), hint->size());
    const auto what = hint->substr(pos);
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const Entry& e) { return e.stub.what == what; });
    if (it == entries.end()) {
      entries.push_back({{what, 1}, hint->substr(0, pos)});
    } else {
      ++it->stub.tests;
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.stub.tests != b.stub.tests) return a.stub.tests > b.stub.tests;
    return a.module < b.module;
  });
  std::vector<StubFailures> out;
  for (auto& e : entries) out.push_back(std::move(e.stub));
  return out;
}

std::vector<std::string> unique_in_order(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (seen.insert(name).second) out.push_back(name);
  }
  return out;
}

// ---- State -----------------------------------------------------------------------------------

std::string state_name(ModuleState state) {
  switch (state) {
    case ModuleState::kNotAvailable:
      return "not yet available";
    case ModuleState::kNotStarted:
      return "not started";
    case ModuleState::kInProgress:
      return "in progress";
    case ModuleState::kTestsPassing:
      return "tests passing";
    case ModuleState::kCompleted:
      return "completed";
    case ModuleState::kReference:
      return "reference";
  }
  return "?";
}

fs::path tito_state_dir(const fs::path& root) {
  return root / ".tito";
}

namespace {

json read_json_or_empty(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json::object();
  try {
    auto doc = json::parse(read_file(path));
    return doc.is_object() ? doc : json::object();
  } catch (const std::exception&) {
    print_warning("ignoring unreadable " + path.string());
    return json::object();
  }
}

fs::path result_file(const fs::path& root, const ModuleInfo& module) {
  return tito_state_dir(root) / "results" / (module.id + ".json");
}

}  // namespace

void record_test_result(const fs::path& root, const ModuleInfo& module, const TestRun& run) {
  json doc = {{"module", module.id},    {"sha256", module_files_hash(root, module)},
              {"passed", run.passed()}, {"failed", run.failed()},
              {"ran", run.ran},         {"at", utc_timestamp()}};
  write_file_atomic(result_file(root, module), doc.dump(2) + "\n");
}

void record_completion(const fs::path& root, const ModuleInfo& module) {
  const auto path = tito_state_dir(root) / "progress.json";
  json doc = read_json_or_empty(path);
  doc["version"] = 1;
  if (!doc.contains("completed") || !doc["completed"].is_object())
    doc["completed"] = json::object();
  doc["completed"][module.id] = {{"sha256", module_files_hash(root, module)},
                                 {"completed_at", utc_timestamp()},
                                 {"files", module.files}};
  write_file_atomic(path, doc.dump(2) + "\n");
}

bool is_completed(const fs::path& root, const ModuleInfo& module) {
  const json doc = read_json_or_empty(tito_state_dir(root) / "progress.json");
  if (!doc.contains("completed") || !doc["completed"].is_object()) return false;
  const auto& completed = doc["completed"];
  if (!completed.contains(module.id) || !completed[module.id].is_object()) return false;
  const auto& entry = completed[module.id];
  return entry.contains("sha256") && entry["sha256"].is_string() &&
         entry["sha256"].get<std::string>() == module_files_hash(root, module);
}

ModuleStatus module_status(const fs::path& root, const ModuleInfo& module) {
  ModuleStatus status;
  if (!module.available()) return status;
  if (on_reference(root, module.id)) {
    status.state = ModuleState::kReference;
    status.detail =
        "runs the release's compiled reference, not your files; ./tito module use-mine " +
        module.id + " switches back";
    return status;
  }
  bool unparsable = false;
  for (const auto& file : module.files) {
    std::error_code ec;
    if (!fs::is_regular_file(root / file, ec)) {
      unparsable = true;
      status.detail = file + " is missing";
      continue;
    }
    const auto parsed = markers::parse(read_file(root / file));
    if (!parsed.errors.empty()) unparsable = true;
    const auto context = stub_context(module, file);
    for (const auto& region : parsed.regions) {
      ++status.regions;
      if (markers::region_is_stub(parsed, region, context)) ++status.stubs;
    }
  }
  if (is_completed(root, module)) {
    status.state = ModuleState::kCompleted;
    return status;
  }
  if (!unparsable && status.stubs == status.regions) {
    status.state = ModuleState::kNotStarted;
    status.detail = std::to_string(status.regions) + " functions to write";
    return status;
  }
  status.state = ModuleState::kInProgress;
  if (status.detail.empty()) {
    status.detail = std::to_string(status.regions - status.stubs) + " of " +
                    std::to_string(status.regions) + " functions written";
  }
  const json result = read_json_or_empty(result_file(root, module));
  if (result.contains("sha256") && result["sha256"] == module_files_hash(root, module)) {
    const int passed = result.value("passed", 0);
    const int failed = result.value("failed", 0);
    if (result.value("ran", false) && failed == 0 && passed > 0) {
      status.state = ModuleState::kTestsPassing;
      status.detail = counted(passed, "test") + " passed; run tito module complete " + module.id;
    } else {
      status.detail += "; last test run: " + std::to_string(passed) + " passed, " +
                       std::to_string(failed) + " failed";
    }
  }
  return status;
}

fs::path reference_choice_file(const fs::path& root) {
  return tito_state_dir(root) / "reference.json";
}

std::vector<std::string> reference_modules(const fs::path& root) {
  return reference_modules(read_json_or_empty(reference_choice_file(root)));
}

std::vector<std::string> reference_modules(const json& doc) {
  std::vector<std::string> ids;
  if (!doc.is_object() || !doc.contains("modules") || !doc["modules"].is_array()) return ids;
  for (const auto& item : doc["modules"]) {
    if (!item.is_string()) continue;
    const auto id = normalize_module_id(item.get<std::string>());
    if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  }
  return ids;
}

bool on_reference(const fs::path& root, const std::string& id) {
  const auto ids = reference_modules(root);
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void write_reference_modules(const fs::path& root, const std::vector<std::string>& ids) {
  const json doc = {{"version", 1},
                    {"modules", ids},
                    {"note",
                     "modules linked against the release's compiled reference implementation "
                     "(tito module use-reference / use-mine); graded as not started"}};
  const auto path = reference_choice_file(root);
  const auto text = doc.dump(2) + "\n";
  // The build folders configure again whenever the file changes (its time stamp): an unchanged
  // choice leaves it alone.
  std::error_code ec;
  if (fs::exists(path, ec) && read_file(path) == text) return;
  fs::create_directories(tito_state_dir(root));
  write_file_atomic(path, text);
}

}  // namespace tito
