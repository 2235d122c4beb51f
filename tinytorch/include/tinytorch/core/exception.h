// tinytorch/core/exception.h — errors a learner can act on.
//
// Every check in the framework goes through one of the TT_CHECK macros below. A failed check
// throws an exception whose message names the operation, the values involved and, where it
// helps, a hint — the same contract as PyTorch's TORCH_CHECK / c10::Error family:
//
//   PyTorch (C++)            TinyTorch              Python-side name in PyTorch
//   ─────────────            ─────────              ───────────────────────────
//   c10::Error               tinytorch::Error       RuntimeError
//   c10::IndexError          tinytorch::IndexError  IndexError
//   c10::TypeError           tinytorch::TypeError   TypeError
//   c10::ValueError          tinytorch::ValueError  ValueError
//   c10::NotImplementedError tinytorch::NotImplementedError
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tinytorch {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An index or dimension out of range.
class IndexError : public Error {
 public:
  using Error::Error;
};
// A dtype that the operation does not accept.
class TypeError : public Error {
 public:
  using Error::Error;
};
// A value outside the accepted domain (negative size, zero step, ...).
class ValueError : public Error {
 public:
  using Error::Error;
};
// A learner region that has not been written yet (see docs/ARCHITECTURE.md, "Solution markers").
class NotImplementedError : public Error {
 public:
  using Error::Error;
};

namespace detail {
// Concatenates any streamable values into one message: str("got ", 3, " dims") == "got 3 dims".
template <typename... Args>
std::string str(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

// Inside a catch (const Error& e): throws e again, same type, with "context: " in front of its
// message, so an error raised deep inside names what the caller called (a layer, or conv1d run
// as conv2d). A NotImplementedError (a learner stub) goes through untouched: its message is
// about the code, not the input.
[[noreturn]] inline void rethrow_with_context(const Error& e, const std::string& context) {
  if (dynamic_cast<const NotImplementedError*>(&e) != nullptr) throw;
  const std::string message = context + ": " + e.what();
  if (dynamic_cast<const TypeError*>(&e) != nullptr) throw TypeError(message);
  if (dynamic_cast<const ValueError*>(&e) != nullptr) throw ValueError(message);
  if (dynamic_cast<const IndexError*>(&e) != nullptr) throw IndexError(message);
  throw Error(message);
}
}  // namespace detail

}  // namespace tinytorch

// TT_CHECK(cond, parts...) throws tinytorch::Error with the parts joined, when cond is false.
// The message parts are only evaluated on failure, so checks cost one branch on the hot path.
#define TT_CHECK_WITH(ErrorType, cond, ...)                                \
  do {                                                                     \
    if (!(cond)) [[unlikely]] {                                            \
      throw ::tinytorch::ErrorType(::tinytorch::detail::str(__VA_ARGS__)); \
    }                                                                      \
  } while (false)

#define TT_CHECK(cond, ...) TT_CHECK_WITH(Error, cond, __VA_ARGS__)
#define TT_CHECK_INDEX(cond, ...) TT_CHECK_WITH(IndexError, cond, __VA_ARGS__)
#define TT_CHECK_TYPE(cond, ...) TT_CHECK_WITH(TypeError, cond, __VA_ARGS__)
#define TT_CHECK_VALUE(cond, ...) TT_CHECK_WITH(ValueError, cond, __VA_ARGS__)
