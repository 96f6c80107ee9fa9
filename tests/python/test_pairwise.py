"""The pairwise estimators: an independent scipy least-squares solve, predictions, R^2, the composed
error, the adaptive space, the joint fit, scikit-learn conventions and refused input."""

import copy
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from scipy.interpolate import BSpline
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

import attnrate


def features(X, A, t, k):
    """psi_{m,i,:} = 1/(N-1) sum_{j != i} B(X_mi^T A X_mj) with scipy's B-splines on the knots t."""
    M, N, _ = X.shape
    u = np.einsum("mid,de,mje->mij", X, A, X)
    off = ~np.eye(N, dtype=bool)
    B = BSpline.design_matrix(u[:, off].ravel(), t, k).toarray()  # rows (m, i, j != i) in order
    return B.reshape(M, N, N - 1, -1).sum(axis=2).reshape(M * N, -1) / (N - 1)


def test_known_A_fit_matches_scipy_least_squares(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, degree=2, knots=6).fit(sim.X, sim.Y)
    t = est.knot_vector_
    assert len(t) == 6 + 2 * 2 + 1 and est.coef_.shape == (8,)
    assert (t[0], t[-1]) == est.range_
    psi = features(sim.X, sim.A, t, 2)
    coef, *_ = scipy.linalg.lstsq(psi, sim.Y.ravel())
    np.testing.assert_allclose(est.coef_, coef, rtol=0, atol=1e-6)
    np.testing.assert_allclose(est.predict(sim.X).ravel(), psi @ coef, rtol=0, atol=1e-6)
    np.testing.assert_allclose(est.phi(np.linspace(*est.range_, 7)), BSpline(t, coef, 2)(np.linspace(*est.range_, 7)),
                               rtol=0, atol=1e-6)
    assert est.train_mse_ == pytest.approx(np.mean((sim.Y.ravel() - psi @ coef) ** 2), rel=1e-8)
    assert np.isnan(est.phi(np.nan))  # not the clamped value at an end
    assert np.isnan(est.phi([0.0, np.nan])[1]) and np.isfinite(est.phi([0.0, np.nan])[0])


def test_ridge_and_range_match_scipy(sim):
    a, b = -1.5, 1.5
    est = attnrate.PairwiseSplineRegressor(sim.A, degree=1, knots=5, range=(a, b), ridge=1e-3).fit(sim.X, sim.Y)
    assert est.range_ == (a, b)
    psi = features(sim.X, sim.A, est.knot_vector_, 1)
    n = psi.shape[0]
    coef = np.linalg.solve(psi.T @ psi / n + 1e-3 * np.eye(psi.shape[1]), psi.T @ sim.Y.ravel() / n)
    np.testing.assert_allclose(est.coef_, coef, rtol=0, atol=1e-8)


def test_score_is_r2_over_all_entries(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, knots=4).fit(sim.X, sim.Y)
    Yhat = est.predict(sim.X)
    assert Yhat.shape == sim.Y.shape
    r2 = 1 - ((sim.Y - Yhat) ** 2).sum() / ((sim.Y - sim.Y.mean()) ** 2).sum()
    assert est.score(sim.X, sim.Y) == pytest.approx(r2, rel=1e-12)


def test_composed_error_is_the_l2_rho_error(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, degree=2, knots=6).fit(sim.X, sim.Y)
    err, se = est.composed_error(sim, test_pairs=20000, seed=2, return_se=True)
    assert err == est.composed_error(sim.truth, test_pairs=20000, seed=2)
    # Independent Monte Carlo estimate on other pairs of the same law.
    p = sim.token_pairs(20000, seed=99)
    x, y = p[:, 0], p[:, 1]
    mc = np.mean((est.phi(np.einsum("td,de,te->t", x, sim.A, y)) - sim.g(x, y)) ** 2)
    assert abs(mc - err) < 6 * se + 1e-12


