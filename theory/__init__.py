"""collapse-theory: exact theory, machine-checked proofs and JAX Monte Carlo of model collapse.

The public API is flat: everything a user needs is importable from ``theory``.
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import ParameterError as ParameterError
from .chain import LEARNERS as LEARNERS
from .chain import GaussianChain as GaussianChain
from .numeric import QUANTITIES as QUANTITIES
from .numeric import exact_state as exact_state
from .numeric import exact_values as exact_values
from .numeric import step_moments as step_moments

try:
    __version__ = version("collapse-theory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name):  # JAX-backed names load lazily, so `import theory` stays fast for symbolic work
    if name in ("simulate", "SimulationResult", "MODES"):
        from . import montecarlo

        return getattr(montecarlo, name)
    raise AttributeError(f"module 'theory' has no attribute {name!r}")
