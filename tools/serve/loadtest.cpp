// tinytorch_loadtest — load on a model server, on this machine only (`tito loadtest MODEL`).
//
//   tinytorch_loadtest runs/1986/model.ttm [--clients 8] [--requests 2000] [--seconds 20]
//                      [--windows 0,2] [--faults] [--drift] [--json report.json]
//
// For each batching window it starts tinytorch_serve (the program beside this one) on 127.0.0.1
// with `--port 0 --batch-window-ms W`, and C closed-loop clients each POST one Fashion-MNIST test
// image per request until --requests are answered or --seconds have passed. It reports
// throughput, p50/p90/p99 latency, the mean batch the server ran (from its /metrics), and checks
// every answer against in-process InferenceModel::forward on the same image: a served answer
// must be the model's answer. Then SIGTERM, and the server must exit 0.
//
//   --faults  one request in 8 is bad — malformed JSON, no "inputs", a short row, a string
//             value, a body over the server's limit, an unknown path — and must get a 4xx with a
//             JSON {"error": ...} while the good ones are all answered correctly. Then attacks on
//             a fresh server, each with a verdict: GET /%ff, a 200 MiB header flood, an oversized
//             request line and header count, bad Content-Length values, a chunked body past the
//             limit, PATCH, 256 slow connections (p99 of real clients against the quiet p99),
//             and SIGTERM with more clients than threads (every request answered, the log's
//             counts true).
//   --drift   after the load, inverted images: the server's /v1/monitor PSI summary before and
//             after (needs a model exported with drift statistics)
//
// The images are sent as the model file says: standardised with its "input.mean"/"input.std"
// statistics when it has them, else as pixels in [0, 1].
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model;
  std::string data = data::kFashionMnistDir;
  int clients = 8;
  int64_t requests = 2000;
  double seconds = 20.0;
  std::vector<double> windows = {0.0, 2.0};
  int64_t max_batch = 32;
  bool faults = false, drift = false;
  std::string json_path;
};

const char* kUsage =
    "Usage: tinytorch_loadtest MODEL.ttm [--clients C] [--requests N] [--seconds S]\n"
    "                          [--windows 0,2] [--max-batch B] [--faults] [--drift]\n"
    "                          [--data DIR] [--json PATH]\n"
    "Starts tinytorch_serve on 127.0.0.1 once per batching window (ms; 0 = no batching) and\n"
    "loads it with C closed-loop clients sending Fashion-MNIST test images, at most N requests\n"
    "and S seconds per window (defaults 8, 2000, 20, windows 0 and 2 ms).\n";

[[noreturn]] void usage_error(const std::string& m) {
  std::cerr << "tinytorch_loadtest: " << m << "\n\n" << kUsage;
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a == "--faults") {
      o.faults = true;
      continue;
    }
    if (a == "--drift") {
      o.drift = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      o.model = a;
      continue;
    }
    if (i + 1 >= argc) usage_error(a + " needs a value");
    const std::string v = argv[++i];
    try {
      if (a == "--clients") {
        o.clients = std::stoi(v);
      } else if (a == "--requests") {
        o.requests = std::stoll(v);
      } else if (a == "--seconds") {
        o.seconds = std::stod(v);
      } else if (a == "--max-batch") {
        o.max_batch = std::stoll(v);
      } else if (a == "--data") {
        o.data = v;
      } else if (a == "--json") {
        o.json_path = v;
      } else if (a == "--windows") {
        o.windows.clear();
        std::stringstream ss(v);
        for (std::string w; std::getline(ss, w, ',');) o.windows.push_back(std::stod(w));
      } else {
        usage_error("unknown option '" + a + "'");
      }
    } catch (const std::logic_error&) {
      usage_error(a + ": not a number: '" + v + "'");
    }
  }
  if (o.model.empty()) usage_error("which model? give the path of a .ttm file");
  if (o.clients < 1 || o.clients > 256) usage_error("--clients must be in [1, 256]");
  if (o.requests < 1 || o.requests > 10'000'000) usage_error("--requests must be in [1, 1e7]");
  if (!(o.seconds > 0 && o.seconds <= 3600)) usage_error("--seconds must be in (0, 3600]");
  if (o.windows.empty()) usage_error("--windows needs at least one window");
  for (double w : o.windows) {
    if (!(w >= 0 && w <= 1000)) usage_error("--windows: each window must be in [0, 1000] ms");
  }
  return o;
}

