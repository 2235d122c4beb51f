// http_guard.h — the limits a model server puts on every connection (module 20).
//
// A server holds something for every client: a thread, a buffer for the request, a slot in a
// queue. A client that sends slowly, sends too much or never finishes can hold it for as long
// as it likes — unless every one of those resources has a LIMIT and a DEADLINE. cpp-httplib
// (Debian's package, built with its defaults) parses requests itself and does not bound the
// number of header lines or the time a request may take to arrive: one client sending 200 MiB of
// headers, or a few sending one byte a second, would hold the server. So the server reads each
// request's head ITSELF, with the limits below, before httplib sees a byte of it:
//
//   socket ──► GuardedConnection ───────────────────────────────────► httplib::Server
//              recv into a bounded buffer until the blank line         process_request():
//              check_head(): request line, header lines, header        parse, route, handler,
//              bytes, Content-Length, Transfer-Encoding                write the response
//              ── refused: 4xx JSON written here, connection closed
//              body bytes handed over as httplib reads them, at most
//              the declared length (413 past --max-body-bytes)
//              every read bounded by the request's DEADLINE
//
// The deadline: a request must arrive whole (head and body) within `receive_timeout` of the
// moment the server starts waiting for it; a client sending one byte a second is cut off then.
//
// What this does NOT change: httplib serves each connection on one thread of its pool, for as
// long as the connection lasts. A stalled client holds a thread until its deadline, so the pool
// (--threads) must be larger than the number of stalled connections a server should survive;
// past that, new connections wait in the listen queue. An event-driven server (one thread
// watching every socket with epoll) would hold no thread at all for a stalled client.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tinytorch::serve {

using Clock = std::chrono::steady_clock;

// NOTE: the defaults follow common servers' — Apache allows 8190 bytes per request or header
// line and 100 header lines; nginx's default header buffers hold 32 KiB.
struct HttpLimits {
  size_t max_request_line = 8192;     // "POST /v1/predict HTTP/1.1" with its CRLF: 414 beyond
  size_t max_header_line = 8192;      // one "Name: value" line with its CRLF: 431 beyond
  size_t max_header_count = 100;      // header lines: 431 beyond
  size_t max_head_bytes = 32768;      // request line + header lines + blank line: 431 beyond
  uint64_t max_body_bytes = 8 << 20;  // 413 beyond: the declared length, or the chunked bytes
  std::chrono::milliseconds receive_timeout{5000};     // a whole request, head and body
  std::chrono::milliseconds keep_alive_timeout{2000};  // waiting for a next request
  std::chrono::milliseconds write_timeout{5000};       // one write of the response
};

// What a request's head says about the request, or why it is refused. A pure function of the
// bytes received so far, so a fuzzer or a test can drive it without a socket.
struct HeadCheck {
  enum class State { kIncomplete, kComplete, kRefused };
  State state = State::kIncomplete;
  size_t head_bytes = 0;        // kComplete: request line + headers + blank line
  int status = 0;               // kRefused: 400, 411, 413, 414, 415, 431 or 501
  std::string error;            // kRefused: what was wrong and what was expected
  bool chunked = false;         // Transfer-Encoding: chunked
  uint64_t content_length = 0;  // the declared body length (0 when there is none)
};

// Reads `received` (the bytes of one request so far, from its first byte) as an HTTP/1.1 head.
// kIncomplete: no blank line yet and no limit passed. kRefused: a limit passed (414, 431), a line
// not ending in CRLF or a malformed header (400), a Content-Length that is not a whole number
// or disagrees with another one, or a body length declared twice over (400), a length over
// max_body_bytes (413), a POST/PUT/PATCH with neither a length nor chunked encoding (411), a
// Content-Encoding (415: the server would have to inflate a body of unknown size), a transfer
// coding other than chunked (501).
HeadCheck check_head(std::string_view received, const HttpLimits& limits);

// One accepted connection, as the httplib::Stream that process_request() reads and writes.
// NOTE (buffer): buf_[pos_, buf_.size()) holds the bytes received and not yet handed to httplib:
// the rest of the current request and possibly the start of a pipelined next one. While a head is
// read it is at most max_head_bytes plus one recv() of 16 KiB.
class GuardedConnection final : public httplib::Stream {
 public:
  enum class Outcome {
    kReady,    // a head passed check_head; process_request() may run
    kIdle,     // no byte arrived (or the client closed): there is no request to answer
    kRefused,  // the head broke a limit: an error response was written
    kCut,      // the head did not arrive whole before the deadline, or the client went away
  };

