// tito doctor: check the toolchain and libraries, tell how to install what is missing.
// Exit status 0 when every required dependency is present, 1 otherwise.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "command.h"
#include "fuzz.h"
#include "sandbox.h"
#include "util.h"

namespace tito::doctor_command {
namespace {

namespace fs = tito::fs;

struct Check {
  std::string name;  // what is checked, e.g. "CMake >= 3.25"
  bool required = true;
  bool ok = false;
  std::string detail;   // version found, or what is missing
  std::string package;  // Debian package that provides it
};

// ---- Small probes ------------------------------------------------------------------------

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string first_line(const std::string& s) {
  return trim(s.substr(0, s.find('\n')));
}

// Version of an installed Debian package, std::nullopt if not installed (or no dpkg).
std::optional<std::string> dpkg_version(const std::string& package) {
  const auto r = tito::capture({"dpkg-query", "-W", "-f=${Status}|${Version}", package});
  if (r.exit_code != 0) return std::nullopt;
  const auto bar = r.output.find('|');
  if (bar == std::string::npos || r.output.substr(0, bar) != "install ok installed") {
    return std::nullopt;
  }
  return trim(r.output.substr(bar + 1));
}

// "12.2.0" -> {12, 2, 0}; parsing stops at the first non-digit/non-dot.
std::vector<int> parse_version(const std::string& text) {
  std::vector<int> parts;
  int current = -1;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      current = (current < 0 ? 0 : current * 10) + (c - '0');
    } else if (c == '.' && current >= 0) {
      parts.push_back(current);
      current = -1;
    } else {
      break;
    }
  }
  if (current >= 0) parts.push_back(current);
  return parts;
}

bool version_at_least(const std::string& version, const std::vector<int>& minimum) {
  const auto v = parse_version(version);
  return !v.empty() && v >= minimum;  // lexicographic: {3, 25, 1} >= {3, 25}
}

