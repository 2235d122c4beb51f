#!/usr/bin/env python3
"""Runs an example's fixed run and compares its losses with PyTorch's.

  check_losses.py --reference tests/data/examples/reference.json --name regression -- PROGRAM [ARGS]

The reference (written by tools/reference/gen_examples.py with PyTorch) holds, per example, the
losses of its first steps and the relative tolerance they must meet. The program runs with
`--fixed --steps N` (N = the entry's "steps", else the number of losses: an example that counts
epochs prints several losses per step) and prints "step k loss v" lines, k counting batches.
"""
import argparse
import json
import os
import re
import subprocess
import sys

SKIPPED = 77  # the test's SKIP_RETURN_CODE (examples/CMakeLists.txt)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with open(args.reference, encoding="utf-8") as f:
        reference = json.load(f)[args.name]
    needs = reference.get("needs")
    if needs and not os.path.exists(needs):
        print(f"{args.name}: skipped, {needs} is missing (Debian: dataset-fashion-mnist)")
        return SKIPPED
    expected = reference["losses"]
    rtol = reference["rtol"]
    run = subprocess.run(
        command + ["--fixed", "--steps", str(reference.get("steps", len(expected)))],
        capture_output=True, text=True, timeout=110, check=False)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        print(f"{args.name}: the example exited with {run.returncode}", file=sys.stderr)
        return 1
    got = {int(m.group(1)): float(m.group(2))
           for m in re.finditer(r"^step (\d+) loss (\S+)$", run.stdout, re.M)}
    failures = 0
    for step, want in enumerate(expected, start=1):
        have = got.get(step)
        if have is None:
            print(f"step {step}: no loss printed", file=sys.stderr)
            failures += 1
        elif not abs(have - want) <= rtol * max(abs(want), 1e-6):
            print(f"step {step}: loss {have:.9g}, PyTorch {want:.9g} (relative tolerance {rtol})",
                  file=sys.stderr)
            failures += 1
    print(f"{args.name}: {len(expected) - failures} of {len(expected)} steps match PyTorch "
          f"within {rtol} relative")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
