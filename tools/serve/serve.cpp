// tinytorch_serve — a trained model behind HTTP/JSON (module 20). `tito serve MODEL` runs it.
//
//   tinytorch_serve runs/1986/model.ttm [--port 8020] [--threads 512] [--max-batch 32]
//                   [--batch-window-ms 2] [--queue 256] [--max-body-bytes 8388608]
//                   [--timeout-ms 5000] [--receive-timeout-ms 5000] [--drain-timeout-ms 10000]
//                   [--host 127.0.0.1] [--token-file F] [--slo-p99-ms 50]
//
//   POST /v1/predict  {"inputs": [[...], ...]}  one flat row per sample, in the model's input
//                     layout → {"outputs": [[logits]], "predictions": [argmax], "labels": [names],
//                     "model_version": "..."}
//   GET  /healthz     {"status": "ok", ...}            (never needs the token)
//   GET  /metrics     Prometheus text: requests by status, latency histogram, batch sizes,
//                     queue depth, model version, drift (PSI), latency SLO
//   GET  /v1/monitor  the monitoring report as JSON (drift summary, SLO verdict)
//
//   GuardedConnection (http_guard.h)   HTTP thread pool (--threads)     DynamicBatcher (batcher.h)
//   ┌───────────────────────────┐      ┌────────────────────────────┐ submit ┌───────────────┐
//   │ read the head with limits │─────►│ parse + validate JSON → 4xx├───────►│ bounded queue ├─►
//   │ and a deadline → 4xx/408  │      │ wait for the future (504)  │◄───────┤ (503 if full) │
//   └───────────────────────────┘      └────────────────────────────┘ answer └───────────────┘
//                                                                   InferenceModel::forward ◄┘
//
// Errors are JSON, {"error": "what was wrong; what was expected"}: 400 malformed JSON, missing
// "inputs", wrong row length, non-numeric values, non-integer token ids, too many rows, a
// context longer than a GPT's block_size, a malformed head or Content-Length; 401
// missing/wrong bearer token; 404; 405 (with an Allow header); 408 the request did not arrive
// whole within --receive-timeout-ms; 411 a body without a length; 413 body too large; 414/431
// request line or headers too large; 415 a compressed body; 422 the model's outputs for the
// inputs are not finite; 503 queue full or shutting down; 504 the answer took longer than
// --timeout-ms. Every reply is valid UTF-8 JSON: a client's bytes that are not UTF-8 (a path
// such as /%ff) are replaced by U+FFFD in the text that quotes them.
//
// SIGTERM / SIGINT: stop accepting connections; every connection already accepted gets its
// request read and answered — a 503 once --drain-timeout-ms has passed — and is then closed;
// the batcher drains; the log says how many requests were answered, refused and cut off; exit 0.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http_guard.h"
#include "tinytorch/deploy/batcher.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/deploy/request.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* kUsage =
    "Usage: tinytorch_serve MODEL.ttm [options]\n"
    "  --port P             TCP port (default 8020; 0 = any free port, printed)\n"
    "  --host H             address to bind (default 127.0.0.1: this machine only)\n"
    "  --threads N          HTTP worker threads = connections served at once; a stalled\n"
    "                       connection holds one for up to --receive-timeout-ms (default 512)\n"
    "  --max-batch B        rows per forward call, and per request, at most (default 32)\n"
    "  --batch-window-ms W  how long a request may wait for others to join its batch\n"
    "                       (default 2; 0 = no dynamic batching)\n"
    "  --queue Q            requests waiting, at most; beyond that 503 (default 256)\n"
    "  --max-body-bytes S   larger request bodies get 413 (default 8388608)\n"
    "  --timeout-ms T       answer within T ms or 504; also the socket write timeout (default "
    "5000)\n"
    "  --receive-timeout-ms R  a request (headers and body) must arrive whole within R ms,\n"
    "                       else 408 and the connection is closed (default 5000)\n"
    "  --drain-timeout-ms D after SIGTERM, requests that arrive later than D ms get 503\n"
    "                       (default 10000)\n"
    "  --token-file F       require 'Authorization: Bearer <token>' (the file's first line);\n"
    "                       use it whenever --host is not a loopback address\n"
    "  --slo-p99-ms L       the latency objective /metrics and /v1/monitor check (default 50)\n";

