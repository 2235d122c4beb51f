#!/usr/bin/env bash
# The mutation check of module 18's registrations: every line of register_fast_kernels
# (tinytorch/src/kernels/fast_registry.cpp) that fills a registry entry is deleted in turn, and
# module 18's VISIBLE tests must fail each time — a learner who leaves out any entry is told so by
# the tests they have, not only by the grader.
#
#   tests/course/mutate_fast_registry.sh BUILD_DIR      (BUILD_DIR: build/release, with
#                                                        test_module18 built)
#
# The source tree is never touched. From BUILD_DIR's own build commands (ninja -t commands) it
# takes the compile command of fast_registry.cpp and the link command of test_module18, and for
# each mutant: compiles the mutated copy to an object in a temporary folder, and links
# test_module18 again with that object placed before libtinytorch.a — the linker then takes
# register_fast_kernels from the mutant and never pulls the archive's fast_registry.o. The
# unmutated copy goes through the same steps first and must pass: the harness itself is checked.
# About 25 compiles and links: a few minutes on two cores. Exit 0 when every mutant was caught.
set -euo pipefail

build="${1:?usage: $0 BUILD_DIR}"
build="$(cd "$build" && pwd)"
source_dir="$(cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
registry="$source_dir/tinytorch/src/kernels/fast_registry.cpp"

commands="$(ninja -C "$build" -t commands bin/test_module18 2>/dev/null)" || {
  echo "cannot list the build commands of bin/test_module18 in $build (configure and build it:" \
    "cmake --build $build --target test_module18)" >&2
  exit 2
}
compile="$(grep -E -- "-c [^ ]*kernels/fast_registry\.cpp" <<<"$commands" | head -n1 || true)"
link="$(grep -E -- "-o bin/test_module18( |$)" <<<"$commands" | tail -n1 || true)"
if [[ -z "$compile" || -z "$link" ]]; then
  echo "could not find the compile command of fast_registry.cpp or the link command of" \
    "test_module18 in $build's build commands" >&2
  exit 2
fi
[[ -x "$build/bin/test_module18" ]] || {
  echo "$build/bin/test_module18 is not built (cmake --build $build --target test_module18)" >&2
  exit 2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The lines that fill an entry: "  kernels.<member> = ...;" between the solution markers.
mapfile -t entry_lines < <(awk '/BEGIN SOLUTION/{on=1; next} /END SOLUTION/{on=0}
  on && /^[[:space:]]*kernels\.[a-z_.0-9]+[[:space:]]*=/{print NR}' "$registry")
if ((${#entry_lines[@]} == 0)); then
  echo "no registration lines found between the solution markers of $registry" >&2
  exit 2
fi

# build_and_run NAME SOURCE: compiles SOURCE as fast_registry.cpp, links test_module18 with it,
# runs module 18's tests; returns the test program's exit status (0: all passed).
build_and_run() {
  local name="$1" source="$2" object="$work/$1.o" exe="$work/$1"
  local c
  c="$(sed -E "s#-c [^ ]*kernels/fast_registry\.cpp#-c $source#; s#-o [^ ]+#-o $object#; \
    s#-MF [^ ]+#-MF $work/$name.d#" <<<"$compile")"
  (cd "$build" && eval "$c") || { echo "mutant $name did not compile" >&2; return 99; }
  local l
  l="$(sed -E "s#-o bin/test_module18#-o $exe#; s#(tinytorch/libtinytorch\.a)#$object \1#" \
    <<<"$link")"
  (cd "$build" && eval "$l") || { echo "mutant $name did not link" >&2; return 99; }
  (cd "$build" && "$exe" --gtest_brief=1 >"$work/$name.log" 2>&1)
}

cp "$registry" "$work/original.cpp"
if ! build_and_run original "$work/original.cpp"; then
  echo "the unmutated registration fails module 18's tests: fix that first ($work/original.log)" >&2
  cat "$work/original.log" >&2 || true
  exit 1
fi

survivors=0
for line in "${entry_lines[@]}"; do
  text="$(sed -n "${line}p" "$registry" | sed -E 's/^[[:space:]]+//')"
  sed "${line}d" "$registry" >"$work/mutant.cpp"
  set +e
  build_and_run mutant "$work/mutant.cpp"
  status=$?
  set -e
  if ((status == 99)); then
    exit 1
  elif ((status == 0)); then
    echo "SURVIVED  without '$text' every module 18 test passed"
    survivors=$((survivors + 1))
  else
    failed="$(grep -E '^\[  FAILED  \] [A-Za-z]' "$work/mutant.log" | grep -v ' listed below' |
      sed -E 's/^\[  FAILED  \] ([^ ,]+).*/\1/' | sort -u | awk 'NR <= 3' | paste -sd, -)"
    echo "caught    without '$text': ${failed:-the test program failed}"
  fi
done

echo "${#entry_lines[@]} registrations deleted one at a time: $((${#entry_lines[@]} - survivors))" \
  "caught by module 18's visible tests, $survivors survived"
((survivors == 0))
