"""Monte Carlo of the chain started from ``D_0``: the check of every ``e_T`` with the statistical source on.

One run: draw ``M_0`` samples of ``D_0`` (or of ``G`` when expressivity is off), fit the learner
(``mu_1`` = sample mean, ``sigma_1^2 = a SS/d``), then continue the Gaussian chain. The continuation reuses the
engine unchanged: both learners are affine-equivariant, so from ``(mu_1, sigma_1)`` the chain is
``mu_n = mu_1 + sigma_1 mu'_{n-1}``, ``sigma_n = sigma_1 sigma'_{n-1}`` with ``(mu', sigma')`` a standard
Gaussian chain (``N(0, 1)``, schedule ``M_1, M_2, ...``) independent of the first fit:
:func:`theory.montecarlo.simulate` with ``trajectories=True``. Each run's error is
``W2^2(p_n, D_0) = (mu_n - mu)^2 + (sigma_n - sigma)^2 + 2 sigma (1 - rho) sigma_n`` (the 1-D lemma of
``proofs/decomposition.md``, checked against direct quantile quadrature in the tests).
"""

from __future__ import annotations

import math

import numpy as np

from .._errors import ParameterError, check_integer, check_key
from ..chain import GaussianChain, check_generations
from ._decompose import SUBSETS, _shifted
from ._distributions import Normal, as_distribution
from ._first_fit import first_fits

#: The subsets with the statistical source on (the others are deterministic).
RANDOM_SUBSETS = tuple(t for t in SUBSETS if "S" in t)


def simulate_decomposition(
    key,
    d0,
    generations,
    *,
    sample_size,
    learner: str = "unbiased",
    variance_scale: float = 1.0,
    chains: int,
    subsets=RANDOM_SUBSETS,
    mode: str = "sufficient",
) -> dict:
    """Monte Carlo means and standard errors of ``e_T(n)`` for each subset ``T`` containing ``"S"``.

    Returns ``{T: {"mean": array, "stderr": array}}`` aligned with ``generations``; subset ``T`` uses the
    sub-key ``fold_in(key, index of T in SUBSETS)`` (first fits from ``fold_in(., 0)``, continuation from
    ``fold_in(., 1)``). ``mode`` is passed to :func:`theory.montecarlo.simulate` for the continuation.
    """
    import jax

    from ..montecarlo import simulate

    key = check_key(key)
    dist = as_distribution(d0)
    gens = check_generations(generations)
    if min(gens) < 1:
        raise ParameterError("generations", "integers >= 1", min(gens))
    chains = check_integer("chains", chains, minimum=2)
    chain = GaussianChain(sample_size, learner=learner, variance_scale=variance_scale)
    sizes = chain.sample_sizes(max(gens))
    m0 = int(sizes[0])
    d_0 = chain.variance_divisor(m0)
    mu, sigma = float(dist.mean), float(dist.sd)
    rho = dist.rho()[0]
    out = {}
    for t in subsets:
        if t not in RANDOM_SUBSETS:
            raise ParameterError("subsets", "subsets containing 'S': " + ", ".join(RANDOM_SUBSETS), t)
        sub = jax.random.fold_in(key, SUBSETS.index(t))
        a = float(variance_scale) if "P" in t else 1.0
        source = dist if "X" in t else Normal(mu, sigma)
        r = rho if "X" in t else 1.0
        mean1, ss = first_fits(jax.random.fold_in(sub, 0), source, m0, chains)
        mu1, sd1 = mean1, np.sqrt(a * ss / d_0)
        rest = GaussianChain(_shifted(chain.sample_size), learner=learner, variance_scale=a, sigma=1.0, mu=0.0)
        if max(gens) > 1:
            with jax.enable_x64(True):
                sim = simulate(jax.random.fold_in(sub, 1), rest, chains=chains, generations=[g - 1 for g in gens],
                               mode=mode, dtype="float64", trajectories=True, progress=False)
            mu_rest, sd_rest = sim.mu_trajectories, sim.sigma_trajectories
        else:
            mu_rest, sd_rest = np.zeros((len(gens), chains)), np.ones((len(gens), chains))
        mu_n = mu1[None, :] + sd1[None, :] * mu_rest
        sd_n = sd1[None, :] * sd_rest
        w2 = (mu_n - mu) ** 2 + (sd_n - sigma) ** 2 + 2 * sigma * (1 - r) * sd_n
        out[t] = {"mean": w2.mean(axis=1), "stderr": w2.std(axis=1, ddof=1) / math.sqrt(chains)}
    return out