struct Options {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8020;
  int threads = 512;
  int64_t max_batch = 32;
  double window_ms = 2.0;
  int64_t queue = 256;
  int64_t max_body_bytes = 8 << 20;
  int64_t timeout_ms = 5000;
  int64_t receive_timeout_ms = 5000;
  int64_t drain_timeout_ms = 10000;
  std::string token_file;
  double slo_p99_ms = 50.0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "tinytorch_serve: " << message << "\n\n" << kUsage;
  std::exit(2);
}

// A whole-number option in [lo, hi].
int64_t int_arg(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < lo || v > hi) {
    usage_error(flag + " expects a whole number in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "], got '" + text + "'");
  }
  return v;
}

double double_arg(const std::string& flag, const std::string& text, double lo, double hi) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || !(v >= lo && v <= hi)) {
    usage_error(flag + " expects a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "], got '" + text + "'");
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) {
      if (!o.model_path.empty()) usage_error("one model file expected, got '" + a + "' too");
      o.model_path = a;
      continue;
    }
    if (i + 1 >= argc) usage_error(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--port") {
      o.port = static_cast<int>(int_arg(a, v, 0, 65535));
    } else if (a == "--host") {
      o.host = v;
    } else if (a == "--threads") {
      o.threads = static_cast<int>(int_arg(a, v, 1, 4096));
    } else if (a == "--max-batch") {
      o.max_batch = int_arg(a, v, 1, 4096);
    } else if (a == "--batch-window-ms") {
      o.window_ms = double_arg(a, v, 0.0, 10000.0);
    } else if (a == "--queue") {
      o.queue = int_arg(a, v, 1, 1 << 20);
    } else if (a == "--max-body-bytes") {
      o.max_body_bytes = int_arg(a, v, 64, int64_t{1} << 30);
    } else if (a == "--timeout-ms") {
      o.timeout_ms = int_arg(a, v, 1, 3600 * 1000);
    } else if (a == "--receive-timeout-ms") {
      o.receive_timeout_ms = int_arg(a, v, 1, 3600 * 1000);
    } else if (a == "--drain-timeout-ms") {
      o.drain_timeout_ms = int_arg(a, v, 0, 3600 * 1000);
    } else if (a == "--token-file") {
      o.token_file = v;
    } else if (a == "--slo-p99-ms") {
      o.slo_p99_ms = double_arg(a, v, 0.001, 1e6);
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  if (o.model_path.empty()) usage_error("which model? give the path of a .ttm file");
  // A request waits up to the window for company, then for its batch: with a window longer than
  // the timeout, every request that arrives alone would get 504.
  if (o.window_ms >= static_cast<double>(o.timeout_ms)) {
    std::ostringstream m;
    m << "--batch-window-ms " << o.window_ms << " must be shorter than --timeout-ms "
      << o.timeout_ms << ": a request that waits the whole window alone would always time out";
    usage_error(m.str());
  }
  return o;
}

// The token: the file's first line, without surrounding whitespace; the file must exist and the
// token must not be empty (an empty token would let everyone in).
std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error("--token-file " + path + ": cannot read the file");
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) usage_error("--token-file " + path + ": the token is empty");
  return line.substr(first, last - first + 1);
}

// Compares in time independent of where the strings differ (a byte-by-byte early exit would tell
// an attacker, through the response time, how many leading bytes of a guess were right).
bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

// NOTE: every reply is valid UTF-8. A client's text quoted in a message (a path, a value) may
// hold any bytes — GET /%ff decodes to the byte 0xFF — and dump() would throw on them by
// default; `replace` writes U+FFFD for each byte that is not UTF-8.
void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}});
}

