// Shared helpers for tito commands: subprocesses, repository layout, terminal output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tito {

namespace fs = std::filesystem;

// A user-facing error: main() prints "tito: error: <what>" and exits with status 1.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- Subprocesses ---------------------------------------------------------------------

struct RunOptions {
  fs::path cwd;      // working directory of the child; empty = inherit
  bool echo = true;  // print "$ cmd args..." (dimmed) before running
};

// Runs argv[0] (looked up in PATH) with stdin/stdout/stderr inherited, so output streams
// live. Returns the exit status, 128+N if killed by signal N. Throws Error if the program
// cannot be found.
int run(const std::vector<std::string>& argv, const RunOptions& options = {});

struct Captured {
  int exit_code = -1;
  std::string output;          // stdout and stderr interleaved
  bool output_capped = false;  // the child printed more than max_output bytes and was killed
};

// Runs argv with stdout+stderr captured and stdin from /dev/null. Never throws for a
// missing program: exit_code is 127 then. max_output > 0: once the child has printed more than
// that many bytes it is killed (SIGKILL) and the rest is read and dropped until the pipe closes,
// so a program printing without end cannot grow tito's memory.
Captured capture(const std::vector<std::string>& argv, const fs::path& cwd = {},
                 size_t max_output = 0);

// The files git knows in `root` (tracked, plus untracked files that are not ignored), sorted:
// the instructor's tree as `tito release` ships it and `tito grade` builds it. Throws Error when
// `root` is not a git checkout.
std::vector<std::string> git_files(const fs::path& root);

// Sets $TINYTORCH_COMMIT for the programs tito starts (benchmarks, labs, milestones, the load
// test), so that every result they print or write names the commit it measured: the short hash
// of HEAD, with "-dirty" when tracked files differ from it. Left as it is when already set, and
// unset when `root` is not the top of a git checkout (a learner's copy without history, or one
// unpacked inside another repository): the programs then say "unknown" rather than guess.
void export_commit(const fs::path& root);

// Full path of an executable found in PATH (or the path itself if it contains '/').
std::optional<fs::path> find_program(std::string_view name);

// Shell-like rendering of a command line, for messages.
std::string join_command(const std::vector<std::string>& argv);

// ---- Files someone else controls ------------------------------------------------------

// What a path (a link itself, never its target) takes: its st_size and the bytes its blocks
// occupy (st_blocks x 512). std::nullopt when it cannot be lstat'ed.
struct FileFootprint {
  bool regular = false;  // a regular file (not a link, folder, FIFO, device, socket)
  uint64_t size = 0;
  uint64_t allocated = 0;
};
std::optional<FileFootprint> file_footprint(const fs::path& path);

// Whether a footprint is within max_bytes: st_size <= max_bytes, and its blocks at most
// max_bytes plus 1 MiB (file systems allocate whole blocks, and some a little more). A 4 GiB
// sparse file (st_blocks 0) fails on its size; a small file with gigabytes preallocated past
// its end (fallocate KEEP_SIZE) fails on its blocks.
bool within(const FileFootprint& footprint, uint64_t max_bytes);

// Reads a file that a submission or a sandboxed process wrote, at bounded cost: throws Error for
// a link, anything but a regular file, and a file over max_bytes (within(), checked with fstat
// on the descriptor that is read, so swapping the file after a check changes nothing). Opens
// with O_NOFOLLOW | O_NONBLOCK (a FIFO can neither block nor be read) and reads at most
// max_bytes, whatever the file grows to meanwhile.
std::string read_untrusted_file(const fs::path& path, uint64_t max_bytes);

// ---- Repository layout ------------------------------------------------------------------

// The repository root: $TITO_ROOT if set, else the first directory containing modules/,
// tinytorch/ and CMakeLists.txt found walking up from the current directory, else walking
// up from the tito executable. Throws Error when nothing is found.
fs::path repo_root();

// "release" or "debug" (the CMake preset names).
std::string preset_name(bool sanitize);
fs::path build_dir(const fs::path& root, std::string_view preset);

// Normalizes a module number: "1" -> "01", "07" -> "07". std::nullopt if not 0..99.
std::optional<std::string> normalize_module_id(std::string_view text);

// "1 test", "2 tests", "0 tests": the count and the noun, with an "s" unless the count is 1.
std::string counted(long long count, std::string_view noun);

// ---- Terminal output -----------------------------------------------------------------

enum class Color { kRed, kGreen, kYellow, kBlue, kBold, kDim };

// True when stdout is a terminal and NO_COLOR is not set.
bool use_color();
// Wraps text in ANSI color codes when use_color(), else returns it unchanged.
std::string paint(std::string_view text, Color color);

// "==> message" step header on stdout.
void print_step(std::string_view message);
// "tito: warning: ..." / "tito: error: ..." on stderr.
void print_warning(std::string_view message);
void print_error(std::string_view message);

}  // namespace tito