  GuardedConnection(int fd, const HttpLimits& limits);
  GuardedConnection(const GuardedConnection&) = delete;
  GuardedConnection& operator=(const GuardedConnection&) = delete;

  // Waits for the next request's first byte (the first request of a connection: up to
  // receive_timeout; a later one: up to keep_alive_timeout), then reads its head by its
  // deadline. kCut by the deadline writes 408 first.
  Outcome next_request(bool first);
  // After process_request(): reads past what httplib did not read of the request — the rest
  // of a declared body (a request refused before its body, say by the 401 of a missing token),
  // the headers after a malformed request line — so that the next request starts where it
  // should. False when the connection cannot carry another request.
  bool finish_request();
  // Writes `status` with {"error": message} and "Connection: close"; the connection then reads
  // and writes nothing more.
  void refuse(int status, std::string_view message);
  // Closes after a lingering wait: the client may still be sending a body nobody will read, and
  // closing a socket with unread bytes sends a reset that can destroy the response in flight.
  void close();

  [[nodiscard]] bool chunked() const { return head_.chunked; }
  [[nodiscard]] bool refused() const { return refused_; }
  [[nodiscard]] bool cut() const { return cut_; }
  // The status of the response this layer wrote for the current request; 0 if none.
  [[nodiscard]] int guard_status() const { return guard_status_; }

  // httplib::Stream
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

 private:
  // Appends what recv() returns once the socket is readable, waiting no later than `deadline`.
  // > 0 bytes read; 0 the client closed; -1 the deadline passed or an error.
  ssize_t fill(Clock::time_point deadline);
  // fill() by the request's deadline; when it fails the request is cut (408 if the deadline
  // passed, nothing if the client went away) and the answer is false.
  bool receive_more();
  void send_error(int status, std::string_view message);

  const int fd_;
  const HttpLimits limits_;
  std::string buf_;
  size_t pos_ = 0;
  HeadCheck head_;
  size_t head_left_ = 0;      // bytes of the head not yet handed to httplib
  uint64_t body_served_ = 0;  // bytes of the body handed to httplib (chunk framing included)
  Clock::time_point deadline_;
  bool refused_ = false, cut_ = false;
  int guard_status_ = 0;
};

// What the connections of a server have come to, counted from the moment drain() began.
struct DrainCounts {
  int64_t answered = 0;    // requests received whole and answered by the handlers
  int64_t refused = 0;     // requests refused with 503: received after the drain deadline
  int64_t incomplete = 0;  // requests whose bytes did not all arrive before their deadline
  int64_t unsent = 0;      // answers that could not be written (the client had gone)
};

// httplib::Server with GuardedConnection under every connection, its own keep-alive loop, a
// listen backlog for bursts, and a graceful drain.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(HttpLimits limits) : limits_(limits) {}

  // After bind_to_port(): the listen queue holds SOMAXCONN connections (httplib asks for 5; a
  // burst of 100 clients would see most of theirs dropped and retried a second later).
  void widen_backlog();
  // Called with every refusal this layer writes itself (for the server's metrics).
  void on_refusal(std::function<void(int status)> callback) { on_refusal_ = std::move(callback); }
  // Stops accepting connections and drains: every connection already accepted gets its first
  // request read and answered — or, once `deadline` has passed, refused with 503; no connection
  // is kept alive for another request. listen_after_bind() returns when all are done.
  void drain(Clock::time_point deadline);
  [[nodiscard]] DrainCounts drain_counts() const;
  // Serves one connected socket to its end and closes it: what the accept loop does with each
  // connection, on a worker thread. The HTTP fuzz harness calls it on one end of a socketpair.
  void serve_socket(socket_t sock) { process_and_close_socket(sock); }

 private:
  // httplib's accept loop hands every accepted socket to a worker thread here.
  bool process_and_close_socket(socket_t sock) override;
  // The keep-alive loop: one request after another, until an error, a close or the drain.
  void serve_connection(GuardedConnection& conn);
  // After a request: the guard's own refusals to on_refusal_, and the drain's counts.
  void record(const GuardedConnection& conn, bool written);

  const HttpLimits limits_;
  std::function<void(int)> on_refusal_;
  std::atomic<bool> draining_{false};
  std::atomic<Clock::rep> drain_deadline_{0};
  std::atomic<int64_t> answered_{0}, refused_{0}, incomplete_{0}, unsent_{0};
};

// The connection the calling thread is serving, if any: lets a handler tell that the guard has
// already answered (and counted) the request httplib is about to answer again.
const GuardedConnection* current_connection();

}  // namespace tinytorch::serve