def test_adaptive_selection(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", max_knots=16).fit(sim.X, sim.Y)
    c = est.candidates_
    assert set(c.columns) >= {"degree", "knots", "dof", "cv_risk", "cp", "criterion", "weight"} and len(c) == 4 * 5
    best = c.loc[c["criterion"].idxmin()]
    assert (best["degree"], best["knots"]) == est.selected_
    assert est.select_ == "mixture" and est.score(sim.X, sim.Y) > 0
    # The mixture: weights over every candidate, summing to 1; phi_hat sums one spline per degree with
    # a weight, on that degree's largest K with a weight, and is the weighted sum of the candidates'
    # fits (each refitted here as a fixed space, the same least squares).
    w = c["weight"].to_numpy()
    assert w.sum() == pytest.approx(1, abs=1e-14)
    weighted = c[w > 0]
    assert [(k, s) for k, s, _ in est.terms_] == [(int(weighted.loc[weighted["degree"] == s, "knots"].max()), s)
                                                 for s in sorted(set(weighted["degree"]))]
    assert len(est.terms_) >= 2 and est.coef_ is None and est.degree_ is None and est.knots_ is None
    for k, s, coef in est.terms_:
        assert coef.shape == (k + s,)
    u = np.linspace(*est.range_, 101)
    fixed = {(int(row.degree), int(row.knots)): attnrate.PairwiseSplineRegressor(
        sim.A, degree=int(row.degree), knots=int(row.knots), range=est.range_).fit(sim.X, sim.Y)
        for row in weighted.itertuples()}
    mix = sum(row.weight * fixed[int(row.degree), int(row.knots)].phi(u) for row in weighted.itertuples())
    np.testing.assert_allclose(est.phi(u), mix, rtol=1e-9, atol=1e-12)
    # predict and the composed error of the sum: linear in phi_hat / against pairs drawn here.
    Yhat = sum(row.weight * fixed[int(row.degree), int(row.knots)].predict(sim.X) for row in weighted.itertuples())
    np.testing.assert_allclose(est.predict(sim.X), Yhat, rtol=1e-9, atol=1e-12)
    err, se = est.composed_error(sim, test_pairs=20000, seed=2, return_se=True)
    p = sim.token_pairs(20000, seed=99)
    x, y = p[:, 0], p[:, 1]
    mc = np.mean((est.phi(np.einsum("td,de,te->t", x, sim.A, y)) - sim.g(x, y)) ** 2)
    assert abs(mc - err) < 6 * se + 1e-12
    cv = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", select="cv", max_knots=16).fit(sim.X, sim.Y)
    best = cv.candidates_.loc[cv.candidates_["criterion"].idxmin()]
    assert cv.select_ == "cv" and (best["degree"], best["knots"]) == (cv.degree_, cv.knots_) == cv.selected_
    pen = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", select="penalty", max_knots=16).fit(sim.X, sim.Y)
    assert pen.select_ == "penalty"
    # argmin of risk + c p is non-increasing in c: a heavier penalty never selects more parameters,
    # and c = 10^4 selects the smallest candidate space (p = 1: degree 0, one piece).
    p_of = lambda est: est.knots_ + est.degree_
    heavy = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", select="penalty", penalty=1e4,
                                             max_knots=16).fit(sim.X, sim.Y)
    assert p_of(heavy) <= p_of(pen) and (heavy.degree_, heavy.knots_) == (0, 1)


@pytest.mark.parametrize("M, sigma, select, defined",
                         [(2400, 0.5, "mixture", True), (2400, 0.5, "cv", True), (1200, 1.0, "cv", False)])
