"""Rates, studies and claims: the code of ``attnrate rate``, ``attnrate study`` and ``attnrate verify``
called in place, with pandas results."""

import json
import os
import re
import numbers

import numpy as np
import pandas as pd

from . import _core
from ._options import _as_caller, errors_as_caller, float_array, option_text, options, threads_of


def rate_table(sizes, errors, theory=None, bound=None, tolerance=None, seeds=None, max_ci_width=None,
               resamples=2000):
    """The convergence rate of an error table, fitted and judged by ``attnrate rate``'s code.

    ``sizes`` and ``errors`` (one entry per cell, both > 0) and optionally ``seeds`` (one label per
    cell; a (size, seed) pair may occur once). The slope is the OLS slope of log error on log size
    over every cell, with a Student-t and a seed-bootstrap 95% interval (``resamples`` refits).
    With ``theory`` (a number, or (low, high) for ``bound="within"``), the slope is judged by the
    verdict rule of the claims (``bound``: equal, at-most, at-least or within, None: equal;
    ``tolerance`` in slope units, None: 0.05; ``max_ci_width``: inconclusive beyond it); without it
    these three are refused, as ``attnrate rate`` refuses them without ``--theory``.

    Returns a DataFrame with one row per distinct size (increasing): ``size``, ``cells``,
    ``median_error`` and ``local_rate`` (log(e2/e1) / log(s2/s1) between consecutive medians; NaN
    for the first). ``.attrs`` holds the global fit: ``slope``, ``intercept``, ``slope_se``,
    ``residual_sd``, ``ci_t``, ``ci_boot``, ``cells``, ``distinct_sizes``, ``bootstrap_resamples``,
    ``verdict`` (None without theory), ``reason``, ``rule``, ``judged_interval`` and ``report``
    (the text ``attnrate rate`` prints for the same table).
    """
    sizes = [float(v) for v in float_array(sizes, "sizes").ravel()]
    errors = [float(v) for v in float_array(errors, "errors").ravel()]
    seed_labels = [] if seeds is None else [option_text(s) for s in np.asarray(seeds, dtype=object).ravel()]
    pairs = [("resamples", resamples, "resamples")]
    if theory is None:
        for name, value in (("bound", bound), ("tolerance", tolerance)):
            if value is not None:
                raise ValueError(f"{name}={value!r} needs theory (the slope the theory states)")
    else:
        bound = "equal" if bound is None else bound
        tolerance = 0.05 if tolerance is None else tolerance
        if isinstance(theory, (tuple, list, np.ndarray)):
            theory = [float(v) for v in theory]
        elif not isinstance(theory, numbers.Real) or isinstance(theory, bool):
            raise ValueError(f"theory must be a number (or (low, high) with bound='within'), got {theory!r}")
        pairs += [("theory", theory, "theory"), ("bound", bound, "bound"), ("tolerance", tolerance, "tolerance")]
    pairs.append(("max-ci-width", max_ci_width, "max_ci_width"))
    with errors_as_caller(pairs):
        r = _core.rate_table(sizes, errors, seed_labels, options(pairs))
    df = pd.DataFrame(r["rows"], columns=["size", "cells", "median_error", "local_rate"])
    df["local_rate"] = df["local_rate"].astype(float)
    fit = r["fit"]
    claim = r["claim"]
    df.attrs.update({
        "slope": fit["slope"], "intercept": fit["intercept"], "slope_se": fit["slope_se"],
        "residual_sd": fit["residual_sd"], "ci_t": tuple(fit["ci_t"]), "ci_boot": tuple(fit["ci_boot"]),
        "cells": fit["cells"], "distinct_sizes": fit["distinct_sizes"], "ci_level": fit["ci_level"],
        "bootstrap_resamples": fit["bootstrap_resamples"],
        "verdict": None if claim is None else claim["verdict"],
        "reason": None if claim is None else claim["reason"],
        "rule": None if claim is None else claim["rule"],
        "judged_interval": None if claim is None else tuple(claim["judged_interval"]),
        "report": r["report"],
    })
    return df


def studies():
    """The built-in studies: a DataFrame of ``name`` and ``description``."""
    return pd.DataFrame(_core.studies(), columns=["name", "description"])


def study_options(name):
    """A study's options (as on the command line) with their defaults: DataFrame ``option``, ``default``, ``help``."""
    return pd.DataFrame(_core.study_options(name), columns=["option", "default", "help"])


def study_quantities(name):
    """What a study measures: DataFrame ``quantity``, ``description``, ``select`` (the keys that tell its
    measurements apart)."""
    return pd.DataFrame(_core.study_quantities(name), columns=["quantity", "description", "select"])


