#!/usr/bin/env bash
# The op-level diagnosis (tito diagnose; tools/diagnose), seeded with wrong implementations in four
# modules: it must name each op or value, with its shapes, the index, got and expected.
#
#   tests/course/diagnose_seeded.sh BUILD_DIR      (BUILD_DIR: build/release, with
#                                                   tinytorch_diagnose built)
#
# What a learner's release does with two builds — their files, and the release's compiled
# reference of them — this does with one object per file: from BUILD_DIR's own build commands
# (ninja -t commands) it compiles a mutated copy of each file below and links tinytorch_diagnose
# again with those objects placed before libtinytorch.a (the linker then never pulls the archive's
# objects of the same files). The mutant plays the learner's build, BUILD_DIR's program the
# reference's:
#   • 02 activation.cpp: softmax_row reads x[j] instead of x[j · stride] once: right along the
#     last dim, wrong along any other — program 'softmax' must diverge at the forward of
#     aten::softmax over dim 0; GELU's backward subtracts x·φ(x) instead of adding it — program
#     'gelu' must diverge at the backward of aten::gelu (GeluBackward0), in the gradient for its
#     input;
#   • 14 profiler_ops.cpp: matmul_flops forgets the batch dims — program 'FLOP counts' must name
#     its first value at index [1] (the batched aten::matmul);
#   • 19 stats.cpp: Tukey's upper fence is Q3 + k·Q1 — program 'benchmark statistics' must name
#     the fences at index [1];
#   • 21 sampler.cpp: the shuffle ignores the epoch — program 'DistributedSampler' must name rank
#     0's shuffled indices of epoch 1 (epoch 0 and the unshuffled ones are right).
# The harness is checked first: two runs of the unmutated program give the same trace. The
# source tree is never touched. Four compiles and one link: about 40 s on two busy cores. (The
# whole round trip, `tito diagnose` in a learner release, is exercised by e2e_learner.sh.)
set -euo pipefail

build="${1:?usage: $0 BUILD_DIR}"
build="$(cd "$build" && pwd)"
source_dir="$(cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
reference="$build/bin/tinytorch_diagnose"
# The mutated files (under tinytorch/src) and the modules whose programs run.
files=(native/activation.cpp profiler/profiler_ops.cpp benchmark/stats.cpp distributed/sampler.cpp)
modules=01,02,14,19,21

commands="$(ninja -C "$build" -t commands bin/tinytorch_diagnose 2>/dev/null)" || {
  echo "cannot list the build commands of bin/tinytorch_diagnose in $build (configure and build" \
    "it: cmake --build $build --target tinytorch_diagnose)" >&2
  exit 2
}
link="$(grep -E -- "-o bin/tinytorch_diagnose( |$)" <<<"$commands" | tail -n1 || true)"
if [[ -z "$link" ]]; then
  echo "could not find the link command of tinytorch_diagnose in $build's build commands" >&2
  exit 2
