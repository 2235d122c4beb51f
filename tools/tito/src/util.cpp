#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace tito {

// ---- Subprocesses ---------------------------------------------------------------------

namespace {

// Blocks SIGINT/SIGQUIT in tito while a child runs (like system()), so Ctrl-C stops the
// child and tito can still report. The child gets the default dispositions back.
class IgnoreInterrupts {
 public:
  IgnoreInterrupts() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &old_int_);
    sigaction(SIGQUIT, &ignore, &old_quit_);
  }
  ~IgnoreInterrupts() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGQUIT, &old_quit_, nullptr);
  }
  IgnoreInterrupts(const IgnoreInterrupts&) = delete;
  IgnoreInterrupts& operator=(const IgnoreInterrupts&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_quit_ {};
};

std::vector<char*> make_c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& arg : argv) out.push_back(const_cast<char*>(arg.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child after fork(): restore signals, chdir, exec. Never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, const fs::path& cwd) {
  signal(SIGINT, SIG_DFL);
  signal(SIGQUIT, SIG_DFL);
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
    std::fprintf(stderr, "tito: cannot chdir to %s: %s\n", cwd.c_str(), std::strerror(errno));
    _exit(127);
  }
  auto c_argv = make_c_argv(argv);
  execvp(c_argv[0], c_argv.data());
  std::fprintf(stderr, "tito: cannot run %s: %s\n", c_argv[0], std::strerror(errno));
  _exit(127);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

}  // namespace

std::optional<fs::path> find_program(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string_view::npos) {
    fs::path p{name};
    if (access(p.c_str(), X_OK) == 0) return p;
    return std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = path.find(':');
    const auto dir = path.substr(0, colon);
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain =
        !arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    if (plain) {
      out += arg;
    } else {
      out += '\'';
      for (char c : arg) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

int run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) throw Error("run: empty command");
  if (!find_program(argv[0])) throw Error("command not found: " + argv[0]);
  if (options.echo) std::cout << paint("$ " + join_command(argv), Color::kDim) << '\n';
  std::cout.flush();
  std::cerr.flush();

  IgnoreInterrupts guard;
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) exec_child(argv, options.cwd);
  return wait_for(pid);
}

