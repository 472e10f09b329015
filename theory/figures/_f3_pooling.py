"""F3: data pooling against replace. Each generation appends M new samples, drawn from the current model, to a
pool that starts with M samples of p_0; the next model is the Gaussian (unbiased variance) fitted to

(a) a fixed-size sample of M points drawn from the pool (uniformly, with replacement): "accumulate-subsample";
(b) the whole pool: "accumulate".

Simulation (own, as :mod:`theory.montecarlo` covers only replace):
(b) keeps the pool's count, mean and sum of squared deviations; a new batch's mean and sum of squares are drawn
from their exact joint law and merged (Chan et al.), so it is exact in distribution for every M;
(a) keeps the pool itself, sample by sample (M x generations floats per chain), so it is run for M <= 1e4 only
(M >= 1e5 would need >= 1e8 floats per chain). Drawn: one run per M (thin), the root-mean-square error over
chains +-2 SE (band, where at least 20 chains fit the memory budget), and for reference the exact RMS error of
the replace chain with the same M (dashed).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._gaussian_common import SAMPLE_SIZES, exact_rms, rms_summary, sample_size_colours
from ._io import array

NAME = "f3_pooling"
TITLE = "Data pooling (fit a sample of the pool / fit the whole pool) against replace, 1-D Gaussian chain"
REPRODUCES = "Nature 2024 Supplementary / arXiv v2 appendix: data-pooling variants of the Gaussian figure"

POOL_ELEMENTS = 20_000_000  # floats of pool kept in memory per sample size in variant (a)
SUBSAMPLE_MAX_M = 10_000


def whole_pool_chain(key, *, sample_size: int, generations: int, chains: int):
    """Variant (b), sufficient statistics; returns mu_n, sigma_n of shape (generations + 1, chains)."""
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    return _whole_pool_chain(key, jnp.asarray(sample_size, dtype), generations=generations, chains=chains)


@functools.partial(jax.jit, static_argnames=("generations", "chains"))
def _whole_pool_chain(key, m, *, generations: int, chains: int):
    dtype = m.dtype

    def step(state, k):
        count, mean, m2, mu, sd = state
        k_mean, k_ss = jax.random.split(k)
        batch_mean = mu + sd * jax.random.normal(k_mean, (chains,), dtype) / jnp.sqrt(m)
        batch_m2 = sd**2 * 2 * jax.random.gamma(k_ss, (m - 1) / 2, (chains,), dtype)  # sd^2 chi2_{M-1}
        total = count + m
        delta = batch_mean - mean
        mean = mean + delta * m / total
        m2 = m2 + batch_m2 + delta**2 * count * m / total
        mu, sd = mean, jnp.sqrt(m2 / (total - 1))
        return (total, mean, m2, mu, sd), (mu, sd)

    zeros = jnp.zeros((chains,), dtype)
    state = (jnp.asarray(0.0, dtype), zeros, zeros, zeros, jnp.ones((chains,), dtype))
    _, (mus, sds) = jax.lax.scan(step, state, jax.random.split(key, generations))
    return jnp.concatenate([zeros[None], mus]), jnp.concatenate([jnp.ones((1, chains), dtype), sds])


@functools.partial(jax.jit, static_argnames=("sample_size", "generations", "chains"))
def subsample_pool_chain(key, *, sample_size: int, generations: int, chains: int):
    """Variant (a), sample by sample; returns mu_n, sigma_n of shape (generations + 1, chains)."""
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    m = sample_size

    def step(state, inputs):
        pool, mu, sd = state
        i, k = inputs
        k_new, k_pick = jax.random.split(k)
        batch = mu[:, None] + sd[:, None] * jax.random.normal(k_new, (chains, m), dtype)
        pool = jax.lax.dynamic_update_slice(pool, batch, (0, i * m))
        picks = jax.random.randint(k_pick, (chains, m), 0, (i + 1) * m)
        sub = jnp.take_along_axis(pool, picks, axis=1)
        mu = sub.mean(axis=1)
        sd = jnp.sqrt(jnp.sum((sub - mu[:, None]) ** 2, axis=1) / (m - 1))
        return (pool, mu, sd), (mu, sd)

    pool = jnp.zeros((chains, m * generations), dtype)
    state = (pool, jnp.zeros((chains,), dtype), jnp.ones((chains,), dtype))
    inputs = (jnp.arange(generations), jax.random.split(key, generations))
    _, (mus, sds) = jax.lax.scan(step, state, inputs)
    return (jnp.concatenate([jnp.zeros((1, chains), dtype), mus]),
            jnp.concatenate([jnp.ones((1, chains), dtype), sds]))


def _summaries(mus, sds) -> dict:
    mus, sds = np.asarray(mus), np.asarray(sds)
    return {
        "single_run_abs_mean_error": np.abs(mus[:, 0]),
        "single_run_abs_sd_error": np.abs(sds[:, 0] - 1.0),
        "mean_error": rms_summary(mus),
        "sd_error": rms_summary(sds - 1.0),
    }


def compute(key, *, quick: bool) -> dict:
    from ..chain import GaussianChain

    generations = 50 if quick else 1000
    whole_chains = 100 if quick else 1000
    sizes_a = (100,) if quick else tuple(m for m in SAMPLE_SIZES if m <= SUBSAMPLE_MAX_M)
    budget = 2_000_000 if quick else POOL_ELEMENTS
    gens = list(range(generations + 1))
    subsample, whole, replace = [], [], []
    for i, m in enumerate(SAMPLE_SIZES):
        mus, sds = whole_pool_chain(jax.random.fold_in(key, i), sample_size=m, generations=generations,
                                    chains=whole_chains)
        whole.append({"sample_size": m, "chains": whole_chains, **_summaries(mus, sds)})
        exact = exact_rms(GaussianChain(m, learner="unbiased"), gens)
        replace.append({"sample_size": m, "exact_mean_rms": exact["mean_rms"], "exact_sd_rms": exact["sd_rms"]})
        if m in sizes_a:
            chains = int(max(2, min(200, budget // (m * generations))))
            mus, sds = subsample_pool_chain(jax.random.fold_in(key, 1000 + i), sample_size=m,
                                            generations=generations, chains=chains)
            subsample.append({"sample_size": m, "chains": chains, **_summaries(mus, sds)})
    return {
        "caption": (
            f"Data pooling, 1-D Gaussian chain (mu = 0, sigma = 1, unbiased learner), {generations} generations; "
            "each generation appends M samples of the current model to the pool. (a) the next model is fitted to M "
            "points drawn with replacement from the pool (simulated sample by sample, M <= 1e4); (b) to the whole "
            "pool (sufficient statistics, exact in distribution). Thin: one run; bands: RMS error over chains "
            "+-2 SE (shown where >= 20 chains); dashed: exact RMS error of replace with the same M."
        ),
        "mu": 0.0,
        "sigma": 1.0,
        "learner": "unbiased",
        "generations": generations,
        "subsample_with_replacement": True,
        "variants": {"a_subsample_pool": subsample, "b_whole_pool": whole},
        "replace_exact": replace,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(7.6, 5.8), sharex=True, sharey="row")
    gens = np.arange(data["generations"] + 1)
    shown = gens >= 1
    sizes = [m["sample_size"] for m in data["replace_exact"]]
    colour_of = dict(zip(sizes, sample_size_colours(len(sizes))))
    titles = {"a_subsample_pool": "(a) fit M points drawn from the pool", "b_whole_pool": "(b) fit the whole pool"}
    for c, variant in enumerate(("a_subsample_pool", "b_whole_pool")):
        for r, which in enumerate(("mean", "sd")):
            ax = axes[r, c]
            for ref in data["replace_exact"]:
                ax.plot(gens[shown], array(ref[f"exact_{which}_rms"])[shown], "--", lw=0.7,
                        color=colour_of[ref["sample_size"]])
            for run in data["variants"][variant]:
                colour = colour_of[run["sample_size"]]
                ax.plot(gens[shown], array(run[f"single_run_abs_{which}_error"])[shown], color=colour, lw=0.4,
                        alpha=0.3)
                if run["chains"] >= 20:
                    stats = run[f"{which}_error"]
                    rms, se = array(stats["rms"]), array(stats["rms_se"])
                    ax.fill_between(gens[shown], (rms - 2 * se)[shown], (rms + 2 * se)[shown], color=colour,
                                    alpha=0.6, lw=0)
            ax.set_xscale("log")
            ax.set_yscale("log")
            symbol = "\\mu" if which == "mean" else "\\sigma"
            ax.set_ylabel(f"$|{symbol} - {symbol}_n|$")
            if r == 0:
                ax.set_title(titles[variant])
            else:
                ax.set_xlabel("generation n")
    for m, colour in colour_of.items():
        axes[0, 1].fill_between([], [], color=colour, alpha=0.6, lw=0, label=f"M = {m:.0e}".replace("e+0", "e"))
    axes[0, 1].plot([], [], color="0.4", lw=0.5, label="one run")
    axes[0, 1].plot([], [], "--", color="0.4", lw=0.7, label="replace, exact RMS")
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="outside lower center", ncol=9, fontsize=6)
    return fig
