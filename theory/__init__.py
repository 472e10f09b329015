"""collapse-theory: exact theory, machine-checked proofs and JAX Monte Carlo of model collapse.

The public API is flat: everything a user needs is importable from ``theory``.
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import ParameterError as ParameterError
from .chain import LEARNERS as LEARNERS
from .chain import GaussianChain as GaussianChain
from .decomposition import Decomposition as Decomposition
from .decomposition import decompose as decompose
from .numeric import QUANTITIES as QUANTITIES
from .numeric import BoundedDrift as BoundedDrift
from .numeric import accuracy_limit as accuracy_limit
from .numeric import bounded_drift as bounded_drift
from .numeric import collapse_time as collapse_time
from .numeric import drift_partial_sums as drift_partial_sums
from .numeric import exact_state as exact_state
from .numeric import exact_values as exact_values
from .numeric import expansion_error as expansion_error
from .numeric import leading_order as leading_order
from .numeric import median_sd_ratio as median_sd_ratio
from .numeric import published_expansions as published_expansions
from .numeric import sd_ratio_cdf as sd_ratio_cdf
from .numeric import step_moments as step_moments
from .symbolic import derive as derive

try:
    __version__ = version("collapse-theory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name):  # JAX-backed names load lazily, so `import theory` stays fast for symbolic work
    if name in ("simulate", "SimulationResult", "MODES"):
        from . import montecarlo

        return getattr(montecarlo, name)
    raise AttributeError(f"module 'theory' has no attribute {name!r}")
