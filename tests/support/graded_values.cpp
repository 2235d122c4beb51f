// tests/support/graded_values.cpp — the rules of graded checks and their record files
// (graded_values.h). Compiled into the test programs (tinytorch_test_support) and into tito.
#include "support/graded_values.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

namespace tinytorch::graded {

Value ints(std::vector<int64_t> values) {
  Value v;
  v.kind = Value::Kind::kInts;
  v.ints = std::move(values);
  return v;
}

Value reals(std::vector<double> values) {
  Value v;
  v.kind = Value::Kind::kReals;
  v.reals = std::move(values);
  return v;
}

Value texts(std::vector<std::string> values) {
  Value v;
  v.kind = Value::Kind::kTexts;
  v.texts = std::move(values);
  return v;
}

Value outcome(std::string kind, std::string what) {
  Value v;
  v.kind = Value::Kind::kOutcome;
  v.texts = {std::move(kind), std::move(what)};
  return v;
}

namespace {

// ---- describing values ---------------------------------------------------------------------

std::string num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string clipped(std::string_view text, size_t max_chars = 300) {
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "... (" + std::to_string(text.size()) +
         " characters)";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// "[2, 0, 1]": the index in `shape` of the flat row-major position `flat`.
std::string index_text(size_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  auto rest = static_cast<int64_t>(flat);
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] > 0 ? rest % shape[d] : 0;
    rest = shape[d] > 0 ? rest / shape[d] : 0;
  }
  return shape_text(idx);
}

bool is_number(const Value& v) {
  return v.kind == Value::Kind::kInts || v.kind == Value::Kind::kReals;
}

size_t count(const Value& v) {
  return v.kind == Value::Kind::kInts ? v.ints.size() : v.reals.size();
}

double number_at(const Value& v, size_t i) {
  return v.kind == Value::Kind::kInts ? static_cast<double>(v.ints[i]) : v.reals[i];
}

std::string element_text(const Value& v, size_t i) {
  return v.kind == Value::Kind::kReals || (v.kind == Value::Kind::kTensor && !v.reals.empty())
             ? num(v.reals[i])
             : std::to_string(v.ints[i]);
}

// ---- comparing -----------------------------------------------------------------------------

// tensors_match's element rule (tests/support/reference.cpp).
bool close(double g, double e, double rtol, double atol) {
  if (std::isnan(g) || std::isnan(e)) return std::isnan(g) && std::isnan(e);
  if (std::isinf(g) || std::isinf(e)) return g == e;
  return std::abs(g - e) <= atol + rtol * std::abs(e);
}

// GoogleTest's FloatingPoint<T>::AlmostEquals: NaN equals nothing; otherwise the distance of
// the two in units in the last place, through their sign-and-magnitude bit patterns.
template <typename T, typename Bits>
bool within_ulps(T a, T b, int ulps) {
  if (std::isnan(a) || std::isnan(b)) return false;
  const auto biased = [](T x) {
    const auto bits = std::bit_cast<Bits>(x);
    constexpr Bits kSign = Bits{1} << (sizeof(Bits) * 8 - 1);
    return (bits & kSign) ? ~bits + 1 : kSign | bits;
  };
  const Bits x = biased(a), y = biased(b);
  return (x >= y ? x - y : y - x) <= static_cast<Bits>(ulps);
}

bool element_ok(const Rule& rule, double g, double e) {
  switch (rule.op) {
    case Rule::Op::kEq:
      return g == e;
    case Rule::Op::kClose:
      return close(g, e, rule.rtol, rule.atol);
    case Rule::Op::kNear:
      return g == e || std::abs(g - e) <= rule.atol;
    case Rule::Op::kUlps:
      return rule.single ? within_ulps<float, uint32_t>(static_cast<float>(g),
                                                        static_cast<float>(e), rule.ulps)
                         : within_ulps<double, uint64_t>(g, e, rule.ulps);
    default:
      return false;
  }
}

std::string rule_text(const Rule& rule) {
  switch (rule.op) {
    case Rule::Op::kClose:
      return "rtol=" + num(rule.rtol) + ", atol=" + num(rule.atol);
    case Rule::Op::kNear:
      return "within " + num(rule.atol);
    case Rule::Op::kUlps:
      return "within " + std::to_string(rule.ulps) + " ulps";
    default:
      return "exactly";
  }
}

// Element by element: numbers (ints or reals, either side) or a tensor's values.
std::string compare_elements(const Rule& rule, const Value& a, const Value& e,
                             const std::vector<int64_t>* shape) {
  const size_t n = count(a);
  if (n != count(e)) {
    return "got " + std::to_string(n) + " values, expected " + std::to_string(count(e)) + ": got " +
           describe(a) + ", expected " + describe(e);
  }
  // Integers against integers: exactly, whatever the rule (as tensors_match).
  const bool exact =
      a.kind == Value::Kind::kInts && e.kind == Value::Kind::kInts && rule.op != Rule::Op::kUlps;
  std::string problems;
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool ok =
        exact ? a.ints[i] == e.ints[i] : element_ok(rule, number_at(a, i), number_at(e, i));
    if (ok) continue;
    if (bad++ < 8) {
      problems +=
          "  at " + (shape ? index_text(i, *shape) : "[" + std::to_string(i) + "]") + ": got " +
          (a.kind == Value::Kind::kInts ? std::to_string(a.ints[i]) : num(number_at(a, i))) +
          ", expected " +
          (e.kind == Value::Kind::kInts ? std::to_string(e.ints[i]) : num(number_at(e, i)));
      if (!exact) problems += " (diff " + num(std::abs(number_at(a, i) - number_at(e, i))) + ")";
      problems += "\n";
    }
  }
  if (bad == 0) return {};
  if (n == 1 && shape == nullptr) {
    return "got " + describe(a) + ", expected " + describe(e) +
           (rule.op == Rule::Op::kEq ? "" : " (" + rule_text(rule) + ")");
  }
  return problems + std::to_string(bad) + " of " + std::to_string(n) + " values differ (" +
         rule_text(rule) + ")";
}

