// Fuzzes the model server's request handling under its handlers (tools/serve/http_guard.h): the
// input is the raw bytes a client sends on one connection. They go through a socketpair into
// GuardedServer::serve_socket — check_head's limits, the body limits, httplib's parser, a route
// set shaped like the server's (POST /v1/predict, GET /healthz, JSON errors) — until the server
// closes the connection. Must hold: no crash and no exception out of the server (it would abort
// the harness), every answer an HTTP/1.1 response whose JSON body parses (so it is valid UTF-8),
// and check_head() on the same bytes consistent with itself (a complete head inside the input, a
// refusal with a 4xx/5xx status).
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_guard.h"

namespace {

namespace serve = tinytorch::serve;
using json = nlohmann::json;

// Short deadlines: the client end is shut after the input, so the server only waits where the
// input stops in the middle of a request (EOF ends that wait at once).
serve::HttpLimits limits() {
  serve::HttpLimits l;
  l.max_body_bytes = 4096;
  l.receive_timeout = std::chrono::milliseconds(100);
  l.keep_alive_timeout = std::chrono::milliseconds(100);
  l.write_timeout = std::chrono::milliseconds(100);
  return l;
}

serve::GuardedServer& server() {
  static serve::GuardedServer* s = [] {
    auto* http = new serve::GuardedServer(limits());
    const auto reply = [](httplib::Response& res, int status, const json& body) {
      res.status = status;
      res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
    };
    http->Post("/v1/predict", [reply](const httplib::Request& req, httplib::Response& res) {
      reply(res, 200, {{"bytes", req.body.size()}, {"path", req.path}});
    });
    http->Get("/healthz", [reply](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, {{"status", "ok"}});
    });
    http->set_error_handler(httplib::Server::HandlerWithResponse(
        [reply](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          reply(res, res.status, {{"error", "no such path " + req.path}});
          return httplib::Server::HandlerResponse::Handled;
        }));
    return http;
  }();
  return *s;
}

// Every response in `out`, one after another: a status line, headers, a Content-Length body
// (none after HEAD) that parses as JSON when it says it is JSON.
void check_responses(std::string_view out) {
  while (!out.empty()) {
    if (out.substr(0, 9) != "HTTP/1.1 ") std::abort();
    const size_t end = out.find("\r\n\r\n");
    if (end == std::string_view::npos) std::abort();
    const std::string_view head = out.substr(0, end);
    size_t length = 0;
    if (const size_t at = head.find("Content-Length: "); at != std::string_view::npos) {
      length = std::strtoul(std::string(head.substr(at + 16, 12)).c_str(), nullptr, 10);
    }
    // The answer to a HEAD request declares its length but carries no body: what follows its
    // head is the next response, or nothing.
    const std::string_view rest = out.substr(end + 4);
    const bool bodiless = rest.empty() || rest.substr(0, 9) == "HTTP/1.1 ";
    if (bodiless) length = 0;
    if (rest.size() < length) std::abort();
    const std::string_view body = out.substr(end + 4, length);
    if (!bodiless && head.find("application/json") != std::string_view::npos &&
        json::parse(body, nullptr, false).is_discarded()) {
      std::abort();
    }
    out.remove_prefix(end + 4 + length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Larger inputs would fill the socketpair's buffer before the server reads; the limits they
  // test (32 KiB of headers) are reached well inside 64 KiB.
  if (size > 65536) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const serve::HeadCheck h = serve::check_head(input, limits());
  if (h.state == serve::HeadCheck::State::kComplete && (h.head_bytes == 0 || h.head_bytes > size))
    std::abort();
  if (h.state == serve::HeadCheck::State::kRefused && (h.status < 400 || h.error.empty()))
    std::abort();

  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::abort();
  if (size > 0 && ::send(fds[0], data, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size))
    std::abort();
  ::shutdown(fds[0], SHUT_WR);
  server().serve_socket(fds[1]);  // closes fds[1]
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fds[0], buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  check_responses(out);
  return 0;
}
