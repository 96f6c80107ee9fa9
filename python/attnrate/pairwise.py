"""Least-squares B-spline estimators of the pairwise-interaction model, as scikit-learn regressors.

A sample is a whole set of N tokens: X has shape (M, N, d) and Y shape (M, N), so scikit-learn's
splitters (which split axis 0) split samples, never tokens of one sample. ``score`` is R^2 over all
M N entries. Fits run the library's estimators on the arrays in place (estimators/pairwise_lse,
estimators/pairwise_erm); see docs/python.md.
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score

from . import _core
from ._options import (errors_as_caller, float_array, integer_of, keep_init_args, options, seed_of, threads_of,
                       warn_as_caller)
from .simulate import PairwiseSimulation, _elementwise


# fit.json counts the pieces K of the spline interval as "pieces"; the estimators call K "knots".
_KNOTS = {"pieces": "knots"}
_CANDIDATE_COLUMNS = ["degree", "knots", "p", "dof", "train_risk", "cv_risk", "penalised", "cp", "criterion", "weight",
                      "flagged", "solver"]


def _tokens(X):
    return float_array(X, "X")


def _truth_of(truth):
    if isinstance(truth, PairwiseSimulation):
        return truth.truth
    if isinstance(truth, _core.PairwiseTruth):
        return truth
    raise ValueError(f"truth must be the result of simulate_pairwise (or its .truth), got {type(truth).__name__}")


def _fixed_space_options(est):
    """The fixed spline space as (option, value, parameter) triples: degree (None: 3) and knots."""
    return [("degree", 3 if est.degree is None else est.degree, "degree"), ("knots", est.knots, "knots")]


def _space_options(est):
    """The selection options of knots="adaptive" as (option, value, parameter) triples, or None for a
    fixed knots; refuses a degree with "adaptive", and the selection options without it."""
    if est.knots is None:
        raise ValueError("knots must be a number of pieces >= 1 or 'adaptive', got None")
    # Types first: None would be left out and read as the library's default, and a string such as
    # "3" would pass as option text; the values' ranges are the library's checks.
    integer = lambda v: isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
    for name, ok, allowed in (
            ("select", lambda v: isinstance(v, str), "'mixture', 'cv', 'cv-refit' or 'penalty'"),
            ("folds", integer, "an integer in 2..100 (at most M)"),
            ("max_degree", integer, "an integer in 0..10"),
            ("max_knots", lambda v: v is None or integer(v), "an integer >= 1 or None"),
            ("penalty", lambda v: isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)), "a number > 0")):
        if not ok(getattr(est, name)):
            raise ValueError(f"{name} must be {allowed}, got {getattr(est, name)!r}")
    if isinstance(est.knots, str):
        if est.knots != "adaptive":
            raise ValueError(f"knots must be a number of pieces >= 1 (an int) or the string 'adaptive', "
                             f"got the string {est.knots!r}")
        if est.degree is not None:
            raise ValueError(f"degree={est.degree!r} has no effect with knots='adaptive' (degree and K are "
                             "selected from the data; bound the degree with max_degree); leave degree=None")
        space = [("schedule", "adaptive", "knots"), ("select", est.select, "select"), ("folds", est.folds, "folds"),
                 ("max-degree", est.max_degree, "max_degree"), ("max-knots", est.max_knots, "max_knots")]
        if est.penalty != 1.0:  # the library's default; any other value needs select="penalty"
            space.append(("penalty", est.penalty, "penalty"))
        return space
    # The selection options act only with knots="adaptive": refused rather than ignored.
    for name, default in (("select", "mixture"), ("folds", 5), ("max_degree", 3), ("max_knots", None), ("penalty", 1.0)):
        if getattr(est, name) != default:
            raise ValueError(f"{name}={getattr(est, name)!r} is an option of knots='adaptive' "
                             f"(knots={est.knots!r} is fixed)")
    return None


class _PairwiseSpline(RegressorMixin, BaseEstimator):
    """What both pairwise estimators share once fitted: phi_hat, predictions, R^2 and the composed error."""

    def _check_fitted(self):
        if not hasattr(self, "terms_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, Y) first")

    def _store(self, fit):
        """The attributes of a fit given as the content of its fit.json (docs/formats.md)."""
        # phi_hat: one spline, or (the mixture over several degrees) a sum of splines, fit.json's terms.
        splines = fit["terms"] if "terms" in fit else [fit]
        self.terms_ = [(int(t["pieces"]), int(t["degree"]), np.asarray(t["coefficients"], dtype=np.float64))
                       for t in splines]
        one = len(splines) == 1
        self.coef_ = self.terms_[0][2] if one else None
        self.degree_ = self.terms_[0][1] if one else None
        self.knots_ = self.terms_[0][0] if one else None
        self.knot_vector_ = np.asarray(splines[0]["knots"], dtype=np.float64) if one else None
        self.range_ = tuple(float(v) for v in fit["range"])
        self.train_mse_ = float(fit["train_mse"])
        self.solver_ = fit["solver"]

    def _store_candidates(self, fit):
        """knots="adaptive": every candidate space with its risks, and the selection rule."""
        self.candidates_ = pd.DataFrame(fit["candidates"]).rename(columns=_KNOTS)[_CANDIDATE_COLUMNS]
        self.select_ = fit["select"]
        self.selected_ = (int(fit["selected"]["degree"]), int(fit["selected"]["pieces"]))
        # As fit.json's b_hat: None when undefined (the selected K does not grow, or too few sizes).
        b_hat = fit["b_hat"]
        self.b_hat_ = None if b_hat["value"] is None else float(b_hat["value"])
        self.b_hat_ci_ = None if b_hat["ci_t"][0] is None else tuple(float(v) for v in b_hat["ci_t"])

    def phi(self, u):
        """The fitted phi_hat(u), elementwise (any shape; u outside range_ is clamped to its ends, NaN
        gives NaN)."""
        self._check_fitted()
        a, b = self.range_
        value = _elementwise(lambda v: _core.spline_value(a, b, self.terms_, v), u)
        nan = np.isnan(np.asarray(u, dtype=float))
        if nan.any():  # the clamp would turn NaN into the value at an end
            value = np.where(nan, np.nan, value)
            if value.ndim == 0:
                value = float(value)
        return value

    def predict(self, X):
        """Yhat_i = 1/(N-1) sum_{j != i} phi_hat(X_i^T A_ X_j) for every sample, shape (M, N)."""
        self._check_fitted()
        X = _tokens(X)
        d = self.A_.shape[0]
        if X.ndim == 3 and X.shape[2] != d:
            raise ValueError(f"X must have tokens in d = {d} dimensions as in fit, got shape {X.shape}")
        a, b = self.range_
        threads = threads_of(self.threads)
        return _core.predict_pairwise(X, self.A_, a, b, self.terms_, threads)

    def score(self, X, Y, sample_weight=None):
        """R^2 over all M N entries of Y (not per token position)."""
        Y = float_array(Y, "Y")
        Yhat = self.predict(X)
        if Y.shape != Yhat.shape:
            raise ValueError(f"Y must have shape {Yhat.shape} (M, N) of X, got {Y.shape}")
        w = None if sample_weight is None else np.repeat(np.asarray(sample_weight, dtype=np.float64), Y.shape[1])
        return float(r2_score(Y.ravel(), Yhat.ravel(), sample_weight=w))

    def composed_error(self, truth, test_pairs=100000, seed=1, return_se=False):
        """The squared L2(rho) error of g_hat(x, y) = phi_hat(x^T A_ y) against the truth's g, as the
        studies measure it: the mean of (g_hat - g)^2 over ``test_pairs`` fresh token pairs of the
        truth's law rho, drawn from ``seed``. ``return_se``: also its Monte Carlo standard error."""
        self._check_fitted()
        a, b = self.range_
        err, se = _core.composed_error(_truth_of(truth), self.A_, a, b, self.terms_,
                                       integer_of(test_pairs, "test_pairs", 0, 2**64 - 1), seed_of(seed),
                                       threads_of(self.threads))
        return (err, se) if return_se else err