// A tensor's values as numbers (its ints or its reals).
Value tensor_values(const Value& t) {
  Value v;
  if (t.dtype == "float32" || t.dtype == "float64") {
    v.kind = Value::Kind::kReals;
    v.reals = t.reals;
  } else {
    v.kind = Value::Kind::kInts;
    v.ints = t.ints;
  }
  return v;
}

std::string compare_tensors(const Rule& rule, const Value& a, const Value& e) {
  if (a.kind == Value::Kind::kUndefinedTensor) {
    return e.kind == Value::Kind::kUndefinedTensor ? std::string()
                                                   : "the result tensor is undefined";
  }
  if (e.kind == Value::Kind::kUndefinedTensor)
    return "got " + describe(a) + ", expected an undefined tensor";
  if (a.shape != e.shape) {
    return "shape mismatch: got " + shape_text(a.shape) + ", expected " + shape_text(e.shape);
  }
  std::string problems;
  if (a.dtype != e.dtype)
    problems = "dtype mismatch: got " + a.dtype + ", expected " + e.dtype + "\n";
  Rule element_rule = rule;
  if (rule.op == Rule::Op::kEq) element_rule = Rule{Rule::Op::kClose, 0, 0, 0, false};
  const auto values = compare_elements(element_rule, tensor_values(a), tensor_values(e), &a.shape);
  if (problems.empty() && values.empty()) return {};
  return "tensor " + shape_text(a.shape) + " " + a.dtype + ":\n" + problems + values;
}

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