// A server child process on 127.0.0.1, started with --port 0; its port read from its first
// "listening on http://127.0.0.1:PORT" line.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) throw Error("loadtest: pipe() failed");
    pid_ = fork();
    if (pid_ < 0) throw Error("loadtest: fork() failed");
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      std::perror(("loadtest: cannot run " + binary).c_str());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[1024];
    const std::string key = "listening on http://127.0.0.1:";
    while (out_ != nullptr && std::fgets(line, sizeof(line), out_) != nullptr) {
      const std::string l = line;
      if (l.rfind(key, 0) == 0) {
        port_ = std::stoi(l.substr(key.size()));
        break;
      }
    }
    if (port_ <= 0) {
      stop();
      throw Error("loadtest: " + binary +
                  " did not start (no 'listening on' line); run it by hand "
                  "to see why");
    }
  }
  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // What the server printed after its "listening" line, once stop() has returned.
  const std::string& log() const { return log_; }
  // SIGTERM, then the exit status (0 = a graceful stop).
  int stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    char line[1024];
    while (out_ != nullptr && std::fgets(line, sizeof(line), out_) != nullptr) log_ += line;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_ != nullptr) std::fclose(out_);
    out_ = nullptr;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  int exit_status_ = -1;
  std::string log_;
};

std::string row_json(const Tensor& images, int64_t i) {
  const int64_t width = images.size(1);
  const float* p = images.data_ptr<float>() + i * width;
  return json{{"inputs", json::array({std::vector<float>(p, p + width)})}}.dump();
}

// The bad requests of --faults: {path, body, what it tests}.
struct Fault {
  std::string path, body, what;
};

std::vector<Fault> faults(int64_t width, int64_t max_body) {
  return {
      {"/v1/predict", "{\"inputs\": [[0.1, 0.2", "malformed JSON"},
      {"/v1/predict", "{\"rows\": []}", "no \"inputs\""},
      {"/v1/predict", json{{"inputs", {{0.1, 0.2, 0.3}}}}.dump(), "a short row"},
      {"/v1/predict",
       json{{"inputs", {std::vector<std::string>(static_cast<size_t>(width), "x")}}}.dump(),
       "string values"},
      {"/v1/predict", std::string(static_cast<size_t>(max_body) + 1024, ' '), "an oversized body"},
      {"/v2/nothing", "{}", "an unknown path"}};
}

struct RunResult {
  double window_ms = 0;
  int64_t answered = 0, wrong = 0, correct_label = 0, faults_sent = 0, faults_ok = 0, failed = 0;
  double seconds = 0, throughput = 0, p50 = 0, p90 = 0, p99 = 0, mean_batch = 0;
  int exit_status = -1;
  std::vector<std::string> fault_problems;
};

// The value of an unlabelled sample in Prometheus text ("name value").
double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return std::nan("");
}

// How far a served logit may be from the in-process one. A float model computes each row the
// same way in any batch, up to the GEMM's summation order: 1e-3 relative. A dynamically
// quantized (int8) model does not: its activations are quantized with the range of the whole
// BATCH (module 15), so a row's answer depends on which requests shared its batch — that is the
// scheme, in PyTorch too. Its answers must stay within 5% of the row's largest logit.
double tolerance(bool int8, const float* ref, int64_t k, float value) {
  if (!int8) return 1e-3 * (1.0 + std::fabs(value));
  float largest = 0.0f;
  for (int64_t j = 0; j < k; ++j) largest = std::max(largest, std::fabs(ref[j]));
  return 0.05 * (1.0 + largest);
}