class PairwiseSplineRegressor(_PairwiseSpline):
    """Least squares over clamped uniform B-splines with A known (``attnrate fit pairwise --A``).

    Parameters
    ----------
    A : array (d, d)
        The interaction matrix.
    degree : int or None
        Spline degree 0..10 (None: 3). Leave None with ``knots="adaptive"``.
    knots : int or "adaptive"
        Number of equal pieces K of the spline interval, or "adaptive": degree 0..max_degree and
        K = 1, 2, 4, ... up to max_knots (None: M / ln(M)^2) chosen from the training data by
        ``select`` ("mixture": phi_hat is the exponential-weights mixture of every candidate, weights
        from Mallows' C_p, one spline per degree with a weight (``terms_``); "cv": the candidate
        of smallest ``folds``-fold cross-validation risk; "penalty": of a BIC-type rule with
        constant ``penalty``).
    range : (a, b) or None
        Spline interval; None: [min, max] of u = X_i^T A X_j over the training data.
    ridge : float
        Ridge penalty lambda >= 0.
    threads : int
        Threads (0: all cores); results do not depend on it.

    Fitted attributes: ``terms_`` (phi_hat as a list of splines (K, degree, coefficients) on
    ``range_``, summed: one spline, or with knots="adaptive" and "mixture" one per degree with a
    weight), ``coef_`` (K + degree coefficients), ``degree_``, ``knots_`` (K), ``knot_vector_`` (the
    clamped knot vector, K + 2 degree + 1 entries) of phi_hat when it is one spline (None when it sums
    several), ``range_``, ``A_``,
    ``train_mse_``, ``solver_``, ``warnings_`` (the sentences issued as UserWarning, fit.json's
    ``warnings``); with knots="adaptive" also ``candidates_`` (a DataFrame of every
    candidate space with its risks and weight in phi_hat), ``select_``, ``selected_`` (the degree
    and K of the smallest criterion), and ``b_hat_`` with its 95% interval ``b_hat_ci_``:
    the smoothness read off the K selected on the first M, M/2, M/4, M/8 samples (None when that K
    does not grow or fewer than three sizes have enough samples for the folds; a rough check, not a
    measurement of b: docs/formats.md, fit.json's b_hat; it costs about 0.9 times the fit itself).
    """

    def __init__(self, A=None, degree=None, knots=8, range=None, ridge=0.0, select="mixture", folds=5, max_degree=3,
                 max_knots=None, penalty=1.0, threads=0):
        keep_init_args(self, locals())

    def fit(self, X, Y):
        """Fits phi_hat to tokens X (M, N, d) and outputs Y (M, N); returns self."""
        if self.A is None:
            raise ValueError("A is required (the d x d interaction matrix); LowRankPairwiseRegressor learns it")
        X, Y, A = _tokens(X), float_array(Y, "Y"), float_array(self.A, "A")
        threads = threads_of(self.threads)
        rng = None
        if self.range is not None:
            if not isinstance(self.range, (tuple, list, np.ndarray)) or len(self.range) != 2:
                raise ValueError(f"range must be (a, b) with a < b, or None, got {self.range!r}")
            rng = list(self.range)
        common = [("range", rng, "range"), ("ridge", self.ridge, "ridge")]
        adaptive = _space_options(self)
        pairs = common + (adaptive if adaptive is not None else _fixed_space_options(self))
        with errors_as_caller(pairs):
            fit = _core.fit_known_A(X, Y, A, options(pairs), threads)
        if adaptive is not None:
            self._store_candidates(fit)
        else:
            self.rcond_ = float(fit["rcond"])
        self.A_ = A.copy()
        self._store(fit)
        self.warnings_ = warn_as_caller(fit["warnings"], pairs)
        return self


