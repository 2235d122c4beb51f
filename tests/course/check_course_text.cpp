// check_course_text REPO_ROOT — three checks of the learner-facing text (modules/*/README.md,
// milestones/*/README.md, docs/LEARNER_GUIDE.md, the release's README
// tools/tito/release/README.md):
//
//   1. It teaches; it never points at the project's own bookkeeping. A learner cannot open the
//      project's issues or its engineers' notes, so "issue 19", "the issue's target", "the stop
//      note" or "the target we were given" tell them nothing: every such line is reported.
//   2. One fact, one value. A fact stated in several chapters is stated the same everywhere, and
//      where the code or the data can say what it is, it is what they say: the character
//      vocabulary of milestone 2017's corpus (counted from the corpus when it is installed), the
//      GELU form of the course GPT (read from nn::GPT), the GELU form GPT-2 used.
//   3. One reference machine. Every "What I measured" section names the reference machine (which
//      docs/LEARNER_GUIDE.md describes) and the command that produced its figures, and states no
//      figure from another CPU generation.
//
// Prints every finding as FILE:LINE: what is wrong; exits 1 when there is any. Run by ctest as
// course.text (label course).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tinytorch/data/text.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/text/tokenizer.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;

struct Line {
  std::string file;  // relative to the repository root
  int number;        // 1-based
  std::string text;
};

// Every line of the learner-facing text, file by file in a fixed order.
std::vector<Line> learner_text(const fs::path& root) {
  std::vector<fs::path> files;
  for (const char* dir : {"modules", "milestones"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      const fs::path readme = entry.path() / "README.md";
      if (entry.is_directory() && fs::is_regular_file(readme)) files.push_back(readme);
    }
  }
  files.push_back(root / "docs" / "LEARNER_GUIDE.md");
  files.push_back(root / "tools" / "tito" / "release" / "README.md");
  std::sort(files.begin(), files.end());
  std::vector<Line> lines;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << "check_course_text: cannot read " << path.string() << "\n";
      std::exit(2);
    }
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      lines.push_back({fs::relative(path, root).string(), number, text});
    }
  }
  return lines;
}

// ── 1. internal references ─────────────────────────────────────────────────────────────────────

struct InternalReference {
  std::regex pattern;
  std::string what;
};

const std::vector<InternalReference>& internal_references() {
  const auto icase = std::regex::ECMAScript | std::regex::icase;
  static const std::vector<InternalReference> patterns = {
      {std::regex(R"(\bissues? *#?[0-9]+)", icase), "an issue number"},
      {std::regex(R"(\bissue's\b)", icase), "\"the issue's ...\""},
      {std::regex(R"(\bthe issue (asks|says|wants|requires|calls|sets)\b)", icase),
       "what \"the issue\" asks"},
      {std::regex(R"(\b(stop|session|handoff|hand-off) notes?\b)", icase), "an engineer's note"},
      {std::regex(R"(\bthe (target|goal|budget) (we|I) (were|was) (given|asked)\b)", icase),
       "\"the target we were given\""},
  };
  return patterns;
}

int check_internal_references(const std::vector<Line>& lines) {
  int found = 0;
  for (const auto& line : lines) {
    for (const auto& ref : internal_references()) {
      std::smatch m;
      if (!std::regex_search(line.text, m, ref.pattern)) continue;
      std::cout << line.file << ":" << line.number << ": internal reference (" << ref.what << ": \""
                << m.str(0) << "\") — a learner cannot read it; say what the text means instead\n";
      ++found;
    }
  }
  return found;
}

// ── 2. one fact, one value ─────────────────────────────────────────────────────────────────────

// One place where a chapter states the fact: the file and a pattern whose first group captures
// the value. Each statement must be found at least once (so that a rewording that drops it is
// noticed, not silently unchecked) and every match must capture the fact's value.
struct Statement {
  std::string file;
  std::string pattern;
};

struct Fact {
  std::string name;
  std::optional<std::string> value;  // from the code or the data; nullopt: the first statement's
  std::string source;                // where the value came from
  std::vector<Statement> statements;
};