// The server's state: the model, the batcher, the instruments.
class Server {
 public:
  explicit Server(Options options)
      : opts_(std::move(options)),
        model_(deploy::InferenceModel::load(opts_.model_path)),
        requests_("tinytorch_requests_total", "HTTP requests answered, by path and status code."),
        latency_("tinytorch_request_duration_seconds",
                 "Time from a parsed /v1/predict request to its answer.",
                 deploy::Histogram::latency_buckets()),
        batch_rows_("tinytorch_batch_size_rows", "Rows per forward call of the model.",
                    {1, 2, 4, 8, 16, 32, 64, 128, 256}),
        info_("tinytorch_model_info", "The model served (value 1)."),
        gauges_("tinytorch_serving_state", "Queue depth, drift and SLO state, by quantity."),
        slo_window_(10000) {
    const auto& sig = model_.signature();
    if (!opts_.token_file.empty()) token_ = read_token(opts_.token_file);
    if (sig.input_dtype == kFloat32 && model_.statistics().contains("drift.edges")) {
      deploy::DriftReference reference = deploy::drift_from_statistics(model_.statistics());
      // Checked here, not at the first prediction: statistics of another feature count would
      // make every prediction fail in DriftMonitor::observe().
      int64_t features = 1;
      for (const int64_t d : sig.input_shape) features *= d;
      TT_CHECK_VALUE(reference.num_features() == features, "load model: '", opts_.model_path,
                     "': its drift statistics describe ", reference.num_features(),
                     " features, but one input sample has ", features,
                     " values; export the model with statistics of its own inputs");
      drift_.emplace(std::move(reference));
    }
    info_.set({{"name", sig.name}, {"version", sig.version}}, 1.0);
    batcher_ = std::make_unique<deploy::DynamicBatcher>(
        [this](const Tensor& x) {
          batch_rows_.observe(static_cast<double>(x.size(0)));
          return model_.forward(x);
        },
        deploy::BatcherOptions{
            .max_batch_size = opts_.max_batch,
            .max_wait = std::chrono::microseconds(static_cast<int64_t>(opts_.window_ms * 1000.0)),
            .max_queue = opts_.queue,
            .num_workers = 1});
  }

  // The limits every connection is read with (http_guard.h).
  serve::HttpLimits limits() const {
    serve::HttpLimits l;
    l.max_body_bytes = static_cast<uint64_t>(opts_.max_body_bytes);
    l.receive_timeout = std::chrono::milliseconds(opts_.receive_timeout_ms);
    l.write_timeout = std::chrono::milliseconds(opts_.timeout_ms);
    return l;
  }