RunResult run_window(const Options& o, const std::string& server_bin, double window_ms,
                     const Tensor& images, const Tensor& labels, const Tensor& reference, bool int8,
                     json& monitor_out) {
  const int64_t max_body = 1 << 20;
  ServerProcess server(
      server_bin, {o.model, "--port", "0", "--batch-window-ms", std::to_string(window_ms),
                   "--max-batch", std::to_string(o.max_batch), "--threads",
                   std::to_string(o.clients + 4), "--max-body-bytes", std::to_string(max_body)});
  RunResult r;
  r.window_ms = window_ms;
  const int64_t n_images = images.size(0), k = reference.size(1);
  const std::vector<Fault> bad = faults(images.size(1), max_body);
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", server.port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // the request's headers and body leave at once (serve.cpp)
      cli.set_read_timeout(30, 0);
      std::vector<double> mine;
      RunResult local;
      for (int64_t i = next++; i < o.requests && Clock::now() < deadline; i = next++) {
        if (o.faults && i % 8 == 7) {
          const Fault& f = bad[static_cast<size_t>((i / 8) % static_cast<int64_t>(bad.size()))];
          auto res = cli.Post(f.path, f.body, "application/json");
          ++local.faults_sent;
          bool ok = res && res->status >= 400 && res->status < 500;
          if (ok) {
            const json body = json::parse(res->body, nullptr, false);
            ok = body.is_object() && body.contains("error");
          }
          if (ok) {
            ++local.faults_ok;
          } else {
            local.fault_problems.push_back(f.what + ": got " +
                                           (res ? std::to_string(res->status) : "no answer"));
          }
          if (!res) cli.stop();  // reconnect after a refused body
          continue;
        }
        const int64_t img = (i * 7919 + c) % n_images;
        const std::string body = row_json(images, img);
        const auto t0 = Clock::now();
        auto res = cli.Post("/v1/predict", body, "application/json");
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!res || res->status != 200) {
          ++local.failed;
          continue;
        }
        mine.push_back(dt);
        ++local.answered;
        const json answer = json::parse(res->body, nullptr, false);
        bool same = answer.is_object() && answer.contains("outputs") &&
                    answer["outputs"].size() == 1 &&
                    answer["outputs"][0].size() == static_cast<size_t>(k);
        const float* ref = reference.data_ptr<float>() + img * k;
        for (int64_t j = 0; same && j < k; ++j) {
          same = std::fabs(answer["outputs"][0][static_cast<size_t>(j)].get<double>() - ref[j]) <=
                 tolerance(int8, ref, k, ref[j]);
        }
        if (!same) ++local.wrong;
        if (same && answer["predictions"][0].get<int64_t>() == labels.data_ptr<int64_t>()[img]) {
          ++local.correct_label;
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      r.answered += local.answered;
      r.wrong += local.wrong;
      r.correct_label += local.correct_label;
      r.faults_sent += local.faults_sent;
      r.faults_ok += local.faults_ok;
      r.failed += local.failed;
      for (auto& p : local.fault_problems) r.fault_problems.push_back(p);
    });
  }
  for (auto& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.throughput = static_cast<double>(r.answered) / r.seconds;
  if (!latencies.empty()) {
    r.p50 = benchmark::percentile(latencies, 50);
    r.p90 = benchmark::percentile(latencies, 90);
    r.p99 = benchmark::percentile(latencies, 99);
  }
  httplib::Client cli("127.0.0.1", server.port());
  if (auto m = cli.Get("/metrics")) {
    r.mean_batch = metric(m->body, "tinytorch_batch_size_rows_sum") /
                   metric(m->body, "tinytorch_batch_size_rows_count");
  }
  if (o.drift) {
    const auto before = cli.Get("/v1/monitor");
    // Inverted images: ink where training had background.
    const Tensor inverted =
        images.narrow(0, 0, std::min<int64_t>(500, n_images)).neg().contiguous();
    for (int64_t i = 0; i < inverted.size(0); ++i)
      cli.Post("/v1/predict", row_json(inverted, i), "application/json");
    const auto after = cli.Get("/v1/monitor");
    monitor_out = {
        {"before", before ? json::parse(before->body, nullptr, false) : json(nullptr)},
        {"after_inverted", after ? json::parse(after->body, nullptr, false) : json(nullptr)}};
  } else if (auto m = cli.Get("/v1/monitor")) {
    monitor_out = json::parse(m->body, nullptr, false);
  }
  r.exit_status = server.stop();
  return r;
}

std::string ms(double s) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.2f ms", s * 1e3);
  return b;
}

// ── --faults: attacks on a fresh server, one verdict each ───────────────────────────────────