int check_fact(const Fact& fact, const std::vector<Line>& lines) {
  int found = 0;
  std::optional<std::string> value = fact.value;
  std::string source = fact.source;
  for (const auto& statement : fact.statements) {
    const std::regex pattern(statement.pattern);
    int matches = 0;
    for (const auto& line : lines) {
      if (line.file != statement.file) continue;
      for (auto it = std::sregex_iterator(line.text.begin(), line.text.end(), pattern);
           it != std::sregex_iterator(); ++it) {
        ++matches;
        const std::string got = (*it)[1].str();
        if (!value) {
          value = got;
          source = line.file + ":" + std::to_string(line.number);
          continue;
        }
        if (got != *value) {
          std::cout << line.file << ":" << line.number << ": " << fact.name << " is " << *value
                    << " (" << source << "), but this line says " << got << ": \"" << it->str(0)
                    << "\"\n";
          ++found;
        }
      }
    }
    if (matches == 0) {
      std::cout << statement.file << ": no statement of " << fact.name << " matches /"
                << statement.pattern
                << "/ — if the sentence was reworded, update this check "
                   "(tests/course/check_course_text.cpp)\n";
      ++found;
    }
  }
  return found;
}

// The character vocabulary of milestone 2017's corpus, counted as the milestone counts it —
// when the corpus is installed.
std::optional<std::string> fortunes_vocabulary(std::string& source) {
  std::error_code ec;
  if (!fs::is_directory(tt::data::kFortunesDir, ec)) {
    source = "the first statement; the fortunes are not installed, so the corpus was not counted";
    return std::nullopt;
  }
  source = "CharTokenizer::train(load_fortunes()) on " + std::string(tt::data::kFortunesDir);
  return std::to_string(
      tt::text::CharTokenizer::train(tt::data::load_fortunes(tt::data::kFortunesDir)).vocab_size());
}

// The GELU of the course GPT's MLP, as nn::GPT builds it: "exact" (erf) or "tanh".
std::string course_gpt_gelu() {
  tt::nn::GPTConfig config;
  config.vocab_size = 8;
  config.n_layer = 1;
  const tt::nn::GPT model(config);
  return model->blocks[0]->mlp->gelu->options.approximate() == "tanh" ? "tanh" : "exact";
}

std::vector<Fact> facts() {
  std::string vocabulary_source;
  std::optional<std::string> vocabulary = fortunes_vocabulary(vocabulary_source);
  const std::string m10 = "modules/10_tokenization/README.md";
  const std::string m11 = "modules/11_embeddings/README.md";
  const std::string m13 = "modules/13_transformers/README.md";
  const std::string m2017 = "milestones/2017_gpt/README.md";
  return {
      {"the character vocabulary of milestone 2017's corpus",
       vocabulary,
       vocabulary_source,
       {{m10, R"(vocabulary is \*\*([0-9]+) bytes\*\*)"},
        {m10, R"(\| characters \(fortunes\) \| ([0-9]+) \|)"},
        {m11, R"(([0-9]+)-character (?:vocabulary|model))"},
        {m11, R"(EmbeddingOptions\(([0-9]+), 128\))"},
        {m11, R"(our char model \(`wte`\) \| ([0-9]+) ×)"},
        {m11, R"(a char model \(([0-9]+) rows\))"},
        {m13, R"(the fortunes' ([0-9]+) characters)"},
        {m13, R"(milestone-sized GPT \(`V = ([0-9]+)`)"},
        {m2017, R"(`CharTokenizer`, ([0-9]+) symbols)"},
        {m2017, R"(ln ([0-9]+) ≈ [0-9.]+ is a uniform guess)"}}},
      {"the course GPT's GELU",
       course_gpt_gelu(),
       "nn::GPT's TransformerMLP",
       {{m13, R"(We use the (exact|tanh) form)"}, {m2017, R"(\| pre-LN, (exact|tanh) GELU)"}}},
      {"the GELU form GPT-2 used",
       "tanh",
       "GPT-2's released code: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))",
       {{"modules/02_activations/README.md",
         R"(also gave a (tanh|erf) approximation, which GPT-2)"},
        {m13, R"(both computed it with the (tanh|exact) approximation)"},
        {m2017, R"(pre-LN, GELU \((tanh|exact)[ a-z]*\))"}}},
  };
}

