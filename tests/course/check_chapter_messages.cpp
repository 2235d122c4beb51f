// check_chapter_messages REPO_ROOT — for every available module of modules/modules.json, every
// substring that the module's visible tests require of an error message the learner writes must
// be stated in the "Error messages" section of the module's chapter (rules: chapter_messages.h).
// Prints each one that is not, with the test's file and line; exits 1 when there is any.
// Run by ctest as course.chapter_messages (label course).
#include <algorithm>
#include <iostream>

#include "chapter_messages.h"
#include "markers.h"
#include "module_map.h"
#include "util.h"

namespace {

namespace fs = std::filesystem;

// The string literals inside the solution regions of the module's files: the messages the
// learner writes.
std::vector<std::string> learner_literals(const fs::path& root, const tito::ModuleInfo& module) {
  std::vector<std::string> out;
  for (const auto& file : module.files) {
    const auto parsed = tito::markers::parse(tito::read_file(root / file));
    for (const auto& region : parsed.regions) {
      std::string body;  // lines begin_line+1 .. end_line-1 (1-based) lie inside the markers
      for (int line = region.begin_line; line < region.end_line - 1; ++line) {
        body += parsed.lines[static_cast<size_t>(line)] + '\n';
      }
      for (auto& literal : course::string_literals(body)) out.push_back(std::move(literal));
    }
  }
  return out;
}

// A check of a learner's message: it has word needles, and the learner's literals hold each.
bool is_learner_check(const course::MessageCheck& check, const std::vector<std::string>& literals) {
  bool words = false;
  for (const auto& needle : check.needles) {
    if (course::is_value(needle)) continue;
    words = true;
    const bool written = std::any_of(literals.begin(), literals.end(), [&](const auto& literal) {
      return course::contains_token(literal, needle);
    });
    if (!written) return false;
  }
  return words;
}

std::vector<fs::path> test_sources(const fs::path& root, const tito::ModuleInfo& module) {
  std::vector<fs::path> out;
  for (const auto& dir : module.tests) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".cpp" || ext == ".h")) out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int check(const fs::path& root) {
  const auto map = tito::load_module_map(root);
  int unstated = 0;
  for (const auto& module : map.modules) {
    if (!module.available()) continue;
    const auto literals = learner_literals(root, module);
    const auto section = course::error_message_sections(tito::read_file(root / module.chapter));
    int checks = 0;
    int needles = 0;
    for (const auto& source : test_sources(root, module)) {
      for (const auto& c : course::find_message_checks(tito::read_file(source))) {
        if (!is_learner_check(c, literals)) continue;
        ++checks;
        for (const auto& needle : c.needles) {
          ++needles;
          if (course::contains_token(section, needle)) continue;
          ++unstated;
          std::cout << fs::relative(source, root).string() << ':' << c.line << ": the test of `"
                    << c.expression << "` requires \"" << needle << "\" in the message, but "
                    << module.chapter
                    << (section.empty() ? " has no \"Error messages\" section"
                                        : "'s \"Error messages\" section does "
                                          "not state it")
                    << '\n';
        }
      }
    }
    std::cout << "module " << module.id << ": " << checks << " checks of learner messages, "
              << needles << " required substrings\n";
  }
  if (unstated > 0) {
    std::cout << unstated << " required substring(s) not stated in their chapter; state each in "
              << "the chapter's \"Error messages\" section (for chapter 01, in "
              << "tools/chapters/01_tensor.template.md)\n";
    return 1;
  }
  std::cout << "every substring the visible tests require of a learner's message is stated in "
               "its chapter\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: check_chapter_messages REPO_ROOT\n";
    return 2;
  }
  try {
    return check(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "check_chapter_messages: " << e.what() << '\n';
    return 2;
  }
}