// A TCP connection to 127.0.0.1:port, or -1; a read or write waits at most 10 s.
int connect_local(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const timeval wait{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct RawAnswer {
  int status = 0;  // 0: the connection closed, or stayed silent, without an answer
  std::string body;
};

// One response read from `fd`: its status and body.
RawAnswer read_answer(int fd) {
  static const std::regex length_header("content-length: *([0-9]+)", std::regex::icase);
  std::string data;
  char buf[65536];
  for (;;) {
    const size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::smatch m;
      const std::string head = data.substr(0, end);
      const size_t length = std::regex_search(head, m, length_header) ? std::stoul(m[1]) : 0;
      if (data.size() >= end + 4 + length && data.size() > 12) {
        return {std::atoi(data.c_str() + 9), data.substr(end + 4, length)};  // "HTTP/1.1 431"
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    data.append(buf, static_cast<size_t>(n));
  }
}

// Sends `head`, then `block` again and again (at most `max_bytes` in all) until the server
// answers, and reads the answer.
RawAnswer send_raw(int port, const std::string& head, const std::string& block = "",
                   int64_t max_bytes = 0) {
  const int fd = connect_local(port);
  if (fd < 0) return {};
  bool open = ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0;
  for (int64_t sent = 0; open && !block.empty() && sent < max_bytes;
       sent += static_cast<int64_t>(block.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) break;  // the answer has come
    open = ::send(fd, block.data(), block.size(), MSG_NOSIGNAL) > 0;
  }
  RawAnswer a = read_answer(fd);
  ::close(fd);
  return a;
}

int64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

// The p99 latency (s) of `clients` closed-loop clients sending `requests` images in all, and
// how many were not answered 200.
std::pair<double, int64_t> p99_of(int port, const Tensor& images, int clients, int64_t requests) {
  std::vector<double> latencies;
  int64_t failed = 0;
  std::mutex mutex;
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      std::vector<double> mine;
      int64_t bad = 0;
      for (int64_t i = next++; i < requests; i = next++) {
        const std::string body = row_json(images, i % images.size(0));
        const auto t0 = Clock::now();
        const auto res = cli.Post("/v1/predict", body, "application/json");
        mine.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (!res || res->status != 200) ++bad;
      }
      std::lock_guard<std::mutex> lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      failed += bad;
    });
  }
  for (auto& t : threads) t.join();
  return {latencies.empty() ? 0.0 : benchmark::percentile(latencies, 99), failed};
}

// Prints one line per attack and remembers whether all held.
struct Verdicts {
  bool all = true;
  void add(const std::string& attack, const std::string& observed, bool held) {
    std::printf("  %-42s %-52s %s\n", attack.c_str(), observed.c_str(), held ? "PASS" : "FAIL");
    all = all && held;
  }
};

std::string got(const RawAnswer& a) {
  return a.status == 0 ? "no answer" : "got " + std::to_string(a.status);
}

// An answer's body is a JSON {"error": ...} (which also proves it valid UTF-8: the parser
// refuses anything else).
bool json_error(const RawAnswer& a) {
  const json body = json::parse(a.body, nullptr, false);
  return !body.is_discarded() && body.is_object() && body.contains("error");
}

