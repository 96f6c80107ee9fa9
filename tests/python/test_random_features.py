"""Random-feature attention and the random-feature MLP: reproducible fits, the command's fit,
scikit-learn conventions and refused input."""

import json
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

import attnrate


def test_rfa_fit_is_reproducible(rfa_data):
    X, y = rfa_data
    a = attnrate.RandomFeatureAttentionRegressor(heads=8, seed=3).fit(X, y)
    b = attnrate.RandomFeatureAttentionRegressor(heads=8, seed=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))  # bit-identical
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.coef_.shape == (8 * 4,) and a.weights_.shape == (8, 4, 4) and a.n_keys_ == 4 and a.d_ == 3
    assert a.lambda_rule_ == "gcv" and a.lambda_ > 0 and a.lambda_scores_.shape == a.lambda_grid_.shape
    c = attnrate.RandomFeatureAttentionRegressor(heads=8, seed=4).fit(X, y)
    assert not np.array_equal(c.predict(X), a.predict(X))
    # Predictions are the features times the coefficients.
    np.testing.assert_allclose(a.features(X) @ a.coef_, a.predict(X), rtol=1e-10, atol=1e-12)
    assert a.score(X, y) > 0.3


def test_rfa_is_the_commands_fit(cli, tmp_path, rfa_data):
    X, y = rfa_data
    data = tmp_path / "rfa.csv"
    assert cli("simulate", "rfa", "--n", 240, "--N", 4, "--d", 3, "--target", "key-poly:2", "--sigma", 0.1,
               "--seed", 5, "--out", data).returncode == 0
    out = tmp_path / "fit.json"
    proc = cli("fit", "rfa", "--data", data, "--heads", 6, "--sigma-act", "softmax", "--tau", 0.7, "--lambda", "kfold",
               "--seed", 2, "--out", out)
    assert proc.returncode == 0, proc.stderr
    fit = json.loads(out.read_text())
    est = attnrate.RandomFeatureAttentionRegressor(heads=6, sigma="softmax", tau=0.7, lam="kfold", seed=2).fit(X, y)
    np.testing.assert_array_equal(est.coef_, np.array(fit["coefficients"]))
    assert est.lambda_ == fit["lambda"] and est.train_mse_ == fit["train_mse"]


def test_biased_weights_and_fixed_lambda(rfa_data):
    X, y = rfa_data
    est = attnrate.RandomFeatureAttentionRegressor(heads=50, mu=2.0, tau=0.1, lam=0.01, seed=1).fit(X, y)
    assert est.lambda_ == 0.01 and est.lambda_rule_ == "fixed"
    W = est.weights_
    assert abs(W[:, 0, 0].mean() - 2.0) < 0.1 and abs(W[:, 3, 3].mean()) < 0.1  # mu on the token block only
    zero = attnrate.RandomFeatureAttentionRegressor(heads=50, mu=0.0, tau=0.1, lam=0.01, seed=1).fit(X, y)
    assert abs(zero.weights_[:, 0, 0].mean()) < 0.1