// ── 3. one reference machine ───────────────────────────────────────────────────────────────────

// The CPU of the reference machine, as the learner guide's section names it. Any other "Zen N"
// inside a "What I measured" section is a figure from another machine.
constexpr const char* kReferenceCpu = "Zen 4";

int heading_level(const std::string& text) {
  const auto hashes = text.find_first_not_of('#');
  if (hashes == 0 || hashes == std::string::npos || text[hashes] != ' ') return 0;
  return static_cast<int>(hashes);
}

int check_measured_sections(const std::vector<Line>& lines) {
  int found = 0;
  const std::regex other_cpu(R"(\bZen [0-9]\b)");
  const std::regex command(R"(\./tito |build/release/bin/)");
  bool guide_names_it = false;
  // The open section: its heading line, its level, and what it has named so far.
  const Line* heading = nullptr;
  int level = 0;
  std::string section;  // its lines joined by spaces: a phrase may wrap
  bool names_command = false;
  bool in_code = false;
  auto close_section = [&] {
    if (heading == nullptr) return;
    if (section.find("reference machine") == std::string::npos) {
      std::cout << heading->file << ":" << heading->number
                << ": \"What I measured\" does not name the reference machine (the figures must "
                   "come from it; docs/LEARNER_GUIDE.md describes it)\n";
      ++found;
    }
    if (!names_command) {
      std::cout << heading->file << ":" << heading->number
                << ": \"What I measured\" names no command that produced its figures (./tito ... "
                   "or build/release/bin/...)\n";
      ++found;
    }
    heading = nullptr;
  };
  for (const auto& line : lines) {
    if (heading != nullptr && line.file != heading->file) close_section();
    if (line.file == "docs/LEARNER_GUIDE.md" && line.text == "### The reference machine") {
      guide_names_it = true;
    }
    if (line.text.rfind("```", 0) == 0) in_code = !in_code;
    const int h = in_code ? 0 : heading_level(line.text);
    if (h > 0 && heading != nullptr && h <= level) close_section();
    if (h > 0 && line.text.find("What I measured") != std::string::npos) {
      heading = &line;
      level = h;
      section.clear();
      names_command = false;
      continue;
    }
    if (heading == nullptr) continue;
    section += " " + line.text;
    names_command = names_command || std::regex_search(line.text, command);
    for (auto it = std::sregex_iterator(line.text.begin(), line.text.end(), other_cpu);
         it != std::sregex_iterator(); ++it) {
      if (it->str(0) == kReferenceCpu) continue;
      std::cout << line.file << ":" << line.number << ": \"" << it->str(0)
                << "\" in \"What I measured\": its figures come from the reference machine (a "
                << kReferenceCpu << "); another machine's go to docs/engineering/\n";
      ++found;
    }
  }
  close_section();
  if (!guide_names_it) {
    std::cout << "docs/LEARNER_GUIDE.md: no section \"### The reference machine\" describing the "
                 "machine every \"What I measured\" names\n";
    ++found;
  }
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: check_course_text REPO_ROOT\n";
    return 2;
  }
  const fs::path root = argv[1];
  const std::vector<Line> lines = learner_text(root);
  int found = check_internal_references(lines);
  for (const auto& fact : facts()) found += check_fact(fact, lines);
  found += check_measured_sections(lines);
  if (found > 0) {
    std::cout << found << " finding(s) in the learner-facing text\n";
    return 1;
  }
  std::cout << "the learner-facing text (" << lines.size()
            << " lines) names no internal references, states each checked fact once, and measures "
               "on the reference machine\n";
  return 0;
}
