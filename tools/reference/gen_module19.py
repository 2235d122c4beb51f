#!/usr/bin/python3
"""Writes tests/data/module19_reference.json: numpy's answers for module 19's order statistics.

Run from anywhere (Debian's python3-numpy, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module19.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module19.py --check  # fails if the file is stale

Deterministic: the samples come from numpy.random.default_rng with fixed seeds and are written
out in the file. Each case is

    {"name", "samples": [...],
     "percentiles": [[q, numpy.percentile(samples, q)], ...]   (method "linear", numpy's default)
     "median", "mean", "iqr": numpy.percentile(75) - numpy.percentile(25),
     "fences": [Q1 - 1.5 IQR, Q3 + 1.5 IQR], "outliers": indices outside the fences}

Skewed, timing-like distributions (lognormal, exponential), small counts (1, 2, even, odd),
ties and negative values: the cases where a percentile's interpolation goes wrong first.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module19_reference.json")
QS = [0.0, 2.5, 10.0, 25.0, 33.3, 50.0, 75.0, 90.0, 97.5, 99.0, 100.0]


def case(name, samples):
    x = np.asarray(samples, dtype=np.float64)
    q1, q3 = np.percentile(x, 25), np.percentile(x, 75)
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    return {
        "name": name,
        "samples": [float(v) for v in x],
        "percentiles": [[q, float(np.percentile(x, q))] for q in QS],
        "median": float(np.median(x)),
        "mean": float(np.mean(x)),
        "iqr": float(q3 - q1),
        "fences": [float(lo), float(hi)],
        "outliers": [int(i) for i in np.flatnonzero((x < lo) | (x > hi))],
    }


def main():
    opts = command_line(__doc__, OUT)
    rng = np.random.default_rng(19)
    cases = [
        case("one_sample", [3.5]),
        case("two_samples", [2.0, -1.0]),
        case("ties", [1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 10.0]),
        case("negative_even", [-4.0, -1.5, 0.0, 0.25, 7.0, -2.0]),
        case("lognormal_timings_31", (1e-3 * rng.lognormal(0.0, 0.3, 31)).round(9).tolist()),
        case("exponential_100", rng.exponential(2.0, 100).round(6).tolist()),
        case("planted_outliers", [1.0 + 0.01 * i for i in range(20)] + [5.0, 0.0, 9.0]),
    ]
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
