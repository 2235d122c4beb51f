#!/usr/bin/env bash
# The op-level diagnosis (tito diagnose; tools/diagnose), seeded with two wrong implementations:
# it must name each op, with its shapes, the index, got and expected.
#
#   tests/course/diagnose_seeded.sh BUILD_DIR      (BUILD_DIR: build/release, with
#                                                   tinytorch_diagnose built)
#
# What a learner's release does with two builds — their files, and the release's compiled
# reference of them — this does with one object: from BUILD_DIR's own build commands (ninja -t
# commands) it compiles a mutated copy of module 02's activation.cpp and links tinytorch_diagnose
# again with that object placed before libtinytorch.a (the linker then never pulls the archive's
# activation.cpp.o). The mutant plays the learner's build, BUILD_DIR's program the reference's:
#   • softmax_row reads x[j] instead of x[j · stride] once: right along the last dim, wrong along
#     any other — program 'softmax' must diverge at the forward of aten::softmax over dim 0;
#   • GELU's backward subtracts x·φ(x) instead of adding it — program 'gelu' must diverge at the
#     backward of aten::gelu (GeluBackward0), in the gradient for its input.
# The harness is checked first: two runs of the unmutated program give the same trace. The
# source tree is never touched. One compile and one link: about 20 s on two busy cores. (The
# whole round trip, `tito diagnose` in a learner release, is exercised by e2e_learner.sh.)
set -euo pipefail

build="${1:?usage: $0 BUILD_DIR}"
build="$(cd "$build" && pwd)"
source_dir="$(cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
activation="$source_dir/tinytorch/src/native/activation.cpp"
reference="$build/bin/tinytorch_diagnose"

commands="$(ninja -C "$build" -t commands bin/tinytorch_diagnose 2>/dev/null)" || {
  echo "cannot list the build commands of bin/tinytorch_diagnose in $build (configure and build" \
    "it: cmake --build $build --target tinytorch_diagnose)" >&2
  exit 2
}
compile="$(grep -E -- "-c [^ ]*native/activation\.cpp" <<<"$commands" | head -n1 || true)"
link="$(grep -E -- "-o bin/tinytorch_diagnose( |$)" <<<"$commands" | tail -n1 || true)"
if [[ -z "$compile" || -z "$link" ]]; then
  echo "could not find the compile command of activation.cpp or the link command of" \
    "tinytorch_diagnose in $build's build commands" >&2
  exit 2
fi
[[ -x "$reference" ]] || {
  echo "$reference is not built (cmake --build $build --target tinytorch_diagnose)" >&2
  exit 2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The harness: the same program twice gives the same trace.
"$reference" trace --modules 01,02 --out "$work/reference.trace" >/dev/null
"$reference" trace --modules 01,02 --out "$work/again.trace" >/dev/null
if ! "$reference" compare "$work/again.trace" "$work/reference.trace" >"$work/again.txt"; then
  echo "two runs of the same program differ: the diagnosis cannot work" >&2
  cat "$work/again.txt" >&2
  exit 1
fi

python3 - "$activation" "$work/mutant.cpp" <<'PY'
import sys
source = open(sys.argv[1]).read()
for old, new in [
    ("const T e = std::exp(x[j * stride] - max);", "const T e = std::exp(x[j] - max);"),
    ("out[i] = g[i] * (cdf + v * pdf);", "out[i] = g[i] * (cdf - v * pdf);"),
]:
    n = source.count(old)
    if n != 1:
        sys.exit(f"{sys.argv[1]}: expected '{old}' once, found it {n} times "
                 "(tests/course/diagnose_seeded.sh must follow the change)")
    source = source.replace(old, new)
open(sys.argv[2], "w").write(source)
PY

c="$(sed -E "s#-c [^ ]*native/activation\.cpp#-c $work/mutant.cpp#; s#-o [^ ]+#-o $work/mutant.o#; \
  s#-MF [^ ]+#-MF $work/mutant.d#" <<<"$compile")"
(cd "$build" && eval "$c") || { echo "the mutant did not compile" >&2; exit 1; }
l="$(sed -E "s#-o bin/tinytorch_diagnose#-o $work/mutant_diagnose#; \
  s#(tinytorch/libtinytorch\.a)#$work/mutant.o \1#" <<<"$link")"
(cd "$build" && eval "$l") || { echo "the mutant did not link" >&2; exit 1; }

"$work/mutant_diagnose" trace --modules 01,02 --out "$work/mine.trace" >/dev/null
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

expect(set(by_program) == {"gelu", "softmax"},
       f"exactly programs gelu and softmax should differ, not {sorted(by_program)}")
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
expect("2 of " in report and "programs differ" in report, "the report's summary line")
if problems:
    print("diagnose_seeded: " + "\n  ".join(["the diagnosis is wrong:"] + problems), file=sys.stderr)
    sys.exit(1)
print("diagnose_seeded: both seeded errors named with op, shape, index, got and expected")
PY