std::string describe(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kInts:
    case Value::Kind::kReals: {
      const size_t n = count(value);
      if (n == 1) return element_text(value, 0);
      std::string out = "[";
      for (size_t i = 0; i < n && i < 16; ++i) out += (i ? ", " : "") + element_text(value, i);
      return out + (n > 16 ? ", ... (" + std::to_string(n) + " values)]" : "]");
    }
    case Value::Kind::kTexts: {
      if (value.texts.size() == 1) return "\"" + clipped(value.texts[0]) + "\"";
      std::string out = "[";
      for (size_t i = 0; i < value.texts.size() && i < 8; ++i) {
        out += (i ? ", \"" : "\"") + clipped(value.texts[i], 80) + "\"";
      }
      return out + (value.texts.size() > 8 ? ", ...]" : "]");
    }
    case Value::Kind::kTensor:
      return "tensor " + value.dtype + " " + shape_text(value.shape);
    case Value::Kind::kUndefinedTensor:
      return "an undefined tensor";
    case Value::Kind::kOutcome: {
      const auto& kind = value.texts.at(0);
      if (kind == "none") return "no exception";
      if (kind == "caught")
        return "the expected exception type, with message \"" + clipped(value.texts.at(1)) + "\"";
      if (kind == "other")
        return "an exception of another type, with message \"" + clipped(value.texts.at(1)) + "\"";
      return "something that is not a std::exception";
    }
  }
  return "?";
}

std::string mismatch(const Rule& rule, const Value& a, const Value& e) {
  using Op = Rule::Op;
  using Kind = Value::Kind;
  const bool tensors = (a.kind == Kind::kTensor || a.kind == Kind::kUndefinedTensor) &&
                       (e.kind == Kind::kTensor || e.kind == Kind::kUndefinedTensor);
  switch (rule.op) {
    case Op::kEq:
    case Op::kClose:
    case Op::kNear:
    case Op::kUlps:
      if (tensors) return compare_tensors(rule, a, e);
      if (is_number(a) && is_number(e)) return compare_elements(rule, a, e, nullptr);
      // Texts have no tolerance: equal under every rule of this group.
      if (a.kind == e.kind && (a.kind == Kind::kTexts || a.kind == Kind::kOutcome)) {
        return a.texts == e.texts ? std::string()
                                  : "got " + describe(a) + ", expected " + describe(e);
      }
      break;
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      if (!is_number(a) || !is_number(e) || count(a) != 1 || count(e) != 1) break;
      const bool both_ints = a.kind == Kind::kInts && e.kind == Kind::kInts;
      const auto cmp = [&](auto x, auto y) {
        return rule.op == Op::kLt   ? x < y
               : rule.op == Op::kLe ? x <= y
               : rule.op == Op::kGt ? x > y
                                    : x >= y;
      };
      const bool ok = both_ints ? cmp(a.ints[0], e.ints[0]) : cmp(number_at(a, 0), number_at(e, 0));
      if (ok) return {};
      const char* op = rule.op == Op::kLt   ? "<"
                       : rule.op == Op::kLe ? "<="
                       : rule.op == Op::kGt ? ">"
                                            : ">=";
      return "got " + describe(a) + ", expected " + op + " " + describe(e);
    }
    case Op::kContains:
    case Op::kLacks: {
      if (a.kind != Kind::kTexts || a.texts.size() != 1 || e.kind != Kind::kTexts) break;
      for (const auto& needle : e.texts) {
        if (contains(a.texts[0], needle) != (rule.op == Op::kContains)) {
          return std::string("the text ") + (rule.op == Op::kContains ? "lacks" : "contains") +
                 " \"" + clipped(needle) + "\": " + describe(a);
        }
      }
      return {};
    }
    case Op::kThrows:
    case Op::kNoThrow: {
      if (a.kind != Kind::kOutcome || a.texts.size() != 2) break;
      if (rule.op == Op::kNoThrow) {
        return a.texts[0] == "none" ? std::string() : "threw " + describe(a);
      }
      if (a.texts[0] == "none") return "did not throw";
      if (a.texts[0] != "caught") return "threw " + describe(a);
      if (e.kind != Kind::kTexts) break;
      std::string missing;
      for (const auto& needle : e.texts) {
        if (!contains(a.texts[1], needle)) missing += " \"" + clipped(needle, 80) + "\"";
      }
      return missing.empty() ? std::string()
                             : "the message \"" + clipped(a.texts[1]) + "\" lacks:" + missing;
    }
  }
  return "got " + describe(a) + ", which cannot be compared with " + describe(e);
}

