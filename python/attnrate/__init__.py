"""attnrate: statistical learning theory of attention layers, checked against experiment.

The library's models, estimators, rates, studies and claims from Python (docs/python.md): numpy in,
numpy and pandas out, the C++ code called in place. Estimators follow the scikit-learn conventions.
While a call runs, OpenBLAS is on one thread, as in the attnrate program, so results do not depend
on the number of threads; the estimators thread over blocks themselves (``threads``).
"""

from . import _core
from .pairwise import LowRankPairwiseRegressor, PairwiseSplineRegressor
from .random_features import RandomFeatureAttentionRegressor, RandomFeatureMLPRegressor
from .simulate import PairwiseSimulation, simulate_pairwise, simulate_rfa
from .studies import rate_table, run_study, studies, study_options, study_quantities, verify

__version__ = _core.__version__
MAX_THREADS = _core.MAX_THREADS  # the largest ``threads`` (and --threads)


def build_info():
    """The build information the library records in every output (version, git revision, libraries)."""
    import json

    return json.loads(_core.build_info())


__all__ = [
    "MAX_THREADS",
    "LowRankPairwiseRegressor",
    "PairwiseSimulation",
    "PairwiseSplineRegressor",
    "RandomFeatureAttentionRegressor",
    "RandomFeatureMLPRegressor",
    "build_info",
    "rate_table",
    "run_study",
    "simulate_pairwise",
    "simulate_rfa",
    "studies",
    "study_options",
    "study_quantities",
    "verify",
]
