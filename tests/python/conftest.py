"""Shared fixtures of the Python tests (run by ctest as python.pytest, with PYTHONPATH=<build>/python
and ATTNRATE_CLI the attnrate program of the same build)."""

import os
import subprocess

import numpy as np
import pytest

import attnrate


@pytest.fixture(scope="session")
def cli():
    """Runs the attnrate program of the build: cli(*args) -> CompletedProcess (text, not checked)."""
    path = os.environ.get("ATTNRATE_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("ATTNRATE_CLI (the attnrate program of this build) is not set")

    def run(*args):
        return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture(scope="session")
def sim():
    """A small simulation with A known: M = 300 samples of N = 4 tokens in d = 3, rank 2."""
    return attnrate.simulate_pairwise(M=300, N=4, d=3, r=2, activation="weierstrass:1.5", sigma=0.2, seed=11)


@pytest.fixture(scope="session")
def rfa_data():
    """Attention data: n = 240 samples of a query and N = 4 keys in d = 3."""
    return attnrate.simulate_rfa(n=240, N=4, d=3, target="key-poly:2", sigma=0.1, seed=5)


def read_long_csv(path, d):
    """sample,token|key,x1..xd,y as (X (M, T, d), Y (M, T))."""
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    M, T = int(table[:, 0].max()) + 1, int(table[:, 1].max()) + 1
    return table[:, 2:2 + d].reshape(M, T, d), table[:, 2 + d].reshape(M, T)
