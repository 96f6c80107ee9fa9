#!/usr/bin/python3
"""An A-known minimax sweep written in numpy and scipy, against attnrate, in process CPU.

The reference does per cell what `attnrate study minimax-rate` does: it draws M samples of N
uniform tokens in [-1, 1]^d, forms every interaction u_ij = X_i^T A X_j (j != i), the outputs
Y_i = mean_j phi(u_ij) + sigma eps with phi the Weierstrass series of attnrate's weierstrass:b (the
same amplitudes, frequencies and phases), the features psi_i = mean_j B(u_ij) of the B-splines of
attnrate's degree and number of pieces K at that M on the interval of the 1e-4 and 1 - 1e-4
quantiles of u, solves the least squares, and scores the composed L2(rho) error on fresh test
pairs. Its random draws are numpy's, so its errors are not attnrate's, only of the same size; the
two fitted slopes are printed side by side as a check that both did the same job.

attnrate runs first and checks every option (its message and exit code are passed on); the
reference then fits the sample sizes, pieces and degree that attnrate's cells.csv records.

CPU seconds are process CPU (user + system, every thread), so the ratio holds on a loaded machine:
the reference's from time.process_time(), attnrate's from getrusage(RUSAGE_CHILDREN) around its
subprocess. attnrate runs with --no-figures: the reference draws none either. Sweeps under half a
CPU second mostly measure attnrate's start-up (the 10^6-pair range, about 0.1 s), not the fits.

    /usr/bin/python3 bench/numpy_minimax.py --attnrate build/attnrate
"""
import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import sparse
from scipy.interpolate import BSpline


def weierstrass_terms(b):
    """attnrate's weierstrass:b (theory/pairwise/activation.cpp): ratio sqrt(2), w0 = 3."""
    lam, w0 = math.sqrt(2.0), 3.0
    J = math.ceil(2.0 * max(8.0, 8.0 / b))
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    amp = [lam ** (-j * b) for j in range(J + 1)]
    freq = [math.ldexp(w0 if j % 2 == 0 else w0 * lam, j // 2) for j in range(J + 1)]  # 3 2^k, fl(3 sqrt2) 2^k
    phase = [2.0 * math.pi * ((j * golden) % 1.0) for j in range(J + 1)]
    return amp, freq, phase


def phi(u, terms):
    out = np.zeros_like(u)
    for a, f, p in zip(*terms):
        out += a * np.cos(f * u + p)
    return out


def draw_A(rng, d, r):
    """Rank-r A scaled so the 0.99-quantile of |u| over 20000 pairs is 1 (as attnrate)."""
    A = rng.standard_normal((d, r)) @ rng.standard_normal((d, r)).T
    x, y = rng.uniform(-1, 1, (2, 20000, d))
    return A / np.quantile(np.abs(np.einsum("td,de,te->t", x, A, y)), 0.99)


def knots(a, b, K, s):
    inner = np.linspace(a, b, K + 1)
    return np.concatenate([np.full(s, a), inner, np.full(s, b)])


def cell(M, N, d, A, sigma, terms, s, K, a, b, test_pairs, rng):
    X = rng.uniform(-1, 1, (M, N, d))
    U = np.einsum("mid,de,mje->mij", X, A, X)
    off = ~np.eye(N, dtype=bool)
    u = U[:, off]  # (M, N (N-1)), the pairs of token i in row block i
    Y = phi(u, terms).reshape(M * N, N - 1).mean(axis=1) + sigma * rng.standard_normal(M * N)
    t = knots(a, b, K, s)
    B = BSpline.design_matrix(np.clip(u.ravel(), a, b), t, s)
    rows = np.arange(M * N * (N - 1)) // (N - 1)
    S = sparse.csr_matrix((np.full(rows.size, 1.0 / (N - 1)), (rows, np.arange(rows.size))),
                          shape=(M * N, rows.size))
    Psi = (S @ B).tocsc()
    G = (Psi.T @ Psi).toarray()
    h = Psi.T @ Y
    coef = np.linalg.lstsq(G, h, rcond=None)[0]
    x, y = rng.uniform(-1, 1, (2, test_pairs, d))
    ut = np.einsum("td,de,te->t", x, A, y)
    err = BSpline(t, coef, s)(np.clip(ut, a, b)) - phi(ut, terms)
    return float(np.mean(err * err))


def slope(Ms, errors):
    x = np.log(np.repeat(Ms, [len(e) for e in errors]))
    y = np.log(np.concatenate(errors))
    return float(np.polyfit(x, y, 1)[0])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--attnrate", default="build/attnrate", help="the attnrate program")
    p.add_argument("--b", default="1", help="weierstrass:b")
    p.add_argument("--M", default="500:64000:x2", help="sample sizes, as attnrate's --M")
    p.add_argument("--seeds", default="6")
    p.add_argument("--cK", default="1")
    p.add_argument("--test-pairs", default="50000")
    p.add_argument("--threads", default="2", help="attnrate --threads")
    o = p.parse_args()
    if not (os.path.isfile(o.attnrate) and os.access(o.attnrate, os.X_OK)):
        sys.exit(f"numpy_minimax.py: --attnrate {o.attnrate} is not an executable file (build it, or give its path)")

    # attnrate first: it checks the options, and its cells fix the sizes the reference fits.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run([o.attnrate, "study", "minimax-rate", "--activation", f"weierstrass:{o.b}", "--M", o.M,
                              "--seeds", o.seeds, "--cK", o.cK, "--test-pairs", o.test_pairs, "--threads", o.threads,
                              "--no-figures", "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            return run.returncode
        with open(os.path.join(out, "summary.json")) as f:
            q = [q for q in json.load(f)["quantities"] if q["quantity"] == "slope"][0]
        with open(os.path.join(out, "cells.csv"), newline="") as f:
            cells = list(csv.DictReader(f))
    attnrate_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    b = float(o.b)
    seeds = int(o.seeds)
    Ms = sorted({int(c["M"]) for c in cells})
    K_of = {int(c["M"]): int(c["K"]) for c in cells}
    s = int(cells[0]["degree"])
    N, d, r, sigma = 8, 5, 2, 2.0  # attnrate's defaults
    terms = weierstrass_terms(b)

    c0 = time.process_time()
    rng = np.random.default_rng(1)
    A = draw_A(rng, d, r)
    x, y = rng.uniform(-1, 1, (2, 1_000_000, d))
    lo, hi = np.quantile(np.einsum("td,de,te->t", x, A, y), [1e-4, 1 - 1e-4])
    errors = [[cell(M, N, d, A, sigma, terms, s, K_of[M], lo, hi, int(o.test_pairs), np.random.default_rng([M, rep]))
               for rep in range(seeds)] for M in Ms]
    numpy_cpu = time.process_time() - c0

    print(f"sweep: weierstrass:{o.b}, M {o.M}, {seeds} seed(s), c_K {o.cK}, {o.test_pairs} test pairs, "
          f"attnrate on {o.threads} thread(s)")
    print(f"numpy/scipy reference: {numpy_cpu:.2f} s CPU, slope {slope(Ms, errors):.4f}")
    print(f"attnrate:              {attnrate_cpu:.2f} s CPU, slope {q['value']:.4f}")
    print(f"ratio (reference / attnrate CPU): {numpy_cpu / attnrate_cpu:.2f}")
    if attnrate_cpu < 0.5:
        print("note: a sweep this small mostly measures attnrate's start-up, not the fits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