// Output of `program args...` when it succeeds.
std::optional<std::string> probe(const std::vector<std::string>& argv) {
  const auto r = tito::capture(argv);
  if (r.exit_code != 0) return std::nullopt;
  return r.output;
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// ---- The checks ------------------------------------------------------------------------

Check check_compiler() {
  Check c{"C++ compiler (g++ >= 12 or clang++ >= 14)", true, false, "", "g++"};
  std::vector<std::string> candidates;
  if (const char* cxx = std::getenv("CXX"); cxx != nullptr && *cxx != '\0') {
    candidates.emplace_back(cxx);
  }
  candidates.insert(candidates.end(), {"g++", "clang++"});
  std::vector<std::string> found;
  for (const auto& cxx : candidates) {
    const auto banner = probe({cxx, "--version"});
    if (!banner) continue;
    const bool clang = banner->find("clang") != std::string::npos;
    const auto version =
        trim(probe({cxx, clang ? "-dumpversion" : "-dumpfullversion"}).value_or("?"));
    std::string desc = cxx;
    desc += " ";
    desc += version;
    if (version_at_least(version, clang ? std::vector<int>{14} : std::vector<int>{12})) {
      c.ok = true;
      c.detail = desc;
      return c;
    }
    found.push_back(desc + (clang ? " (too old, need >= 14)" : " (too old, need >= 12)"));
  }
  c.detail = found.empty() ? "no g++ or clang++ in PATH" : found.front();
  return c;
}

// Optional: `tito fuzz` and the fuzz preset need Clang and its libFuzzer runtime.
// tito grade runs a submission's build and tests in a bubblewrap sandbox (sandbox.h) and refuses
// to grade without it unless told --unsafe-no-sandbox: a trial sandbox must start here.
Check check_grading_sandbox() {
  Check c{"Grading sandbox (bubblewrap, tito grade)", false, false, "", "bubblewrap"};
  if (const auto why = tito::sandbox_unavailable_reason()) {
    c.detail = *why + "; tito grade refuses without it (--unsafe-no-sandbox)";
  } else {
    c.ok = true;
    c.detail = first_line(tito::capture({"bwrap", "--version"}).output) + ", starts here";
  }
  return c;
}

Check check_fuzz_toolchain() {
  Check c{"Clang + libFuzzer (tito fuzz)", false, false, "", tito::kFuzzPackages};
  std::string found;
  const std::string missing = tito::missing_fuzz_toolchain(&found);
  c.ok = missing.empty();
  c.detail = c.ok ? found : missing;
  return c;
}

Check check_versioned_tool(const std::string& name, const std::string& program,
                           const std::vector<int>& minimum, const std::string& package) {
  Check c{name, true, false, "", package};
  const auto out = probe({program, "--version"});
  if (!out) {
    c.detail = program + " not found in PATH";
    return c;
  }
  // "cmake version 3.25.1" / "1.11.1": the version is the last word of the first line.
  auto line = first_line(*out);
  const auto version = line.substr(line.rfind(' ') + 1);
  c.ok = version_at_least(version, minimum);
  c.detail = c.ok ? version : version + " (too old)";
  return c;
}

// A dev package: installed per dpkg, or (non-Debian) its marker file exists.
Check check_package(const std::string& name, bool required, const std::string& package,
                    const std::string& marker_file) {
  Check c{name, required, false, "", package};
  if (const auto version = dpkg_version(package)) {
    c.ok = true;
    c.detail = package + " " + *version;
  } else if (!marker_file.empty() && file_exists(marker_file)) {
    c.ok = true;
    c.detail = marker_file;
  } else {
    c.detail = marker_file.empty() ? package + " not installed" : marker_file + " not found";
  }
  return c;
}

Check check_python_module(const std::string& name, const std::string& module,
                          const std::string& package) {
  Check c{name, false, false, "", package};
  const std::string python = "/usr/bin/python3";
  if (!file_exists(python)) {
    c.detail = python + " not found";
    return c;
  }
  const auto out =
      probe({python, "-c", "import " + module + "; print(" + module + ".__version__)"});
  c.ok = out.has_value();
  c.detail = c.ok ? module + " " + first_line(*out) : "python3 cannot import " + module;
  return c;
}

// ---- Output ------------------------------------------------------------------------------

void print_table(const std::vector<Check>& checks, bool required) {
  std::cout << tito::paint(required ? "Required" : "Optional", tito::Color::kBold) << '\n';
  for (const auto& c : checks) {
    if (c.required != required) continue;
    std::string status = c.ok ? "ok" : (required ? "MISSING" : "missing");
    const auto color =
        c.ok ? tito::Color::kGreen : (required ? tito::Color::kRed : tito::Color::kYellow);
    char name[64];
    std::snprintf(name, sizeof name, "  %-44s", c.name.c_str());
    char padded[16];
    std::snprintf(padded, sizeof padded, "%-9s", status.c_str());
    std::cout << name << tito::paint(padded, color) << c.detail << '\n';
  }
}

int run_doctor() {
  std::vector<Check> checks;
  checks.push_back(check_compiler());
  checks.push_back(check_versioned_tool("CMake >= 3.25", "cmake", {3, 25}, "cmake"));
  checks.push_back(check_versioned_tool("Ninja", "ninja", {1, 10}, "ninja-build"));
  // Without lld the build links with the compiler's default linker, about four times slower
  // (cmake/TinyTorchCompilerOptions.cmake); ./tito installs it with the build tools.
  checks.push_back(check_package("lld (fast links)", false, "lld", "/usr/bin/ld.lld"));
  checks.push_back(check_package("GoogleTest", true, "libgtest-dev", "/usr/include/gtest/gtest.h"));
  checks.push_back(check_package("CLI11", true, "libcli11-dev", "/usr/include/CLI/CLI.hpp"));
  checks.push_back(
      check_package("nlohmann-json", true, "nlohmann-json3-dev", "/usr/include/nlohmann/json.hpp"));
  // zlib reads the gzip-compressed IDX files of (Fashion-)MNIST (module 08's data pipeline).
  checks.push_back(check_package("zlib", true, "zlib1g-dev", "/usr/include/zlib.h"));
  // Module 20's model server (tools/serve) speaks HTTP/JSON through cpp-httplib.
  checks.push_back(
      check_package("cpp-httplib", true, "libcpp-httplib-dev", "/usr/include/httplib.h"));
  // The course trains on Fashion-MNIST, so ./tito installs it like a build dependency.
  checks.push_back(check_package("Fashion-MNIST dataset", true, "dataset-fashion-mnist",
                                 "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"));

  checks.push_back(check_package("OpenMP runtime (libgomp)", false, "libgomp1", ""));
  checks.push_back(
      check_python_module("PyTorch (comparison benchmarks)", "torch", "python3-torch"));
  checks.push_back(check_python_module("NumPy", "numpy", "python3-numpy"));
  checks.push_back(check_package("OpenBLAS", false, "libopenblas-dev", ""));
  checks.push_back(check_package("Google Benchmark", false, "libbenchmark-dev",
                                 "/usr/include/benchmark/benchmark.h"));
  checks.push_back(check_package("clang-format", false, "clang-format", ""));
  // Module 21 (distributed) runs its ranks with Open MPI; without it the rest of the course
  // builds and module 21's tests are skipped (cmake/TinyTorchMPI.cmake).
  checks.push_back(
      check_package("Open MPI: mpirun (module 21)", false, "openmpi-bin", "/usr/bin/mpirun"));
  checks.push_back(
      check_package("Open MPI: headers and libraries (module 21)", false, "libopenmpi-dev", ""));
  // tito site renders the course website with pandoc; its test (label site) opens it in Chromium.
  checks.push_back(check_package("pandoc (tito site)", false, "pandoc", "/usr/bin/pandoc"));
  checks.push_back(
      check_package("Chromium (the site's browser test)", false, "chromium", "/usr/bin/chromium"));
  checks.push_back(check_fuzz_toolchain());
  checks.push_back(check_grading_sandbox());

  std::cout << "tito doctor — repository: ";
  try {
    std::cout << tito::repo_root().string() << "\n\n";
  } catch (const tito::Error&) {
    std::cout << "(not found)\n\n";
  }
  print_table(checks, true);
  std::cout << '\n';
  print_table(checks, false);
  std::cout << '\n';

  std::vector<std::string> missing_required;
  std::vector<std::string> missing_optional;
  for (const auto& c : checks) {
    if (c.ok) continue;
    std::cout << (c.required ? tito::paint("missing (required): ", tito::Color::kRed)
                             : tito::paint("missing (optional): ", tito::Color::kYellow))
              << c.name << " — " << c.detail << "\n    install: sudo apt-get install -y "
              << c.package << '\n';
    (c.required ? missing_required : missing_optional).push_back(c.package);
  }
  if (missing_required.empty()) {
    std::cout << tito::paint("All required dependencies are present.", tito::Color::kGreen) << '\n';
    return 0;
  }
  std::ostringstream all;
  for (const auto& p : missing_required) all << ' ' << p;
  std::cout << tito::paint(
                   std::to_string(missing_required.size()) + " required dependency(ies) missing.",
                   tito::Color::kRed)
            << " Install with:\n    sudo apt-get install -y" << all.str() << '\n';
  return 1;
}

tito::CommandRunner setup(CLI::App& /*app*/) {
  return [] { return run_doctor(); };
}

const tito::RegisterCommand kRegistered{
    "doctor", "Check compilers, tools and libraries; explain how to install missing ones", setup};

}  // namespace
}  // namespace tito::doctor_command
