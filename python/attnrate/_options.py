"""Python values as the option text the library reads (the same text as on the command line)."""

import contextlib
import numbers
import re
import warnings

import numpy as np

from . import _core


def option_text(value):
    """The command-line text of a Python value: numbers in their shortest round-trip form, sequences
    as comma lists (e.g. ``M=[1000, 2000]`` is ``--M 1000,2000``), booleans as true/false."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return ",".join(option_text(v) for v in value)
    raise ValueError(f"an option value must be a number, a string or a list of them, got {value!r}")


def options(pairs):
    """[(option, value, name the caller used)] for _core, leaving out values that are None (the
    library's default then applies). A ``seed`` of None is refused: scikit-learn reads
    ``random_state=None`` as fresh randomness, while here it would silently mean the default seed."""
    for key, value, name in pairs:
        if key == "seed" and value is None:
            raise ValueError(f"{name} must be a non-negative integer, got None: attnrate's results are reproducible "
                             "by construction, so give the seed (runs differ by seed)")
    return [(key, option_text(value), name) for key, value, name in pairs if value is not None]


def _as_caller(text, pairs):
    """``text`` with each ``--option`` named as the caller named it in ``pairs`` (``--max-memory``
    reads ``max_memory``), and the options not given spelt as keyword arguments (``--test-pairs``
    reads ``test_pairs``)."""
    names = {key: name for key, _, name in pairs}
    return re.sub(r"(?<![\w-])--([A-Za-z][A-Za-z0-9-]*)", lambda m: names.get(m[1], m[1].replace("-", "_")), text)


@contextlib.contextmanager
def errors_as_caller(pairs):
    """Raises the library's ValueError (whose message names options as the command line does)
    again naming each option of ``pairs`` as the caller did: ``--M`` reads ``M``, ``--max-memory 1K``
    reads ``max_memory 1K``."""
    try:
        yield
    except ValueError as e:
        text = _as_caller(str(e), pairs)
        if text == str(e):
            raise
        raise ValueError(text) from None


def warn_as_caller(messages, pairs):
    """Issues each of a fit's warnings (fit.json's ``warnings``, sentences that name options as the
    command line does) as a UserWarning at the caller's ``fit`` call, naming each option as the
    ``pairs`` given to options() do: ``--max-knots`` reads ``max_knots``. Returns the sentences as
    issued (the estimators keep them as ``warnings_``)."""
    texts = [_as_caller(message, pairs) for message in messages]
    for text in texts:
        warnings.warn(text, UserWarning, stacklevel=3)
    return texts


def keep_init_args(estimator, args):
    """Stores an estimator's constructor arguments unchanged as attributes of the same names, as
    scikit-learn's get_params, set_params and clone expect; ``args`` is the constructor's locals()."""
    for name, value in args.items():
        if name != "self":
            setattr(estimator, name, value)


def integer_of(value, name, lo, hi):
    """``value`` checked as an integer in lo..hi (a bool, a float such as 1.5 and None are refused),
    for the arguments the library takes as numbers rather than option text."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return int(value)


def seed_of(seed, name="seed"):
    """A seed checked as the command line's --seed reads it: an integer in 0..2^64-1."""
    return integer_of(seed, name, 0, 2**64 - 1)


def threads_of(threads):
    """The ``threads`` parameter checked: an integer in 0..MAX_THREADS (0: all cores), as ``--threads``."""
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 0 <= threads <= _core.MAX_THREADS:
        raise ValueError(f"threads must be an integer in 0..{_core.MAX_THREADS} (0 = all cores), got {threads!r}")
    return int(threads)


def float_array(a, name):
    """``a`` as a C-contiguous float64 array; ValueError naming it when it is not numeric (or is
    complex: converting would drop the imaginary part)."""
    if np.iscomplexobj(a):
        raise ValueError(f"{name} must be an array of real numbers, got a complex array")
    try:
        return np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be an array of numbers: {e}") from None