def test_adaptive_b_hat_is_the_slope_of_the_selected_K_over_subsamples(M, sigma, select, defined):
    """b_hat_ against its definition, recomputed here: the K selected on the first M / 2^j samples
    (fitted anew with the same options), scipy's OLS slope s of log K on log M_j, b = (1/s - 1)/2,
    and the slope's 95% t interval mapped through the same (decreasing) function, clipped to
    [0, 100]. The second data set selects (by cv) a K that does not grow: no b_hat_."""
    one = attnrate.simulate_pairwise(M=M, N=4, d=3, r=2, activation="weierstrass:1.5", sigma=sigma, seed=11)
    opts = dict(knots="adaptive", max_knots=32, range=(-3.0, 3.0), select=select)
    est = attnrate.PairwiseSplineRegressor(one.A, **opts).fit(one.X, one.Y)
    sizes = [M >> j for j in range(4)]
    K = [attnrate.PairwiseSplineRegressor(one.A, **opts).fit(one.X[:m], one.Y[:m]).selected_[1] for m in sizes]
    fit = scipy.stats.linregress(np.log(sizes), np.log(K))
    assert (fit.slope > 0) == defined
    if not defined:
        assert est.b_hat_ is None and est.b_hat_ci_ is None
        return
    b = lambda s: float(np.clip((1 / s - 1) / 2, 0, 100)) if s > 0 else 100.0
    half = scipy.stats.t.ppf(0.975, len(sizes) - 2) * fit.stderr
    assert 0 < est.b_hat_ < 100 and est.b_hat_ == pytest.approx(b(fit.slope), rel=1e-10)
    assert est.b_hat_ci_ == pytest.approx((b(fit.slope + half), b(fit.slope - half)), rel=1e-8)


def test_joint_fit_learns_g(sim):
    one = attnrate.simulate_pairwise(M=400, N=4, d=3, r=1, activation="tanh", sigma=0.05, seed=5)
    est = attnrate.LowRankPairwiseRegressor(rank=1, knots=6, restarts=2).fit(one.X, one.Y)
    assert est.A_.shape == (3, 3) and np.linalg.matrix_rank(est.A_) == 1
    assert est.U_.shape == (3, 1) and est.V_.shape == (3, 1)
    np.testing.assert_allclose(est.U_ @ est.V_.T, est.A_, rtol=1e-12, atol=1e-14)
    assert est.score(one.X, one.Y) > 0.8
    p = one.token_pairs(5000, seed=3)
    assert est.composed_error(one, test_pairs=5000) < 0.05 * np.var(one.g(p[:, 0], p[:, 1]))
    assert est.diagnostics_["restarts"] == 2
    again = attnrate.LowRankPairwiseRegressor(rank=1, knots=6, restarts=2).fit(one.X, one.Y)
    np.testing.assert_array_equal(again.predict(one.X), est.predict(one.X))


def assert_selected_is_smallest(est):
    """The fitted space is a candidate whose criterion is the smallest up to the selection's tie
    tolerance (adaptive_spline.hpp: 1e-9 relative, or rounding below 1e-10 of the mean Y^2)."""
    crit = est.candidates_["criterion"].to_numpy()
    degree, knots = est.selected_
    chosen = est.candidates_[(est.candidates_["degree"] == degree) & (est.candidates_["knots"] == knots)]
    assert len(chosen) == 1
    assert chosen["criterion"].iloc[0] <= crit.min() + 1e-9 * abs(crit.min()) + 1e-8


