"""Monte Carlo of the recursive Gaussian fitting chain in JAX: many chains at once, scanned over generations.

``simulate`` runs the chains of any workflow (replace, mix, mix-fixed, accumulate, accumulate-subsample; one
kernel per workflow in one engine) (``mode="samples"``: the process itself; ``"sufficient"``: the fitted
statistics drawn from their exact law) and returns MC means and standard errors under the keys of
:func:`theory.exact_values`; ``verify`` compares the two on a grid; ``benchmark`` measures throughput. The other
chains live here too: the learned models of the chain model — the Gaussian mixture fitted by EM
(``simulate_gmm``, ``GMM``, ``fit_em``, ``l2_distance_squared``, ``w2_bracket``; :mod:`._gmm`), the kernel density
estimate (``simulate_kde``) and the VAE on the 8x8 digits (``simulate_vae``) — the discrete resampling chain
(``simulate_discrete`` in :mod:`._discrete`, ``verify_discrete``, exact multinomial samplers in
:mod:`._categorical`) and repeated sample means (``sample_means``).
"""

from ._discrete import DiscreteSimulation as DiscreteSimulation
from ._discrete import learner_map as learner_map
from ._discrete import simulate_discrete as simulate_discrete
from ._gmm import GMM as GMM
from ._gmm import GMMRun as GMMRun
from ._gmm import simulate_gmm as simulate_gmm
from ._gmm import summarise as summarise_gmm
from ._gmm import w2_bracket as w2_bracket
from ._gmm import fit_em as fit_em
from ._gmm import l2_distance_squared as l2_distance_squared
from ._kde import simulate_kde as simulate_kde
from ._multivariate import MultivariateSimulation as MultivariateSimulation
from ._multivariate import simulate_multivariate as simulate_multivariate
from ._verify_multivariate import verify_multivariate as verify_multivariate
from ._sample_means import sample_means as sample_means
from ._sharding import chain_mesh as chain_mesh
from ._sharding import select_devices as select_devices
from ._simulate import MODES as MODES
from ._simulate import simulate as simulate
from ._summary import QUANTITIES as QUANTITIES
from ._summary import SimulationResult as SimulationResult
from ._vae import simulate_vae as simulate_vae
from ._verify_discrete import verify_discrete as verify_discrete

__all__ = [
    "GMM",
    "GMMRun",
    "MODES",
    "QUANTITIES",
    "DiscreteSimulation",
    "MultivariateSimulation",
    "SimulationResult",
    "chain_mesh",
    "fit_em",
    "l2_distance_squared",
    "learner_map",
    "sample_means",
    "summarise_gmm",
    "select_devices",
    "simulate",
    "simulate_discrete",
    "simulate_gmm",
    "simulate_kde",
    "simulate_multivariate",
    "simulate_vae",
    "verify_multivariate",
    "verify_discrete",
    "w2_bracket",
]
