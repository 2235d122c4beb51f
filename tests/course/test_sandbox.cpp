// Unit tests for what `tito grade` relies on to stay in charge of a submission's code: the
// output cap of capture() and the bubblewrap sandbox (tools/tito/src/util, sandbox). The sandbox
// tests skip, saying why, where bwrap cannot start a sandbox (tito doctor reports it too).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "sandbox.h"
#include "util.h"

namespace {

namespace fs = std::filesystem;

// A folder outside the sandbox's writable places, removed at the end of the test.
struct Scratch {
  fs::path path;
  Scratch() {
    path = fs::temp_directory_path() /
           ("tito-sandbox-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(path);
    fs::create_directories(path);
    fs::permissions(path, fs::perms::all);  // as root the sandboxed command runs as nobody
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

TEST(Capture, OutputWithoutEndIsCutAndTheProgramKilled) {
  const auto r = tito::capture({"yes", "spam"}, {}, 4096);
  EXPECT_TRUE(r.output_capped);
  EXPECT_EQ(r.output.size(), 4096u);
  EXPECT_EQ(r.exit_code, 128 + 9);  // SIGKILL
  const auto small = tito::capture({"echo", "hi"}, {}, 4096);
  EXPECT_FALSE(small.output_capped);
  EXPECT_EQ(small.output, "hi\n");
}

#define SKIP_WITHOUT_SANDBOX() \
  if (const auto why = tito::sandbox_unavailable_reason()) GTEST_SKIP() << *why;

TEST(Sandbox, HostIsReadOnlyAndHiddenFoldersAreEmpty) {
  SKIP_WITHOUT_SANDBOX();
  Scratch hidden;
  Scratch writable;
  { std::ofstream(hidden.path / "secret") << "hidden test"; }
  const tito::Sandbox sandbox(true, {hidden.path});
  tito::SandboxLimits limits;
  limits.seconds = 20;
  const std::string script = "cat '" + (hidden.path / "secret").string() +
                             "' 2>/dev/null; touch '" + (hidden.path / "written").string() +
                             "' 2>/dev/null || echo ro; " + "echo ok > /tmp/in/out; echo $$";
  const auto r =
      sandbox.run({"sh", "-c", script}, {{writable.path, "/tmp/in", true}}, "/tmp", limits);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("hidden test"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ro"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(hidden.path / "written"));
  EXPECT_TRUE(fs::exists(writable.path / "out"));  // the one writable mount
  // Its own PID namespace: the shell is a low PID there, not the host's.
  EXPECT_LT(std::stoi(r.output.substr(r.output.rfind("ro\n") + 3)), 10) << r.output;
}

TEST(Sandbox, NoProcessOutlivesARun) {
  SKIP_WITHOUT_SANDBOX();
  Scratch out;
  const tito::Sandbox sandbox(true, {});
  tito::SandboxLimits limits;
  limits.seconds = 20;
  // A detached daemon that writes one file now and one 0.3 s later: the second never comes,
  // the daemon died with the namespace when the run ended.
  const auto r = sandbox.run({"sh", "-c",
                              "setsid sh -c 'echo early > /tmp/in/early; sleep 0.3; "
                              "echo late > /tmp/in/late' >/dev/null 2>&1 & sleep 0.1"},
                             {{out.path, "/tmp/in", true}}, "/tmp", limits);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(fs::exists(out.path / "early"));  // the daemon did run, and could write
  EXPECT_FALSE(fs::exists(out.path / "late"));
}

TEST(Sandbox, TimeAndOutputCapsStopTheRun) {
  SKIP_WITHOUT_SANDBOX();
  const tito::Sandbox sandbox(true, {});
  tito::SandboxLimits limits;
  limits.seconds = 1;
  const auto slow = sandbox.run({"sleep", "30"}, {}, "/tmp", limits);
  EXPECT_TRUE(slow.timed_out);
  limits.seconds = 20;
  limits.output_bytes = 1 << 16;
  const auto loud = sandbox.run({"yes", "spam"}, {}, "/tmp", limits);
  EXPECT_TRUE(loud.output_capped);
  EXPECT_FALSE(loud.timed_out);
  EXPECT_EQ(loud.output.size(), size_t{1} << 16);
}

TEST(Sandbox, ProcessCapStopsAForkBomb) {
  SKIP_WITHOUT_SANDBOX();
  const tito::Sandbox sandbox(true, {});
  tito::SandboxLimits limits;
  limits.seconds = 10;
  limits.processes = 8;
  // dash gives up at the first fork the kernel refuses.
  const auto r =
      sandbox.run({"sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait"}, {},
                  "/tmp", limits);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.output.find("fork"), std::string::npos) << r.output;
}

}  // namespace