// ---- writing records ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64(std::string_view bytes, std::string& out) {
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

// Appends the bytes of `token` (base64) to `out`; false when it is not base64.
bool unbase64(std::string_view token, std::string& out) {
  if (token.size() % 4 != 0) return false;
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (size_t i = 0; i < kAlphabet.size(); ++i)
      t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  out.reserve(out.size() + token.size() / 4 * 3);
  for (size_t i = 0; i < token.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = token[i + k];
      if (c == '=' && i + 4 == token.size() && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      const int8_t d = table[static_cast<uint8_t>(c)];
      if (d < 0 || pad > 0) return false;
      n = (n << 6) | static_cast<uint32_t>(d);
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return true;
}

std::string hexfloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%a", v);
  return buffer.data();
}

void text_token(std::string_view text, std::string& out) {
  if (text.empty()) {
    out += '-';
  } else {
    base64(text, out);
  }
}

template <typename T>
void raw(const std::vector<T>& values, std::string& out) {
  // Little-endian hosts only (x86-64, AArch64): the bytes as they are in memory.
  static_assert(std::endian::native == std::endian::little);
  base64(std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)),
         out);
}

size_t element_bytes(std::string_view dtype) {
  if (dtype == "bool" || dtype == "uint8" || dtype == "int8") return 1;
  if (dtype == "float32") return 4;
  if (dtype == "float64" || dtype == "int64") return 8;
  return 0;
}

void value_tokens(const Value& v, std::string& out) {
  switch (v.kind) {
    case Value::Kind::kInts:
      out += "i " + std::to_string(v.ints.size()) + " ";
      raw(v.ints, out);
      return;
    case Value::Kind::kReals: {
      // Values that are floats (a float32 tensor's, read as doubles) take 4 bytes each.
      const bool floats = std::all_of(v.reals.begin(), v.reals.end(), [](double x) {
        return std::isnan(x) || static_cast<double>(static_cast<float>(x)) == x;
      });
      out += (floats ? "f " : "r ") + std::to_string(v.reals.size()) + " ";
      if (floats) {
        raw(std::vector<float>(v.reals.begin(), v.reals.end()), out);
      } else {
        raw(v.reals, out);
      }
      return;
    }
    case Value::Kind::kTexts:
      out += "s " + std::to_string(v.texts.size());
      for (const auto& t : v.texts) {
        out += ' ';
        text_token(t, out);
      }
      return;
    case Value::Kind::kUndefinedTensor:
      out += "u";
      return;
    case Value::Kind::kOutcome:
      out += "o " + v.texts.at(0) + " ";
      text_token(v.texts.at(1), out);
      return;
    case Value::Kind::kTensor: {
      out += "t " + v.dtype + " " + std::to_string(v.shape.size());
      for (const auto d : v.shape) out += " " + std::to_string(d);
      const size_t n =
          v.dtype == "float32" || v.dtype == "float64" ? v.reals.size() : v.ints.size();
      out += " " + std::to_string(n) + " ";
      if (v.dtype == "float64") {
        raw(v.reals, out);
      } else if (v.dtype == "float32") {
        raw(std::vector<float>(v.reals.begin(), v.reals.end()), out);
      } else if (v.dtype == "int64") {
        raw(v.ints, out);
      } else {
        std::vector<uint8_t> bytes(v.ints.size());
        for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(v.ints[i]);
        raw(bytes, out);
      }
      return;
    }
  }
}