def test_a_range_beside_the_data_warns(sim):
    # fit.json's warning, in the estimator's parameter names.
    with pytest.warns(UserWarning, match=r"training interactions \(100%\) lie outside range 5,6 .*leave range unset"):
        est = attnrate.PairwiseSplineRegressor(sim.A, knots=4, range=(5.0, 6.0)).fit(sim.X, sim.Y)
    assert any("lie outside range 5,6" in w for w in est.warnings_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fit on the data's own range warns of nothing
        assert attnrate.PairwiseSplineRegressor(sim.A, knots=4).fit(sim.X, sim.Y).warnings_ == []


def test_adaptive_selection_at_the_top_of_its_grid_warns(sim):
    """A grid of one K (max_knots=1) bounds every selection: the fit says so, as the CLI does. K does
    not grow, so there is no b_hat to warn about; with the default grid (K_max = 8 at M = 300) the
    selections reach its top and b_hat, defined, is named as bounded by the grid."""
    with pytest.warns(UserWarning) as caught:
        est = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", max_knots=1).fit(sim.X, sim.Y)
    messages = [str(w.message) for w in caught]
    assert all(k == 1 for k, _, _ in est.terms_) and est.b_hat_ is None
    assert any(m.startswith("the selected K = 1 is the largest of the candidate grid") and "max_knots" in m
               for m in messages)
    assert not any(m.startswith("b_hat:") for m in messages)
    with pytest.warns(UserWarning) as caught:
        grown = attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive").fit(sim.X, sim.Y)
    messages = [str(w.message) for w in caught]
    assert grown.b_hat_ is not None
    assert any(m.startswith("b_hat: at M = 300") and "raise max_knots" in m for m in messages)


def test_adaptive_joint_fit(sim):
    one = attnrate.simulate_pairwise(M=300, N=4, d=3, r=1, activation="tanh", sigma=0.05, seed=5)
    est = attnrate.LowRankPairwiseRegressor(rank=1, knots="adaptive", restarts=2, max_knots=8).fit(one.X, one.Y)
    assert est.A_.shape == (3, 3) and np.linalg.matrix_rank(est.A_) == 1
    np.testing.assert_allclose(est.U_ @ est.V_.T, est.A_, rtol=1e-12, atol=1e-14)
    # The selected candidate has the smallest criterion, and the ERM ran in the pilot selection's space.
    assert_selected_is_smallest(est)
    assert len(est.candidates_) == 4 * 4 and est.select_ == "mixture"
    assert set(est.pilot_) >= {"degree", "pieces", "selected", "train_risk"}
    # b_hat_ as fit.json's (subsamples fitted jointly): undefined, or inside its interval and the clip.
    assert (est.b_hat_ is None) == (est.b_hat_ci_ is None)
    if est.b_hat_ is not None:
        assert 0 <= est.b_hat_ci_[0] <= est.b_hat_ <= est.b_hat_ci_[1] <= 100
    assert est.score(one.X, one.Y) > 0.8
    again = attnrate.LowRankPairwiseRegressor(rank=1, knots="adaptive", restarts=2, max_knots=8).fit(one.X, one.Y)
    np.testing.assert_array_equal(again.predict(one.X), est.predict(one.X))
    with pytest.raises(ValueError, match="has no effect"):
        attnrate.LowRankPairwiseRegressor(knots="adaptive", degree=2).fit(one.X, one.Y)
    with pytest.raises(ValueError, match="is an option of knots='adaptive'"):
        attnrate.LowRankPairwiseRegressor(knots=4, folds=3).fit(one.X, one.Y)
    # cv-refit: A refitted in each fold; the criteria are then the refitted folds' risks, and the
    # fitted space is the candidate with the smallest one (or the first of a tie).
    refit = attnrate.LowRankPairwiseRegressor(rank=1, knots="adaptive", restarts=2, max_knots=8,
                                              select="cv-refit").fit(one.X, one.Y)
    assert refit.select_ == "cv-refit" and len(refit.candidates_) == len(est.candidates_)
    crit = refit.candidates_["criterion"].to_numpy()
    assert not np.array_equal(crit, est.candidates_["criterion"].to_numpy())
    assert_selected_is_smallest(refit)
    assert refit.score(one.X, one.Y) > 0.8


def test_sklearn_conventions(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, knots=4)
    assert est.get_params()["knots"] == 4 and est.get_params()["A"] is sim.A
    assert est.set_params(knots=5, ridge=0.1) is est and est.knots == 5
    c = clone(est)
    assert c.knots == 5 and not hasattr(c, "coef_")
    with pytest.raises(Exception, match="not fitted"):
        c.predict(sim.X)
    fitted = copy.deepcopy(est.fit(sim.X, sim.Y))
    np.testing.assert_array_equal(fitted.predict(sim.X), est.predict(sim.X))
    joint = attnrate.LowRankPairwiseRegressor(rank=2, knots=3)
    assert clone(joint).get_params() == joint.get_params()


def test_cross_val_score_and_grid_search(sim):
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(attnrate.PairwiseSplineRegressor(sim.A, knots=4), sim.X, sim.Y, cv=cv)
    assert scores.shape == (3,) and np.all(scores > 0)
    scores = cross_val_score(attnrate.PairwiseSplineRegressor(sim.A, knots="adaptive", max_knots=8), sim.X, sim.Y, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    scores = cross_val_score(attnrate.LowRankPairwiseRegressor(rank=2, knots=3, restarts=1), sim.X[:150], sim.Y[:150],
                             cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(attnrate.PairwiseSplineRegressor(sim.A), {"knots": [2, 6], "degree": [1, 2]}, cv=3)
    grid.fit(sim.X, sim.Y)
    assert set(grid.best_params_) == {"knots", "degree"} and grid.best_estimator_.coef_.size > 0
    grid = GridSearchCV(attnrate.LowRankPairwiseRegressor(rank=2, restarts=1), {"knots": [2, 4]}, cv=2)
    grid.fit(sim.X[:120], sim.Y[:120])
    assert grid.best_params_["knots"] in (2, 4)


@pytest.mark.parametrize("make, message", [
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, degree=11), "degree must be in 0..10, got 11"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, ridge=-1.0), "ridge must be >= 0"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=0), "knots must be in 1.."),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="many"), "knots must be"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=None), "knots must be a number of pieces >= 1 or 'adaptive', got None"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", degree=2), "has no effect"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", folds=1), "folds"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", select=None),
     "select must be 'mixture', 'cv', 'cv-refit' or 'penalty', got None"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=4, folds=None), r"folds must be an integer in 2\.\.100 \(at most M\), got None"),
    (lambda s: attnrate.LowRankPairwiseRegressor(knots="adaptive", max_degree=None),
     "max_degree must be an integer in 0..10, got None"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", folds="3"),
     r"folds must be an integer in 2\.\.100 \(at most M\), got '3'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", folds=3.0), "folds must be an integer .*, got 3.0"),
    (lambda s: attnrate.LowRankPairwiseRegressor(knots="adaptive", max_degree=True), "max_degree must be an integer"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", max_knots="16"),
     "max_knots must be an integer >= 1 or None, got '16'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", select=["cv"]),
     r"select must be 'mixture', 'cv', 'cv-refit' or 'penalty', got \['cv'\]"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", select="penalty", penalty="2"),
     "penalty must be a number > 0, got '2'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=4, max_degree=2), "is an option of knots='adaptive'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=4, select="penalty"), "is an option of knots='adaptive'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots=4, penalty=2.0), "is an option of knots='adaptive'"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", penalty=2.0), "is an option of select penalty"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, knots="adaptive", select="penalty", penalty=0.0),
     "penalty must be"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, range=(1.0, -1.0)), "range"),
    (lambda s: attnrate.PairwiseSplineRegressor(np.eye(2)), "A must be 3 x 3"),
    (lambda s: attnrate.PairwiseSplineRegressor(), "A is required"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, range=5), "range must be"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, threads=-1), r"threads must be an integer in 0\.\.4096"),
    (lambda s: attnrate.PairwiseSplineRegressor(s.A, threads=attnrate.MAX_THREADS + 1),
     r"threads must be an integer in 0\.\.4096"),
    (lambda s: attnrate.LowRankPairwiseRegressor(rank=4), r"rank must be at most the data.s token dimension d = 3 \(A is d x d of rank r\), got 4"),
    (lambda s: attnrate.LowRankPairwiseRegressor(knots=2.5), "knots must be an integer"),
    (lambda s: attnrate.LowRankPairwiseRegressor(start="zero"), "start must be moment or random"),
    (lambda s: attnrate.LowRankPairwiseRegressor(seed=None), "seed must be a non-negative integer, got None"),
])
def test_bad_parameters_raise_value_error(sim, make, message):
    with pytest.raises(ValueError, match=message):
        make(sim).fit(sim.X, sim.Y)


