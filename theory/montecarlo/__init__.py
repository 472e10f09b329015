"""Monte Carlo of the recursive Gaussian fitting chain in JAX: many chains at once, scanned over generations.

``simulate`` runs the chains of any workflow (replace, mix, mix-fixed, accumulate, accumulate-subsample; one
kernel per workflow in one engine) (``mode="samples"``: the process itself; ``"sufficient"``: the fitted
statistics drawn from their exact law) and returns MC means and standard errors under the keys of
:func:`theory.exact_values`; ``verify`` compares the two on a grid; ``benchmark`` measures throughput.
"""

from ._sharding import chain_mesh as chain_mesh
from ._sharding import select_devices as select_devices
from ._simulate import MODES as MODES
from ._simulate import simulate as simulate
from ._summary import QUANTITIES as QUANTITIES
from ._summary import SimulationResult as SimulationResult

__all__ = ["MODES", "QUANTITIES", "SimulationResult", "chain_mesh", "select_devices", "simulate"]