bool run_attacks(const Options& o, const std::string& server_bin, const Tensor& images) {
  std::cout << "\nattacks on a fresh server (its default limits; 127.0.0.1 only):\n";
  Verdicts v;
  {
    ServerProcess server(server_bin, {o.model, "--port", "0", "--max-body-bytes", "1048576"});
    const int port = server.port();
    const std::string close = "Host: x\r\nConnection: close\r\n";
    RawAnswer a = send_raw(port, "GET /%ff HTTP/1.1\r\n" + close + "\r\n");
    const bool alive = send_raw(port, "GET /healthz HTTP/1.1\r\n" + close + "\r\n").status == 200;
    v.add("GET /%ff (a path byte that is not UTF-8)",
          got(a) + (alive ? ", still serving" : ", server gone"),
          a.status == 404 && json_error(a) && alive);

    const int64_t before = rss_kib(server.pid());
    a = send_raw(port, "GET /healthz HTTP/1.1\r\n", "X-Flood: " + std::string(1000, 'a') + "\r\n",
                 int64_t{200} << 20);
    const int64_t grown = rss_kib(server.pid()) - before;
    v.add("200 MiB of header lines", got(a) + ", server grew " + std::to_string(grown) + " KiB",
          a.status == 431 && grown < (16 << 10));
    a = send_raw(port, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + close + "\r\n");
    v.add("a request line of 9000 bytes", got(a), a.status == 414 && json_error(a));
    std::string many;
    for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
    a = send_raw(port, "GET /healthz HTTP/1.1\r\n" + many + "\r\n");
    v.add("150 header lines", got(a), a.status == 431 && json_error(a));
    for (const std::string length : {"-1", "18446744073709551616"}) {
      a = send_raw(port, "POST /v1/predict HTTP/1.1\r\n" + close + "Content-Length: " + length +
                             "\r\n\r\n{}");
      v.add("Content-Length: " + length, got(a), a.status == 400 && json_error(a));
    }
    a = send_raw(port, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                 "10000\r\n" + std::string(65536, ' ') + "\r\n", int64_t{64} << 20);
    v.add("a chunked body past --max-body-bytes", got(a), a.status == 413 && json_error(a));
    a = send_raw(port, "PATCH /v1/predict HTTP/1.1\r\n" + close + "Content-Length: 2\r\n\r\n{}");
    v.add("PATCH /v1/predict", got(a), a.status == 405 && json_error(a));

    // 256 slow clients: half a head, then a byte a second; one the server cuts is reopened.
    const auto [quiet, quiet_failed] = p99_of(port, images, o.clients, 1000);
    std::atomic<bool> stop{false};
    std::thread attacker([&, port] {
      std::vector<int> fds(256, -1);
      const std::string start = "POST /v1/predict HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      while (!stop) {
        for (int& fd : fds) {
          if (fd >= 0 && ::send(fd, "a", 1, MSG_NOSIGNAL) == 1) continue;
          if (fd >= 0) ::close(fd);
          fd = connect_local(port);
          if (fd >= 0) ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
        }
        for (int i = 0; i < 20 && !stop; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      for (const int fd : fds) {
        if (fd >= 0) ::close(fd);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // all 256 open
    const auto [attacked, attacked_failed] = p99_of(port, images, o.clients, 1000);
    stop = true;
    attacker.join();
    v.add("256 slow connections (a byte a second)",
          "p99 " + ms(attacked) + " vs quiet " + ms(quiet) + ", " +
              std::to_string(attacked_failed + quiet_failed) + " failed",
          attacked <= 3 * quiet && attacked_failed + quiet_failed == 0);
    const int code = server.stop();
    v.add("SIGTERM after the attacks", "exit " + std::to_string(code), code == 0);
  }
  {
    // More clients than threads, each request sent whole, then SIGTERM while most wait.
    ServerProcess server(server_bin, {o.model, "--port", "0", "--threads", "8", "--max-batch", "64",
                                      "--batch-window-ms", "300"});
    std::vector<int> fds;
    for (int64_t i = 0; i < 40; ++i) {
      const std::string body = row_json(images, i);
      const std::string request =
          "POST /v1/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      const int fd = connect_local(server.port());
      if (fd >= 0) ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      fds.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int code = server.stop();
    int64_t ok = 0, refused = 0, none = 0;
    for (const int fd : fds) {
      const int status = fd >= 0 ? read_answer(fd).status : 0;
      ok += status == 200;
      refused += status == 503;
      none += status != 200 && status != 503;
      if (fd >= 0) ::close(fd);
    }
    std::smatch m;
    static const std::regex counts("after the signal ([0-9]+) requests answered, ([0-9]+) refused");
    const bool logged = std::regex_search(server.log(), m, counts) && std::stoll(m[1]) == ok &&
                        std::stoll(m[2]) == refused;
    v.add("SIGTERM with 40 clients on 8 threads",
          std::to_string(ok) + " answered, " + std::to_string(refused) + " refused, " +
              std::to_string(none) + " dropped; log " + (logged ? "agrees" : "DISAGREES"),
          none == 0 && logged && code == 0);
  }
  return v.all;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  // The attacks make the server close connections while a client still writes (an oversized
  // body is refused before it is all sent): a write then fails with EPIPE, which the client
  // reports, instead of SIGPIPE ending this program without a verdict.
  ::signal(SIGPIPE, SIG_IGN);
  try {
    const std::string server_bin =
        (std::filesystem::path(argv[0]).parent_path() / "tinytorch_serve").string();
    const auto model = deploy::InferenceModel::load(o.model);
    const auto& sig = model.signature();
    if (sig.input_dtype != kFloat32) {
      throw Error("loadtest: the model takes " + std::string(to_string(sig.input_dtype)) +
                  " inputs; the load test sends Fashion-MNIST images (float32)");
    }
    const data::TensorDataset test = data::load_fashion_mnist(o.data, /*train=*/false);
    Tensor images = test.data().reshape({test.size(), -1}).contiguous();
    if (images.size(1) != 784) throw Error("loadtest: expected 28×28 images");
    const auto& stats = model.statistics();
    const bool standardise = stats.contains("input.mean") && stats.contains("input.std");
    if (standardise) {
      images = images.sub(stats.at("input.mean").item().to<double>())
                   .div(stats.at("input.std").item().to<double>())
                   .contiguous();
    }
    std::vector<int64_t> shape = {images.size(0)};
    shape.insert(shape.end(), sig.input_shape.begin(), sig.input_shape.end());
    // The reference: the model's own answers, in process, one image per forward call (as the
    // server computes them without batching).
    const Tensor batched = images.reshape(shape);
    const Tensor reference = empty({batched.size(0), model.num_outputs()});
    for (int64_t i = 0; i < batched.size(0); ++i) {
      reference.narrow(0, i, 1).copy_(model.forward(batched.narrow(0, i, 1)));
    }
    const bool int8 = model.architecture().find("DynamicQuantizedLinear") != std::string::npos;
    const Tensor labels = test.targets().contiguous();

    std::cout << "load test: " << sig.name << " " << sig.version << ", " << o.clients
              << " clients, at most " << o.requests << " requests and " << o.seconds
              << " s per window, inputs " << (standardise ? "standardised" : "in [0, 1]")
              << (int8 ? ", int8 model: answers checked to 5% of the largest logit (the batch sets "
                         "the activation scale)"
                       : "")
              << (o.faults ? ", 1 request in 8 malformed" : "") << "\n"
              << "machine: " << benchmark::machine_info().describe() << "\n\n";
    std::vector<RunResult> results;
    json report = {{"model", o.model},
                   {"version", sig.version},
                   {"clients", o.clients},
                   {"machine", benchmark::machine_info().describe()},
                   {"runs", json::array()}};
    bool ok = true;
    for (double w : o.windows) {
      json monitor;
      const RunResult r = run_window(o, server_bin, w, images, labels, reference, int8, monitor);
      results.push_back(r);
      const bool run_ok =
          r.wrong == 0 && r.failed == 0 && r.faults_ok == r.faults_sent && r.exit_status == 0;
      ok = ok && run_ok;
      report["runs"].push_back(
          {{"window_ms", w},
           {"answered", r.answered},
           {"seconds", r.seconds},
           {"requests_per_s", r.throughput},
           {"p50_s", r.p50},
           {"p90_s", r.p90},
           {"p99_s", r.p99},
           {"mean_batch", r.mean_batch},
           {"wrong_answers", r.wrong},
           {"failed", r.failed},
           {"accuracy", r.answered ? double(r.correct_label) / double(r.answered) : 0.0},
           {"faults_sent", r.faults_sent},
           {"faults_answered_4xx_json", r.faults_ok},
           {"fault_problems", r.fault_problems},
           {"server_exit_status", r.exit_status},
           {"monitor", monitor}});
      if (!monitor.is_null()) {
        std::cout << "window " << w << " ms — monitor: " << monitor.dump() << "\n";
      }
      for (const auto& p : r.fault_problems)
        std::cout << "  fault not answered with 4xx JSON: " << p << "\n";
    }
    std::cout << "\n  window    answered     req/s       p50       p90       p99  mean batch  "
                 "accuracy  wrong  faults 4xx  exit\n";
    for (const RunResult& r : results) {
      char line[256];
      std::snprintf(
          line, sizeof(line),
          "  %-8s %9lld %9.0f %9s %9s %9s %11.1f %8.2f%% %6lld %5lld/%-5lld %4d\n",
          r.window_ms == 0 ? "off" : (std::to_string(r.window_ms).substr(0, 4) + "ms").c_str(),
          static_cast<long long>(r.answered), r.throughput, ms(r.p50).c_str(), ms(r.p90).c_str(),
          ms(r.p99).c_str(), r.mean_batch,
          r.answered ? 100.0 * double(r.correct_label) / double(r.answered) : 0.0,
          static_cast<long long>(r.wrong), static_cast<long long>(r.faults_ok),
          static_cast<long long>(r.faults_sent), r.exit_status);
      std::cout << line;
    }
    if (results.size() >= 2 && results.front().throughput > 0) {
      std::cout << "\n  throughput " << results.back().throughput / results.front().throughput
                << "x of the first window's\n";
    }
    if (o.faults) {
      const bool held = run_attacks(o, server_bin, images);
      report["attacks_held"] = held;
      ok = ok && held;
    }
    if (!o.json_path.empty()) {
      std::ofstream(o.json_path) << report.dump(2) << "\n";
      std::cout << "Wrote " << o.json_path << "\n";
    }
    std::cout << (ok ? "OK: every good request answered with the model's own answer\n"
                     : "FAILED: wrong answers, failed requests, faults without 4xx JSON, an "
                       "attack that got through, or an unclean server exit (see above)\n");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tinytorch_loadtest: " << e.what() << "\n";
    return 1;
  }
}
