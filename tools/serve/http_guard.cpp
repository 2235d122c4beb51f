// The limits a model server puts on every connection (see http_guard.h).
#include "http_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <iostream>

namespace tinytorch::serve {
namespace {

using namespace std::chrono_literals;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// A client's text as an error message quotes it: at most 40 bytes (the JSON writer replaces
// bytes that are not UTF-8).
std::string quote(std::string_view s) {
  return "'" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...'" : "'");
}

HeadCheck refusal(int status, std::string error) {
  HeadCheck h;
  h.state = HeadCheck::State::kRefused;
  h.status = status;
  h.error = std::move(error);
  return h;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// Milliseconds from now to `deadline`, rounded up, for poll(); 0 once it has passed.
int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

// Waits for `events` on `fd` until `deadline`: true when they came.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// The address of either end of a connected socket, as text and port ("" and 0 if unknown).
void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ip.clear();
  port = 0;
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, a, &len) : ::getsockname(fd, a, &len)) != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  }
  ip = text;
}

thread_local const GuardedConnection* t_current = nullptr;

}  // namespace

HeadCheck check_head(std::string_view in, const HttpLimits& limits) {
  // NOTE: one pass over the lines received so far. Every limit is checked on a line as soon as
  // it is known to pass it — a line still without its '\n' included — so a refusal never waits
  // for more bytes than the limit.
  std::string_view method;
  bool has_length = false;
  HeadCheck out;
  size_t start = 0, headers = 0;
  for (;;) {
    const bool request_line = start == 0;
    const size_t line_limit = request_line ? limits.max_request_line : limits.max_header_line;
    const size_t nl = in.find('\n', start);
    const size_t end = nl == std::string_view::npos ? in.size() : nl + 1;  // past the line
    if (end - start > line_limit) {
      return request_line
                 ? refusal(414, "the request line is longer than " +
                                    std::to_string(limits.max_request_line) + " bytes")
                 : refusal(431, "header line " + std::to_string(headers + 1) + " is longer than " +
                                    std::to_string(limits.max_header_line) + " bytes");
    }
    if (end > limits.max_head_bytes) {
      return refusal(431, "the request's headers are larger than " +
                              std::to_string(limits.max_head_bytes) + " bytes in all");
    }
    if (nl == std::string_view::npos) return out;  // kIncomplete
    if (nl == start || in[nl - 1] != '\r') {
      return refusal(400, "every line of a request's head must end in CRLF (\\r\\n); line " +
                              std::to_string(headers + 1) + " ends in a bare LF");
    }
    const std::string_view line = in.substr(start, nl - 1 - start);
    start = nl + 1;
    if (request_line) {
      method = line.substr(0, line.find(' '));
      continue;
    }
    if (line.empty()) break;  // the blank line: the head is complete
    if (++headers > limits.max_header_count) {
      return refusal(431, "the request has more than " + std::to_string(limits.max_header_count) +
                              " header lines");
    }
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        name.find_first_of(" \t") != std::string_view::npos) {
      return refusal(400, "header line " + std::to_string(headers) + " " + quote(line) +
                              " is not 'Name: value'");
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      // NOTE: digits only, at most 18 of them (under 10^18 fits int64 and uint64 alike): a
      // sign, a space inside or an overflow is a malformed length, never a wrapped-around one.
      const bool digits = !value.empty() && value.size() <= 18 &&
                          value.find_first_not_of("0123456789") == std::string_view::npos;
      if (!digits) {
        return refusal(400, "Content-Length must be a whole number of bytes, got " + quote(value));
      }
      const uint64_t length = std::stoull(std::string(value));
      if (has_length && length != out.content_length) {
        return refusal(400, "the request declares two different Content-Length values");
      }
      has_length = true;
      out.content_length = length;
    } else if (iequals(name, "Transfer-Encoding")) {
      if (!iequals(value, "chunked")) {
        return refusal(501,
                       "Transfer-Encoding " + quote(value) +
                           " is not supported; send the body with a Content-Length or chunked");
      }
      out.chunked = true;
    } else if (iequals(name, "Content-Encoding") && !iequals(value, "identity")) {
      return refusal(415, "Content-Encoding " + quote(value) +
                              " is not accepted: send the JSON body uncompressed");
    }
  }
  if (has_length && out.chunked) {
    return refusal(400, "the request has both Content-Length and Transfer-Encoding: chunked");
  }
  if (out.content_length > limits.max_body_bytes) {
    return refusal(413, "request body too large: " + std::to_string(out.content_length) +
                            " bytes declared, at most " + std::to_string(limits.max_body_bytes) +
                            " (--max-body-bytes); send fewer rows per request");
  }
  const bool needs_body =
      method == "POST" || method == "PUT" || method == "PATCH" || method == "PRI";
  if (needs_body && !has_length && !out.chunked) {
    return refusal(411, "a " + std::string(method) +
                            " request needs a Content-Length header (or chunked encoding)");
  }
  out.state = HeadCheck::State::kComplete;
  out.head_bytes = start;
  return out;
}

