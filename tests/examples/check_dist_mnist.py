#!/usr/bin/env python3
"""Runs examples/dist_mnist's fixed run on 1 rank and on 2, and checks what data parallelism
promises (the example's header says why):

  * the 2-rank run's losses (2 x 32 samples per step, gradients averaged) are the 1-rank run's
    (64 samples per step), step for step, within float rounding (RTOL);
  * the loss falls: the mean of the last 10 steps is below the mean of the first 10 by MARGIN;
  * the two ranks end with bit-identical parameters (equal fingerprints).

  check_dist_mnist.py PROGRAM MPIRUN... (the launcher up to its rank-count flag, e.g.
  /usr/bin/mpiexec --allow-run-as-root --oversubscribe -n: cmake/TinyTorchMPI.cmake's)
"""
import os
import re
import subprocess
import sys

SKIPPED = 77  # the test's SKIP_RETURN_CODE (examples/CMakeLists.txt)
NEEDS = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
STEPS = 100  # the fixed run's global batches (examples/dist_mnist: kFixedBatches)
RTOL = 1e-5  # the same sums in another order: float32 rounding, not a different computation
MARGIN = 0.3  # 100 SGD steps take the loss from ~2.3 to ~1.6: a stalled run misses this


def run(command):
    done = subprocess.run(command + ["--fixed", "--steps", "1"], capture_output=True, text=True,
                          timeout=100, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited with {done.returncode}")
    losses = {int(m.group(1)): float(m.group(2))
              for m in re.finditer(r"^step (\d+) loss (\S+)$", done.stdout, re.M)}
    prints = re.findall(r"^rank (\d+) of (\d+): parameters fnv1a (\w+)$", done.stdout, re.M)
    return [losses.get(k) for k in range(1, STEPS + 1)], prints


def main() -> int:
    program, mpirun = sys.argv[1], sys.argv[2:]
    if not os.path.exists(NEEDS):
        print(f"dist_mnist: skipped, {NEEDS} is missing (Debian: dataset-fashion-mnist)")
        return SKIPPED
    one, _ = run([program])
    two, prints = run(mpirun + ["2", program])
    failures = []
    for step, (a, b) in enumerate(zip(one, two), start=1):
        if a is None or b is None:
            failures.append(f"step {step}: no loss printed by the {'1' if a is None else '2'}-rank run")
        elif not abs(a - b) <= RTOL * abs(a):
            failures.append(f"step {step}: loss {b:.9g} on 2 ranks, {a:.9g} on 1 "
                            f"(relative tolerance {RTOL})")
    if None not in two:
        first, last = sum(two[:10]) / 10, sum(two[-10:]) / 10
        if not last <= first - MARGIN:
            failures.append(f"the loss did not fall: mean of the first 10 steps {first:.4f}, "
                            f"of the last 10 {last:.4f} (expected at least {MARGIN} lower)")
    ranks = sorted((int(r), int(p), h) for r, p, h in prints)
    if [(r, p) for r, p, _ in ranks] != [(0, 2), (1, 2)]:
        failures.append(f"expected a fingerprint from ranks 0 and 1 of 2, got {ranks}")
    elif ranks[0][2] != ranks[1][2]:
        failures.append(f"the ranks' parameters differ: {ranks[0][2]} and {ranks[1][2]}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"dist_mnist: {STEPS} steps on 2 ranks against 1 rank, "
          f"{'FAILED' if failures else 'equal losses, falling, identical replicas'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