Captured capture(const std::vector<std::string>& argv, const fs::path& cwd, size_t max_output) {
  Captured result;
  if (argv.empty() || !find_program(argv[0])) {
    result.exit_code = 127;
    return result;
  }
  std::array<int, 2> fds{};
  if (pipe(fds.data()) != 0) throw Error(std::string("pipe failed: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // A captured child never outlives tito: killed with it (a sandbox's bwrap then tears its
    // PID namespace down, --die-with-parent), not left running until its own time limit.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // tito died before the prctl
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    exec_child(argv, cwd);
  }
  close(fds[1]);
  std::array<char, 4096> buffer{};
  while (true) {
    const ssize_t n = read(fds[0], buffer.data(), buffer.size());
    if (n > 0) {
      if (result.output_capped) continue;  // killed already: drain until the writers are gone
      result.output.append(buffer.data(), static_cast<size_t>(n));
      if (max_output > 0 && result.output.size() > max_output) {
        result.output.resize(max_output);
        result.output_capped = true;
        kill(pid, SIGKILL);
      }
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  result.exit_code = wait_for(pid);
  return result;
}

void export_commit(const fs::path& root) {
  if (const char* set = std::getenv("TINYTORCH_COMMIT"); set != nullptr && *set != '\0') return;
  // Two lines: the checkout's top folder, then HEAD's short hash.
  const auto head =
      capture({"git", "-C", root.string(), "rev-parse", "--show-toplevel", "--short=7", "HEAD"});
  if (head.exit_code != 0) return;
  const auto eol = head.output.find('\n');
  if (eol == std::string::npos) return;
  // A copy of the course unpacked inside some other checkout is not that checkout's commit.
  std::error_code ec;
  if (!fs::equivalent(head.output.substr(0, eol), root, ec)) return;
  std::string commit = head.output.substr(eol + 1);
  commit = commit.substr(0, commit.find_first_of("\r\n"));
  // `git diff --quiet HEAD` exits 1 when a tracked file differs from HEAD (untracked files,
  // build folders included, do not count).
  if (capture({"git", "-C", root.string(), "diff", "--quiet", "HEAD"}).exit_code == 1) {
    commit += "-dirty";
  }
  setenv("TINYTORCH_COMMIT", commit.c_str(), 1);
}

std::vector<std::string> git_files(const fs::path& root) {
  const auto result = capture(
      {"git", "-C", root.string(), "ls-files", "-z", "--cached", "--others", "--exclude-standard"});
  if (result.exit_code != 0) {
    throw Error(
        "`git ls-files` failed in " + root.string() +
        " (tito release and tito grade need the instructor's git checkout): " + result.output);
  }
  std::vector<std::string> files;
  std::string current;
  for (const char c : result.output) {
    if (c == '\0') {
      if (!current.empty()) files.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// ---- Files someone else controls ------------------------------------------------------

namespace {

FileFootprint footprint_of(const struct stat& st) {
  FileFootprint f;
  f.regular = S_ISREG(st.st_mode);
  f.size = st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
  f.allocated = st.st_blocks > 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  return f;
}

}  // namespace

std::optional<FileFootprint> file_footprint(const fs::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  return footprint_of(st);
}

bool within(const FileFootprint& footprint, uint64_t max_bytes) {
  return footprint.size <= max_bytes && footprint.allocated <= max_bytes + (1u << 20);
}

std::string read_untrusted_file(const fs::path& path, uint64_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot read " + path.string() + ": " + std::strerror(errno) +
                (errno == ELOOP ? " (a link, not followed)" : ""));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) throw Error("cannot stat " + path.string());
  const auto footprint = footprint_of(st);
  if (!footprint.regular) throw Error(path.string() + " is not a regular file");
  if (!within(footprint, max_bytes)) {
    throw Error(path.string() + " is too large to read: " + std::to_string(footprint.size) +
                " bytes (" + std::to_string(footprint.allocated) + " allocated); the cap is " +
                std::to_string(max_bytes) + " bytes");
  }
  std::string text(static_cast<size_t>(footprint.size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const auto n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
    if (n == 0) break;  // it shrank meanwhile
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

// ---- Repository layout ------------------------------------------------------------------

namespace {

// modules/ + tinytorch/ + CMakeLists.txt: the CMakeLists.txt rules out build trees, which
// mirror the source directories (build/release/modules, build/release/tinytorch).
bool looks_like_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "modules", ec) && fs::is_directory(dir / "tinytorch", ec) &&
         fs::is_regular_file(dir / "CMakeLists.txt", ec);
}

std::optional<fs::path> search_upwards(fs::path dir) {
  std::error_code ec;
  dir = fs::weakly_canonical(dir, ec);
  while (!dir.empty()) {
    if (looks_like_root(dir)) return dir;
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  return std::nullopt;
}

}  // namespace

fs::path repo_root() {
  if (const char* env = std::getenv("TITO_ROOT"); env != nullptr && *env != '\0') {
    std::error_code ec;
    fs::path root = fs::weakly_canonical(env, ec);
    if (!fs::is_directory(root, ec)) {
      throw Error("TITO_ROOT=" + std::string(env) + " is not a directory");
    }
    return root;
  }
  std::error_code ec;
  if (auto found = search_upwards(fs::current_path(ec))) return *found;
  // Fall back to the binary's location: <root>/build/<preset>/bin/tito.
  if (auto exe = fs::read_symlink("/proc/self/exe", ec); !ec) {
    if (auto found = search_upwards(exe.parent_path())) return *found;
  }
  throw Error(
      "cannot find the TinyTorch repository (a directory with modules/ and tinytorch/). "
      "Run tito from inside the repository or set TITO_ROOT.");
}

std::string preset_name(bool sanitize) {
  return sanitize ? "debug" : "release";
}

fs::path build_dir(const fs::path& root, std::string_view preset) {
  return root / "build" / std::string(preset);
}

std::string counted(long long count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

std::optional<std::string> normalize_module_id(std::string_view text) {
  if (text.empty() || text.size() > 2) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::string id(text);
  if (id.size() == 1) id.insert(id.begin(), '0');
  return id;
}

// ---- Terminal output -----------------------------------------------------------------

bool use_color() {
  static const bool enabled = [] {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && *no_color != '\0') return false;
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::string_view(term) == "dumb") return false;
    return isatty(STDOUT_FILENO) == 1;
  }();
  return enabled;
}

std::string paint(std::string_view text, Color color) {
  if (!use_color()) return std::string(text);
  const char* code = "";
  switch (color) {
    case Color::kRed:
      code = "\033[31m";
      break;
    case Color::kGreen:
      code = "\033[32m";
      break;
    case Color::kYellow:
      code = "\033[33m";
      break;
    case Color::kBlue:
      code = "\033[34m";
      break;
    case Color::kBold:
      code = "\033[1m";
      break;
    case Color::kDim:
      code = "\033[2m";
      break;
  }
  return std::string(code) + std::string(text) + "\033[0m";
}

void print_step(std::string_view message) {
  std::cout << paint("==> ", Color::kBlue) << paint(message, Color::kBold) << std::endl;
}

void print_warning(std::string_view message) {
  std::cerr << paint("tito: warning: ", Color::kYellow) << message << std::endl;
}

void print_error(std::string_view message) {
  std::cerr << paint("tito: error: ", Color::kRed) << message << std::endl;
}

}  // namespace tito
