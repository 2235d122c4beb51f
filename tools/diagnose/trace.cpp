// The trace file and the comparison of two traces (trace.h).
#include "trace.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "op_files.h"

namespace tinytorch::diagnose {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'T', 'R', 'A', 'C', 'E', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint8_t kFlagCut = 1;
constexpr uint8_t kFlagElsewhere = 2;

// Values are stored as float32 unless the dtype needs more (float64; int64 indices above 2^24).
bool wide(const std::string& dtype) {
  return dtype == "float64" || dtype == "int64";
}

}  // namespace

int64_t TensorRecord::numel() const {
  int64_t n = 1;
  for (const int64_t s : sizes) n *= s;
  return n;
}

// ── writing ───────────────────────────────────────────────────────────────────────────────────

TraceWriter::TraceWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw std::runtime_error("cannot write the trace " + path + ": " + std::strerror(errno));
  }
  put(kMagic, sizeof kMagic);
  put(&kVersion, sizeof kVersion);
}

TraceWriter::~TraceWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TraceWriter::put(const void* data, size_t n) {
  if (n == 0) return;  // an empty tensor's values: `data` may be null, which fwrite forbids
  if (std::fwrite(data, 1, n, file_) != n) {
    throw std::runtime_error("cannot write the trace " + path_ + ": " + std::strerror(errno));
  }
  bytes_ += n;
}

void TraceWriter::put_string(const std::string& s) {
  // Longer strings (an error message) are cut to the limit the reader accepts.
  const auto n = static_cast<uint32_t>(std::min<size_t>(s.size(), kMaxString));
  put(&n, sizeof n);
  put(s.data(), n);
}

void TraceWriter::put_tensor(const TensorRecord& t) {
  const uint8_t defined = t.defined ? 1 : 0;
  put(&defined, 1);
  if (!t.defined) return;
  put_string(t.name);
  put_string(t.dtype);
  const auto ndim = static_cast<uint8_t>(std::min<size_t>(t.sizes.size(), kMaxDims));
  put(&ndim, 1);
  put(t.sizes.data(), ndim * sizeof(int64_t));
  // NOTE: the budget bounds the file: once it is spent, tensors keep their shapes but no values.
  const uint8_t width = wide(t.dtype) ? 8 : 4;
  uint64_t count = t.elsewhere ? 0 : std::min<uint64_t>(t.values.size(), kMaxValues);
  if (bytes_ + count * width > kMaxTraceBytes) count = 0;
  uint8_t flags = t.elsewhere ? kFlagElsewhere : 0;
  if (!t.elsewhere && count < static_cast<uint64_t>(std::max<int64_t>(t.numel(), 0))) {
    flags |= kFlagCut;
  }
  put(&flags, 1);
  put(&count, sizeof count);
  put(&width, 1);
  if (width == 8) {
    put(t.values.data(), count * sizeof(double));
    return;
  }
  std::vector<float> narrow(t.values.begin(), t.values.begin() + static_cast<ptrdiff_t>(count));
  put(narrow.data(), count * sizeof(float));
}

void TraceWriter::write(const Event& event) {
  if (finished_) throw std::logic_error("TraceWriter::write after finish");
  if (events_ >= kMaxEvents) return;  // the reader's limit: later events are not kept
  const auto kind = static_cast<uint8_t>(event.kind);
  put(&kind, 1);
  put_string(event.name);
  put_string(event.op);
  put_string(event.where);
  for (const auto* list : {&event.inputs, &event.outputs}) {
    const auto n = static_cast<uint32_t>(std::min<size_t>(list->size(), kMaxTensors));
    put(&n, sizeof n);
    for (uint32_t i = 0; i < n; ++i) put_tensor((*list)[i]);
  }
  ++events_;
  std::fflush(file_);
}

void TraceWriter::finish() {
  if (finished_) return;
  const auto kind = static_cast<uint8_t>(EventKind::kEnd);
  put(&kind, 1);
  put(&events_, sizeof events_);
  finished_ = true;
  if (std::fflush(file_) != 0) {
    throw std::runtime_error("cannot write the trace " + path_ + ": " + std::strerror(errno));
  }
}

// ── reading ───────────────────────────────────────────────────────────────────────────────────

