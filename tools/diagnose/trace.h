// tools/diagnose/trace.h — the trace of one run of tinytorch_diagnose, and how two are compared.
//
// `tito diagnose` runs the same seeded programs twice, in two builds that differ only in whose
// code some modules link (the learner's files, or the release's compiled reference of them). Each
// run writes a trace: every op the programs record (its inputs and output), every backward node
// (the gradients it received and returned), and the values a program names (its inputs, its
// parameters' gradients, its parameters after an optimizer step). compare_traces() walks the two
// side by side and reports, per program, the first event where they differ:
//
//   program softmax (module 02)          yours                     the reference
//     #0 forward  SoftmaxBackward0       [4, 7] → [4, 7]  ✓        [4, 7] → [4, 7]
//     #1 forward  MulBackward0           output differs at [1, 2]: got 0.03, expected 0.14
//
// The file is written by one process and read by another, so its reader trusts nothing: every
// length is checked against the bytes left and against the limits below, and a file cut off
// mid-event (the program crashed, or was killed at its time limit) reads as the events before the
// cut, marked incomplete.
//
// Format (version 1; integers little-endian, as the machine that writes and reads them):
//   file    = "TTTRACE1" u32:version event* end
//   event   = u8:kind string:name string:op string:where u32:n tensor{n} u32:m tensor{m}
//   end     = u8:6 u64:events-written          (the writer's last record: the run finished)
//   string  = u32:length bytes                  (length ≤ kMaxString)
//   tensor  = u8:defined [ string:name string:dtype u8:ndim i64{ndim} u8:flags u64:count
//             u8:width value{count} ]           (count ≤ kMaxValues; width 4: f32 values, for
//                                               every dtype but float64 and int64; 8: f64)
//   flags   = bit 0: only the first values are kept; bit 1: no values here, they are in the
//             trace already (an op's input that an earlier op returned, or a named value)
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace tinytorch::diagnose {

// The limits, shared by the writer (which never exceeds them) and the reader (which refuses
// anything beyond them as a corrupt file).
inline constexpr uint64_t kMaxValues = 1 << 16;          // values kept per tensor (the first ones)
inline constexpr uint64_t kMaxTraceBytes = 64ull << 20;  // values beyond this are not written
inline constexpr uint32_t kMaxString = 4096;
inline constexpr uint32_t kMaxDims = 16;
inline constexpr uint32_t kMaxTensors = 64;  // per event
inline constexpr uint64_t kMaxEvents = 1 << 20;

// One tensor as the trace keeps it.
struct TensorRecord {
  bool defined = false;
  std::string name;   // the program's name for it ("x", "0.weight"), or ""
  std::string dtype;  // "float32", "int64", ...
  std::vector<int64_t> sizes;
  std::vector<double> values;  // row-major; only the first ones when `cut`
  bool cut = false;            // values holds fewer than numel() values (kMaxValues, the budget)
  // No values: they are in the trace already (an op's input that an earlier op returned, or a
  // named value); only its shape and dtype are compared here.
  bool elsewhere = false;
  int64_t numel() const;
};

enum class EventKind : uint8_t {
  kProgram = 1,   // a program starts: name, where = its module ("02") or milestone ("1986")
  kValue = 2,     // a value the program names: outputs = [it], where = the files computing it
  kForward = 3,   // an op recorded a node: name = the node ("MulBackward0"), op = "aten::mul"
  kBackward = 4,  // a node ran: inputs = gradients received, outputs = gradients returned
  kError = 5,     // the program raised: name = the message
  kEnd = 6,       // (the end record; never in Trace::events)
};

struct Event {
  EventKind kind = EventKind::kValue;
  std::string name;
  std::string op;  // forward/backward: the forward op ("aten::softmax"); "" otherwise
  // program: its module or milestone; forward/backward: the layer, or ""; value: the files of the
  // code that computed it, comma-separated ("" when it is the result of the ops before it)
  std::string where;
  std::vector<TensorRecord> inputs;
  std::vector<TensorRecord> outputs;
};

struct Trace {
  std::vector<Event> events;
  bool complete = false;  // the end record is there: the run finished
  std::string problem;    // why the events stop early, when they do ("cut off at byte 1234")
};

// Writes a trace file; every event is flushed, so a crash loses at most the event being
// written. Values beyond the byte budget are not written (the tensors keep name and shape).
class TraceWriter {
 public:
  explicit TraceWriter(const std::string& path);  // throws std::runtime_error
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void write(const Event& event);
  void finish();  // the end record; nothing may be written after it

 private:
  void put(const void* data, size_t n);
  void put_string(const std::string& s);
  void put_tensor(const TensorRecord& t);

  std::FILE* file_ = nullptr;
  std::string path_;
  uint64_t bytes_ = 0;
  uint64_t events_ = 0;
  bool finished_ = false;
};

// Reads a trace. Throws std::runtime_error when the file cannot be read, is not a trace, or breaks
// a limit; a file cut off mid-event gives the events before the cut (complete = false).
Trace read_trace(const std::string& path);

// ── comparing ─────────────────────────────────────────────────────────────────────────────────

// |got − expected| ≤ atol + rtol·|expected| per element (NaN matches NaN, ±∞ itself): float32
// 1e-4 / 1e-5, float64 1e-9 / 1e-12; integer and bool dtypes exactly. A learner's code that sums
// in another order differs by rounding only, far below these.
struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
};
Tolerance tolerance_for(const std::string& dtype);

