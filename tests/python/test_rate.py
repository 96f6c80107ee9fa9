"""rate_table: the fit against scipy, the per-size rows, and the same output as `attnrate rate`."""

import json

import numpy as np
import pytest
import scipy.stats

import attnrate


def table():
    """Errors falling like 3 size^-0.8 with a deterministic wobble (the README's example)."""
    sizes, errors, seeds = [], [], []
    for k in range(8):
        for s in range(1, 6):
            n = 100 * 2 ** k
            sizes.append(n)
            errors.append(3 * n ** -0.8 * np.exp(0.15 * np.sin(1.7 * k + 2.3 * s)))
            seeds.append(s)
    return np.array(sizes, dtype=float), np.array(errors), seeds


def test_slope_matches_linregress():
    sizes, errors, seeds = table()
    df = attnrate.rate_table(sizes, errors, seeds=seeds)
    ref = scipy.stats.linregress(np.log(sizes), np.log(errors))
    assert abs(df.attrs["slope"] - ref.slope) < 1e-9
    assert abs(df.attrs["intercept"] - ref.intercept) < 1e-9
    assert abs(df.attrs["slope_se"] - ref.stderr) < 1e-9
    lo, hi = df.attrs["ci_t"]
    t = scipy.stats.t.ppf(0.975, len(sizes) - 2)
    assert lo == pytest.approx(ref.slope - t * ref.stderr, abs=1e-9) and hi == pytest.approx(ref.slope + t * ref.stderr,
                                                                                             abs=1e-9)
    assert df.attrs["verdict"] is None and df.attrs["cells"] == 40 and df.attrs["distinct_sizes"] == 8


def test_rows_per_size():
    sizes, errors, _ = table()
    df = attnrate.rate_table(sizes, errors)
    assert list(df.columns) == ["size", "cells", "median_error", "local_rate"]
    assert list(df["size"]) == sorted(set(sizes)) and list(df["cells"]) == [5] * 8
    med = [np.median(errors[sizes == s]) for s in df["size"]]
    np.testing.assert_allclose(df["median_error"], med, rtol=1e-15)
    assert np.isnan(df["local_rate"][0])
    np.testing.assert_allclose(df["local_rate"][1:], np.diff(np.log(med)) / np.log(2), rtol=1e-12)


def test_verdicts():
    sizes, errors, _ = table()
    assert attnrate.rate_table(sizes, errors, theory=-0.8).attrs["verdict"] == "consistent"
    df = attnrate.rate_table(sizes, errors, theory=-0.5, tolerance=0.01)
    assert df.attrs["verdict"] == "inconsistent" and "-0.5" in df.attrs["rule"]
    assert attnrate.rate_table(sizes, errors, theory=(-1.0, -0.7), bound="within").attrs["verdict"] == "consistent"
    assert attnrate.rate_table(sizes, errors, theory=-0.8, max_ci_width=1e-6).attrs["verdict"] == "inconclusive"


@pytest.mark.parametrize("theory, tolerance", [(-0.8, 0.05), (-0.5, 0.0)])
def test_same_output_as_the_rate_command(cli, tmp_path, theory, tolerance):
    sizes, errors, seeds = table()
    data = tmp_path / "errors.csv"
    data.write_text("size,error,seed\n" + "".join(f"{s!r},{e!r},{k}\n" for s, e, k in zip(sizes, errors, seeds)))
    out = tmp_path / "rate"
    proc = cli("rate", "--data", data, "--theory", theory, "--tolerance", tolerance, "--out", out)
    df = attnrate.rate_table(sizes, errors, theory=theory, tolerance=tolerance, seeds=seeds)
    report = df.attrs["report"]
    assert proc.stdout.startswith(report) and proc.stdout[len(report):].startswith("wrote ")
    assert proc.returncode == (0 if df.attrs["verdict"] == "consistent" else 1)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fit"]["slope"] == df.attrs["slope"]
    assert tuple(summary["fit"]["ci_boot"]) == df.attrs["ci_boot"] and tuple(summary["fit"]["ci_t"]) == df.attrs["ci_t"]
    assert summary["claim"]["verdict"] == df.attrs["verdict"]
    rows = summary["sizes"]
    assert [r["median_error"] for r in rows] == list(df["median_error"])
    assert [r["local_rate"] for r in rows[1:]] == list(df["local_rate"][1:])
    plain = cli("rate", "--data", data)  # without --out or a theory: the printed table alone
    assert plain.returncode == 0 and plain.stdout == attnrate.rate_table(sizes, errors, seeds=seeds).attrs["report"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(sizes=[1, 2, 4], errors=[0.1, -0.2, 0.05]), r"errors\[1\] must be > 0"),
    (dict(sizes=[1, 2, np.inf], errors=[0.1, 0.2, 0.05]), r"sizes\[2\] must be finite"),
    (dict(sizes=[1, 2], errors=[0.1, 0.2]), "at least 3 rows"),
    (dict(sizes=[2, 2, 2], errors=[0.1, 0.2, 0.3]), "at least 2 distinct"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2]), "one entry per row"),
    (dict(sizes=[1, 1, 4], errors=[0.1, 0.2, 0.3], seeds=[1, 1, 1]), "same size and seed as row 0"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], theory=-1, tolerance=-0.1), "tolerance must be >= 0"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], theory=-1, bound="below"), "bound must be equal, at-most"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], theory=(-1, -2), bound="within"), "low <= high"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], max_ci_width=0.1), "max_ci_width .*needs theory"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], bound="atmost"), "bound='atmost' needs theory"),
    (dict(sizes=[1, 2, 4], errors=[0.1, 0.2, 0.3], tolerance=0.1), "tolerance=0.1 needs theory"),
])
def test_bad_tables_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        attnrate.rate_table(**kwargs)