namespace {

// Thrown when the bytes end inside an event: the writer was stopped there.
struct CutOff {};

class Reader {
 public:
  Reader(std::string bytes, std::string path) : bytes_(std::move(bytes)), path_(std::move(path)) {}

  bool at_end() const { return pos_ == bytes_.size(); }
  size_t pos() const { return pos_; }

  void get(void* out, size_t n) {
    if (bytes_.size() - pos_ < n) throw CutOff{};
    if (n == 0) return;  // an empty tensor's values: `out` may be null, which memcpy forbids
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  template <typename T>
  T get() {
    T v{};
    get(&v, sizeof v);
    return v;
  }
  std::string get_string(const char* what) {
    const auto n = get<uint32_t>();
    if (n > kMaxString) bad(std::string(what) + " of " + std::to_string(n) + " bytes");
    std::string s(n, '\0');
    get(s.data(), n);
    return s;
  }
  TensorRecord get_tensor() {
    TensorRecord t;
    const auto defined = get<uint8_t>();
    if (defined > 1) bad("a tensor's defined flag is " + std::to_string(defined));
    t.defined = defined == 1;
    if (!t.defined) return t;
    t.name = get_string("a tensor name");
    t.dtype = get_string("a dtype name");
    const auto ndim = get<uint8_t>();
    if (ndim > kMaxDims) bad("a tensor of " + std::to_string(ndim) + " dimensions");
    t.sizes.resize(ndim);
    for (auto& s : t.sizes) {
      s = get<int64_t>();
      if (s < 0) bad("a negative size " + std::to_string(s));
    }
    const auto flags = get<uint8_t>();
    if ((flags & ~(kFlagCut | kFlagElsewhere)) != 0 || flags == (kFlagCut | kFlagElsewhere)) {
      bad("tensor flags " + std::to_string(flags));
    }
    t.cut = (flags & kFlagCut) != 0;
    t.elsewhere = (flags & kFlagElsewhere) != 0;
    const auto count = get<uint64_t>();
    if (count > kMaxValues) bad(std::to_string(count) + " values in one tensor");
    // (A product of sizes that overflows cannot be the numel of a tensor that was written.)
    double numel = 1.0;
    for (const int64_t s : t.sizes) numel *= static_cast<double>(s);
    if (static_cast<double>(count) > numel) bad("more values than the tensor has elements");
    if (t.elsewhere && count != 0) bad("values for a tensor marked as recorded elsewhere");
    if (!t.cut && !t.elsewhere && static_cast<double>(count) != numel) {
      bad("a tensor whose values are cut unmarked");
    }
    const auto width = get<uint8_t>();
    if (width != 4 && width != 8) bad("values " + std::to_string(width) + " bytes wide");
    t.values.resize(count);
    if (width == 8) {
      get(t.values.data(), count * sizeof(double));
    } else {
      std::vector<float> narrow(count);
      get(narrow.data(), count * sizeof(float));
      std::copy(narrow.begin(), narrow.end(), t.values.begin());
    }
    return t;
  }

  [[noreturn]] void bad(const std::string& what) const {
    throw std::runtime_error(path_ + " is not a valid trace: " + what + " at byte " +
                             std::to_string(pos_));
  }

 private:
  std::string bytes_;
  std::string path_;
  size_t pos_ = 0;
};

}  // namespace

Trace read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the trace " + path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
  // The writer's budget bounds the values; names and shapes add at most this much again.
  const uint64_t limit = 2 * kMaxTraceBytes + kMaxEvents * 64;
  if (size > limit) {
    throw std::runtime_error(path + " is not a valid trace: " + std::to_string(size) +
                             " bytes, more than any trace has (" + std::to_string(limit) + ")");
  }
  in.seekg(0);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) throw std::runtime_error("cannot read the trace " + path);

  Reader r(std::move(bytes), path);
  Trace trace;
  try {
    char magic[sizeof kMagic];
    r.get(magic, sizeof magic);
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) r.bad("no trace header");
    const auto version = r.get<uint32_t>();
    if (version != kVersion) {
      r.bad("version " + std::to_string(version) + " (this program reads version " +
            std::to_string(kVersion) + ")");
    }
  } catch (const CutOff&) {
    r.bad("the file ends inside its header");
  }
  while (!r.at_end()) {
    const size_t start = r.pos();
    try {
      const auto kind = r.get<uint8_t>();
      if (kind == static_cast<uint8_t>(EventKind::kEnd)) {
        const auto written = r.get<uint64_t>();
        if (written != std::min<uint64_t>(trace.events.size(), kMaxEvents)) {
          r.bad("an end record counting " + std::to_string(written) + " events after " +
                std::to_string(trace.events.size()));
        }
        if (!r.at_end()) r.bad("bytes after the end record");
        trace.complete = true;
        break;
      }
      if (kind < static_cast<uint8_t>(EventKind::kProgram) ||
          kind > static_cast<uint8_t>(EventKind::kError)) {
        r.bad("an event of unknown kind " + std::to_string(kind));
      }
      if (trace.events.size() >= kMaxEvents)
        r.bad("more than " + std::to_string(kMaxEvents) + " events");
      Event e;
      e.kind = static_cast<EventKind>(kind);
      e.name = r.get_string("an event name");
      e.op = r.get_string("an op name");
      e.where = r.get_string("a place");
      for (auto* list : {&e.inputs, &e.outputs}) {
        const auto n = r.get<uint32_t>();
        if (n > kMaxTensors) r.bad(std::to_string(n) + " tensors in one event");
        for (uint32_t i = 0; i < n; ++i) list->push_back(r.get_tensor());
      }
      trace.events.push_back(std::move(e));
    } catch (const CutOff&) {
      trace.problem = "the trace is cut off at byte " + std::to_string(start) + " (inside event " +
                      std::to_string(trace.events.size()) + ")";
      return trace;
    }
  }
  if (!trace.complete && trace.problem.empty()) {
    trace.problem = "the trace ends after event " + std::to_string(trace.events.size()) +
                    " without its end record";
  }
  return trace;
}