std::string rule_tokens(const Rule& r) {
  switch (r.op) {
    case Rule::Op::kEq:
      return "eq";
    case Rule::Op::kClose:
      return "close " + hexfloat(r.rtol) + " " + hexfloat(r.atol);
    case Rule::Op::kNear:
      return "near " + hexfloat(r.atol);
    case Rule::Op::kUlps:
      return "ulps " + std::to_string(r.ulps) + (r.single ? " f" : " d");
    case Rule::Op::kLt:
      return "lt";
    case Rule::Op::kLe:
      return "le";
    case Rule::Op::kGt:
      return "gt";
    case Rule::Op::kGe:
      return "ge";
    case Rule::Op::kContains:
      return "contains";
    case Rule::Op::kLacks:
      return "lacks";
    case Rule::Op::kThrows:
      return "throws";
    case Rule::Op::kNoThrow:
      return "nothrow";
  }
  return "eq";
}

}  // namespace

std::string header_line(FileKind kind) {
  return std::string("tinytorch-graded 1 ") +
         (kind == FileKind::kExpected ? "expected" : "answers") + "\n";
}

std::string test_begin_line(std::string_view test) {
  return "T " + std::string(test) + "\n";
}

std::string test_end_line(std::string_view test, std::string_view status) {
  return "E " + std::string(test) + " " + std::string(status) + "\n";
}

std::string needs_line(std::string_view module) {
  return "N " + std::string(module) + "\n";
}

std::string check_line(FileKind kind, std::string_view site, int64_t occurrence, const Rule* rule,
                       const Value& value) {
  std::string out = kind == FileKind::kExpected ? "C " : "A ";
  out += std::string(site) + " " + std::to_string(occurrence) + " ";
  if (kind == FileKind::kExpected && rule != nullptr) out += rule_tokens(*rule) + " ";
  value_tokens(value, out);
  out += '\n';
  return out;
}

// ---- reading records ---------------------------------------------------------------------------

namespace {

// The tokens of one line, read left to right; every read fails (false) past the end.
class Tokens {
 public:
  explicit Tokens(std::string_view line) : rest_(line) {}
  bool next(std::string_view& token) {
    if (done_) return false;
    const auto space = rest_.find(' ');
    token = rest_.substr(0, space);
    if (space == std::string_view::npos) {
      done_ = true;
    } else {
      rest_ = rest_.substr(space + 1);
    }
    return true;
  }
  bool integer(int64_t& value, int64_t lo, int64_t hi) {
    std::string_view t;
    if (!next(t) || t.empty() || t.size() > 19) return false;
    bool negative = false;
    size_t i = 0;
    if (t[0] == '-') {
      negative = true;
      i = 1;
      if (t.size() == 1) return false;
    }
    int64_t v = 0;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');  // at most 18 digits here: no overflow
    }
    value = negative ? -v : v;
    return value >= lo && value <= hi;
  }
  bool real(double& value) {
    std::string_view t;
    if (!next(t) || t.empty() || t.size() > 40) return false;
    const std::string s(t);
    char* end = nullptr;
    value = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
  }
  [[nodiscard]] bool at_end() const { return done_; }

 private:
  std::string_view rest_;
  bool done_ = false;
};

bool printable_name(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 127; });
}

template <typename T>
bool decode_raw(std::string_view token, size_t n, std::vector<T>& out) {
  std::string bytes;
  if (token.size() / 4 * 3 > n * sizeof(T) + 3 || !unbase64(token, bytes) ||
      bytes.size() != n * sizeof(T)) {
    return false;
  }
  out.resize(n);
  if (n > 0) std::memcpy(out.data(), bytes.data(), bytes.size());
  return true;
}

