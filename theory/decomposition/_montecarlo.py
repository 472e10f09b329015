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
from functools import lru_cache

import numpy as np

from .._errors import ParameterError, check_integer, check_key
from ..chain import GaussianChain, check_generations
from ._distributions import Normal, as_distribution
from ._first_fit import first_fits
from ._subsets import SUBSETS
from ._subsets import shifted as _shifted

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


# ----------------------------------------------------------------------------------------------- workflows
#: Random numbers in flight per chunk of chains in :func:`workflow_trajectories`.
WORKFLOW_CHUNK_ELEMENTS = 2**21


def _fit(learner, a, real_n, real_mean, real_ss, syn_n, syn_mean, syn_ss, w):
    """The learner on a training set of ``real_n`` real and ``syn_n`` synthetic points given by their counts, means
    and sums of squared deviations, real points of total weight ``w`` (``R/M`` for the plain fit): the weighted
    fit of :mod:`theory.chain._workflow` (mle: ``A sum omega (x - mean)^2``; unbiased: that divided by
    ``1 - sum omega^2``). Either part may be empty (count 0)."""
    import jax.numpy as jnp

    has_r, has_s = real_n > 0, syn_n > 0
    wr = jnp.where(has_r, jnp.where(has_s, w, 1.0), 0.0)
    ws = 1.0 - wr
    r_safe, s_safe = jnp.maximum(real_n, 1.0), jnp.maximum(syn_n, 1.0)
    mean = wr * real_mean + ws * syn_mean
    q = (wr / r_safe * real_ss + ws / s_safe * syn_ss
         + wr * jnp.square(real_mean - mean) + ws * jnp.square(syn_mean - mean))
    if learner == "unbiased":
        q = q / (1.0 - wr**2 / r_safe - ws**2 / s_safe)
    return mean, jnp.sqrt(a * q)


def _stats(x, count=None):
    """Count-masked mean and sum of squared deviations along the last axis (``count`` leading entries used)."""
    import jax.numpy as jnp

    if count is None:
        mean = x.mean(axis=-1)
        return mean, jnp.sum(jnp.square(x - mean[..., None]), axis=-1)
    mask = jnp.arange(x.shape[-1]) < count
    n = jnp.maximum(count, 1).astype(x.dtype)
    mean = jnp.sum(jnp.where(mask, x, 0.0), axis=-1) / n
    return mean, jnp.sum(jnp.where(mask, jnp.square(x - mean[..., None]), 0.0), axis=-1)


def _gaussian_stats(key, mu, sigma, count):
    """Mean and sum of squared deviations of ``count`` i.i.d. ``N(mu, sigma^2)`` points, from their exact law:
    ``mu + sigma z/sqrt(count)`` and ``sigma^2 chi2_{count - 1}`` (independent); zeros for ``count = 0``."""
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(key)
    n = jnp.maximum(count, 1).astype(mu.dtype)
    mean = mu + sigma * jax.random.normal(k1, mu.shape, mu.dtype) / jnp.sqrt(n)
    shape = jnp.maximum((count - 1) / 2, 1e-30).astype(mu.dtype)
    chi2 = jnp.where(count > 1, 2.0 * jax.random.gamma(k2, shape, mu.shape, mu.dtype), 0.0)
    return jnp.where(count > 0, mean, 0.0), jnp.square(sigma) * chi2


