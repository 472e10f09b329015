"""collapse-theory: exact theory, machine-checked proofs and JAX Monte Carlo of model collapse.

The public API is flat: everything a user needs is importable from ``theory`` (``from theory import simulate``).
Submodules load on first use (a module-level ``__getattr__``), so ``import theory`` costs milliseconds and a
numeric call pulls in only what it needs: SymPy for the symbolic derivations, JAX only for the Monte Carlo.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ._errors import ParameterError as ParameterError

try:
    __version__ = version("collapse-theory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

#: public name -> submodule that defines it (loaded on first access)
_LAZY: dict[str, str] = {
    "LEARNERS": "chain",
    "WORKFLOWS": "chain",
    "CategoricalSource": "chain",
    "DiscreteChain": "chain",
    "DiscreteLearner": "chain",
    "GaussianChain": "chain",
    "MultivariateGaussianChain": "chain",
    "GMMChain": "chain",
    "GMMLearner": "chain",
    "KDEChain": "chain",
    "KDELearner": "chain",
    "VAEChain": "chain",
    "VAELearner": "chain",
    "parse_learner": "chain",
    "parse_source": "chain",
    "Workflow": "chain",
    "Decomposition": "decomposition",
    "decompose": "decomposition",
    "gmm_decomposition": "decomposition",
    "kde_decomposition": "decomposition",
    "vae_decomposition": "decomposition",
    "QUANTITIES": "numeric",
    "BoundedDrift": "numeric",
    "accuracy_limit": "numeric",
    "bounded_drift": "numeric",
    "collapse_time": "numeric",
    "drift_partial_sums": "numeric",
    "exact_state": "numeric",
    "exact_values": "numeric",
    "discrete_exact_values": "numeric",
    "multivariate_exact_values": "numeric",
    "kde_exact_values": "numeric",
    "expansion_error": "numeric",
    "leading_order": "numeric",
    "median_sd_ratio": "numeric",
    "published_expansions": "numeric",
    "sd_ratio_cdf": "numeric",
    "step_moments": "numeric",
    "workflow_limits": "numeric",
    "derive": "symbolic",
    "simulate": "montecarlo",
    "simulate_multivariate": "montecarlo",
    "simulate_gmm": "montecarlo",
    "simulate_kde": "montecarlo",
    "simulate_vae": "montecarlo",
    "verify_multivariate": "montecarlo",
    "SimulationResult": "montecarlo",
    "MODES": "montecarlo",
    "Claim": "validation",
    "ClaimResult": "validation",
    "Verdict": "validation",
    "check_claim": "validation",
    "check_claims": "validation",
    "claim_ids": "validation",
    "get_claim": "validation",
}

__all__ = ["ParameterError", "__version__", *_LAZY]


#: subpackages, importable as attributes too (``theory.montecarlo`` after ``import theory``)
_SUBPACKAGES = ("chain", "cli", "decomposition", "figures", "montecarlo", "numeric", "quantities", "symbolic",
                "validation")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'theory' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .chain import LEARNERS as LEARNERS
    from .chain import WORKFLOWS as WORKFLOWS
    from .chain import CategoricalSource as CategoricalSource
    from .chain import DiscreteChain as DiscreteChain
    from .chain import DiscreteLearner as DiscreteLearner
    from .chain import GaussianChain as GaussianChain
    from .chain import MultivariateGaussianChain as MultivariateGaussianChain
    from .chain import Workflow as Workflow
    from .chain import parse_source as parse_source
    from .decomposition import Decomposition as Decomposition
    from .decomposition import decompose as decompose
    from .montecarlo import MODES as MODES
    from .montecarlo import SimulationResult as SimulationResult
    from .montecarlo import simulate as simulate
    from .montecarlo import simulate_multivariate as simulate_multivariate
    from .montecarlo import verify_multivariate as verify_multivariate
    from .numeric import QUANTITIES as QUANTITIES
    from .numeric import BoundedDrift as BoundedDrift
    from .numeric import accuracy_limit as accuracy_limit
    from .numeric import bounded_drift as bounded_drift
    from .numeric import collapse_time as collapse_time
    from .numeric import discrete_exact_values as discrete_exact_values
    from .numeric import drift_partial_sums as drift_partial_sums
    from .numeric import exact_state as exact_state
    from .numeric import exact_values as exact_values
    from .numeric import expansion_error as expansion_error
    from .numeric import leading_order as leading_order
    from .numeric import median_sd_ratio as median_sd_ratio
    from .numeric import multivariate_exact_values as multivariate_exact_values
    from .numeric import published_expansions as published_expansions
    from .numeric import sd_ratio_cdf as sd_ratio_cdf
    from .numeric import step_moments as step_moments
    from .numeric import workflow_limits as workflow_limits
    from .symbolic import derive as derive
    from .validation import Claim as Claim
    from .validation import ClaimResult as ClaimResult
    from .validation import Verdict as Verdict
    from .validation import check_claim as check_claim
    from .validation import check_claims as check_claims
    from .validation import claim_ids as claim_ids
    from .validation import get_claim as get_claim
