"""run_study and verify: the study's outputs in out, the same measurements as `attnrate study`, and the
verdicts of a claims file."""

import csv
import json

import pandas as pd
import pytest

import attnrate

SMALL = dict(activation="weierstrass:1", M="200,400,800", seeds=2, test_pairs=1000, bootstrap=100)


def test_listing():
    s = attnrate.studies()
    assert {"minimax-rate", "rfa-vs-mlp"} <= set(s["name"])
    o = attnrate.study_options("minimax-rate")
    assert {"M", "seeds", "test-pairs", "activation"} <= set(o["option"])
    assert "slope" in set(attnrate.study_quantities("minimax-rate")["quantity"])
    with pytest.raises(ValueError, match="minimax-rate"):
        attnrate.study_options("minimax-rat")


def test_run_study_matches_the_command(cli, tmp_path):
    cells, summary = attnrate.run_study("minimax-rate", out=tmp_path / "py", **SMALL)
    assert isinstance(cells, pd.DataFrame) and len(cells) == 3 * 2
    assert {"M", "rep", "error"} <= set(cells.columns)
    assert (tmp_path / "py" / "summary.json").exists() and (tmp_path / "py" / "cells.csv").exists()
    slope = [q for q in summary["quantities"] if q["quantity"] == "slope"]
    assert len(slope) == 1 and slope[0]["value"] < 0
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    proc = cli("study", "minimax-rate", *flags, "--out", tmp_path / "cli")
    assert proc.returncode == 0, proc.stderr
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert cli_summary["quantities"] == summary["quantities"]
    cli_cells = pd.read_csv(tmp_path / "cli" / "cells.csv", float_precision="round_trip")
    assert list(cli_cells["error"]) == list(cells["error"])
    # The DataFrame holds the file's doubles exactly (Python's float() of each decimal).
    with open(tmp_path / "py" / "cells.csv", newline="") as f:
        exact = [float(row["error"]) for row in csv.DictReader(f)]
    assert list(cells["error"]) == exact
    # Resumed from its checkpoints: the same cells.
    again, _ = attnrate.run_study("minimax-rate", out=tmp_path / "py", resume=True, **SMALL)
    assert list(again["error"]) == list(cells["error"])
    # figures=False, as --no-figures: the same measurements, no figure drawn or named.
    bare_cells, bare = attnrate.run_study("minimax-rate", out=tmp_path / "bare", figures=False, **SMALL)
    assert bare["quantities"] == summary["quantities"] and "figure" in summary and "figure" not in bare
    assert not list((tmp_path / "bare").glob("*.png")) and list((tmp_path / "py").glob("*.png"))


def test_run_study_refuses_bad_options(tmp_path):
    with pytest.raises(ValueError, match="did you mean 'seeds'"):
        attnrate.run_study("minimax-rate", out=tmp_path, seedz=2)
    # The suggestion is spelt as a keyword argument is (underscores), not as on the command line.
    with pytest.raises(ValueError, match="did you mean 'test_pairs'"):
        attnrate.run_study("minimax-rate", out=tmp_path, test_pair=2)
    with pytest.raises(ValueError, match="sigma"):
        attnrate.run_study("minimax-rate", out=tmp_path, sigma=-1)
    # lambda is a Python keyword: lambda_ names --lambda (its value reaches the study's check).
    with pytest.raises(ValueError, match=r"lambda_: kfold:K needs an integer K in \[2, 100\], got 'kfold:1'"):
        attnrate.run_study("rfa-vs-mlp", out=tmp_path, lambda_="kfold:1")
    with pytest.raises(ValueError, match="needs out=DIR"):
        attnrate.run_study("minimax-rate", out=None, **SMALL)
    with pytest.raises(TypeError):
        attnrate.run_study("minimax-rate", **SMALL)  # out is required


def test_verify_a_claims_file(tmp_path):
    claims = tmp_path / "mine.toml"
    claims.write_text("""
[[claim]]
id = "mine.minimax.b1.slope"
statement = "With A known, least squares learns phi(x^T A y) for a 1-Hoelder phi at the rate M^(-2/3)"
source = "test"
study = "minimax-rate"
quantity = "slope"
theory = -0.6667
bound = "equal"
tolerance = 5
[claim.params]
activation = "weierstrass:1"
M = "200,400,800"
seeds = 2
test-pairs = 1000
""")
    verdicts = attnrate.verify(claims, profile="quick", out=tmp_path / "out")
    assert list(verdicts["id"]) == ["mine.minimax.b1.slope"]
    assert verdicts["verdict"][0] == "consistent"  # tolerance 5: any decreasing error
    assert (tmp_path / "out" / "report.html").exists()
    assert verdicts.attrs["summary"]["claims"][0]["verdict"] == "consistent"
    # The reports' columns lead, in the reports' order.
    assert list(verdicts.columns[:11]) == ["id", "study", "quantity", "bound", "theory", "measured", "ci_t",
                                           "ci_boot", "tolerance", "verdict", "reason"]
    # A claim that was not measured still has every column (None where it has no value).
    missing = tmp_path / "missing.toml"
    missing.write_text(claims.read_text().replace('study = "minimax-rate"', 'study = "smoothness"')
                       .replace('[claim.params]', '[claim.select]\nactivation = "weierstrass:3"\n[claim.params]')
                       .replace('activation = "weierstrass:1"', 'erm-activations = ""\nknown-activations = "weierstrass:1"')
                       .replace('M = "200,400,800"', 'M-known = "200,400,800"'))
    unmeasured = attnrate.verify(missing, profile="quick", out=tmp_path / "out-missing")
    assert unmeasured["verdict"][0] == "missing"
    assert list(unmeasured.columns[:11]) == list(verdicts.columns[:11])
    assert unmeasured["measured"][0] is None
    # A quantity the claim's options do not report is refused before anything runs.
    only_adaptive = tmp_path / "only-adaptive.toml"
    only_adaptive.write_text(claims.read_text().replace('quantity = "slope"', 'quantity = "oracle-ratio"')
                             .replace('bound = "equal"', 'bound = "at-most"').replace("theory = -0.6667", "theory = 1.5"))
    with pytest.raises(ValueError, match="reports 'oracle-ratio' only with schedule = \"adaptive\""):
        attnrate.verify(only_adaptive, profile="quick", out=tmp_path / "out-refused")
    assert not (tmp_path / "out-refused").exists()
    with pytest.raises(ValueError, match="needs out=DIR"):
        attnrate.verify(claims)
    with pytest.raises(ValueError):
        attnrate.verify(claims, out=tmp_path / "bad", profile="fast")
    with pytest.raises(ValueError, match="--only needs a glob"):  # not read as "every claim"
        attnrate.verify(claims, out=tmp_path / "empty-only", only="")
    assert not (tmp_path / "empty-only").exists()