bool decode_text(std::string_view token, size_t max_bytes, std::string& out) {
  out.clear();
  if (token == "-") return true;
  if (token.size() / 4 * 3 > max_bytes) return false;
  return unbase64(token, out);
}

bool parse_value(Tokens& in, const RecordLimits& limits, Value& v) {
  std::string_view kind;
  if (!in.next(kind)) return false;
  const auto max = static_cast<int64_t>(limits.max_elements);
  int64_t n = 0;
  std::string_view token;
  if (kind == "i" || kind == "r" || kind == "f") {
    if (!in.integer(n, 0, max) || !in.next(token)) return false;
    if (kind == "i") {
      v.kind = Value::Kind::kInts;
      return decode_raw(token, static_cast<size_t>(n), v.ints);
    }
    v.kind = Value::Kind::kReals;
    if (kind == "r") return decode_raw(token, static_cast<size_t>(n), v.reals);
    std::vector<float> f;
    if (!decode_raw(token, static_cast<size_t>(n), f)) return false;
    v.reals.assign(f.begin(), f.end());
    return true;
  }
  if (kind == "s") {
    if (!in.integer(n, 0, max)) return false;
    v.kind = Value::Kind::kTexts;
    for (int64_t i = 0; i < n; ++i) {
      std::string text;
      if (!in.next(token) || !decode_text(token, limits.max_elements, text)) return false;
      v.texts.push_back(std::move(text));
    }
    return true;
  }
  if (kind == "u") {
    v.kind = Value::Kind::kUndefinedTensor;
    return true;
  }
  if (kind == "o") {
    std::string_view what;
    std::string message;
    if (!in.next(token) || !in.next(what) || !decode_text(what, limits.max_elements, message)) {
      return false;
    }
    if (token != "none" && token != "caught" && token != "other" && token != "unknown")
      return false;
    v = outcome(std::string(token), std::move(message));
    return true;
  }
  if (kind == "t") {
    std::string_view dtype;
    int64_t ndim = 0;
    if (!in.next(dtype) || element_bytes(dtype) == 0 || !in.integer(ndim, 0, 16)) return false;
    v.kind = Value::Kind::kTensor;
    v.dtype = std::string(dtype);
    int64_t numel = 1;
    for (int64_t d = 0; d < ndim; ++d) {
      int64_t size = 0;
      if (!in.integer(size, 0, max)) return false;
      v.shape.push_back(size);
      numel = size == 0 ? 0 : (numel > max / size ? max + 1 : numel * size);
    }
    if (numel > max || !in.integer(n, 0, max) || n != numel || !in.next(token)) return false;
    const auto count = static_cast<size_t>(n);
    if (dtype == "float64") return decode_raw(token, count, v.reals);
    if (dtype == "int64") return decode_raw(token, count, v.ints);
    if (dtype == "float32") {
      std::vector<float> f;
      if (!decode_raw(token, count, f)) return false;
      v.reals.assign(f.begin(), f.end());
      return true;
    }
    std::vector<uint8_t> bytes;
    if (!decode_raw(token, count, bytes)) return false;
    for (const auto b : bytes) {
      v.ints.push_back(dtype == "int8" ? static_cast<int8_t>(b) : dtype == "bool" ? (b != 0) : b);
    }
    return true;
  }
  return false;
}

