"""Monte Carlo of the recursive Gaussian fitting chain in JAX: many chains at once, scanned over generations.

``simulate`` runs the chains of any workflow (replace, mix, mix-fixed, accumulate, accumulate-subsample; one
kernel per workflow in one engine) (``mode="samples"``: the process itself; ``"sufficient"``: the fitted
statistics drawn from their exact law) and returns MC means and standard errors under the keys of
:func:`theory.exact_values`; ``verify`` compares the two on a grid; ``benchmark`` measures throughput. The other
chains the figures run live here too: the Gaussian-mixture chain fitted by EM (``GMM``, ``fit_em``,
``l2_distance_squared``; :mod:`._gmm`), the discrete resampling chain (``simulate_discrete`` in :mod:`._discrete`,
``verify_discrete``, exact multinomial samplers in :mod:`._categorical`) and repeated sample means
(``sample_means``).
"""

from ._discrete import DiscreteSimulation as DiscreteSimulation
from ._discrete import learner_map as learner_map
from ._discrete import simulate_discrete as simulate_discrete
from ._gmm import GMM as GMM
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
    "select_devices",
    "simulate",
    "simulate_discrete",
    "simulate_kde",
    "simulate_multivariate",
    "simulate_vae",
    "verify_multivariate",
    "verify_discrete",
]
