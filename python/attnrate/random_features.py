"""Random-feature attention and the random-feature MLP, as scikit-learn regressors.

X has shape (n, N + 1, d): sample s is a query X[s, 0] and N keys X[s, 1:]; y has shape (n,). The
frozen random weights are drawn from ``seed`` (the library's generator), and only the linear
coefficients are trained, by ridge with lambda chosen by GCV, k-fold cross-validation or fixed, so a
fit is a function of the data and the parameters alone: two fits with the same parameters give
bit-identical predictions.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from . import _core
from ._options import errors_as_caller, float_array, keep_init_args, options, threads_of, warn_as_caller


def _inputs(X):
    return float_array(X, "X")


def _lambda_text(lam):
    if isinstance(lam, str):
        return lam
    if isinstance(lam, numbers.Real) and not isinstance(lam, bool):
        return float(lam)
    raise ValueError(f"lam must be 'gcv', 'kfold' or a number > 0, got {lam!r}")


class _RandomFeatures(RegressorMixin, BaseEstimator):
    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    def _store(self, model, fit, X):
        self._model = model
        self.coef_ = fit["coef"]
        self.lambda_ = float(fit["lambda"])
        self.lambda_rule_ = fit["lambda_rule"]
        self.lambda_grid_ = fit["lambda_grid"]
        self.lambda_scores_ = fit["lambda_scores"]
        self.lambda_at_edge_ = bool(fit["lambda_at_edge"]) and self.lambda_rule_ != "fixed"
        self.train_mse_ = float(fit["train_mse"])
        self.solver_ = fit["solver"]
        self.n_keys_ = X.shape[1] - 1
        self.d_ = X.shape[2]

    def predict(self, X):
        """f(x_0, X) for every sample, shape (n,)."""
        self._check_fitted()
        return self._model.predict(_inputs(X))

    def features(self, X):
        """The frozen feature matrix of X, (n, number of features)."""
        self._check_fitted()
        return self._model.features(_inputs(X))


class RandomFeatureAttentionRegressor(_RandomFeatures):
    """Random-feature attention (Fu, Guo, Bai, Mei 2023; ``attnrate fit rfa``): ``heads`` frozen random
    query-key matrices W_m of size (d+1) x (d+1), trained value vectors v_m,

        f(x_0, X) = sum_m <v_m, sum_i a_{m,i} [x_i; 1]>,  a_{m,i} = sigma(s_{m,i}) / N (softmax: normalised),

    s_{m,i} = [x_0; 1]^T W_m [x_i; 1].

    Parameters: ``heads`` M; ``sigma`` "relu", "exp" or "softmax"; ``mu``: W_m = mu diag(I_d, 0) +
    noise (mu = 0: the zero-mean law, any other value the biased law); ``tau``: standard deviation of
    the noise entries; ``lam``: "gcv", "kfold" or a fixed ridge lambda > 0; ``seed`` of the weights
    (and of the k-fold split); ``threads`` (0: all cores; results do not depend on it). The defaults
    are ``attnrate fit rfa``'s.

    Fitted attributes: ``coef_`` (M (d+1): v_m = coef_[m (d+1) : (m+1) (d+1)]), ``weights_`` (M, d+1,
    d+1), ``lambda_``, ``lambda_rule_``, ``lambda_grid_``, ``lambda_scores_``, ``train_mse_``,
    ``solver_``, ``n_keys_`` (N), ``d_``, ``warnings_`` (the sentences issued as UserWarning).
    """

    def __init__(self, heads=64, sigma="relu", mu=0.0, tau=0.5, lam="gcv", seed=1, threads=0):
        keep_init_args(self, locals())

    def fit(self, X, y):
        """Draws the weights for X's d and fits the value vectors on X (n, N + 1, d), y (n,); returns self."""
        X = _inputs(X)
        mu = float(self.mu)
        # mu = 0 is the zero-mean law, which has no mean scale to give.
        pairs = [("heads", self.heads, "heads"), ("sigma-act", self.sigma, "sigma"),
                 ("mu", mu if mu != 0.0 else None, "mu"), ("weights", "zero-mean" if mu == 0.0 else "biased", "mu"),
                 ("tau", self.tau, "tau"),
                 ("lambda", _lambda_text(self.lam), "lam"), ("seed", self.seed, "seed")]
        y = float_array(y, "y")
        with errors_as_caller(pairs):
            model, fit = _core.fit_rfa(X, y, options(pairs), threads_of(self.threads))
        self._store(model, fit, X)
        self.warnings_ = warn_as_caller(fit["warnings"], pairs)
        self.weights_ = model.weights
        return self


class RandomFeatureMLPRegressor(_RandomFeatures):
    """Random-feature two-layer network on the concatenated tokens z = [x_0; x_1; ...; x_N; 1], the
    baseline random-feature attention is compared with: f = sum_k a_k sigma(<w_k, z>), w_k iid
    N(0, I / ((N+1) d)) frozen, a trained by ridge.

    Parameters: ``width`` P (None: ``match_heads`` (d+1), the parameter count of attention with that
    many heads; a ``match_heads`` other than its default with a ``width`` is refused, not ignored);
    ``sigma`` "relu" or "exp"; ``lam``: "gcv", "kfold" or a fixed lambda > 0; ``seed``
    of the weights; ``threads`` (0: all cores). Unlike attention, f depends on the order of the keys.

    Fitted attributes: ``coef_`` (P), ``weights_`` ((N+1) d + 1, P), ``lambda_``, ``lambda_rule_``,
    ``lambda_grid_``, ``lambda_scores_``, ``train_mse_``, ``solver_``, ``n_keys_``, ``d_``, ``warnings_``.
    """

    def __init__(self, width=None, match_heads=64, sigma="relu", lam="gcv", seed=1, threads=0):
        keep_init_args(self, locals())

    def fit(self, X, y):
        """Draws the first layer for X's N and d and fits the second on X (n, N + 1, d), y (n,); returns self."""
        X = _inputs(X)
        if self.width is not None and (not isinstance(self.width, numbers.Integral) or isinstance(self.width, bool)
                                       or self.width < 1):
            raise ValueError(f"width must be a number of features >= 1 (or None), got {self.width!r}")
        width = 0 if self.width is None else self.width  # 0: the library's "match_heads (d+1)"
        if not isinstance(self.match_heads, numbers.Integral) or isinstance(self.match_heads, bool):
            raise ValueError(f"match_heads must be an integer >= 1, got {self.match_heads!r}")
        if self.width is not None and self.match_heads != 64:  # not silently ignored
            raise ValueError(f"match_heads={self.match_heads} has no effect with width={self.width} (width sets the "
                             "number of features); give one of them")
        pairs = [("lambda", _lambda_text(self.lam), "lam"), ("seed", self.seed, "seed")]
        y = float_array(y, "y")
        with errors_as_caller(pairs):
            model, fit = _core.fit_mlp(X, y, options(pairs), int(width), int(self.match_heads), str(self.sigma),
                                       threads_of(self.threads))
        self._store(model, fit, X)
        self.warnings_ = warn_as_caller(fit["warnings"], pairs)
        self.weights_ = model.weights
        return self