bool parse_rule(Tokens& in, Rule& r) {
  std::string_view op;
  if (!in.next(op)) return false;
  using Op = Rule::Op;
  if (op == "eq") {
    r.op = Op::kEq;
  } else if (op == "close") {
    r.op = Op::kClose;
    return in.real(r.rtol) && in.real(r.atol);
  } else if (op == "near") {
    r.op = Op::kNear;
    return in.real(r.atol);
  } else if (op == "ulps") {
    r.op = Op::kUlps;
    int64_t ulps = 0;
    std::string_view width;
    if (!in.integer(ulps, 0, 1 << 20) || !in.next(width) || (width != "f" && width != "d")) {
      return false;
    }
    r.ulps = static_cast<int>(ulps);
    r.single = width == "f";
  } else if (op == "lt") {
    r.op = Op::kLt;
  } else if (op == "le") {
    r.op = Op::kLe;
  } else if (op == "gt") {
    r.op = Op::kGt;
  } else if (op == "ge") {
    r.op = Op::kGe;
  } else if (op == "contains") {
    r.op = Op::kContains;
  } else if (op == "lacks") {
    r.op = Op::kLacks;
  } else if (op == "throws") {
    r.op = Op::kThrows;
  } else if (op == "nothrow") {
    r.op = Op::kNoThrow;
  } else {
    return false;
  }
  return true;
}

}  // namespace

void parse_records(std::string_view text, FileKind kind, Records& into,
                   std::string_view rank_prefix, const RecordLimits& limits) {
  const auto header = header_line(kind);
  if (text.substr(0, header.size()) != header) {
    into.problem = "not a record file of the expected kind (its first line)";
    return;
  }
  text.remove_prefix(header.size());
  TestRecord* current = nullptr;
  std::string current_name;
  size_t checks = 0;
  size_t line_number = 1;
  const auto stop = [&](const std::string& why) {
    into.problem = "line " + std::to_string(line_number) + ": " + why;
  };
  while (!text.empty()) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) {
      stop("the last line is cut off");  // the writer was killed mid-line
      return;
    }
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    ++line_number;
    Tokens in(line);
    std::string_view tag;
    std::string_view name;
    if (!in.next(tag)) return stop("an empty line");
    if (tag == "T" || tag == "E") {
      if (!in.next(name) || !printable_name(name, limits.max_name)) return stop("a bad test name");
      if (tag == "T") {
        if (in.next(tag)) return stop("extra text after the test name");
        if (into.tests.size() >= limits.max_tests && into.tests.count(std::string(name)) == 0) {
          return stop("too many tests");
        }
        current_name = std::string(name);
        current = &into.tests[current_name];
        // A second start of a test (in one file or in two of one rank) makes its checks
        // ambiguous: the test fails.
        if (current->ended || !current->checks.empty()) ++current->duplicates;
        current->ended = false;
        continue;
      }
      std::string_view status;
      if (current == nullptr || name != current_name || !in.next(status) ||
          (status != "passed" && status != "failed" && status != "skipped") || !in.at_end()) {
        return stop("a test end that matches no test start");
      }
      current->ended = true;
      current->status = std::string(status);
      current = nullptr;
      continue;
    }
    const bool expected = kind == FileKind::kExpected;
    if (tag == "N" && expected && current != nullptr) {
      std::string_view module;
      if (!in.next(module) || module.size() != 2 ||
          !std::isdigit(static_cast<unsigned char>(module[0])) ||
          !std::isdigit(static_cast<unsigned char>(module[1])) || !in.at_end()) {
        return stop("a bad module number");
      }
      if (current->needs.size() < 100) current->needs.emplace_back(module);
      continue;
    }
    if ((expected && tag != "C") || (!expected && tag != "A") || current == nullptr) {
      return stop("an unknown record, or a check outside a test");
    }
    if (++checks > limits.max_checks) return stop("too many checks");
    Check check;
    std::string_view site;
    if (!in.next(site) || !printable_name(site, limits.max_name) ||
        !in.integer(check.occurrence, 1, std::numeric_limits<int32_t>::max()) ||
        (expected && !parse_rule(in, check.rule)) || !parse_value(in, limits, check.value) ||
        !in.at_end()) {
      return stop("a malformed check");
    }
    check.site = std::string(rank_prefix) + std::string(site);
    const auto id = check.id();
    if (current->index.count(id) != 0) {
      ++current->duplicates;
      continue;
    }
    current->index[id] = current->checks.size();
    current->checks.push_back(std::move(check));
  }
}

}  // namespace tinytorch::graded