// ── comparing ─────────────────────────────────────────────────────────────────────────────────

Tolerance tolerance_for(const std::string& dtype) {
  if (dtype == "float32") return {1e-4, 1e-5};
  if (dtype == "float64") return {1e-9, 1e-12};
  return {0.0, 0.0};
}

namespace {

bool values_match(double got, double expected, const Tolerance& tol) {
  if (std::isnan(got) || std::isnan(expected)) return std::isnan(got) && std::isnan(expected);
  if (std::isinf(got) || std::isinf(expected)) return got == expected;
  return std::fabs(got - expected) <= tol.atol + tol.rtol * std::fabs(expected);
}

std::vector<int64_t> unflatten(int64_t flat, const std::vector<int64_t>& sizes) {
  std::vector<int64_t> index(sizes.size(), 0);
  for (size_t d = sizes.size(); d-- > 0;) {
    if (sizes[d] == 0) break;
    index[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return index;
}

}  // namespace

std::optional<TensorDifference> compare_tensors(const TensorRecord& got,
                                                const TensorRecord& expected) {
  TensorDifference d;
  if (got.defined != expected.defined) {
    d.what = "defined";
    return d;
  }
  if (!got.defined) return std::nullopt;
  if (got.sizes != expected.sizes) {
    d.what = "shape";
    return d;
  }
  if (got.dtype != expected.dtype) {
    d.what = "dtype";
    return d;
  }
  if (got.elsewhere || expected.elsewhere) return std::nullopt;  // compared where recorded
  const Tolerance tol = tolerance_for(expected.dtype);
  const size_t n = std::min(got.values.size(), expected.values.size());
  d.compared = static_cast<int64_t>(n);
  for (size_t i = 0; i < n; ++i) {
    if (values_match(got.values[i], expected.values[i], tol)) continue;
    const double diff = std::fabs(got.values[i] - expected.values[i]);
    if (d.count == 0) {
      d.flat_index = static_cast<int64_t>(i);
      d.got = got.values[i];
      d.expected = expected.values[i];
    }
    ++d.count;
    if (std::isnan(diff) || diff > d.max_abs_diff) d.max_abs_diff = diff;
  }
  if (d.count == 0) return std::nullopt;
  d.what = "values";
  d.index = unflatten(d.flat_index, expected.sizes);
  return d;
}

namespace {

// An event without its values (what a divergence keeps to show).
Event header(const Event& e) {
  Event h = e;
  for (auto* list : {&h.inputs, &h.outputs}) {
    for (auto& t : *list) t.values.clear();
  }
  return h;
}

bool same_step(const Event& a, const Event& b) {
  return a.kind == b.kind && a.name == b.name;
}

// The programs of a trace: each one's events, after its kProgram event.
struct Program {
  std::string name;
  std::string where;
  std::vector<const Event*> events;
};

std::vector<Program> split_programs(const Trace& trace) {
  std::vector<Program> out;
  for (const Event& e : trace.events) {
    if (e.kind == EventKind::kProgram) {
      out.push_back({e.name, e.where, {}});
    } else if (!out.empty()) {
      out.back().events.push_back(&e);
    }
  }
  return out;
}

// The first tensor of two matching events that differs: inputs first (what the op was given),
// then outputs.
struct Found {
  bool in_inputs = false;
  size_t tensor = 0;
  TensorDifference difference;
};
std::optional<Found> first_difference(const Event& mine, const Event& ref) {
  for (const bool input : {true, false}) {
    const auto& a = input ? mine.inputs : mine.outputs;
    const auto& b = input ? ref.inputs : ref.outputs;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const TensorRecord none;
      const auto d = compare_tensors(i < a.size() ? a[i] : none, i < b.size() ? b[i] : none);
      if (d) return Found{input, i, *d};
    }
  }
  return std::nullopt;
}

// "input 1" / "output" / "gradient received 0" / "gradient for input 1" / "value".
std::string side_name(const Event& e, bool in_inputs, size_t i) {
  if (e.kind == EventKind::kValue) return "value";
  if (e.kind == EventKind::kBackward) {
    return (in_inputs ? "gradient received " : "gradient for input ") + std::to_string(i);
  }
  if (in_inputs) return "input " + std::to_string(i);
  return e.outputs.size() == 1 ? "output" : "output " + std::to_string(i);
}

// The named values of a program, by name.
std::map<std::string, const Event*> named_values(const Program& p) {
  std::map<std::string, const Event*> out;
  for (const Event* e : p.events) {
    if (e->kind == EventKind::kValue) out.emplace(e->name, e);
  }
  return out;
}

constexpr size_t kResyncWindow = 16;

std::optional<Divergence> compare_program(const Program& mine, const Program& ref,
                                          bool mine_stopped_here) {
  Divergence d;
  d.program = ref.name;
  d.program_where = ref.where;
  size_t i = 0, j = 0;  // positions in mine and in the reference
  std::vector<std::string> notes;
  const auto make = [&](DivergenceKind kind) {
    d.kind = kind;
    d.position = j;
    if (i < mine.events.size()) d.mine = header(*mine.events[i]);
    if (j < ref.events.size()) d.reference = header(*ref.events[j]);
    d.notes = notes;
    return d;
  };
  while (i < mine.events.size() && j < ref.events.size()) {
    const Event& a = *mine.events[i];
    const Event& b = *ref.events[j];
    if (same_step(a, b)) {
      if (const auto found = first_difference(a, b)) {
        d.in_inputs = found->in_inputs;
        d.tensor = found->tensor;
        d.side = side_name(b, found->in_inputs, found->tensor);
        d.difference = found->difference;
        return make(DivergenceKind::kValues);
      }
      ++i, ++j;
      continue;
    }
    if (a.kind == EventKind::kError) return make(DivergenceKind::kError);
    // Different ops here. Your code may compute the same thing another way (a Linear written as
    // matmul + add): look a little ahead in both for the same step again.
    std::optional<std::pair<size_t, size_t>> resync;
    for (size_t s = 1; s <= 2 * kResyncWindow && !resync; ++s) {
      for (size_t da = 0; da <= std::min(s, kResyncWindow) && !resync; ++da) {
        const size_t db = s - da;
        if (db > kResyncWindow || i + da >= mine.events.size() || j + db >= ref.events.size()) {
          continue;
        }
        const Event& x = *mine.events[i + da];
        const Event& y = *ref.events[j + db];
        if (same_step(x, y) && x.kind != EventKind::kError &&
            (x.outputs.empty() || y.outputs.empty() || x.outputs[0].sizes == y.outputs[0].sizes)) {
          resync = std::make_pair(i + da, j + db);
        }
      }
    }
    if (!resync) return make(DivergenceKind::kStructure);
    notes.push_back("at step " + std::to_string(j) + " your code ran " +
                    std::to_string(resync->first - i) + " op(s) where the reference ran " +
                    std::to_string(resync->second - j) + " (" + (a.op.empty() ? a.name : a.op) +
                    " / " + (b.op.empty() ? b.name : b.op) + "); compared again from step " +
                    std::to_string(resync->second));
    i = resync->first;
    j = resync->second;
  }
  if (i < mine.events.size() && mine.events[i]->kind == EventKind::kError &&
      j == ref.events.size()) {
    return make(DivergenceKind::kError);
  }
  if (j < ref.events.size()) {
    if (mine_stopped_here) return make(DivergenceKind::kStopped);
    if (i < mine.events.size() && mine.events[i]->kind == EventKind::kError) {
      return make(DivergenceKind::kError);
    }
    return make(DivergenceKind::kStructure);
  }
  if (i < mine.events.size()) return make(DivergenceKind::kStructure);
  if (!notes.empty()) {
    // Different ops, and every op compared again matched: check the values the program names
    // too (a resynchronised walk can skip an op whose output mattered).
    const auto a = named_values(mine);
    for (const auto& [name, e] : named_values(ref)) {
      const auto it = a.find(name);
      if (it == a.end()) continue;
      if (const auto found = first_difference(*it->second, *e)) {
        d.in_inputs = found->in_inputs;
        d.tensor = found->tensor;
        d.side = side_name(*e, found->in_inputs, found->tensor);
        d.difference = found->difference;
        d.kind = DivergenceKind::kValues;
        d.mine = header(*it->second);
        d.reference = header(*e);
        d.notes = notes;
        return d;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Comparison compare_traces(const Trace& mine, const Trace& reference) {
  Comparison c;
  c.mine_complete = mine.complete;
  c.mine_problem = mine.problem;
  const auto ours = split_programs(mine);
  const auto refs = split_programs(reference);
  c.programs = refs.size();
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < ours.size(); ++k) index.emplace(ours[k].name, k);
  const std::string last = ours.empty() ? "" : ours.back().name;
  bool stopped = false;  // your run ended before this program
  for (const Program& ref : refs) {
    const auto it = index.find(ref.name);
    if (it == index.end()) {
      Divergence d;
      d.kind = stopped || !mine.complete ? DivergenceKind::kStopped : DivergenceKind::kMissing;
      d.program = ref.name;
      d.program_where = ref.where;
      if (stopped || !mine.complete) {
        d.notes.push_back("not reached: your run ended before it");
      }
      c.divergences.push_back(std::move(d));
      continue;
    }
    const bool stopped_here = !mine.complete && ref.name == last;
    if (auto d = compare_program(ours[it->second], ref, stopped_here)) {
      c.divergences.push_back(std::move(*d));
    }
    stopped = stopped || stopped_here;
  }
  return c;
}

// ── reports ───────────────────────────────────────────────────────────────────────────────────

std::string shape_text(const std::vector<int64_t>& sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

std::string event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kProgram:
      return "program";
    case EventKind::kValue:
      return "value";
    case EventKind::kForward:
      return "forward";
    case EventKind::kBackward:
      return "backward";
    case EventKind::kError:
      return "error";
    case EventKind::kEnd:
      return "end";
  }
  return "?";
}

namespace {

// "module 02" / "milestone 1986": module ids have two digits, milestones are years.
std::string owner_text(const std::string& owner) {
  return (owner.size() == 4 ? "milestone " : "module ") + owner;
}

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

std::string tensor_text(const TensorRecord& t) {
  if (!t.defined) return "(none)";
  std::string s = (t.name.empty() ? "" : t.name + " ") + shape_text(t.sizes) + " " + t.dtype;
  return s;
}

std::string tensors_text(const std::vector<TensorRecord>& list) {
  std::string s;
  for (size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + tensor_text(list[i]);
  return s.empty() ? "(none)" : s;
}

// "forward of aten::softmax (SoftmaxBackward0)"; "value 'grad x'"; "error"
std::string step_text(const Event& e) {
  switch (e.kind) {
    case EventKind::kForward:
      return "forward of " + e.op + " (records " + e.name + ")";
    case EventKind::kBackward:
      if (e.op.empty()) return "backward node " + e.name;  // AccumulateGrad, unbind's node
      return "backward of " + e.op + " (" + e.name + ")";
    case EventKind::kValue:
      return "value '" + e.name + "'";
    case EventKind::kError:
      return "error: " + e.name;
    default:
      return event_kind_name(e.kind) + " " + e.name;
  }
}

std::string kind_name(DivergenceKind k) {
  switch (k) {
    case DivergenceKind::kValues:
      return "values";
    case DivergenceKind::kStructure:
      return "structure";
    case DivergenceKind::kError:
      return "error";
    case DivergenceKind::kStopped:
      return "stopped";
    case DivergenceKind::kMissing:
      return "missing";
  }
  return "?";
}

// The source files to read for a divergence: the op's (forward) or its formula's (backward).
std::vector<std::string> files_of(const Divergence& d) {
  const Event* e = d.reference ? &*d.reference : d.mine ? &*d.mine : nullptr;
  if (e == nullptr) return {};
  if (e->kind == EventKind::kForward) return op_files(e->name, /*backward=*/false);
  if (e->kind == EventKind::kBackward) {
    // A gradient that arrives wrong was summed (and reduced to its input's shape) by the engine.
    if (d.kind == DivergenceKind::kValues && d.in_inputs) {
      return {"tinytorch/src/autograd/engine.cpp"};
    }
    return op_files(e->name, /*backward=*/true);
  }
  std::vector<std::string> out;
  if (e->kind == EventKind::kValue) {
    std::istringstream files(e->where);
    for (std::string f; std::getline(files, f, ',');) {
      if (!f.empty()) out.push_back(f);
    }
  }
  return out;
}

std::string divergence_text(const Divergence& d) {
  std::ostringstream out;
  const std::string program = "program '" + d.program + "' (" + owner_text(d.program_where) + ")";
  const Event* ref = d.reference ? &*d.reference : nullptr;
  const Event* mine = d.mine ? &*d.mine : nullptr;
  switch (d.kind) {
    case DivergenceKind::kValues: {
      const Event& e = *ref;
      const TensorDifference& diff = *d.difference;
      out << program << ", step " << d.position << ": " << step_text(e);
      if (!e.where.empty()) out << " in " << e.where;
      out << "\n";
      if (e.kind == EventKind::kForward) {
        out << "    inputs: " << tensors_text(e.inputs) << "\n";
      } else if (e.kind == EventKind::kBackward) {
        out << "    gradients received: " << tensors_text(e.inputs) << "\n";
      }
      const auto& list = d.in_inputs ? mine->inputs : mine->outputs;
      const auto& rlist = d.in_inputs ? e.inputs : e.outputs;
      const TensorRecord none;
      const TensorRecord& got = d.tensor < list.size() ? list[d.tensor] : none;
      const TensorRecord& exp = d.tensor < rlist.size() ? rlist[d.tensor] : none;
      out << "    " << d.side << " differs: ";
      if (diff.what == "values") {
        out << shape_text(exp.sizes) << " " << exp.dtype << " at " << shape_text(diff.index)
            << " (flat index " << diff.flat_index << "): got " << number(diff.got) << ", expected "
            << number(diff.expected) << "; " << diff.count << " of " << diff.compared
            << " elements differ (largest difference " << number(diff.max_abs_diff) << ")\n";
      } else {
        out << "yours is " << tensor_text(got) << ", the reference's " << tensor_text(exp) << "\n";
      }
      if (d.in_inputs && e.kind == EventKind::kForward) {
        out << "    (the op was given different values: they come from code that records no op"
               " — a factory, an op on tensors that need no gradient — or from the program's"
               " inputs)\n";
      }
      break;
    }
    case DivergenceKind::kStructure:
      out << program << ", step " << d.position << ": the two builds ran different ops\n";
      out << "    yours:         " << (mine ? step_text(*mine) : "(nothing more)") << "\n";
      out << "    the reference: " << (ref ? step_text(*ref) : "(nothing more)") << "\n";
      break;
    case DivergenceKind::kError:
      out << program << ", step " << d.position << ": your code raised an error"
          << (ref ? " where the reference ran " + step_text(*ref) : std::string()) << "\n";
      out << "    " << (mine ? mine->name : "") << "\n";
      break;
    case DivergenceKind::kStopped:
      if (ref == nullptr) {
        out << program << ": not reached — your run ended before it\n";
      } else {
        out << program << ", step " << d.position << ": your run ended here (a crash or the time"
            << " limit) before " << step_text(*ref) << "\n";
      }
      break;
    case DivergenceKind::kMissing:
      out << program << ": missing from your trace\n";
      break;
  }
  const auto files = files_of(d);
  if (!files.empty()) {
    out << "    code: ";
    for (size_t i = 0; i < files.size(); ++i) out << (i ? ", " : "") << files[i];
    out << "\n";
  }
  for (const auto& n : d.notes) out << "    note: " << n << "\n";
  return out.str();
}

}  // namespace

std::string format_trace(const Trace& trace, const std::string& program) {
  std::ostringstream out;
  bool shown = program.empty();
  size_t step = 0;
  for (const Event& e : trace.events) {
    if (e.kind == EventKind::kProgram) {
      shown = program.empty() || e.name == program;
      step = 0;
      if (shown) out << "program '" << e.name << "' (" << owner_text(e.where) << ")\n";
      continue;
    }
    if (!shown) continue;
    out << std::setw(5) << step++ << " " << std::left << std::setw(8) << event_kind_name(e.kind)
        << std::right << " ";
    if (e.kind == EventKind::kError) {
      out << e.name;
    } else if (e.kind == EventKind::kValue) {
      const TensorRecord none;
      const TensorRecord& v = e.outputs.empty() ? none : e.outputs[0];
      out << e.name << "  " << (v.defined ? shape_text(v.sizes) + " " + v.dtype : "(none)");
    } else {
      out << (e.op.empty() ? e.name : e.op + " (" + e.name + ")");
      out << "  " << tensors_text(e.inputs) << " → " << tensors_text(e.outputs);
    }
    if (!e.where.empty() && e.kind != EventKind::kValue) out << "  [" << e.where << "]";
    out << "\n";
  }
  if (!trace.complete) out << "(incomplete: " << trace.problem << ")\n";
  return out.str();
}

std::string format_comparison(const Comparison& c, size_t max_divergences) {
  std::ostringstream out;
  if (c.divergences.empty()) {
    out << "All " << c.programs << " programs match the reference, op by op.\n";
  } else {
    out << c.divergences.size() << " of " << c.programs
        << " programs differ from the reference. The first difference:\n";
    out << "  " << divergence_text(c.divergences.front());
    for (size_t k = 1; k < c.divergences.size() && k < max_divergences; ++k) {
      out << (k == 1 ? "Other programs that differ (each starts from inputs of its own):\n" : "");
      out << "  " << divergence_text(c.divergences[k]);
    }
    if (c.divergences.size() > max_divergences) {
      out << "  ... and " << c.divergences.size() - max_divergences << " more programs\n";
    }
  }
  if (!c.mine_complete && !c.mine_problem.empty()) out << "Your run: " << c.mine_problem << "\n";
  for (const auto& n : c.notes) out << "note: " << n << "\n";
  return out.str();
}

std::string comparison_json(const Comparison& c) {
  nlohmann::json doc;
  doc["programs"] = c.programs;
  doc["complete"] = c.mine_complete;
  doc["problem"] = c.mine_problem;
  doc["divergences"] = nlohmann::json::array();
  for (const Divergence& d : c.divergences) {
    nlohmann::json j;
    j["kind"] = kind_name(d.kind);
    j["program"] = d.program;
    j["where"] = d.program_where;
    j["position"] = d.position;
    const Event* e = d.reference ? &*d.reference : d.mine ? &*d.mine : nullptr;
    j["direction"] = e ? event_kind_name(e->kind) : "";
    j["node"] = e ? e->name : "";
    j["op"] = e ? e->op : "";
    j["layer"] = e ? e->where : "";
    j["side"] = d.side;
    if (d.difference) {
      j["what"] = d.difference->what;
      j["flat_index"] = d.difference->flat_index;
      j["index"] = d.difference->index;
      j["got"] = d.difference->got;
      j["expected"] = d.difference->expected;
      j["count"] = d.difference->count;
    }
    j["files"] = files_of(d);
    j["text"] = divergence_text(d);
    doc["divergences"].push_back(std::move(j));
  }
  // NaN and ±∞ are not JSON numbers: dump them as null rather than fail.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tinytorch::diagnose