def _study_option_names(name, given):
    """(option, value, name) for run_study's keyword arguments: a name is the option as on the command
    line (``M``, ``activation``) or with underscores for dashes (``test_pairs`` for ``test-pairs``),
    and a Python keyword with PEP 8's trailing underscore (``lambda_`` for ``lambda``)."""
    keys = {k for k, _, _ in _core.study_options(name)}
    pairs = []
    for arg, value in given.items():
        key = arg
        if arg not in keys and arg.endswith("_") and arg[:-1] in keys:
            key = arg[:-1]
        elif arg not in keys and arg.replace("_", "-") in keys:
            key = arg.replace("_", "-")
        pairs.append((key, value, arg))
    return pairs


def run_study(name, out, threads=0, resume=False, progress=False, figures=True, **study_options_):
    """Runs a study as ``attnrate study NAME --out OUT`` does, with its options as keyword arguments
    (named as on the command line, dashes or underscores: ``M="1000:8000:x2"``, ``seeds=4``,
    ``test_pairs=20000``, ``lambda_="gcv"`` for the Python keyword; a list is a comma list). The
    study writes summary.json, cells.csv, its figures and per-cell checkpoints into ``out``
    (required; ``resume=True`` reuses matching checkpoints). ``progress``: progress lines on
    stderr. ``figures=False``: no figures (gnuplot is not run) and none named in the summary, as
    ``--no-figures``.

    Returns ``(cells, summary)``: cells.csv as a DataFrame and summary.json as a dict (its
    ``quantities`` are the measurements).
    """
    if out is None:
        raise ValueError("run_study needs out=DIR, the folder its summary.json, cells.csv and figures go to")
    out = os.fspath(out)
    pairs = _study_option_names(name, study_options_)
    try:
        text = _core.run_study(name, options(pairs), out, threads_of(threads), bool(resume), bool(progress),
                               bool(figures))
    except ValueError as e:
        # The suggestion for an unknown option, spelt as a keyword argument (underscores); the
        # options given named as given.
        raise ValueError(_as_caller(re.sub(r"unknown key '([^']*)'; did you mean '([^']*)'",
                                           lambda m: f"unknown key '{m[1]}'; did you mean '{m[2].replace('-', '_')}'",
                                           str(e)), pairs)) from None
    summary = json.loads(text)
    cells_path = os.path.join(out, "cells.csv")
    # round_trip: the file's shortest decimals read back as the exact doubles (pandas' default
    # parser can be one unit in the last place off).
    cells = pd.read_csv(cells_path, float_precision="round_trip") if os.path.exists(cells_path) else pd.DataFrame()
    return cells, summary


# The columns of the reports' verdict table, first in verify()'s DataFrame.
_VERDICT_COLUMNS = ["id", "study", "quantity", "bound", "theory", "measured", "ci_t", "ci_boot", "tolerance",
                    "verdict", "reason"]


def verify(claims=None, profile="quick", out=None, only=None, seed=None, threads=0, resume=False, progress=False):
    """Checks claims as ``attnrate verify`` does: ``claims`` a claims file or folder, or a list of them
    (None: the built-in claims); ``profile`` "quick" or "full"; ``only`` a glob over claim ids;
    ``seed`` replaces every claim's base seed. Writes report.html, report.md, summary.json and one
    study folder per claim into ``out`` (required).

    Returns the verdicts as a DataFrame, one row per claim, the reports' columns first (``id``,
    ``study``, ``quantity``, ``bound``, ``theory``, ``measured``, ``ci_t``, ``ci_boot``,
    ``tolerance``, ``verdict``, ``reason``), then the rest of each claim's record in summary.json;
    ``.attrs["summary"]`` is summary.json.
    """
    if out is None:
        raise ValueError("verify needs out=DIR, the folder its reports and study folders go to")
    if claims is None:
        paths = []
    elif isinstance(claims, (str, os.PathLike)):
        paths = [os.fspath(claims)]
    else:
        paths = [os.fspath(p) for p in claims]
    command = "attnrate.verify(" + ", ".join(
        f"{k}={v!r}" for k, v in [("claims", claims), ("profile", profile), ("only", only), ("seed", seed)]
        if v is not None) + ")"
    text = _core.verify(paths, str(profile), None if only is None else str(only),
                        None if seed is None else option_text(seed), os.fspath(out), threads_of(threads), bool(resume),
                        bool(progress), command)
    summary = json.loads(text)
    df = pd.DataFrame(summary.get("claims", []))
    # summary.json's keys come sorted; lead with the verdict table's columns, in its order. A claim
    # that was not measured (missing, ambiguous) has no measured value or intervals: the columns
    # are there all the same, None where a claim lacks them.
    for c in _VERDICT_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[_VERDICT_COLUMNS + [c for c in df.columns if c not in _VERDICT_COLUMNS]]
    df.attrs["summary"] = summary
    return df