// ── GuardedConnection ──────────────────────────────────────────────────────────────────────

GuardedConnection::GuardedConnection(int fd, const HttpLimits& limits) : fd_(fd), limits_(limits) {}

ssize_t GuardedConnection::fill(Clock::time_point deadline) {
  char chunk[16384];
  for (;;) {
    if (!wait_for(fd_, POLLIN, deadline)) return -1;
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return n < 0 ? -1 : 0;
    buf_.erase(0, pos_);  // what httplib has read is dropped: the buffer holds only what is due
    pos_ = 0;
    buf_.append(chunk, static_cast<size_t>(n));
    return n;
  }
}

GuardedConnection::Outcome GuardedConnection::next_request(bool first) {
  head_ = HeadCheck{};
  head_left_ = 0;
  body_served_ = 0;
  guard_status_ = 0;
  // The first request of a connection must arrive whole within receive_timeout of the moment
  // a worker took the connection; a later one within receive_timeout of its first byte, after
  // at most keep_alive_timeout of silence.
  const auto start = Clock::now();
  if (pos_ == buf_.size() &&
      fill(start + (first ? limits_.receive_timeout : limits_.keep_alive_timeout)) <= 0) {
    return Outcome::kIdle;
  }
  deadline_ = (first ? start : Clock::now()) + limits_.receive_timeout;
  for (;;) {
    head_ = check_head(std::string_view(buf_).substr(pos_), limits_);
    if (head_.state == HeadCheck::State::kComplete) {
      head_left_ = head_.head_bytes;
      return Outcome::kReady;
    }
    if (head_.state == HeadCheck::State::kRefused) {
      refuse(head_.status, head_.error);
      return Outcome::kRefused;
    }
    if (!receive_more()) return Outcome::kCut;
  }
}

bool GuardedConnection::receive_more() {
  const ssize_t n = fill(deadline_);
  if (n > 0) return true;
  if (n < 0) {  // the deadline passed (a client that went away reads as 0)
    send_error(408, "the request did not arrive whole within " +
                        std::to_string(limits_.receive_timeout.count()) +
                        " ms of the server's first wait for it; send it at once");
  }
  cut_ = true;
  return false;
}

bool GuardedConnection::finish_request() {
  if (refused_ || cut_ || head_.chunked) return false;
  // httplib stops reading a head whose request line it cannot parse (400); its headers are
  // passed over with the body.
  pos_ += head_left_;
  head_left_ = 0;
  uint64_t left = head_.content_length - body_served_;
  while (left > 0) {
    if (pos_ == buf_.size() && !receive_more()) return false;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf_.size() - pos_));
    pos_ += n;
    left -= n;
  }
  return true;
}