def test_mlp_fit_is_reproducible(rfa_data):
    X, y = rfa_data
    a = attnrate.RandomFeatureMLPRegressor(match_heads=8, seed=3).fit(X, y)
    b = attnrate.RandomFeatureMLPRegressor(match_heads=8, seed=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.coef_.shape == (8 * 4,) and a.weights_.shape == (5 * 3 + 1, 32)
    w = attnrate.RandomFeatureMLPRegressor(width=20, sigma="exp", lam="kfold").fit(X, y)
    assert w.coef_.shape == (20,) and np.all(np.isfinite(w.predict(X)))


def test_sklearn_conventions_and_model_selection(rfa_data):
    X, y = rfa_data
    for est in (attnrate.RandomFeatureAttentionRegressor(heads=6), attnrate.RandomFeatureMLPRegressor(match_heads=6)):
        assert clone(est).get_params() == est.get_params()
        scores = cross_val_score(est, X, y, cv=3)
        assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(attnrate.RandomFeatureAttentionRegressor(heads=6), {"lam": [0.001, 0.1], "sigma": ["relu", "exp"]},
                        cv=3).fit(X, y)
    assert grid.best_params_["lam"] in (0.001, 0.1)
    grid = GridSearchCV(attnrate.RandomFeatureMLPRegressor(), {"width": [10, 30]}, cv=3).fit(X, y)
    assert grid.best_estimator_.coef_.shape == (grid.best_params_["width"],)


def test_fitted_models_pickle_and_predict_bit_for_bit(rfa_data):
    # The state is d (and N), the options and the coefficients; the weights are redrawn from the
    # seed, so the unpickled model is the fitted one (joblib's processes, saved models).
    X, y = rfa_data
    for est in (attnrate.RandomFeatureAttentionRegressor(heads=5, sigma="softmax", mu=1.5, tau=0.3, seed=7),
                attnrate.RandomFeatureMLPRegressor(width=20, sigma="exp", lam=0.01, seed=4),
                attnrate.RandomFeatureMLPRegressor(match_heads=3, seed=2)):
        est.fit(X, y)
        back = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(back.predict(X), est.predict(X))
        np.testing.assert_array_equal(back.weights_, est.weights_)
        np.testing.assert_array_equal(back._model.weights, est._model.weights)
        assert back.get_params() == est.get_params()
        unfitted = pickle.loads(pickle.dumps(clone(est)))
        assert not hasattr(unfitted, "coef_")
    # Another class's state (or another layout) is refused, not misread.
    state = est._model.__getstate__()
    assert state[0] == "attnrate.RandomFeatureMlp/1"
    blank = type(attnrate.RandomFeatureAttentionRegressor(heads=2).fit(X, y)._model)
    with pytest.raises(ValueError, match="not a pickled state of attnrate.RandomFeatureAttention/1"):
        blank.__new__(blank).__setstate__(state)


def test_bad_input_raises_value_error(rfa_data):
    X, y = rfa_data
    with pytest.raises(ValueError, match="relu"):
        attnrate.RandomFeatureAttentionRegressor(sigma="tanh").fit(X, y)
    with pytest.raises(ValueError, match="heads must be in 1..1000000"):
        attnrate.RandomFeatureAttentionRegressor(heads=0).fit(X, y)
    with pytest.raises(ValueError, match="match_heads=3 has no effect with width=10"):
        attnrate.RandomFeatureMLPRegressor(width=10, match_heads=3).fit(X, y)
    with pytest.raises(ValueError, match="tau must be >= 0"):
        attnrate.RandomFeatureAttentionRegressor(tau=-1).fit(X, y)
    with pytest.raises(ValueError, match="lam must be a number > 0"):
        attnrate.RandomFeatureAttentionRegressor(lam=0.0).fit(X, y)
    with pytest.raises(ValueError, match="tau 0 with zero-mean weights draws every query-key weight as 0"):
        attnrate.RandomFeatureAttentionRegressor(tau=0.0).fit(X, y)
    with pytest.raises(ValueError, match=r"lam kfold:50 needs at least 50 training samples \(one per fold\), but the data hold n = 20"):
        attnrate.RandomFeatureAttentionRegressor(lam="kfold:50").fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="lam must be"):
        attnrate.RandomFeatureAttentionRegressor(lam=None).fit(X, y)
    for regressor in (attnrate.RandomFeatureAttentionRegressor, attnrate.RandomFeatureMLPRegressor):
        with pytest.raises(ValueError, match="seed must be a non-negative integer, got None"):
            regressor(seed=None).fit(X, y)
    with pytest.raises(ValueError, match="X must be an array of real numbers, got a complex array"):
        attnrate.RandomFeatureAttentionRegressor().fit(X + 1j, y)
    with pytest.raises(ValueError, match="y must be an array of numbers"):
        attnrate.RandomFeatureAttentionRegressor().fit(X, ["a"] * 240)
    with pytest.raises(ValueError, match="threads"):
        attnrate.RandomFeatureMLPRegressor(threads=1.5).fit(X, y)
    with pytest.raises(ValueError, match="y must have one entry per sample"):
        attnrate.RandomFeatureAttentionRegressor().fit(X, y[:10])
    with pytest.raises(ValueError, match="X must have 3 dimensions"):
        attnrate.RandomFeatureMLPRegressor().fit(X[:, 0], y)
    for est in (attnrate.RandomFeatureAttentionRegressor(), attnrate.RandomFeatureMLPRegressor()):
        with pytest.raises(ValueError, match=r"n = 1 sample; a fit needs at least 2 samples"):
            est.fit(X[:1], y[:1])  # as fit rfa's data reader
    for width in (-3, 0, 2.5):
        with pytest.raises(ValueError, match="width"):
            attnrate.RandomFeatureMLPRegressor(width=width).fit(X, y)
    mlp = attnrate.RandomFeatureMLPRegressor(match_heads=4).fit(X, y)
    with pytest.raises(ValueError):
        mlp.predict(X[:, :3])  # the MLP is tied to N
    rfa = attnrate.RandomFeatureAttentionRegressor(heads=4).fit(X, y)
    assert rfa.predict(X[:, :3]).shape == (240,)  # attention takes any number of keys
    with pytest.raises(ValueError):
        rfa.predict(X[:, :, :2])


def test_a_penalty_at_the_end_of_its_grid_is_flagged(rfa_data):
    """Outputs independent of the inputs: GCV's best fit is the zero function, the largest penalty."""
    X, _ = rfa_data
    noise = np.random.default_rng(5).normal(size=X.shape[0])
    with pytest.warns(UserWarning, match="is an end of the gcv search's grid.*near the zero function"):
        est = attnrate.RandomFeatureAttentionRegressor(heads=8).fit(X, noise)
    assert est.lambda_at_edge_ and est.lambda_ == max(est.lambda_grid_)
    assert len(est.warnings_) == 1 and "a fixed lam" in est.warnings_[0]
    fixed = attnrate.RandomFeatureAttentionRegressor(heads=8, lam=0.01).fit(X, noise)
    assert not fixed.lambda_at_edge_


def test_openblas_threads_are_restored(rfa_data):
    ctypes = pytest.importorskip("ctypes")
    try:
        blas = ctypes.CDLL("libopenblas.so.0")
    except OSError:
        pytest.skip("libopenblas.so.0 not found")
    before = blas.openblas_get_num_threads()
    blas.openblas_set_num_threads(2)
    if blas.openblas_get_num_threads() != 2:
        blas.openblas_set_num_threads(before)
        pytest.skip("OpenBLAS runs on one thread only here")
    try:
        X, y = rfa_data
        attnrate.RandomFeatureAttentionRegressor(heads=4).fit(X, y).predict(X)  # pins BLAS to 1 while it runs
        assert blas.openblas_get_num_threads() == 2
    finally:
        blas.openblas_set_num_threads(before)