  void routes(serve::GuardedServer& http) {
    http.set_payload_max_length(static_cast<size_t>(opts_.max_body_bytes));
    http.set_write_timeout(opts_.timeout_ms / 1000, (opts_.timeout_ms % 1000) * 1000);
    // Refusals the guard writes itself (408, 411, 413, 414, 415, 431, 503 past the drain
    // deadline) count too; their path is not known.
    http.on_refusal([this](int status) {
      requests_.inc({{"path", "other"}, {"code", std::to_string(status)}});
    });
    // Small responses go out at once: with Nagle's algorithm on, a response written in two
    // pieces waits for the client's delayed ACK (~40 ms on Linux) — 40 ms added to a 0.1 ms model.
    http.set_tcp_nodelay(true);
    const int threads = opts_.threads;
    http.new_task_queue = [threads] {
      return new httplib::ThreadPool(static_cast<size_t>(threads));
    };

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (token_.empty() || req.path == "/healthz")
        return httplib::Server::HandlerResponse::Unhandled;
      const std::string header = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (header.rfind(prefix, 0) != 0 ||
          !constant_time_equal(header.substr(prefix.size()), token_)) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, 401,
                   "missing or wrong bearer token: send the header 'Authorization: Bearer "
                   "<token>' with the token of the server's --token-file");
        count(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Post("/v1/predict", [this](const httplib::Request& req, httplib::Response& res) {
      predict(req, res);
      count(req, res);
    });
    http.Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
      send_json(res, 200,
                {{"status", "ok"},
                 {"model", model_.signature().name},
                 {"version", model_.signature().version}});
      count(req, res);
    });
    http.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      res.status = 200;  // (httplib sets it only after the handler returns)
      count(req, res);   // this scrape counts in its own exposition
      res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    http.Get("/v1/monitor", [this](const httplib::Request& req, httplib::Response& res) {
      send_json(res, 200, monitor_report());
      count(req, res);
    });
    // The known paths with a method they do not take: 405 and the methods they do.
    const auto not_allowed = [this](const char* allowed) {
      return [this, allowed](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", allowed);
        send_error(res, 405, req.method + " is not allowed on " + req.path + "; use " + allowed);
        count(req, res);
      };
    };
    const auto refuse_others = [&](const char* path, const char* allowed) {
      http.Put(path, not_allowed(allowed));
      http.Patch(path, not_allowed(allowed));
      http.Delete(path, not_allowed(allowed));
      http.Options(path, not_allowed(allowed));
    };
    for (const char* path : {"/healthz", "/metrics", "/v1/monitor"}) {
      http.Post(path, not_allowed("GET"));
      refuse_others(path, "GET");
    }
    http.Get("/v1/predict", not_allowed("POST"));
    refuse_others("/v1/predict", "POST");

    // Statuses httplib sets itself (404: no route; 413: body over --max-body-bytes; 400: an
    // unreadable request) get a JSON body too. Our own errors already have one: left alone.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          // NOTE: httplib calls this handler outside its own try block: an exception here
          // would reach the guard's last resort, which closes the connection unanswered. The
          // path quoted below is the client's, any bytes: send_json writes it as valid UTF-8.
          if (res.status == 404) {
            send_error(res, 404,
                       "no such path " + req.path +
                           "; the server answers POST /v1/predict, GET /healthz, GET /metrics and "
                           "GET /v1/monitor");
          } else if (res.status == 413) {
            send_error(res, 413,
                       "request body too large: at most " + std::to_string(opts_.max_body_bytes) +
                           " bytes (--max-body-bytes); send fewer rows per request");
          } else {
            send_error(res, res.status, "the HTTP request could not be read");
          }
          count(req, res);
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown error";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          send_error(res, 500, "internal error: " + what);
          count(req, res);
        });
  }

  void shutdown() { batcher_->shutdown(); }
  const deploy::InferenceModel& model() const { return model_; }
  const Options& options() const { return opts_; }

 private:
  void count(const httplib::Request& req, const httplib::Response& res) {
    // A request the guard has already answered (413 mid-body, 408) and counted: httplib's
    // own answer to it is never sent.
    if (const auto* c = serve::current_connection(); c != nullptr && (c->refused() || c->cut()))
      return;
    // Unknown paths are counted under one label: a client must not grow the label set at will.
    const bool known = req.path == "/v1/predict" || req.path == "/healthz" ||
                       req.path == "/metrics" || req.path == "/v1/monitor";
    requests_.inc({{"path", known ? req.path : "other"}, {"code", std::to_string(res.status)}});
  }

  // Parses and checks the body (deploy::parse_predict_request); on success returns the inputs
  // [n, *input_shape], else answers 400 with the parser's message.
  std::optional<Tensor> parse_inputs(const httplib::Request& req, httplib::Response& res) const {
    try {
      return deploy::parse_predict_request(req.body, model_.signature(), model_.num_outputs(),
                                           opts_.max_batch);
    } catch (const ValueError& e) {
      send_error(res, 400, e.what());
      return std::nullopt;
    }
  }

  void predict(const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    std::optional<Tensor> inputs = parse_inputs(req, res);
    if (!inputs) return;
    deploy::Submission s = batcher_->submit(*inputs);
    if (!s.accepted()) {
      res.set_header("Retry-After", "1");
      send_error(res, 503,
                 s.status == deploy::SubmitStatus::kQueueFull
                     ? "the server is at capacity (" + std::to_string(opts_.queue) +
                           " requests queued, --queue); retry later"
                     : std::string("the server is shutting down; retry on another replica"));
      return;
    }
    if (s.result.wait_until(start + std::chrono::milliseconds(opts_.timeout_ms)) !=
        std::future_status::ready) {
      send_error(res, 504,
                 "no answer within " + std::to_string(opts_.timeout_ms) + " ms (--timeout-ms)");
      return;
    }
    Tensor out;
    try {
      out = s.result.get().contiguous();
    } catch (const ValueError& e) {  // InferenceModel::forward's checks of the inputs
      send_error(res, 400, e.what());
      return;
    } catch (const TypeError& e) {
      send_error(res, 400, e.what());
      return;
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("the model failed on this request: ") + e.what());
      return;
    }
    const auto& labels = model_.signature().labels;
    const int64_t n = out.size(0), k = out.size(1);
    const float* p = out.data_ptr<float>();
    // NOTE: the model's weights are finite (the loader refuses others), so outputs that are not
    // come from inputs it cannot compute with — values near float's limit overflow in the first
    // layer. Such a row has no answer: argmax over NaN would name an arbitrary class.
    for (int64_t r = 0; r < n; ++r) {
      if (!std::all_of(p + r * k, p + (r + 1) * k, [](float v) { return std::isfinite(v); })) {
        send_error(res, 422,
                   "the model's outputs for row " + std::to_string(r) +
                       " are not finite (NaN or infinity): its inputs are too large for the "
                       "model to compute with; send inputs scaled as in training");
        return;
      }
    }
    json outputs = json::array(), predictions = json::array(), names = json::array();
    for (int64_t r = 0; r < n; ++r) {
      const float* row = p + r * k;
      outputs.push_back(std::vector<float>(row, row + k));
      const auto best = static_cast<int64_t>(std::max_element(row, row + k) - row);
      predictions.push_back(best);
      names.push_back(best < static_cast<int64_t>(labels.size()) ? labels[static_cast<size_t>(best)]
                                                                 : std::to_string(best));
    }
    send_json(res, 200,
              {{"outputs", outputs},
               {"predictions", predictions},
               {"labels", names},
               {"model_version", model_.signature().version}});
    if (drift_) drift_->observe(*inputs);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    latency_.observe(seconds);
    slo_window_.add(seconds);
  }

  json monitor_report() const {
    const std::vector<double> window = slo_window_.values();
    const deploy::SloReport slo =
        deploy::check_latency_slo(window, 0.99, opts_.slo_p99_ms / 1000.0);
    json out = {{"model", model_.signature().name},
                {"version", model_.signature().version},
                {"slo",
                 {{"objective", "p99 <= " + std::to_string(opts_.slo_p99_ms) + " ms"},
                  {"samples", slo.samples},
                  {"p99_seconds", slo.samples ? json(slo.observed_seconds) : json(nullptr)},
                  {"met", slo.met},
                  {"text", slo.describe()}}}};
    if (drift_) {
      const deploy::DriftReport d = drift_->report();
      out["drift"] = {{"samples", d.samples},
                      {"max_psi", d.max_psi},
                      {"mean_psi", d.mean_psi},
                      {"max_feature", d.max_feature},
                      {"features", d.psi.size()},
                      {"features_psi_above_0_1", d.above_moderate},
                      {"features_psi_above_0_25", d.above_major}};
    } else {
      out["drift"] = nullptr;  // the model file carries no drift statistics
    }
    return out;
  }

  std::string metrics() {
    const deploy::BatcherStats b = batcher_->stats();
    gauges_.set({{"quantity", "queue_depth"}}, static_cast<double>(b.queued));
    gauges_.set({{"quantity", "batches_total"}}, static_cast<double>(b.batches));
    gauges_.set({{"quantity", "rejected_queue_full_total"}}, static_cast<double>(b.rejected));
    const json m = monitor_report();
    gauges_.set({{"quantity", "slo_p99_met"}}, m["slo"]["met"].get<bool>() ? 1.0 : 0.0);
    if (!m["drift"].is_null()) {
      gauges_.set({{"quantity", "drift_psi_max"}}, m["drift"]["max_psi"].get<double>());
      gauges_.set({{"quantity", "drift_psi_mean"}}, m["drift"]["mean_psi"].get<double>());
      gauges_.set({{"quantity", "drift_features_psi_above_0_25"}},
                  m["drift"]["features_psi_above_0_25"].get<double>());
    }
    return requests_.expose() + latency_.expose() + batch_rows_.expose() + info_.expose() +
           gauges_.expose();
  }

  const Options opts_;
  const deploy::InferenceModel model_;
  std::string token_;  // empty: no authentication
  deploy::Counter requests_;
  deploy::Histogram latency_, batch_rows_;
  deploy::Gauge info_, gauges_;
  deploy::LatencyWindow slo_window_;
  std::optional<deploy::DriftMonitor> drift_;
  std::unique_ptr<deploy::DynamicBatcher> batcher_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  // SIGTERM and SIGINT are blocked in every thread (the mask is inherited by the threads started
  // below) and taken by one thread with sigwait(): it can then call http.stop(), which a signal
  // handler could not safely do.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<Server> server;
  try {
    server = std::make_unique<Server>(options);
  } catch (const std::exception& e) {
    std::cerr << "tinytorch_serve: " << e.what() << "\n";
    return 1;
  }
  serve::GuardedServer http(server->limits());
  server->routes(http);
  const int port = options.port == 0
                       ? http.bind_to_any_port(options.host)
                       : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) {
    std::cerr << "tinytorch_serve: cannot listen on " << options.host << ":" << options.port
              << " (in use, or not an address of this machine)\n";
    return 1;
  }
  http.widen_backlog();
  const auto& sig = server->model().signature();
  std::cout << "serving " << sig.name << " " << sig.version << " from " << options.model_path
            << " (batch window " << options.window_ms << " ms, max batch " << options.max_batch
            << ", queue " << options.queue << ", " << options.threads << " threads"
            << (options.token_file.empty() ? "" : ", bearer token required") << ")\n";
  if (options.host != "127.0.0.1" && options.host != "localhost" && options.host != "::1" &&
      options.token_file.empty()) {
    std::cout << "warning: listening on " << options.host
              << " beyond this machine WITHOUT a token: anyone who can reach it can use the "
                 "model (--token-file F)\n";
  }
  std::cout << "listening on http://" << options.host << ":" << port << std::endl;  // flushed

  std::atomic<bool> listen_finished{false}, by_signal{false};
  std::thread waiter([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    // A signal that came before the listener started: wait for it, so that drain() stops it.
    while (!http.is_running() && !listen_finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!listen_finished) {
      by_signal = true;
      std::cout << "signal " << received << ": answering the requests of accepted connections"
                << " (503 after " << options.drain_timeout_ms << " ms)" << std::endl;
      http.drain(Clock::now() + std::chrono::milliseconds(options.drain_timeout_ms));
    }
  });
  // Returns after drain(), once the pool has finished every connection it accepted.
  http.listen_after_bind();
  listen_finished = true;
  if (!by_signal)
    pthread_kill(waiter.native_handle(), SIGTERM);  // listening failed: end the waiter
  waiter.join();
  server->shutdown();  // the batcher drains (no handler waits on it any more)
  if (!by_signal) {
    std::cerr << "tinytorch_serve: the server stopped listening unexpectedly\n";
    return 1;
  }
  // Connections still in the kernel's listen queue were never accepted: closing the socket
  // resets them, and their clients see a refused connection they can retry elsewhere.
  const serve::DrainCounts c = http.drain_counts();
  std::cout << "stopped: after the signal " << c.answered << " requests answered, " << c.refused
            << " refused with 503 (past the drain deadline), " << c.incomplete
            << " cut off incomplete (not received whole within --receive-timeout-ms), " << c.unsent
            << " answers undeliverable (the client had gone)" << std::endl;
  return 0;
}