def test_bad_data_raise_value_error(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, knots=4)
    with pytest.raises(ValueError, match="X must have 3 dimensions"):
        est.fit(sim.X[0], sim.Y)
    with pytest.raises(ValueError, match=r"Y must have shape \(M, N\)"):
        est.fit(sim.X, sim.Y[:, :2])
    X = sim.X.copy()
    X[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        est.fit(X, sim.Y)
    with pytest.raises(ValueError, match="Y must be an array of numbers"):
        est.fit(sim.X, np.full(sim.Y.shape, "a"))
    with pytest.raises(ValueError, match="N >= 2"):
        est.fit(sim.X[:, :1], sim.Y[:, :1])
    est.fit(sim.X, sim.Y)
    with pytest.raises(ValueError, match="d = 3"):
        est.predict(np.zeros((2, 4, 2)))
    with pytest.raises(ValueError, match="truth must be"):
        est.composed_error(sim.A)
    with pytest.raises(ValueError, match="test_pairs"):
        est.composed_error(sim, test_pairs=1)
    other_d = attnrate.simulate_pairwise(M=10, N=4, d=4, r=1, seed=3)
    with pytest.raises(ValueError, match=r"the truth has d = 4 but the fit was fitted on d = 3"):
        est.composed_error(other_d)
    # As the CLI's data reader: at least 2 samples, A known or not.
    for one in (est, attnrate.LowRankPairwiseRegressor(rank=1, knots=4)):
        with pytest.raises(ValueError, match=r"M = 1 sample; a fit needs at least 2 samples"):
            one.fit(sim.X[:1], sim.Y[:1])
    # Tokens whose interactions overflow are refused naming the sample, never clamped to an end
    # of the spline range (predict, the fit with A known, with a range too) or fitted as phi = 0.
    huge = sim.X.copy()
    huge[5] *= 1e300
    with pytest.raises(ValueError, match=r"sample 5 \(0-based\): an interaction X_i\^T A X_j is not finite"):
        est.predict(huge)
    for fit in (est, attnrate.PairwiseSplineRegressor(sim.A, knots=4, range=(-2, 2))):
        with pytest.raises(ValueError, match=r"sample 5 \(0-based\): an interaction u = X_i\^T A X_j is not finite"):
            fit.fit(huge, sim.Y)
    with pytest.raises(ValueError, match="the tokens are so large that their mean squared norm overflows"):
        attnrate.LowRankPairwiseRegressor(rank=1, knots=4, restarts=1).fit(huge, sim.Y)


def test_composed_error_test_pairs_range_is_the_cli_range(sim):
    est = attnrate.PairwiseSplineRegressor(sim.A, degree=1, knots=4).fit(sim.X, sim.Y)
    for bad in (10, 999, 10**9 + 1):
        with pytest.raises(ValueError, match=r"test_pairs must be in 1000\.\.1000000000"):
            est.composed_error(sim, test_pairs=bad)
    assert est.composed_error(sim, test_pairs=1000) > 0


@pytest.mark.parametrize("seed, message", [(None, "got None"), (-1, "got -1"), (1.9, "got 1.9"), (True, "got True")])
def test_seeds_must_be_non_negative_integers(sim, seed, message):
    est = attnrate.PairwiseSplineRegressor(sim.A, degree=1, knots=4).fit(sim.X, sim.Y)
    with pytest.raises(ValueError, match=r"seed must be an integer in 0\.\.18446744073709551615, " + message):
        est.composed_error(sim, test_pairs=1000, seed=seed)
    with pytest.raises(ValueError, match=r"seed must be an integer in 0\.\.18446744073709551615, " + message):
        sim.token_pairs(10, seed=seed)
    with pytest.raises(ValueError, match="test_pairs must be an integer"):
        est.composed_error(sim, test_pairs=1500.5)
