#!/usr/bin/env bash
# End-to-end test of the course tooling, run by .ci/run. It plays a learner and an instructor:
#   1. instructor: ./tito release --out W/learner --no-build (stubs, leak check, reference
#      objects). Not its build of every target: the learner tree differs from this one only in
#      the stubbed library files, and the learner steps below compile every stub (-Werror) and
#      the test programs they run, as a learner's first commands do; every other target was
#      built from the same sources by the release stage before this test (step 2 links the
#      library's other files from its objects, as the grader's sandbox does, and step 3 the
#      other modules' test programs from its test objects, each once checked to be what the
#      learner's tree would compile);
#   2. learner: module 01's visible tests FAIL with the not-implemented message; status says
#      "not started";
#   3. learner: puts back module 01's reference files only; module 01's tests pass, every other
#      available module's still fail, with a stub's not-implemented message (skipped, and said
#      so, when there is none). Their programs are not compiled again: each is linked in
#      W/relinked from the release build's test objects and the learner's archives (its stubbed
#      library), once checked that the learner's tree links it the same way and compiles those
#      objects from the same flags and files (no learner file among them), and that they are
#      newer than those files; a module that fails a check, and module 21 (MPI), is built and run
#      by `tito module test` here, as before, saying why. complete 01; reset 01 restores the
#      stubs and keeps a backup; completion disappears with the change;
#   4. instructor: ./tito grade gives module 01 its full points and every other available module
#      (all stubs) zero, as "not started"; the sandbox got module 01's hidden tests as answers
#      objects only (no source, no expected value in them); a copy with a 4 GiB sparse README.md
#      is graded without reading it (a small peak memory); then grades three broken copies — one
#      that does not compile, one that segfaults, one that loops forever — each must yield a
#      report saying so within the time limit;
#   5. instructor: grades cheating copies with --modules 01 (atexit(_exit(0)), a rewritten root
#      CMakeLists.txt, test-time writes into the checkout plus a detached process that rewrites
#      the report, a test printing without end, and three forged reports: GoogleTest's JSON/XML
#      and a graded-answers file written by a static initializer, the same code inside a solution
#      region, fake JSON/XML on stdout): none earns a test more than the honest stubs (the flood
#      and the forgeries earn 0), the instructor's tree hashes the same before and after, and no
#      process of theirs is left (needs bwrap);
#   6. learner, stuck after module 01: `tito module use-reference 02 03 04` links the release's
#      compiled reference objects (its files stay the stubs, status says "reference"); module 05's
#      tests fail on its stubs, then pass once the learner writes 05 (its reference files); with
#      a sign error seeded in MulBackward0's formula, `tito diagnose 05` names that op (shapes,
#      index, got/expected) and module 05, and `tito diagnose 1986` module 06's stub; a
#      milestone says it ran with the reference; the grader gives 02-04 0 points with the reason;
#      use-mine switches back.
#
# Usage: tests/course/e2e_learner.sh [WORK_DIR]   (default: a fresh temporary folder, removed
# on success). Needs: the ./tito prerequisites, python3 (to read JSON), tar.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
W="${1:-$(mktemp -d "${TMPDIR:-/tmp}/tito-e2e.XXXXXX")}"
KEEP_WORK=$(( $# > 0 ))
mkdir -p "$W"
W="$(cd "$W" && pwd)"
L="$W/learner"
export NO_COLOR=1 CMAKE_BUILD_PARALLEL_LEVEL=2 CTEST_PARALLEL_LEVEL=2
# Seconds per test, and for all of one module's tests, while grading the broken and cheating
# copies: module 01's hidden tests take half a second in all; the copy that loops forever waits
# out the module limit.
TEST_TIMEOUT=5
MODULE_TIMEOUT=12

t0=$SECONDS
step() { printf '\n--- e2e [%4ds] %s\n' $((SECONDS - t0)) "$*"; }
fail() { printf '\n!!! e2e FAILED: %s\n    (work folder kept: %s)\n' "$*" "$W" >&2; exit 1; }
# expect_in TEXT PATTERN WHAT: grep -E PATTERN in TEXT or fail.
expect_in() { grep -Eq -- "$2" <<<"$1" || { printf '%s\n' "$1" | tail -40; fail "$3"; }; }

# Module facts from the instructor's map.
json() { python3 -c "import json,sys; d=json.load(open('$ROOT/modules/modules.json')); $1"; }
mapfile -t AVAILABLE < <(json "print('\n'.join(m['id'] for m in d['modules'] if m['status']=='available'))")
LOCKED="$(json "print(next((m['id'] for m in d['modules'] if m['status']!='available'), ''))")"
mapfile -t FILES01 < <(json "print('\n'.join(next(m for m in d['modules'] if m['id']=='01')['files']))")
mapfile -t FILES05 < <(json "print('\n'.join(next(m for m in d['modules'] if m['id']=='05')['files']))")
REFERENCE_IDS=(02 03 04)  # stage 6: on the reference, so that 05 is reachable without them
mapfile -t FILESREF < <(json "print('\n'.join(f for m in d['modules'] if m['id'] in ('02','03','04') for f in m['files']))")
((${#AVAILABLE[@]} > 0)) && [[ "${AVAILABLE[0]}" == 01 ]] || fail "module 01 is not available"

# copy_submission NAME: a copy of the learner repository without its build folder.
copy_submission() {
  rm -rf "${W:?}/$1" && mkdir -p "$W/$1"
  tar -C "$L" --exclude=./build --exclude=./.tito -cf - . | tar -C "$W/$1" -xf -
}
# report_field REPORT PYTHON-EXPR (d = the report)
report_field() { python3 -c "import json; d=json.load(open('$1')); print($2)"; }

# ---------------------------------------------------------------------------------------------
step "instructor: ./tito release --out $L --no-build"
cd "$ROOT"
./tito release --out "$L" --force --no-build
[[ -x "$L/tito" ]] || fail "the release has no executable ./tito"
for hidden in $(json "print(' '.join(h for m in d['modules'] for h in m['hidden_tests']))"); do
  [[ ! -e "$L/$hidden" ]] || fail "hidden tests $hidden were released"
done
[[ ! -e "$L/tests/course" ]] || fail "tests/course (instructor-only) was released"
if grep -rq "BEGIN SOLUTION" "$L/tinytorch/src/core/views.cpp" &&
   ! grep -q "not implemented yet — module 01" "$L/tinytorch/src/core/views.cpp"; then
  fail "views.cpp kept its solution"
fi
mkdir -p "$W/stubs"
for f in "${FILES01[@]}" "${FILESREF[@]}"; do mkdir -p "$W/stubs/$(dirname "$f")"; cp "$L/$f" "$W/stubs/$f"; done
[[ -f "$L/reference/manifest.json" ]] || fail "the release ships no reference/manifest.json"
for id in "${REFERENCE_IDS[@]}" 05; do
  python3 -c "import json,sys; d=json.load(open('$L/reference/manifest.json')); sys.exit(0 if d['modules']['$id']['objects'] else 1)" ||
    fail "reference/manifest.json has no objects for module $id"
done
while IFS= read -r -d '' object; do  # the leak check of tito release scanned their strings
  # (grep reads all of readelf's output here: under pipefail, a grep -q that stops at the first
  # match can kill readelf with SIGPIPE, and the failed pipeline would read as "no match".)
  if grep -q '\.debug' <<<"$(readelf -S "$object")"; then fail "$object keeps debug information"; fi
done < <(find "$L/reference" -name '*.o' -print0)

# reuse_plan programs ROOT L OUT ID... (relink_plan): for each module ID with a test program in
# L, a line
#   relink ID COMMAND  COMMAND, run in L/build/release, writes OUT/build/release/bin/test_moduleID
#   here ID REASON     why its program is built in L instead
# and one line "archives A..." (the learner's archives the COMMANDs link, to build first).
# reuse_plan library ROOT L OUT: copies the instructor's object of each library file that is no
# learner file to OUT/<its path in the tree>.o (TINYTORCH_LIBRARY_OBJECTS_DIR: the learner's build
# links it instead of compiling the file again), once checked as below; a line
#   here FILE REASON   for each one compiled in L instead, and one line "reused N".
# What is checked, against ROOT/build/release (the instructor's) and L/build/release (for a
# program, all three; for a library file, the last two, of its object):
#   - ROOT/build/release has the program, and the two trees link it with the same command (up to
#     the trees' paths): the same objects, archives, libraries and flags. The archives of the tree
#     (tinytorch/libtinytorch.a with the stubs, libtinytorch_test_support.a from tests/support)
#     are all the learner's, so none of them needs a check: only the objects come from ROOT;
#   - each object (and the precompiled header it is compiled with, -include X: X.gch) is compiled
#     by the same command in both trees (compile_commands.json, up to the trees' paths), and
#     every file it was compiled from (ninja's dependency log: the source and every header read,
#     the precompiled header's included) is neither a learner file (modules.json "files") nor
#     different from its copy in L (files under ROOT/build/release: from L/build/release; files
#     outside ROOT, the system's headers: the same files for both);
#   - the object is newer than each of those files (ninja's own rule: else the release build is
#     stale and the object may not be what these files compile to). (Not checked: a compile
#     command changed without a rebuild. Ninja's dry run cannot tell here: the build's
#     CONFIGURE_DEPENDS globs stop it at regenerating build.ninja.)
# The program is written where OUT/build/release/bin mirrors ROOT/build/release/bin, OUT/tests
# being L/tests: the tests find their data relative to their program (TT_TEST_DATA_DIR).
reuse_plan() {
  python3 - "$@" <<'PY'
import filecmp, json, os, shlex, shutil, subprocess, sys

mode, root, learner, out = sys.argv[1:5]

def cache(build, name):
    for line in open(os.path.join(build, "CMakeCache.txt")):
        if line.startswith(name + ":"):
            return line.split("=", 1)[1].strip()
    return ""

class Tree:
    def __init__(self, top):
        self.build = os.path.join(top, "build", "release")
        self.ready = all(os.path.isfile(os.path.join(self.build, f))
                         for f in ("CMakeCache.txt", "build.ninja", "compile_commands.json"))
        if not self.ready:
            return
        self.src = cache(self.build, "CMAKE_HOME_DIRECTORY")
        self.bin = cache(self.build, "CMAKE_CACHEFILE_DIR")  # this build folder, as CMake names it
        self.ninja = cache(self.build, "CMAKE_MAKE_PROGRAM") or "ninja"
        self.commands = {}  # output (relative to the build folder) -> its compile command
        for entry in json.load(open(os.path.join(self.build, "compile_commands.json"))):
            args = shlex.split(entry["command"])
            if "-o" in args:
                self.commands[args[args.index("-o") + 1]] = entry["command"]

    def generic(self, text):  # the build folder lies inside the source folder: replaced first
        return text.replace(self.bin, "<build>").replace(self.src, "<source>")

    def run(self, *args):
        return subprocess.run([self.ninja, "-C", self.build, *args], capture_output=True,
                              text=True).stdout

    def link(self, program):
        lines = self.run("-t", "commands", program).splitlines()
        return lines[-1] if lines else ""

I, L = Tree(root), Tree(learner)
ids = sys.argv[5:]
if not (I.ready and L.ready):
    where = root if not I.ready else learner
    for id in ids if mode == "programs" else ["every file:"]:
        print(f"here {id} no configured release build in {where}/build/release to reuse")
    sys.exit(0)

mapping = json.load(open(os.path.join(root, "modules", "modules.json")))
learner_files = {f for m in mapping["modules"] for f in m["files"]}

deps = {}  # output -> (valid, [files]) from ninja's dependency log
current = None
for line in I.run("-t", "deps").splitlines():
    if line.startswith("    "):
        current[1].append(line.strip())
    elif line:
        output, _, rest = line.partition(": #deps ")
        current = deps[output] = (rest.endswith("(VALID)"), [])

same_file = {}  # path under ROOT -> None or why it cannot be used

def compare(path):
    if path not in same_file:
        if path.startswith(I.bin + "/"):
            copy = os.path.join(L.bin, os.path.relpath(path, I.bin))
        else:
            rel = os.path.relpath(path, I.src)
            copy = os.path.join(L.src, rel)
            if rel in learner_files:
                same_file[path] = f"compiled from {rel}, a learner file"
                return same_file[path]
        if not os.path.isfile(copy) or not filecmp.cmp(path, copy, shallow=False):
            same_file[path] = f"{os.path.relpath(path, I.src)} differs between the two trees"
        else:
            same_file[path] = None
    return same_file[path]

checked = {}  # object -> None or why it cannot be used

def check(obj):
    if obj in checked:
        return checked[obj]
    checked[obj] = None  # (no cycles: a precompiled header does not use itself)
    command = I.commands.get(obj)
    if command is None or obj not in L.commands:
        why = f"no compile command for {obj}"
    elif I.generic(command) != L.generic(L.commands[obj]):
        why = f"{obj} is compiled with other flags in the two trees"
    elif obj not in deps or not deps[obj][0]:
        why = f"no up-to-date dependency record for {obj} (release build stale or incomplete?)"
    else:
        why = None
        mtime = os.stat(os.path.join(I.bin, obj)).st_mtime_ns
        inputs = [os.path.normpath(os.path.join(I.bin, f)) for f in deps[obj][1]]
        args = shlex.split(command)
        for i, arg in enumerate(args[:-1]):  # the precompiled header it is compiled with
            if arg == "-include" and args[i + 1].startswith(I.bin + "/"):
                pch = os.path.relpath(args[i + 1], I.bin) + ".gch"
                if pch != obj and pch in I.commands:
                    why = why or check(pch)
                    inputs.append(os.path.join(I.bin, pch))
        for path in inputs:
            if why:
                break
            if not path.startswith(I.src + "/"):
                continue  # a system header: the same file for both trees
            if not os.path.exists(path):
                why = f"{path} (an input of {obj}) is missing"
            elif os.stat(path).st_mtime_ns > mtime:
                why = f"{obj} is older than {os.path.relpath(path, I.src)} (release build stale?)"
            elif not path.endswith(".gch"):
                why = compare(path)
    checked[obj] = why
    return why

if mode == "library":
    reused = 0
    for obj, command in sorted(I.commands.items()):
        if not (obj.startswith("tinytorch/CMakeFiles/tinytorch.dir/") and obj.endswith(".o")):
            continue
        args = shlex.split(command)
        source = os.path.relpath(args[args.index("-c") + 1], I.src) if "-c" in args else ".."
        if source.startswith("..") or source in learner_files:
            continue  # not a file of the tree, or the learner's: compiled in L
        why = check(obj)
        if why:
            print(f"here {source} {why}")
            continue
        dest = os.path.join(out, source + ".o")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(I.bin, obj), dest)
        reused += 1
    print(f"reused {reused}")
    sys.exit(0)

os.makedirs(os.path.join(out, "build", "release", "bin"), exist_ok=True)
if not os.path.islink(os.path.join(out, "tests")):
    os.symlink(os.path.join(learner, "tests"), os.path.join(out, "tests"))
archives = set()
for id in ids:
    program = f"bin/test_module{id}"
    mine, theirs = I.link(program), L.link(program)
    args = shlex.split(theirs)
    if args[:2] == [":", "&&"] and args[-2:] == ["&&", ":"]:  # CMake's wrapping of the command
        args = args[2:-2]
    why = None
    if not os.path.isfile(os.path.join(I.bin, program)):
        why = f"{root}/build/release has no {program}"
    elif not mine or I.generic(mine) != L.generic(theirs):
        why = f"the two trees link {program} differently"
    elif any(os.path.basename(a) == "libtinytorch_distributed.a" for a in args):
        why = "its program links MPI and starts its tests on 2 ranks under mpirun"
    elif "-o" not in args or any(a in ("&&", "||", ";", "|") for a in args):
        why = f"unexpected link command for {program}"
    else:
        for i, arg in enumerate(args):
            if arg.endswith(".o"):
                why = why or check(arg)
                args[i] = os.path.join(I.bin, arg)
            elif arg.endswith(".a") and not os.path.isabs(arg):
                archives.add(arg)
        args[args.index("-o") + 1] = os.path.join(out, "build", "release", program)
    print(f"here {id} {why}" if why else f"relink {id} {shlex.join(args)}")
print("archives " + " ".join(sorted(archives)))
PY
}
relink_plan() { reuse_plan programs "$@"; }

# ---------------------------------------------------------------------------------------------
step "learner: the stubs build, and module 01's tests fail with the not-implemented message"
cd "$L"
out="$(./tito module status 2>&1)" || fail "tito module status failed"
expect_in "$out" "^  01 +tensor +not started" "module 01 should be 'not started' in the release"
if [[ -n "$LOCKED" ]]; then
  expect_in "$out" "^  $LOCKED .*not yet available" "module $LOCKED should be 'not yet available'"
fi
# Its first command configured build/release (and built tito). The library's files that no learner
# writes are the instructor's, compiled from the same commands and files by the release stage
# before this test: linked from there (reuse_plan library, TINYTORCH_LIBRARY_OBJECTS_DIR), as the
# grader's sandbox does, so the learner's build below compiles the learner files (every stub,
# -Werror) and links. A file that fails a check is compiled here, and said so; every file is,
# without a configured $ROOT/build/release.
plan="$(reuse_plan library "$ROOT" "$L" "$W/library-objects")" ||
  fail "could not check the instructor's library objects"
reused="$(awk '$1 == "reused" { print $2 }' <<<"$plan")"
awk '$1 == "here" { print "library: compiled here, not linked: " substr($0, 6) }' <<<"$plan"
if [[ -n "$reused" ]]; then
  echo "library: $reused files no learner writes linked from $ROOT/build/release's objects"
  cmake -S . -B build/release -DTINYTORCH_LIBRARY_OBJECTS_DIR="$W/library-objects" >/dev/null ||
    fail "the learner's build does not configure with the instructor's library objects"
fi
if out="$(./tito module test 01 2>&1)"; then fail "module 01's tests passed on the stubs"; fi
expect_in "$out" "not implemented yet — module 01 \(tensor\): implement [A-Za-z_:]+ in tinytorch/" \
  "no not-implemented hint in the failures"
expect_in "$out" "^tests: [0-9]+ passed, [1-9][0-9]* failed" "no test summary"
awk '/^tests:|^  FAIL/ && n++ < 5' <<<"$out"  # not | head: SIGPIPE under pipefail
# The summary's first entry is the function the most failed tests wait for.
python3 - "$out" <<'PY' || fail "the not-implemented summary is not ordered by failed tests"
import re, sys
text = sys.argv[1].split("Not implemented yet", 1)[1]
counts = [int(n) for n in re.findall(r"^  implement .*\((\d+) tests\)$", text, re.M)]
assert counts and counts == sorted(counts, reverse=True), counts
PY
out="$(./tito test --module 01 2>&1)" && fail "tito test --module 01 passed on the stubs"
expect_in "$out" "cmake --build --preset release -j 2 --target test_module01$" \
  "tito test --module 01 should build module 01's test program only"

step "learner: module start names every missing prerequisite once; unknown ids offer available ones"
out="$(./tito module start 01 2>&1)" || fail "tito module start 01 failed: $out"
python3 - "$out" <<'PY' || fail "module start 01 lists a function twice"
import sys
for line in sys.argv[1].splitlines():
    if line.startswith("      "):  # the functions still to write, under each file
        names = line.split(", ")
        assert len(names) == len(set(names)), line
PY
# The available module with the longest chain of prerequisites, and that chain in map order.
IFS='|' read -r DEEP PREREQS < <(json "
ids = [m['id'] for m in d['modules']]
pre = {m['id']: m['prerequisites'] for m in d['modules']}
def chain(i):
    seen, todo = set(), list(pre[i])
    while todo:
        p = todo.pop()
        if p not in seen: seen.add(p); todo += pre[p]
    return [j for j in ids if j in seen]
deep = max((m['id'] for m in d['modules'] if m['status'] == 'available'), key=lambda i: len(chain(i)))
print(deep + '|' + ', '.join(chain(deep)))")
if [[ -n "$PREREQS" ]]; then
  out="$(./tito module start "$DEEP" 2>&1)" && fail "module start $DEEP started without its prerequisites"
  expect_in "$out" "needs modules? $PREREQS completed first" \
    "module start $DEEP should name every missing prerequisite ($PREREQS)"
  expect_in "$out" "\./tito module use-reference ${PREREQS//, / }" \
    "module start $DEEP should offer the reference of its missing prerequisites"
fi
out="$(./tito module test 42 2>&1)" && fail "module test 42 succeeded"
expect_in "$out" "unknown module '42' \(the modules you can work on: $(IFS=,; echo "${AVAILABLE[*]}" | sed 's/,/, /g')\)" \
  "module test 42 should offer the available modules only"

# ---------------------------------------------------------------------------------------------
step "learner: puts back module 01's reference solution (module 01's files only)"
for f in "${FILES01[@]}"; do cp "$ROOT/$f" "$L/$f"; done
expect_in "$(./tito module status)" "^  01 +tensor +in progress" "module 01 should be 'in progress'"
out="$(./tito module test 01 2>&1)" || { printf '%s\n' "$out" | tail -40; fail "module 01's tests fail with the reference solution"; }
expect_in "$out" "^tests: [1-9][0-9]* passed, 0 failed" "module 01 summary"
echo "$out" | grep -E "^tests:"
expect_in "$(./tito module status)" "^  01 +tensor +tests passing" "module 01 should be 'tests passing'"
others=()
for id in "${AVAILABLE[@]}"; do [[ "$id" == 01 ]] || others+=("$id"); done
# The other modules' tests must still fail. Their test programs are not compiled again here: the
# release build ($ROOT/build/release, built by CI's release stage before this test) compiled the
# same test sources with the same flags and headers, and a program is its test objects linked to
# the library, where the learner's stubs are. So each program is linked again in $W/relinked from
# the instructor's test objects and the learner's own archives (its link command, only the
# objects' paths changed), after relink_plan (defined above) checked that this gives the program
# the learner's build would give. A module that fails a check is built and tested here with `tito
# module test`, as before, and the output says why: the fallback is the check as it always was,
# only slower, where failing would turn a legitimate release change (a learner file that is a
# header, say) or a stale local build into a red test of something else. Module 21 (MPI: its
# program starts its tests on 2 ranks under mpirun) is also left to `tito module test`, as is a
# module without a test program here (module 21 without MPI).
#

if ((${#others[@]} > 0)); then
  targets="$(cmake --build build/release --target help)"
  with_program=()
  for id in "${others[@]}"; do
    if grep -q "^test_module$id:" <<<"$targets"; then with_program+=("$id"); fi
  done
  plan="$(relink_plan "$ROOT" "$L" "$W/relinked" "${with_program[@]}")" ||
    fail "could not check the instructor's test objects for relinking"
  declare -A link_command=()
  archives=()
  while read -r kind id rest; do
    case "$kind" in
      relink) link_command[$id]="$rest" ;;
      archives) read -ra archives <<<"$id $rest" ;;
      here) echo "module $id: built and tested here, as before, not relinked: $rest" ;;
    esac
  done <<<"$plan"
  if ((${#link_command[@]} > 0)); then
    # The learner's archives as they are now (built already by module 01's tests: a no-op).
    cmake --build build/release --target "${archives[@]}" >/dev/null ||
      fail "the learner's library does not build with module 01's solution"
  fi
  # The remaining programs in one build: `tito module test` builds one program at a time, a few
  # files each, which keeps one of the two cores idle for most of the build.
  programs=()
  for id in "${with_program[@]}"; do
    [[ -v "link_command[$id]" ]] || programs+=("test_module$id")
  done
  ((${#programs[@]} == 0)) || ./tito build --target "${programs[@]}" >/dev/null ||
    fail "the other modules' test programs do not build against module 01's solution"
fi
for id in "${others[@]}"; do
  if [[ ! -v "link_command[$id]" ]]; then
    if ./tito module test "$id" >/dev/null 2>&1; then fail "module $id's tests pass without its solution"; fi
    echo "module $id: tests fail, as they should"
    continue
  fi
  program="$W/relinked/build/release/bin/test_module$id"
  (cd build/release && sh -c "${link_command[$id]}") ||
    fail "module $id's test objects do not link against the learner's library"
  # The whole program in one process (ctest runs one process per test): the stubs throw, so it
  # takes a second or two. A stub's exception that escapes where none may (a noexcept function,
  # module 06's) ends the process there, after the message: still failed for the stubs. Its
  # working folder is its own, as under ctest (some tests write files there); the program's
  # output goes to its log, the shell's own line about a signal to /dev/null (said below).
  log="$W/relinked/test_module$id.log" rc=0
  mkdir -p "$W/relinked/run$id"
  (cd "$W/relinked/run$id" && timeout --kill-after=10 300 "$program" >"$log" 2>&1) 2>/dev/null ||
    rc=$?
  ((rc != 0)) || fail "module $id's tests pass without its solution"
  ((rc != 124 && rc != 137)) || fail "module $id's tests ran over 300 s on the stubs"
  # Failed for the stubs: a stub's message, or the library's word that it caught one (module 18's
  # register_fast_kernels: then nothing is registered, "module 18's register_fast_kernels is not
  # written yet", and its tests fail on what is missing). Never module 01's: its files are the
  # solution now.
  grep -Eq "not implemented yet — module [0-9]{2} \([a-z_]+\): implement |module [0-9]{2}'s [A-Za-z_:]+ is not written yet" "$log" ||
    { tail -40 "$log"; fail "module $id's tests fail without a stub's not-implemented message"; }
  if grep -Eq "not implemented yet — module 01 |module 01's [A-Za-z_:]+ is not written yet" "$log"; then
    fail "module $id's tests reached module 01's stubs: the relinked program has an old library"
  fi
  summary="$(awk -v rc="$rc" '/^\[ RUN      \]/ { run++ }
    /^\[==========\] [0-9]+ tests? from/ { n = $2 }
    /^\[  FAILED  \] [0-9]+ tests?, listed below/ { f = $4 }
    END {
      if (n) printf "%d of %d tests failed", f, n
      else if (rc > 128) printf "ended by signal %d in its test %d", rc - 128, run
      else printf "exit status %d", rc
    }' "$log")"
  echo "module $id: tests fail, as they should (relinked: $summary, with the not-implemented message)"
done
((${#others[@]} > 0)) || echo "skipped: no other available module than 01 to check that its tests still fail"

step "learner: ./tito module complete 01"
out="$(./tito module complete 01 2>&1)" || { printf '%s\n' "$out" | tail -30; fail "complete 01 failed"; }
expect_in "$out" "Module 01 \(tensor\) completed" "no completion message"
[[ -f "$L/.tito/progress.json" ]] || fail "no .tito/progress.json"
expect_in "$(./tito module status)" "^  01 +tensor +completed" "module 01 should be 'completed'"

step "learner: ./tito module reset 01 (backup, stubs back, completion no longer shown)"
out="$(./tito module reset 01 2>&1)" || fail "reset failed: $out"
echo "$out" | tail -1
for f in "${FILES01[@]}"; do cmp -s "$L/$f" "$W/stubs/$f" || fail "reset did not restore the stub of $f"; done
backup="$(ls -d "$L"/.tito/backups/01-* | tail -1)"
for f in "${FILES01[@]}"; do cmp -s "$backup/$f" "$ROOT/$f" || fail "backup of $f differs"; done
expect_in "$(./tito module status)" "^  01 +tensor +not started" "after reset module 01 should be 'not started'"
for f in "${FILES01[@]}"; do cp "$backup/$f" "$L/$f"; done
expect_in "$(./tito module status)" "^  01 +tensor +completed" "with the same files again, 01 is 'completed'"

# ---------------------------------------------------------------------------------------------
step "instructor: ./tito grade the learner's repository"
cd "$ROOT"
# The instructor's compiler cache named explicitly, as many shells do: it lies outside what the
# sandbox may write, so nothing compiled for the submission may go through it.
if command -v ccache >/dev/null 2>&1; then
  CCACHE_DIR="${CCACHE_DIR:-$(ccache -k cache_dir)}"
  export CCACHE_DIR
fi
report="$W/report-good.json"
./tito grade "$L" --out "$report" --work "$W/grade" -j 2
[[ -f "$W/report-good.csv" ]] || fail "no CSV report"
python3 - "$report" "${AVAILABLE[@]}" <<'PY' || fail "the report of the reference submission is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
mods = d["modules"]
assert set(mods) == set(sys.argv[2:]), mods.keys()
m = mods["01"]
assert m["status"] == "graded", m
assert m["tests_failed"] == 0 and m["tests_passed"] > 0, m
assert m["points"] == m["max_points"] > 0, m
for mid, r in mods.items():
    if mid != "01":  # only stubs: not run, no points
        assert r["status"] == "not started" and r["points"] == 0, (mid, r)
assert d["total"] == m["max_points"], d["total"]
print(f"report: module 01 {m['points']}/{m['max_points']} ({m['tests_passed']} hidden tests); "
      f"total {d['total']}/{d['max_total']}")
PY
head -3 "$W/report-good.csv"
# What of the hidden tests entered the sandbox: module 01's answers objects, not its sources, and
# none of its expected values (one the printing test compares with is a distinctive string).
[[ ! -e "$W/grade/src/modules/01_tensor/hidden" ]] || fail "the hidden sources were put in the sandbox's tree"
ls "$W/grade/hidden/module01/"*.o >/dev/null 2>&1 || fail "no answers objects for module 01 in $W/grade/hidden"
grep -q "4997, 4998, 4999" "$ROOT/modules/01_tensor/hidden/test_hidden.cpp" ||
  fail "the expected string this check looks for is no longer in module 01's hidden tests"
if grep -aq "4997, 4998, 4999" "$W/grade/hidden/module01/"*.o; then
  fail "an expected value of module 01's hidden tests is in the objects the sandbox gets"
fi

# grade_broken NAME EXPECTED-STATUS: grades W/NAME (reusing the grading build) and checks the
# report says EXPECTED-STATUS for module 01, less than full points, within the time limit.
grade_broken() {
  local name="$1" expected="$2" start=$SECONDS limit
  limit=$((MODULE_TIMEOUT + 300))  # module limit + an incremental rebuild on 2 busy cores
  ./tito grade "$W/$name" --out "$W/report-$name" --work "$W/grade" -j 2 \
    --test-timeout "$TEST_TIMEOUT" --module-timeout "$MODULE_TIMEOUT" ||
    fail "tito grade exited non-zero for $name"
  local took=$((SECONDS - start))
  [[ -f "$W/report-$name.json" ]] || fail "no report for $name"
  local status points
  status="$(report_field "$W/report-$name.json" 'd["modules"]["01"]["status"]')"
  points="$(report_field "$W/report-$name.json" 'd["modules"]["01"]["points"]')"
  echo "$name: module 01 status '$status', $points points, graded in ${took}s"
  [[ "$status" == "$expected" ]] || fail "$name: expected status '$expected', got '$status'"
  python3 -c "import json,sys; d=json.load(open('$W/report-$name.json'))['modules']['01']; sys.exit(0 if d['points'] < d['max_points'] else 1)" ||
    fail "$name: expected less than full points, got $points"
  ((took <= limit)) || fail "$name: grading took ${took}s, over ${limit}s"
}

step "instructor: a 4 GiB sparse README.md in a submission is not read (every file is size-checked)"
copy_submission sparse
for f in "${FILES01[@]}"; do cp "$W/stubs/$f" "$W/sparse/$f"; done  # not started: nothing to build
truncate -s 4G "$W/sparse/README.md"
peak_kib="$(python3 -c '
import resource, subprocess, sys
if subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode != 0: sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
  ./tito grade "$W/sparse" --out "$W/report-sparse" --work "$W/grade" --modules 01)" ||
  fail "tito grade failed on the sparse submission"
echo "sparse submission graded with a peak of $((peak_kib / 1024)) MiB"
((peak_kib < 512 * 1024)) || fail "tito grade used ${peak_kib} KiB on a 4 GiB sparse file"
report_field "$W/report-sparse.json" '[c["path"] for c in d["changed_files"] if c["change"].startswith("changed")]' |
  grep -q "'README.md'" || fail "the sparse README.md is not listed as changed"
rm -rf "${W:?}/sparse"

# insert_into_compute_numel NAME CODE: puts CODE at the start of compute_numel in W/NAME.
insert_into_compute_numel() {
  python3 - "$W/$1/tinytorch/src/core/views.cpp" "$2" <<'PY'
import sys
path, code = sys.argv[1], sys.argv[2]
text = open(path).read()
head = "int64_t compute_numel(IntArrayRef sizes) {\n"
assert head in text, "compute_numel not found"
open(path, "w").write(text.replace(head, head + "  " + code + "\n", 1))
PY
}

step "instructor: grade a submission that does not compile"
copy_submission broken-compile
echo "this is not C++;" >>"$W/broken-compile/tinytorch/src/native/reduce.cpp"
grade_broken broken-compile "did not compile"

step "instructor: grade a submission that segfaults"
copy_submission broken-segfault
insert_into_compute_numel broken-segfault "{ int* volatile p = nullptr; *p = 1; }"
grade_broken broken-segfault "crashed"

step "instructor: grade a submission that loops forever"
copy_submission broken-loop
insert_into_compute_numel broken-loop "for (volatile int spin = 0; spin == 0;) {}"
grade_broken broken-loop "timed out"

# ---------------------------------------------------------------------------------------------
# Cheating submissions (module 01 only, --modules 01, reusing the grading build). Each starts
# from module 01's stubs with one no-op statement in a solution region, so module 01 counts as
# started and its tests run. A few of module 01's tests need no learner code and pass on the
# stubs (BASELINE, measured on the CMake trick, whose learner files are the honest started
# stubs): a trick may earn exactly those, never one test more; a trick that breaks every test
# process earns 0. (A release left all stubs is "not started": 0 without running anything.)
# tree_hash: the instructor's checkout, every file but build/ and .git/.
tree_hash() {
  (cd "$ROOT" && find . \( -path ./build -o -path ./.git \) -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}
# cheat_base NAME: the learner's repository with module 01 back to its stubs, started.
cheat_base() {
  copy_submission "$1"
  for f in "${FILES01[@]}"; do cp "$W/stubs/$f" "$W/$1/$f"; done
  python3 - "$W/$1/tinytorch/src/core/views.cpp" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
assert "// BEGIN SOLUTION\n" in text
open(path, "w").write(text.replace("// BEGIN SOLUTION\n", "// BEGIN SOLUTION\n  static_cast<void>(0);\n", 1))
PY
}
# append_to_views NAME CODE: C++ at the end of views.cpp, outside every solution region.
append_to_views() { printf '\n%s\n' "$2" >>"$W/$1/tinytorch/src/core/views.cpp"; }
# grade_cheat NAME EXPECTED-STATUS EXPECTED-PASSED: module 01's status and passed tests
# (EXPECTED-PASSED "any": at most a tenth of the tests, the points under a tenth).
grade_cheat() {
  local name="$1" expected="$2" passed="$3" start=$SECONDS
  ./tito grade "$W/$name" --out "$W/report-$name" --work "$W/grade" -j 2 --modules 01 \
    --test-timeout "$TEST_TIMEOUT" --module-timeout "$MODULE_TIMEOUT" ||
    fail "tito grade exited non-zero for $name"
  python3 - "$W/report-$name.json" "$expected" "$passed" <<'PY' || fail "$name: the trick earned points"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["modules"]["01"]
print(f"{sys.argv[1]}: module 01 '{m['status']}', {m['points']}/{m['max_points']} points, "
      f"{m['tests_passed']} of {m['tests_expected']} expected tests passed; sandbox {d['sandbox']}; "
      f"changed files: {[c['path'] for c in d['changed_files']]}")
assert d["sandbox"] is True
assert m["status"] == sys.argv[2], m["status"]
assert sys.argv[3] == "any" or m["tests_passed"] == int(sys.argv[3]), m["tests_passed"]
assert m["tests_expected"] > 0 and m["tests_passed"] < m["tests_expected"] / 10, m
assert m["points"] < m["max_points"] / 10, m["points"]
PY
  echo "$name graded in $((SECONDS - start))s"
}

step "instructor: cheating submissions earn nothing and leave the instructor's tree unchanged"
hash_before="$(tree_hash)"

# 1. The release's CMake rewritten: one SUCCEED() test per module, and a configure-time
#    execute_process writing into the instructor's checkout. The grader builds its own CMake.
cheat_base cheat-cmake
python3 - "$W/cheat-cmake/CMakeLists.txt" "$ROOT" <<'PY'
import sys
path, root = sys.argv[1], sys.argv[2]
text = open(path).read()
trick = f"""
execute_process(COMMAND sh -c "touch '{root}/PWNED-configure'; cat '{root}'/modules/*/hidden/*.cpp > /tmp/stolen")
function(tinytorch_add_module_tests)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "ID" "SOURCES;HIDDEN_SOURCES")
  file(WRITE "${{CMAKE_CURRENT_BINARY_DIR}}/fake.cpp" "#include <gtest/gtest.h>\\nTEST(Fake, Passes) {{ SUCCEED(); }}\\n")
  add_executable(test_module${{ARG_ID}} "${{CMAKE_CURRENT_BINARY_DIR}}/fake.cpp")
  target_link_libraries(test_module${{ARG_ID}} PRIVATE GTest::gtest_main)
  gtest_discover_tests(test_module${{ARG_ID}} TEST_PREFIX "module${{ARG_ID}}.")
endfunction()
"""
anchor = "include(TinyTorchModules)\n"
assert anchor in text
open(path, "w").write(text.replace(anchor, anchor + trick, 1))
PY
grade_cheat cheat-cmake graded any
BASELINE="$(report_field "$W/report-cheat-cmake.json" 'd["modules"]["01"]["tests_passed"]')"
echo "baseline: $BASELINE tests of module 01 pass on the honest stubs (they need no learner code)"
report_field "$W/report-cheat-cmake.json" '[c["path"] for c in d["changed_files"]]' |
  grep -q "'CMakeLists.txt'" || fail "the changed CMakeLists.txt is not listed in the report"

# 2. A static object in a learner file whose atexit handler exits 0: the test programs' exit
#    status says "passed", their gtest JSON says which tests failed.
cheat_base cheat-atexit
append_to_views cheat-atexit '#include <cstdlib>
#include <unistd.h>
namespace { struct ExitZero { ExitZero() { std::atexit([] { _exit(0); }); } } exit_zero; }'
grade_cheat cheat-atexit graded "$BASELINE"
report_field "$W/report-cheat-atexit.json" '[c["path"] for c in d["changed_files"]]' |
  grep -q "tinytorch/src/core/views.cpp" || fail "the edit outside the solution regions is not listed"

# 3. Test-time escapes from a learner file: write into the instructor's checkout (by its path,
#    and through /proc/<parent>/cwd), read the hidden tests, and leave a detached process that
#    rewrites the report after tito grade has exited.
cheat_base cheat-escape
append_to_views cheat-escape "#include <cstdio>
#include <cstdlib>
#include <unistd.h>
namespace {
struct Escape {
  Escape() {
    std::system(\"touch '$ROOT/PWNED-test'; cp -r '$ROOT/modules/01_tensor/hidden' /tmp/stolen 2>/dev/null;\"
                \" touch \\\"/proc/\$PPID/cwd/PWNED-proc\\\" /proc/1/cwd/PWNED-proc 2>/dev/null\");
    if (fork() == 0) {
      setsid();
      if (fork() == 0) {
        execl(\"/bin/sh\", \"sh\", \"-c\", \"sleep 6.5; echo forged > '$W/report-cheat-escape.json'; touch '$W/PWNED-daemon'\", nullptr);
      }
      _exit(0);
    }
  }
} escape;
}"
grade_cheat cheat-escape graded "$BASELINE"
report_sum="$(sha256sum "$W/report-cheat-escape.json")"
if pgrep -f "sleep 6.5" >/dev/null; then fail "a detached process of the submission outlived grading"; fi
sleep 7
[[ "$(sha256sum "$W/report-cheat-escape.json")" == "$report_sum" ]] || fail "the report was rewritten after grading"
[[ ! -e "$W/PWNED-daemon" ]] || fail "a detached process of the submission ran after grading"

# 4. A test program printing without end: stopped at the output cap, each of its tests failed.
cheat_base cheat-spam
append_to_views cheat-spam '#include <cstdio>
namespace { struct Spam { Spam() { for (;;) std::fputs("spam spam spam spam spam spam spam\n", stdout); } } spam; }'
grade_cheat cheat-spam "output limit" 0

# 5-7. Forged reports, which a test program that runs learner code could write itself: the
#    code below writes GoogleTest's JSON and XML reports saying every test passed where a
#    grader might read them, a graded-answers file (tests/support/graded.h) that starts and ends
#    every hidden test with a made-up value, prints the same reports on stdout, and exits 0
#    before any test runs. The verdicts are computed outside the sandbox from values only the
#    computation gives: each forgery earns 0.
mapfile -t HIDDEN01 < <("$ROOT/build/release/bin/test_module01_hidden" --gtest_list_tests |
  awk '/^[^ ]/ { suite = $1 } /^  / { print suite $1 }')
((${#HIDDEN01[@]} > 0)) || fail "cannot list module 01's hidden tests"
# forge_code TEST...: the forger's C++ block for these tests, using only what views.cpp already
# includes (<cstdio>, <cstdlib>, <string>).
forge_code() {
  python3 - "$@" <<'PY'
import sys
names = sys.argv[1:]
code = r"""{
    static const char* const kTests[] = {NAMES};
    std::string json = "{\"tests\": COUNT, \"failures\": 0, \"testsuites\": [";
    std::string xml = "<testsuites tests=\"COUNT\" failures=\"0\">";
    const char* answers = std::getenv("TT_GRADE_ANSWERS");  // the prefix of its record files
    int k = 0;
    const auto write = [](const std::string& path, const std::string& text) {
      if (std::FILE* f = std::fopen(path.c_str(), "w")) {
        std::fputs(text.c_str(), f);
        std::fclose(f);
      }
    };
    for (const char* test : kTests) {
      const std::string name = test, suite = name.substr(0, name.find('.'));
      const std::string leaf = name.substr(name.find('.') + 1);
      json += "{\"name\": \"" + suite + "\", \"testsuite\": [{\"name\": \"" + leaf +
              "\", \"status\": \"RUN\", \"result\": \"COMPLETED\"}]},";
      xml += "<testsuite name=\"" + suite + "\"><testcase name=\"" + leaf +
             "\" status=\"run\" result=\"completed\"/></testsuite>";
      // A well-formed answers file per test: started, one made-up value, ended.
      if (answers != nullptr) {
        write(std::string(answers) + "." + std::to_string(k++),
              "tinytorch-graded 1 answers\nT " + name +
                  "\nA test_hidden.cpp:1 1 i 1 AQAAAAAAAAA=\nE " + name + " passed\n");
      }
    }
    json.back() = ']';
    json += '}';
    xml += "</testsuites>";
    write("report.json", json);
    write("test_detail.json", json);
    write("test_detail.xml", xml);
    std::puts(json.c_str());
    std::puts(xml.c_str());
    std::printf("[  PASSED  ] COUNT tests.\n");
    std::fflush(stdout);
    std::_Exit(0);
  }"""
print(code.replace("NAMES", ", ".join('"%s"' % n for n in names)).replace("COUNT", str(len(names))))
PY
}
FORGE="$(forge_code "${HIDDEN01[@]}")"
# grade_forged NAME: module 01 graded, no test passed, 0 points.
grade_forged() {
  grade_cheat "$1" graded 0
  [[ "$(report_field "$W/report-$1.json" 'd["modules"]["01"]["points"]')" == "0.0" ]] ||
    fail "$1: the forged report earned points"
}

# 5. In a static initializer (outside the solution regions).
cheat_base cheat-forge-static
append_to_views cheat-forge-static "namespace { struct Forge { Forge() $FORGE } forge; }"
grade_forged cheat-forge-static

# 6. The same code inside a solution region (compute_numel's): it runs when a test first makes
#    a tensor.
cheat_base cheat-forge-region
python3 - "$W/cheat-forge-region/tinytorch/src/core/views.cpp" "$FORGE" <<'PY'
import sys
path, code = sys.argv[1], sys.argv[2]
text = open(path).read()
head = "int64_t compute_numel(IntArrayRef sizes) {\n  // BEGIN SOLUTION\n"
assert head in text, "compute_numel's solution region not found"
open(path, "w").write(text.replace(head, head + "  " + code + "\n", 1))
PY
grade_forged cheat-forge-region
report_field "$W/report-cheat-forge-region.json" '[c["path"] for c in d["changed_files"]]' |
  grep -q "tinytorch/src/core/views.cpp" && fail "an edit inside the solution regions was listed as one outside"

# 7. Fake JSON and XML reports on stdout only.
cheat_base cheat-forge-stdout
append_to_views cheat-forge-stdout '#include <cstdio>
namespace { struct Fake { Fake() {
  std::puts("{\"tests\": 9, \"failures\": 0, \"testsuites\": []}");
  std::puts("<testsuites tests=\"9\" failures=\"0\" errors=\"0\"></testsuites>");
  std::puts("[==========] 9 tests ran.\n[  PASSED  ] 9 tests.");
  std::fflush(stdout);
  std::_Exit(0);
} } fake; }'
grade_forged cheat-forge-stdout

for f in PWNED-configure PWNED-test PWNED-proc; do
  [[ ! -e "$ROOT/$f" ]] || fail "a cheating submission wrote $ROOT/$f"
done
[[ "$(tree_hash)" == "$hash_before" ]] || fail "the instructor's tree changed while grading cheats"
echo "instructor's tree unchanged (sha256 of its files: $hash_before)"

# ---------------------------------------------------------------------------------------------
step "learner: stuck after module 01 — modules ${REFERENCE_IDS[*]} on the release's reference"
cd "$L"
expect_in "$(./tito module status)" "^  01 +tensor +completed" "module 01 should be the learner's, completed"
out="$(./tito module use-reference "${REFERENCE_IDS[@]}" 2>&1)" || fail "use-reference failed: $out"
echo "$out" | tail -1
status="$(./tito module status)"
for id in "${REFERENCE_IDS[@]}"; do
  expect_in "$status" "^  $id +[a-z]+ +reference" "module $id should show 'reference'"
done
for f in "${FILESREF[@]}"; do cmp -s "$L/$f" "$W/stubs/$f" || fail "use-reference changed the learner's $f"; done
out="$(./tito module start 05 2>&1)" || fail "module start 05 refused with 02-04 on the reference: $out"
if out="$(./tito module test 05 2>&1)"; then fail "module 05's tests passed on its stubs"; fi
expect_in "$out" "not implemented yet — module 05" "module 05 should fail on its own stubs"
if grep -Eq "not implemented yet — module 0[234]" <<<"$out"; then
  fail "module 05's tests reached the stubs of 02-04 (not the reference)"
fi
echo "$out" | grep -E "^tests:"
step "learner: writes module 05 (its reference files); its tests pass with 02-04 on the reference"
for f in "${FILES05[@]}"; do cp "$ROOT/$f" "$L/$f"; done
out="$(./tito module test 05 2>&1)" || { printf '%s\n' "$out" | tail -40; fail "module 05's tests fail with 02-04 on the reference"; }
expect_in "$out" "^tests: [1-9][0-9]* passed, 0 failed" "module 05 summary"
echo "$out" | grep -E "^tests:"
for f in "${FILESREF[@]}"; do cmp -s "$L/$f" "$W/stubs/$f" || fail "the learner's $f changed"; done
out="$(./tito diagnose 05 2>&1)" || { printf '%s\n' "$out" | tail -20; fail "tito diagnose 05 failed with every test passing"; }
expect_in "$out" "nothing to diagnose" "tito diagnose 05 should find nothing to diagnose"
step "learner: a sign error in MulBackward0's formula; tito diagnose names the op, shapes, index, got/expected and module 05"
DERIVATIVES=tinytorch/src/autograd/derivatives.cpp
cp "$DERIVATIVES" "$W/derivatives.cpp.good"
choice_before="$(cat .tito/reference.json)"
python3 - "$DERIVATIVES" <<'PY' || fail "could not seed the sign error (mul_backward changed?)"
import sys
path = sys.argv[1]
source = open(path).read()
old = "needs[0] ? grad.mul(other) : Tensor()"
assert source.count(old) == 1, "mul_backward's first gradient not found once"
open(path, "w").write(source.replace(old, "needs[0] ? grad.mul(other).neg() : Tensor()"))
PY
if out="$(./tito diagnose 05 2>&1)"; then fail "tito diagnose 05 passed with a wrong MulBackward0"; fi
expect_in "$out" "step [0-9]+: backward of aten::mul \(MulBackward0\)" "diagnose should name MulBackward0's backward"
expect_in "$out" "gradient for input 0 differs: \[[0-9, ]+\] float32 at \[[0-9, ]+\] \(flat index [0-9]+\): got [-0-9.e]+, expected [-0-9.e]+" \
  "diagnose should give the shape, the index, got and expected"
expect_in "$out" "05 autograd: the difference goes away with its reference" "diagnose should pin the op to module 05"
expect_in "$out" "your module 05 \(autograd\): tinytorch/src/autograd/derivatives.cpp" "diagnose should name derivatives.cpp"
awk '/First difference|your module 05/ && n++ < 2' <<<"$out"
[[ "$(cat .tito/reference.json)" == "$choice_before" ]] || fail "tito diagnose changed .tito/reference.json"
# A milestone: 1986 needs modules 06-08, still the release's stubs — the step stops at Adam's.
if out="$(./tito diagnose 1986 2>&1)"; then fail "tito diagnose 1986 passed with module 06 unwritten"; fi
expect_in "$out" "not implemented yet — module 06" "diagnose 1986 should reach module 06's stub"
expect_in "$out" "your module 06 \(optimizers\)" "diagnose 1986 should name module 06"
cp "$W/derivatives.cpp.good" "$DERIVATIVES"
out="$(./tito module complete 05 2>&1)" || { printf '%s\n' "$out" | tail -20; fail "module complete 05 failed"; }
expect_in "$out" "Not tested again: modules 01, 02, 03, 04" \
  "module complete 05 should not rerun the tests of 01 (completed) and 02-04 (reference)"
expect_in "$out" "Running the tests of module 05\$" "module complete 05 should run only 05's tests"
out="$(./tito milestone run 1957 2>&1)" || { printf '%s\n' "$out" | tail -20; fail "milestone 1957 failed"; }
for id in 02 03; do
  expect_in "$out" "ran with the reference for module $id" "milestone 1957 should say it ran with the reference for $id"
done
# The program's own "Which code runs" block: module 18 is still the release's stub, so every op
# family runs its module's code — module 02's (GELU, sigmoid, tanh) from the reference objects.
expect_in "$out" "^Which code runs — kernel tier: fast" "milestone 1957 should print which code runs"
expect_in "$out" "^  GELU, sigmoid, tanh +module 02, reference objects" "GELU, sigmoid and tanh should run module 02's reference objects"
expect_in "$out" "module 18's register_fast_kernels is not written yet" \
  "the report should say that module 18 registered nothing"
expect_in "$out" "reference objects for module 02 03 04" "the report should name the modules on the reference"

step "instructor: grading gives the modules on the reference 0 points, with the reason"
cd "$ROOT"
./tito grade "$L" --out "$W/report-reference" --work "$W/grade" -j 2 --modules 02,03,04
python3 - "$W/report-reference.json" "${REFERENCE_IDS[@]}" <<'PY' || fail "the report of the reference modules is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
for mid in sys.argv[2:]:
    m = d["modules"][mid]
    assert m["status"] == "not started" and m["points"] == 0 and m["reference"] is True, (mid, m)
    assert f"ran on the reference implementation (tito module use-reference {mid})" in m["message"], m
print("report: " + "; ".join(f"{mid} {d['modules'][mid]['points']} points: {d['modules'][mid]['message']}"
                             for mid in sys.argv[2:]))
PY
grep -q "^02,.*,ran on the reference implementation$" "$W/report-reference.csv" || fail "the CSV does not say 02 ran on the reference"
cd "$L"
out="$(./tito module use-mine 02 2>&1)" || fail "use-mine 02 failed: $out"
expect_in "$(./tito module status)" "^  02 +activations +not started" "after use-mine, 02 is the learner's stubs again"
if ./tito module use-mine 02 >/dev/null 2>&1; then fail "use-mine accepted a module not on the reference"; fi
cd "$ROOT"
if ./tito module use-reference 02 >/dev/null 2>&1; then fail "use-reference worked in the instructor's tree"; fi

step "instructor: bad arguments are refused"
if ./tito grade "$W/does-not-exist" --out "$W/x" >/dev/null 2>&1; then fail "grade accepted a missing folder"; fi
if ./tito release --out "$ROOT/inside" >/dev/null 2>&1; then fail "release accepted a folder inside the repo"; fi

printf '\ne2e passed in %ds\n' $((SECONDS - t0))
((KEEP_WORK)) || rm -rf "$W"