// Where two tensors first differ (compare_tensors).
struct TensorDifference {
  std::string what;  // "shape", "dtype", "defined", "values"
  int64_t flat_index = -1;
  std::vector<int64_t> index;  // the flat index as [i, j, ...]
  double got = 0.0;
  double expected = 0.0;
  int64_t count = 0;          // elements that differ ...
  int64_t compared = 0;       // ... of those compared (the values both traces kept)
  double max_abs_diff = 0.0;  // over the elements that differ
};
std::optional<TensorDifference> compare_tensors(const TensorRecord& got,
                                                const TensorRecord& expected);

enum class DivergenceKind {
  kValues,     // an op's input, output or gradient differs (or a named value does)
  kStructure,  // the two builds ran different ops here
  kError,      // yours raised an exception where the reference went on
  kStopped,    // your run ended inside this program (crash, time limit)
  kMissing,    // your trace has no such program
};

struct Divergence {
  DivergenceKind kind = DivergenceKind::kValues;
  std::string program;
  std::string program_where;  // the program's module or milestone
  size_t position = 0;        // the event's index within the program (0 = first after its start)
  std::optional<Event> mine;  // the events at that position, without their values
  std::optional<Event> reference;
  // kValues: which tensor of the events differs — in their inputs (an op's inputs, the gradients
  // a node received) or outputs — and its name: "output", "input 1", "gradient for input 0", ...
  bool in_inputs = false;
  size_t tensor = 0;
  std::string side;
  std::optional<TensorDifference> difference;  // kValues
  std::vector<std::string> notes;  // e.g. a different order of ops that was resynchronised
};

struct Comparison {
  std::vector<Divergence> divergences;  // the first of each program that differs, program order
  std::vector<std::string> notes;       // programs that match by different ops, and the like
  size_t programs = 0;                  // in the reference trace
  bool mine_complete = false;
  std::string mine_problem;
};

// Compares your trace with the reference's, program by program (programs are matched by name).
Comparison compare_traces(const Trace& mine, const Trace& reference);

// The comparison as text for a person (what `tinytorch_diagnose compare` prints) and as JSON for
// tito (format: tools/diagnose/main.cpp).
std::string format_comparison(const Comparison& c, size_t max_divergences = 5);
std::string comparison_json(const Comparison& c);

// The events of a trace, one line each ("  3 forward  aten::softmax  x [4, 7] float32 → [4, 7]
// float32"), those of one program when `program` is not empty.
std::string format_trace(const Trace& trace, const std::string& program = "");

// "[4, 7]"
std::string shape_text(const std::vector<int64_t>& sizes);
std::string event_kind_name(EventKind kind);

}  // namespace tinytorch::diagnose
