"""collapse-theory: exact theory, machine-checked proofs and JAX Monte Carlo of model collapse.

The public API is flat: everything a user needs is importable from ``theory``.
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import ParameterError as ParameterError
from .chain import LEARNERS as LEARNERS
from .chain import GaussianChain as GaussianChain

try:
    __version__ = version("collapse-theory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
