"""Simulated data: the pairwise-interaction model and attention inputs with a target, drawn by the
library exactly as ``attnrate simulate pairwise`` and ``attnrate simulate rfa`` draw them."""

import numpy as np

from . import _core
from ._options import errors_as_caller, integer_of, options, seed_of


def _elementwise(f, u):
    """f over a float64 array of u's shape; a float for a scalar u."""
    a = np.asarray(u, dtype=np.float64)
    out = f(np.ascontiguousarray(a.reshape(-1))).reshape(a.shape)
    return float(out) if a.ndim == 0 else out


class PairwiseSimulation:
    """Data from the pairwise-interaction model and its truth.

    Attributes: ``X`` (M, N, d) tokens, ``Y`` (M, N) outputs, ``A`` (d, d), ``truth`` (the model:
    ``A``, ``activation``, ``tokens``, ``N``, ``d``, ``r``, ``sigma``), ``seed`` and
    ``activation_seed`` (the seed of phi's coefficients, as in ``data.truth.json``).
    """

    def __init__(self, truth, X, Y, seed, activation_seed):
        self.truth = truth
        self.X = X
        self.Y = Y
        self.A = truth.A
        self.seed = seed
        self.activation_seed = activation_seed

    def phi(self, u):
        """phi(u) of the truth, elementwise (any shape)."""
        return _elementwise(self.truth.phi, u)

    def g(self, x, y):
        """g(x, y) = phi(x^T A y) for tokens x and y of shape (..., d) (broadcast against each other);
        the result has the broadcast shape without the last axis."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        if x.ndim == 0 or x.shape[-1] != self.truth.d:
            raise ValueError(f"x and y must end in the token dimension d = {self.truth.d}, got shape {x.shape}")
        shape = x.shape[:-1]
        d = self.truth.d
        out = self.truth.g(np.ascontiguousarray(x.reshape(-1, d)), np.ascontiguousarray(y.reshape(-1, d)))
        return out.reshape(shape)

    def token_pairs(self, T, seed=1):
        """T fresh token pairs of the law rho (the first two tokens of a sample), (T, 2, d)."""
        return self.truth.token_pairs(seed_of(seed), integer_of(T, "T", 0, 2**64 - 1))

    def __repr__(self):
        t = self.truth
        return (f"PairwiseSimulation(M={self.X.shape[0]}, N={t.N}, d={t.d}, r={t.r}, activation={t.activation!r}, "
                f"sigma={t.sigma}, tokens={t.tokens!r}, seed={self.seed})")


def simulate_pairwise(M=2000, N=8, d=5, r=2, activation="weierstrass:1", sigma=0.5, seed=7, tokens="uniform",
                      data_seed=None, max_memory=None):
    """M samples of N tokens in R^d from the pairwise-interaction model

        Y_i = 1/(N-1) sum_{j != i} phi(X_i^T A X_j) + eta_i,  eta_i ~ N(0, sigma^2),

    with A of rank r drawn from ``seed``: the data ``attnrate simulate pairwise`` writes with the same
    options (the defaults are the command's). ``data_seed`` (None: ``seed``) draws the samples: another
    value gives a test set of the same model. Returns a :class:`PairwiseSimulation`. Bad options raise
    ValueError naming the argument.
    """
    pairs = [("M", M, "M"), ("N", N, "N"), ("d", d, "d"), ("r", r, "r"), ("activation", activation, "activation"),
             ("sigma", sigma, "sigma"), ("seed", seed, "seed"), ("tokens", tokens, "tokens"),
             ("data-seed", data_seed, "data_seed"), ("max-memory", max_memory, "max_memory")]
    with errors_as_caller(pairs):
        truth, X, Y, activation_seed = _core.simulate_pairwise(options(pairs))
    return PairwiseSimulation(truth, X, Y, int(seed), activation_seed)


def simulate_rfa(n=2000, N=8, d=8, target="key-poly:2", inputs="sphere", sigma=0.1, seed=7, data_seed=None,
                 max_memory=None):
    """n samples of a query and N keys in R^d with a target, as ``attnrate simulate rfa`` draws them
    with the same options (defaults are the command's). ``seed`` draws the target's random
    directions, ``data_seed`` (None: ``seed``) the inputs and the noise: another ``data_seed`` gives a
    test set of the same target. Returns ``(X, y)``: X (n, N + 1, d) with key 0 the query, y (n,)."""
    pairs = [("n", n, "n"), ("N", N, "N"), ("d", d, "d"), ("target", target, "target"), ("inputs", inputs, "inputs"),
             ("sigma", sigma, "sigma"), ("seed", seed, "seed"), ("data-seed", data_seed, "data_seed"),
             ("max-memory", max_memory, "max_memory")]
    with errors_as_caller(pairs):
        X, y, _ = _core.simulate_rfa(options(pairs))
    return X, y