class LowRankPairwiseRegressor(_PairwiseSpline):
    """A unknown: the joint least-squares fit of A = U V^T of rank r and phi
    (``attnrate fit pairwise --rank``; variable projection, L-BFGS, seeded restarts, continuation
    in K). Only g(x, y) = phi(x^T A y) is identified: (phi(c u), A / c) is the same fit.

    Parameters: ``rank`` r (1..d), ``degree`` (1..10; None: 3), ``knots`` K or "adaptive",
    ``restarts`` (1..1000), ``seed`` of the restarts, ``start`` ("moment" or "random"),
    ``coarse_pieces`` (continuation in K from this many pieces; 0: off), ``restart_samples`` (with 2
    or more restarts, their coarse stage runs on the first this many samples of X, the best then on
    all; 0: all; shuffle samples whose order matters), ``refit_trim`` (training
    interactions cut at each end for the final phi-step, or with knots="adaptive" for the
    selection's interval; 0: none), ``threads`` (0: all cores; results do not depend on it). With
    knots="adaptive" the space is selected from the data as in ``attnrate fit pairwise --rank r
    --schedule adaptive`` (pilot joint fit, selection at its A, joint fit in the selected space,
    selection again; ``select``, ``folds``, ``max_degree``, ``max_knots``, ``penalty`` as for
    PairwiseSplineRegressor, and ``select="cv-refit"`` refits A in each fold of the last selection,
    at about twice the cost); leave ``degree`` None. The defaults are the command's.

    Fitted attributes: ``A_``, ``U_``, ``V_``, ``terms_``, ``coef_``, ``degree_``, ``knots_``, ``knot_vector_``,
    ``range_``, ``train_mse_``, ``solver_``, ``diagnostics_`` (iterations, restarts, stop reason, ...;
    with knots="adaptive": the ERM in the selected space), and with knots="adaptive" also
    ``candidates_``, ``select_``, ``pilot_`` (the pilot fit's space and the space selected at its A),
    ``b_hat_`` and ``b_hat_ci_`` (as for PairwiseSplineRegressor, each subsample fitted jointly).
    """

    def __init__(self, rank=1, degree=None, knots=8, restarts=4, seed=1, start="moment", coarse_pieces=4,
                 restart_samples=2000, refit_trim=0, select="mixture", folds=5, max_degree=3, max_knots=None, penalty=1.0, threads=0):
        keep_init_args(self, locals())

    def fit(self, X, Y):
        """Fits A and phi_hat to tokens X (M, N, d) and outputs Y (M, N); returns self."""
        common = [("rank", self.rank, "rank"), ("restarts", self.restarts, "restarts"), ("seed", self.seed, "seed"),
                  ("start", self.start, "start"), ("coarse-pieces", self.coarse_pieces, "coarse_pieces"),
                  ("restart-samples", self.restart_samples, "restart_samples"),
                  ("refit-trim", self.refit_trim, "refit_trim")]
        adaptive = _space_options(self)
        pairs = common + (adaptive if adaptive is not None else _fixed_space_options(self))
        X, Y = _tokens(X), float_array(Y, "Y")
        with errors_as_caller(pairs):
            fit = _core.fit_joint(X, Y, options(pairs), threads_of(self.threads))
        self.A_ = np.asarray(fit["A"], dtype=np.float64)
        self.U_ = np.asarray(fit["U"], dtype=np.float64)
        self.V_ = np.asarray(fit["V"], dtype=np.float64)
        diagnostics = fit["erm"] if adaptive is not None else fit["diagnostics"]
        stages = diagnostics.get("stages", [])  # fit.json leaves the key out without continuation
        diagnostics["stages"] = [{_KNOTS.get(k, k): v for k, v in stage.items()} for stage in stages]
        self.diagnostics_ = diagnostics
        if adaptive is not None:
            self._store_candidates(fit)
            self.pilot_ = fit["pilot"]
        self._store(fit)
        self.warnings_ = warn_as_caller(fit["warnings"], pairs)
        return self
