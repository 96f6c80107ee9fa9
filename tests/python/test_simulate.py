"""simulate_pairwise and simulate_rfa: the command's data, the truth's g and phi, refused options."""

import json

import numpy as np
import pytest

import attnrate
from conftest import read_long_csv


def test_simulate_pairwise_shapes(sim):
    assert sim.X.shape == (300, 4, 3) and sim.Y.shape == (300, 4) and sim.A.shape == (3, 3)
    assert sim.X.dtype == np.float64 and sim.X.flags.c_contiguous
    assert np.linalg.matrix_rank(sim.A) == 2
    assert sim.truth.activation == "weierstrass:1.5" and sim.truth.N == 4 and sim.truth.d == 3


def test_simulate_pairwise_is_the_commands_data(cli, tmp_path):
    args = dict(M=40, N=5, d=3, r=2, activation="bspline:3", sigma=0.3, seed=9, tokens="gaussian")
    sim = attnrate.simulate_pairwise(**args)
    out = tmp_path / "data.csv"
    flags = [f"--{k}={v}" for k, v in args.items()]
    proc = cli("simulate", "pairwise", *flags, "--out", out)
    assert proc.returncode == 0, proc.stderr
    X, Y = read_long_csv(out, 3)
    np.testing.assert_array_equal(X, sim.X)  # bit for bit: the CSV holds shortest round-trip numbers
    np.testing.assert_array_equal(Y, sim.Y)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "data.A.csv", delimiter=","), sim.A)
    truth = json.loads((tmp_path / "data.truth.json").read_text())
    assert truth["activation_seed"] == sim.activation_seed and truth["activation"] == sim.truth.activation


def test_truth_g_and_phi_give_the_noiseless_outputs():
    sim = attnrate.simulate_pairwise(M=20, N=4, d=3, r=1, activation="tanh", sigma=0.0, seed=3)
    X, A = sim.X, sim.A
    u = np.einsum("mid,de,mje->mij", X, A, X)
    g = sim.g(X[:, :, None, :], X[:, None, :, :])
    np.testing.assert_allclose(g, sim.phi(u), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sim.phi(u), np.tanh(u), rtol=1e-14, atol=1e-15)
    off = ~np.eye(4, dtype=bool)
    Y = (g * off).sum(axis=2) / 3
    np.testing.assert_allclose(sim.Y, Y, rtol=1e-12, atol=1e-14)
    assert isinstance(sim.phi(0.5), float)


def test_token_pairs_are_reproducible(sim):
    p = sim.token_pairs(100, seed=4)
    assert p.shape == (100, 2, 3)
    np.testing.assert_array_equal(p, sim.token_pairs(100, seed=4))
    assert np.abs(p).max() <= 1.0  # uniform tokens on [-1, 1]^d


@pytest.mark.parametrize("kwargs, message", [
    (dict(sigma=-1.0), "sigma"),
    (dict(activation="weierstras:1"), "weierstrass"),
    (dict(r=4, d=3), "r"),
    (dict(M=1), "M must be"),
    (dict(tokens="cauchy"), "cauchy"),
])
def test_simulate_pairwise_refuses_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        attnrate.simulate_pairwise(**{**dict(M=10, N=3, d=3, r=1), **kwargs})


def test_messages_name_the_arguments_as_python_does():
    # The library's messages name command-line options; Python's name the keyword arguments.
    for call in (lambda: attnrate.simulate_pairwise(M=100000, max_memory="1K"),
                 lambda: attnrate.simulate_rfa(n=100000, max_memory="1K")):
        with pytest.raises(ValueError) as e:
            call()
        assert "(max_memory 1K)" in str(e.value) and "N or d, or raise max_memory" in str(e.value)
        assert "--" not in str(e.value)


def test_simulate_rfa_is_the_commands_data(cli, tmp_path, rfa_data):
    X, y = rfa_data
    assert X.shape == (240, 5, 3) and y.shape == (240,)
    out = tmp_path / "rfa.csv"
    proc = cli("simulate", "rfa", "--n", 240, "--N", 4, "--d", 3, "--target", "key-poly:2", "--sigma", 0.1,
               "--seed", 5, "--out", out)
    assert proc.returncode == 0, proc.stderr
    Xc, Yc = read_long_csv(out, 3)
    np.testing.assert_array_equal(Xc, X)
    np.testing.assert_array_equal(Yc[:, 0], y)


def test_data_seed_draws_the_samples_and_seed_the_truth():
    # simulate_rfa: the inputs come from data_seed alone (None: seed).
    X5, y5 = attnrate.simulate_rfa(n=30, N=3, d=4, seed=5)
    X55, y55 = attnrate.simulate_rfa(n=30, N=3, d=4, seed=5, data_seed=5)
    np.testing.assert_array_equal(X5, X55)
    np.testing.assert_array_equal(y5, y55)
    # The target stays that of seed: key-poly's random direction b differs between seeds 5 and 6,
    # so on the same inputs (data_seed 6) the noiseless targets differ.
    X56, y56 = attnrate.simulate_rfa(n=30, N=3, d=4, target="key-poly:2", sigma=0, seed=5, data_seed=6)
    X6, y6 = attnrate.simulate_rfa(n=30, N=3, d=4, target="key-poly:2", sigma=0, seed=6)
    np.testing.assert_array_equal(X56, X6)
    assert not np.array_equal(X56, X5)
    assert not np.allclose(y56, y6)
    # simulate_pairwise: the same model (A) with fresh samples.
    a = attnrate.simulate_pairwise(M=20, N=3, d=3, r=1, seed=5)
    b = attnrate.simulate_pairwise(M=20, N=3, d=3, r=1, seed=5, data_seed=6)
    np.testing.assert_array_equal(a.A, b.A)
    assert not np.array_equal(a.X, b.X)