void GuardedConnection::send_error(int status, std::string_view message) {
  const std::string body = nlohmann::json{{"error", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  guard_status_ = status;
  for (size_t sent = 0; sent < response.size();) {
    const ssize_t n = write(response.data() + sent, response.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
}

void GuardedConnection::refuse(int status, std::string_view message) {
  send_error(status, message);
  refused_ = true;
}

void GuardedConnection::close() {
  // NOTE (lingering close): only when the client may still be sending what nobody will read —
  // a refused request, bytes left over. Half-close, then read and drop for at most 500 ms (the
  // bound that keeps a worker from being held) or 32 MiB, so that the client reads the response
  // before the socket goes. The byte cap must exceed what an honest client still sends after
  // a 413 for its declared Content-Length (--max-body-bytes, 8 MiB by default, and more): with
  // 64 KiB, a refused 8 MiB body met a reset and its client never saw the 413.
  if (refused_ || pos_ < buf_.size()) {
    ::shutdown(fd_, SHUT_WR);
    const auto until = Clock::now() + 500ms;
    char drop[65536];
    for (size_t dropped = 0; dropped < (size_t{32} << 20) && wait_for(fd_, POLLIN, until);) {
      const ssize_t n = ::recv(fd_, drop, sizeof drop, 0);
      if (n <= 0) break;
      dropped += static_cast<size_t>(n);
    }
  }
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

bool GuardedConnection::is_readable() const {
  if (pos_ < buf_.size()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

bool GuardedConnection::is_writable() const {
  return !refused_ && !cut_ && wait_for(fd_, POLLOUT, Clock::now() + limits_.write_timeout);
}

ssize_t GuardedConnection::read(char* ptr, size_t size) {
  if (refused_ || cut_) return -1;
  size_t allowed = size;
  if (head_left_ > 0) {
    allowed = std::min(allowed, head_left_);  // the head is in buf_ whole
  } else {
    // NOTE: the body — httplib reads a declared length exactly and a chunked body chunk by
    // chunk, so this hands over at most the declared length, and at most max_body_bytes of
    // chunked bytes (their framing counted) before refusing with 413.
    const uint64_t cap = head_.chunked ? limits_.max_body_bytes : head_.content_length;
    if (body_served_ >= cap) {
      if (!head_.chunked) return 0;
      refuse(413, "request body too large: the chunked body passed " +
                      std::to_string(limits_.max_body_bytes) +
                      " bytes (--max-body-bytes, chunk framing included); send fewer rows per "
                      "request");
      return -1;
    }
    allowed = static_cast<size_t>(std::min<uint64_t>(allowed, cap - body_served_));
    if (pos_ == buf_.size() && !receive_more()) return -1;
  }
  const size_t n = std::min(allowed, buf_.size() - pos_);
  std::memcpy(ptr, buf_.data() + pos_, n);
  pos_ += n;
  if (head_left_ > 0) {
    head_left_ -= n;
  } else {
    body_served_ += n;
  }
  return static_cast<ssize_t>(n);
}

ssize_t GuardedConnection::write(const char* ptr, size_t size) {
  // After the guard's own answer, httplib's (to the same request) must not follow it.
  if (refused_ || cut_) return -1;
  if (!wait_for(fd_, POLLOUT, Clock::now() + limits_.write_timeout)) return -1;
  for (;;) {
    const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

void GuardedConnection::get_remote_ip_and_port(std::string& ip, int& port) const {
  address_of(fd_, /*peer=*/true, ip, port);
}

void GuardedConnection::get_local_ip_and_port(std::string& ip, int& port) const {
  address_of(fd_, /*peer=*/false, ip, port);
}

// ── GuardedServer ──────────────────────────────────────────────────────────────────────────

const GuardedConnection* current_connection() {
  return t_current;
}

void GuardedServer::widen_backlog() {
  // NOTE: listen() on a socket that already listens sets its backlog anew (Linux); the kernel
  // caps it at net.core.somaxconn.
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, SOMAXCONN);
}

void GuardedServer::drain(Clock::time_point deadline) {
  drain_deadline_ = deadline.time_since_epoch().count();
  draining_ = true;
  stop();
}

DrainCounts GuardedServer::drain_counts() const {
  return {answered_.load(), refused_.load(), incomplete_.load(), unsent_.load()};
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  GuardedConnection conn(sock, limits_);
  t_current = &conn;
  // NOTE (last resort): an exception that escapes httplib (its error handler and response
  // writer run outside its own try block) would end the worker thread and with it the process
  // (std::terminate). Here it ends this one connection.
  try {
    serve_connection(conn);
  } catch (const std::exception& e) {
    std::cerr << "tinytorch_serve: a connection was closed after an internal error: " << e.what()
              << std::endl;
  } catch (...) {
    std::cerr << "tinytorch_serve: a connection was closed after an unknown internal error"
              << std::endl;
  }
  t_current = nullptr;
  conn.close();
  return true;
}

void GuardedServer::serve_connection(GuardedConnection& conn) {
  for (size_t served = 0; served < keep_alive_max_count_; ++served) {
    const auto outcome = conn.next_request(/*first=*/served == 0);
    if (outcome == GuardedConnection::Outcome::kIdle) return;  // no request: nothing to answer
    if (outcome != GuardedConnection::Outcome::kReady) {
      record(conn, /*written=*/true);
      return;
    }
    const bool draining = draining_;
    if (draining && Clock::now().time_since_epoch().count() > drain_deadline_) {
      conn.refuse(503,
                  "the server is shutting down and its drain deadline has passed; retry on "
                  "another replica");
      record(conn, /*written=*/true);
      return;
    }
    // A chunked body is read by httplib up to its last chunk or not at all: after it, the
    // connection is closed rather than trusted to be at the next request's first byte.
    const bool close = draining || conn.chunked() || served + 1 == keep_alive_max_count_;
    bool closed_by_client = false;
    const bool written = process_request(conn, close, closed_by_client, nullptr);
    record(conn, written);
    if (!written || close || closed_by_client || !conn.finish_request()) return;
  }
}

void GuardedServer::record(const GuardedConnection& conn, bool written) {
  if (conn.guard_status() != 0 && on_refusal_) on_refusal_(conn.guard_status());
  if (!draining_) return;
  if (conn.guard_status() == 503) {
    ++refused_;
  } else if (conn.cut()) {
    ++incomplete_;
  } else if (!written) {
    ++unsent_;
  } else {
    ++answered_;
  }
}

}  // namespace tinytorch::serve