fi
[[ -x "$reference" ]] || {
  echo "$reference is not built (cmake --build $build --target tinytorch_diagnose)" >&2
  exit 2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The harness: the same program twice gives the same trace.
"$reference" trace --modules "$modules" --out "$work/reference.trace" >/dev/null
"$reference" trace --modules "$modules" --out "$work/again.trace" >/dev/null
if ! "$reference" compare "$work/again.trace" "$work/reference.trace" >"$work/again.txt"; then
  echo "two runs of the same program differ: the diagnosis cannot work" >&2
  cat "$work/again.txt" >&2
  exit 1
fi

python3 - "$source_dir/tinytorch/src" "$work" <<'PY'
import os, sys
src, work = sys.argv[1:]
mutations = {
    "native/activation.cpp": [
        ("const T e = std::exp(x[j * stride] - max);", "const T e = std::exp(x[j] - max);"),
        ("out[i] = g[i] * (cdf + v * pdf);", "out[i] = g[i] * (cdf - v * pdf);"),
    ],
    "profiler/profiler_ops.cpp": [("return 2 * batch * M * N * K;", "return 2 * M * N * K + 0 * batch;")],
    "benchmark/stats.cpp": [("q3 + k * iqr}", "q3 + k * q1}")],
    "distributed/sampler.cpp": [
        ("Generator generator(seed_ + static_cast<uint64_t>(epoch_));",
         "Generator generator(seed_);"),
    ],
}
for path, changes in mutations.items():
    source = open(os.path.join(src, path)).read()
    for old, new in changes:
        n = source.count(old)
        if n != 1:
            sys.exit(f"{path}: expected '{old}' once, found it {n} times "
                     "(tests/course/diagnose_seeded.sh must follow the change)")
        source = source.replace(old, new)
    open(os.path.join(work, path.replace("/", "_")), "w").write(source)
PY

objects=""
for file in "${files[@]}"; do
  name="${file//\//_}"
  compile="$(grep -E -- "-c [^ ]*src/$file( |$)" <<<"$commands" | head -n1 || true)"
  if [[ -z "$compile" ]]; then
    echo "could not find the compile command of $file in $build's build commands" >&2
    exit 2
  fi
  c="$(sed -E "s#-c [^ ]*src/$file#-c $work/$name#; s#-o [^ ]+#-o $work/$name.o#; \
    s#-MF [^ ]+#-MF $work/$name.d#" <<<"$compile")"
  # The mutant is compiled from $work: its quoted includes of neighbours ("opmath.h") are found
  # in the original's folder.
  c+=" -iquote $source_dir/tinytorch/src/${file%/*}"
  (cd "$build" && eval "$c") || { echo "the mutant of $file did not compile" >&2; exit 1; }
  objects+="$work/$name.o "
done
l="$(sed -E "s#-o bin/tinytorch_diagnose#-o $work/mutant_diagnose#; \
  s#(tinytorch/libtinytorch\.a)#$objects\1#" <<<"$link")"
(cd "$build" && eval "$l") || { echo "the mutant did not link" >&2; exit 1; }

"$work/mutant_diagnose" trace --modules "$modules" --out "$work/mine.trace" >/dev/null
set +e
"$reference" compare "$work/mine.trace" "$work/reference.trace" --json "$work/result.json" \
  >"$work/report.txt"
status=$?
set -e
cat "$work/report.txt"
if ((status != 1)); then
  echo "compare should exit 1 (the traces differ), not $status" >&2
  exit 1
fi

python3 - "$work/result.json" "$work/report.txt" <<'PY'
import json, re, sys
result = json.load(open(sys.argv[1]))
report = open(sys.argv[2]).read()
by_program = {d["program"]: d for d in result["divergences"]}
problems = []

def expect(ok, what):
    if not ok:
        problems.append(what)

values = {  # program: the value named, its shape, the index, the file
    "FLOP counts": ("flops: aten::mm [3, 4] @ [4, 5], aten::matmul [2, 3, 4] @ [4, 5], "
                    "aten::bmm [2, 3, 4] @ [2, 4, 6]", [3], [1],
                    "tinytorch/src/profiler/profiler_ops.cpp"),
    "benchmark statistics": ("tukey_outliers: fences low, high", [2], [1],
                             "tinytorch/src/benchmark/stats.cpp"),
    "DistributedSampler": ("shuffled, 10 samples, rank 0 of 3, epoch 1", [4], [0],
                           "tinytorch/src/distributed/sampler.cpp"),
}
expect(set(by_program) == {"gelu", "softmax"} | set(values),
       f"exactly programs gelu, softmax and {sorted(values)} should differ, not "
       f"{sorted(by_program)}")
for name, (value, shape, index, file) in values.items():
    d = by_program.get(name)
    if d is None:
        continue
    expect(d["kind"] == "values" and d["direction"] == "value",
           f"{name}: kind {d['kind']}, direction {d['direction']}")
    expect(d["node"] == value, f"{name}: value {d['node']!r}, not {value!r}")
    expect(d["index"] == index, f"{name}: index {d['index']}, not {index}")
    expect(d["got"] is not None and d["expected"] is not None and d["got"] != d["expected"],
           f"{name}: got {d['got']}, expected {d['expected']}")
    expect(file in d["files"], f"{name}: files {d['files']} do not name {file}")
    shown = ", ".join(map(str, shape))
    expect(re.search(rf"value differs: \[{shown}\] (int64|float64) at \[{index[0]}\] "
                     r"\(flat index \d+\): got [-0-9.e]+, expected [-0-9.e]+", d["text"]) is not None,
           f"{name}: the text does not show shape, index, got and expected:\n{d['text']}")
for name, direction, node, side, shape in [
    ("gelu", "backward", "GeluBackward0", "gradient for input 0", [5, 7]),
    ("softmax", "forward", "SoftmaxBackward0", "output", [4, 7]),
]:
    d = by_program.get(name)
    if d is None:
        continue
    expect(d["kind"] == "values", f"{name}: kind {d['kind']}")
    expect(d["direction"] == direction, f"{name}: direction {d['direction']}, not {direction}")
    expect(d["node"] == node, f"{name}: node {d['node']}, not {node}")
    expect(d["side"] == side, f"{name}: side {d['side']!r}, not {side!r}")
    expect(len(d["index"]) == 2 and all(0 <= i < n for i, n in zip(d["index"], shape)),
           f"{name}: index {d['index']} outside {shape}")
    expect(d["flat_index"] == d["index"][0] * shape[1] + d["index"][1],
           f"{name}: flat index {d['flat_index']} is not {d['index']} in {shape}")
    expect(d["got"] is not None and d["expected"] is not None and d["got"] != d["expected"],
           f"{name}: got {d['got']}, expected {d['expected']}")
    expect("tinytorch/src/native/activation.cpp" in d["files"],
           f"{name}: files {d['files']} do not name activation.cpp")
    shown = f"{shape[0]}, {shape[1]}"
    expect(re.search(rf"{side} differs: \[{shown}\] float32 at \[\d+, \d+\] \(flat index \d+\): "
                     r"got [-0-9.e]+, expected [-0-9.e]+", d["text"]) is not None,
           f"{name}: the text does not show shape, index, got and expected:\n{d['text']}")
# softmax over the last dim is right; the first wrong output is the one over dim 0.
softmax = by_program.get("softmax")
if softmax is not None:
    expect("input: x [4, 7] float32" in softmax["text"] or "x [4, 7] float32" in softmax["text"],
           f"softmax: the text does not show the input x [4, 7]:\n{softmax['text']}")
expect("5 of " in report and "programs differ" in report, "the report's summary line")
if problems:
    print("diagnose_seeded: " + "\n  ".join(["the diagnosis is wrong:"] + problems), file=sys.stderr)
    sys.exit(1)
print("diagnose_seeded: every seeded error named with its op or value, shape, index, got and "
      "expected")
PY
