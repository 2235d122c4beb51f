#!/usr/bin/python3
"""Makes the polynomial E(t) = e^(P(t)) of the exact GELU's backward (tinytorch/src/kernels/
activation_simd.h, Gelu<V>::backward) and checks the coefficients written there.

The forward takes erfc(z) = t · e^(−z² + P(t)), t = 1/(1 + z/2), P Numerical Recipes' degree-9
erfcc polynomial. The backward already needs e^(−z²) for φ, so it writes erfc(z) = t · e^(−z²) ·
E(t) with E(t) = e^(P(t)) as one polynomial on t ∈ (0, 1]: a Chebyshev least-squares fit of degree
12 on 400,001 points, converted to powers of t and rounded to float32. This prints the fit's
relative error in float64 and that of a float32 Horner evaluation (as the kernel does it), and
the coefficients, highest first.

    /usr/bin/python3 tools/reference/gen_gelu_backward_poly.py          # prints them
    /usr/bin/python3 tools/reference/gen_gelu_backward_poly.py --check  # fails if the header's
                                                                         # differ

Needs numpy (python3-numpy; python3-torch depends on it).
"""

import argparse
import pathlib
import re
import sys

import numpy as np

DEGREE = 12
HEADER = pathlib.Path(__file__).resolve().parents[2] / "tinytorch/src/kernels/activation_simd.h"
# P(t), highest coefficient first (Numerical Recipes' erfcc, as in Gelu<V>::cdf).
ERFCC = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
         0.09678418, 0.37409196, 1.00002368, -1.26551223]


def horner(coefficients, t):
    """Σ c_k t^k by Horner from the highest coefficient, in t's dtype."""
    acc = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        acc = acc * t + t.dtype.type(c)
    return acc


def fit():
    """float32 coefficients of E, highest first, and the relative errors (float64 fit, float32
    Horner)."""
    t = np.linspace(0.0, 1.0, 400001)
    e = np.exp(horner(ERFCC, t))
    chebyshev = np.polynomial.chebyshev.Chebyshev.fit(t, e, DEGREE, domain=[0.0, 1.0])
    # The fit's variable is x = 2t − 1; write the polynomial in powers of t.
    in_x = np.polynomial.Polynomial(np.polynomial.chebyshev.cheb2poly(chebyshev.coef))
    in_t = in_x(np.polynomial.Polynomial([-1.0, 2.0]))
    highest_first = [float(np.float32(c)) for c in in_t.coef[::-1]]
    fit_error = np.max(np.abs(in_t(t) - e) / e)
    float32_error = np.max(np.abs(horner(highest_first, t.astype(np.float32)) - e) / e)
    return highest_first, fit_error, float32_error


def header_coefficients():
    """The coefficients Gelu<V>::backward's Horner loop uses, highest first."""
    text = HEADER.read_text()
    body = text[text.index("E(t) = e^(P(t)), Horner"):]
    body = body[:body.index("cdf_from_tail")]
    return [float(v) for v in re.findall(r"set1\((-?[0-9.]+)f\)", body)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the header's")
    args = parser.parse_args()
    coefficients, fit_error, float32_error = fit()
    print(f"degree {DEGREE}: relative error {fit_error:.2e} (float64 fit), "
          f"{float32_error:.2e} (float32 Horner)")
    for c in coefficients:
        print(f"  {c:.9g}f")
    if args.check:
        written = header_coefficients()
        same = len(written) == len(coefficients) and all(
            np.float32(a) == np.float32(b) for a, b in zip(written, coefficients))
        if not same:
            print(f"{HEADER}: the coefficients differ: {written}", file=sys.stderr)
            return 1
        print(f"{HEADER.name}: the same {len(written)} coefficients")
    return 0


if __name__ == "__main__":
    sys.exit(main())