@lru_cache(maxsize=32)
def _workflow_kernel(d0, kind: str, learner: str, rows: int, steps: tuple, real_max: int, first: int,
                     records: tuple):
    """One jitted run of ``rows`` chains: ``steps`` = per step ``(M_i, R_i, w_i)``; ``first`` = points drawn from
    ``D_0`` at step 0 (``M_0``); ``records`` = index into the output for each step's new model (-1: not kept)."""
    import jax
    import jax.numpy as jnp

    sizes = jnp.asarray([s[0] for s in steps], jnp.float64)
    reals = jnp.asarray([s[1] for s in steps], jnp.int32)
    weights = jnp.asarray([s[2] for s in steps], jnp.float64)
    record = jnp.asarray(records, jnp.int32)
    kept = max(records) + 1

    def run(key, a):
        k_first, k_steps = jax.random.split(key)
        zero = jnp.zeros(rows, jnp.float64)
        # step 0: model 0 is D_0 itself, so every point of T_0 is a draw of D_0
        x0 = d0.sample(k_first, (rows, first), jnp.float64)
        r0, s0 = steps[0][1], first - steps[0][1]
        if kind == "accumulate":
            pool_mean, pool_ss = _stats(x0)
            pool_n = float(first)
            mu, sigma = _fit(learner, a, pool_n, pool_mean, pool_ss, 0.0, zero, zero, 1.0)
            fixed = (zero, zero)
        else:
            xr = _stats(x0[:, :r0]) if r0 else (zero, zero)  # T_0's real part (mix-fixed: the real set, kept)
            ys = _stats(x0[:, r0:]) if s0 else (zero, zero)  # T_0's synthetic part: M_0 - R_0 draws of model 0
            mu, sigma = _fit(learner, a, float(r0), *xr, float(s0), *ys, steps[0][2])
            fixed = xr
            pool_n, pool_mean, pool_ss = 0.0, zero, zero
        out_mu = jnp.zeros((kept, rows), jnp.float64)
        out_sd = jnp.zeros((kept, rows), jnp.float64)

        def keep(out, value, i):
            idx = record[i]
            safe = jnp.maximum(idx, 0)
            return out.at[safe].set(jnp.where(idx >= 0, value, out[safe]))

        out_mu, out_sd = keep(out_mu, mu, 0), keep(out_sd, sigma, 0)

        def step(carry, i):
            mu, sigma, pool_n, pool_mean, pool_ss, out_mu, out_sd = carry
            k_real, k_syn = jax.random.split(jax.random.fold_in(k_steps, i))
            m = sizes[i]
            if kind == "accumulate":  # merge M_i samples of model i into the pool, fit the pool
                ym, yss = _gaussian_stats(k_syn, mu, sigma, m)
                n_new = pool_n + m
                delta = ym - pool_mean
                pool_mean = pool_mean + delta * m / n_new
                pool_ss = pool_ss + yss + jnp.square(delta) * pool_n * m / n_new
                pool_n = n_new
                mu, sigma = _fit(learner, a, pool_n, pool_mean, pool_ss, 0.0, zero, zero, 1.0)
            else:
                r = reals[i]
                if kind == "mix-fixed":
                    xm, xss = fixed
                else:  # fresh real points from D_0 (R_max drawn, the first R_i used)
                    xm, xss = _stats(d0.sample(k_real, (rows, real_max), jnp.float64), r)
                ym, yss = _gaussian_stats(k_syn, mu, sigma, m - r)
                mu, sigma = _fit(learner, a, r.astype(jnp.float64), xm, xss, m - r, ym, yss, weights[i])
            out_mu, out_sd = keep(out_mu, mu, i), keep(out_sd, sigma, i)
            return (mu, sigma, pool_n, pool_mean, pool_ss, out_mu, out_sd), None

        carry = (mu, sigma, jnp.float64(pool_n), pool_mean, pool_ss, out_mu, out_sd)
        if len(steps) > 1:
            carry, _ = jax.lax.scan(step, carry, jnp.arange(1, len(steps)))
        return carry[5], carry[6]

    return jax.jit(run)


def workflow_trajectories(key, d0, chain: GaussianChain, generations, *, chains: int):
    """``(mu_n, sigma_n)`` of ``chains`` runs of the literal workflow process from ``D_0`` (any distribution with a
    ``sample(key, shape)``), as two ``(len(generations), chains)`` float64 arrays.

    Workflows ``mix``, ``mix-fixed`` (with or without a real weight) and ``accumulate``; constant ``M`` or a
    schedule. The real points are drawn from ``D_0`` (``R_i`` fresh ones per step for ``mix``, one set per chain
    for ``mix-fixed``, the ``M_0`` points of the pool for ``accumulate``), and the learner is fitted to their
    mean and sum of squares together with those of the synthetic points; the synthetic points of a Gaussian model
    enter through their exact joint law (sample mean normal, sum of squares ``sigma^2 chi2``, independent), which
    is the same process in law as drawing them. Step 0 draws all of ``T_0`` from ``D_0`` (model 0 is ``D_0``).
    Cost: ``chains * (M_0 + sum_i R_i)`` draws of ``D_0`` and ``3 chains n`` normal/gamma draws; chains are run
    in chunks of at most :data:`WORKFLOW_CHUNK_ELEMENTS` numbers, one key per chunk (``fold_in(key, chunk)``).
    """
    import jax

    key = check_key(key)
    gens = check_generations(generations)
    if min(gens) < 1:
        raise ParameterError("generations", "integers >= 1 (generation 0 is D_0 itself)", min(gens))
    wf = chain.workflow
    if wf.kind not in ("mix", "mix-fixed", "accumulate"):
        raise ParameterError("workflow", "mix, mix-fixed or accumulate for the literal process from a non-Gaussian "
                             "D_0 (replace and Gaussian chains run in theory.simulate)", str(wf))
    n_max = max(gens)
    chain.check_workflow(n_max)
    sizes = [int(m) for m in chain.sample_sizes(n_max)]
    steps = tuple((m, wf.real_count(m), float(wf.weight(m))) for m in sizes)
    real_max = max([s[1] for s in steps] + [1])
    records = [-1] * n_max
    for j, g in enumerate(sorted(set(gens))):
        records[g - 1] = j
    index = {g: j for j, g in enumerate(sorted(set(gens)))}
    width = max(sizes[0], real_max)
    rows = max(1, min(chains, WORKFLOW_CHUNK_ELEMENTS // width))
    mus, sds = [], []
    with jax.enable_x64(True):
        kernel = _workflow_kernel(d0, wf.kind, chain.learner, rows, steps, real_max, sizes[0], tuple(records))
        a = jax.numpy.float64(chain.variance_scale)
        for c in range(-(-chains // rows)):
            m, s = kernel(jax.random.fold_in(key, c), a)
            mus.append(np.asarray(m))
            sds.append(np.asarray(s))
    mu = np.concatenate(mus, axis=1)[:, :chains]
    sd = np.concatenate(sds, axis=1)[:, :chains]
    rows_out = [index[g] for g in gens]
    return mu[rows_out], sd[rows_out]
