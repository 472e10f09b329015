"""Split the collapse error into its three sources: statistical, functional expressivity, functional approximation.

``decompose(d0, generations, sample_size=M, learner=..., variance_scale=A)`` gives, for any 1-D real-data
distribution ``D_0`` with finite variance, the exact error ``e(n) = E W2^2(p_n, D_0)`` of the recursive Gaussian
fitting chain started from ``D_0``, the error ``e_T(n)`` with only the sources in ``T`` switched on (all eight
subsets), the three single-source parts, the interaction remainder (parts add up to the total) and the Shapley
attribution (adds up too). Derivations: ``proofs/decomposition.md``. ``simulate_decomposition`` is the Monte Carlo
check: the first fit from ``D_0`` samples, then the Gaussian chain of :func:`theory.montecarlo.simulate`.

``decompose(..., workflow="mix:0.1")`` works for every training workflow: the subsets with the statistical source
off are exact recursions of the infinite-data fit (:func:`infinite_data_variance`), those with it on rest on a
Monte Carlo ``E sigma_n`` (:func:`theory.simulate` for Gaussian real points, :func:`workflow_trajectories` for a
non-Gaussian ``D_0``), and ``Decomposition.methods`` says per value which.

The learned chains have their own: ``kde_decomposition`` (exact: statistical h -> 0, approximation M -> infinity,
interaction), ``gmm_decomposition`` (Monte Carlo: each source switched off in its own runs) with
``gaussian_trace_prediction`` (the multivariate Gaussian theory the mixture's total covariance follows), and
``vae_decomposition`` (Monte Carlo: the statistical part by training on ten times the samples).
"""

from ._decompose import DEFAULT_CHAINS as DEFAULT_CHAINS
from ._decompose import PARTS as PARTS
from ._decompose import SOURCES as SOURCES
from ._decompose import SUBSETS as SUBSETS
from ._decompose import Decomposition as Decomposition
from ._decompose import decompose as decompose
from ._decompose import infinite_data_variance as infinite_data_variance
from ._distributions import SPEC_HELP as SPEC_HELP
from ._distributions import Empirical as Empirical
from ._distributions import GaussianMixture as GaussianMixture
from ._distributions import Laplace as Laplace
from ._distributions import Normal as Normal
from ._distributions import StudentT as StudentT
from ._distributions import Uniform as Uniform
from ._distributions import load_data as load_data
from ._distributions import parse_d0 as parse_d0
from ._first_fit import FirstFitSd as FirstFitSd
from ._first_fit import first_fit_sd as first_fit_sd
from ._gmm import GMMDecomposition as GMMDecomposition
from ._gmm import gaussian_trace_prediction as gaussian_trace_prediction
from ._gmm import gmm_decomposition as gmm_decomposition
from ._kde import kde_decomposition as kde_decomposition
from ._montecarlo import simulate_decomposition as simulate_decomposition
from ._montecarlo import workflow_trajectories as workflow_trajectories
from ._vae import vae_decomposition as vae_decomposition

__all__ = [
    "DEFAULT_CHAINS", "PARTS", "SOURCES", "SPEC_HELP", "SUBSETS", "Decomposition", "Empirical", "FirstFitSd",
    "GaussianMixture", "Laplace", "Normal", "StudentT", "Uniform", "decompose", "first_fit_sd",
    "infinite_data_variance", "gmm_decomposition", "GMMDecomposition", "gaussian_trace_prediction",
    "kde_decomposition", "load_data", "parse_d0", "simulate_decomposition", "vae_decomposition", "workflow_trajectories",
]
