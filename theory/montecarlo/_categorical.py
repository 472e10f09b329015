"""The discrete resampling chain (Wright-Fisher): a distribution over ``bins`` categories refitted to ``M`` draws.

Each generation draws ``M`` points from the current frequencies ``p_n`` and refits the frequencies as the
empirical ones, ``p_{n+1} = counts / M``. A category whose count falls to zero is lost for good, and every chain
is eventually absorbed at a single category. Exact facts (used by the figure ``f6_discrete`` to check this
simulation): a category survives one generation with probability ``1 - (1 - p_k)^M``, and the expected
Gini-Simpson diversity is ``E sum_k p_{n,k}(1 - p_{n,k}) = (1 - 1/M)^n sum_k p_{0,k}(1 - p_{0,k})``.

* :func:`resample_counts` draws one multinomial per chain, exactly, without a category per point;
* :func:`wright_fisher` runs the chains over generations and returns per-generation summaries;
* :func:`categorical_chain` runs the chains and, with an independent key, one generation's survival indicators,
  in one compiled program.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def resample_counts(key, p, sample_size: int):
    """Counts of ``sample_size`` draws from the frequencies ``p (chains, bins)``, one multinomial per chain.

    Exact in distribution without drawing a bin per point: the normalised partial sums of ``M + 1`` i.i.d.
    exponentials are the order statistics of ``M`` uniforms on (0, 1), and the number of them at most the
    cumulative probability of bin ``k`` is the number of draws in bins ``0..k`` (inverse CDF).
    """
    chains = p.shape[0]
    exponentials = jax.random.exponential(key, (chains, sample_size + 1), dtype=p.dtype)
    spacings = jax.lax.associative_scan(jnp.add, exponentials, axis=1)  # cumsum, faster on CPU
    uniforms = spacings[:, :sample_size] / spacings[:, sample_size:]  # sorted, in (0, 1)
    cdf = jnp.cumsum(p, axis=1)
    cdf = cdf / cdf[:, -1:]
    below = jax.vmap(functools.partial(jnp.searchsorted, side="right"))(uniforms, cdf)  # draws in bins 0..k
    below = below.at[:, -1].set(sample_size)
    return jnp.diff(below, axis=1, prepend=0).astype(p.dtype)


def wright_fisher(key, p0, *, sample_size: int, chains: int, generations: int):
    """Wright-Fisher resampling of ``chains`` chains from ``p0``: each generation draws M points from the
    current frequencies and refits the frequencies as counts / M (:func:`resample_counts`).

    Returns per generation ``1..generations``: Gini-Simpson diversity (generations, chains), surviving bins
    (generations, chains), and chain 0's frequencies (generations, bins).
    """
    def step(p, k):
        p_new = resample_counts(k, p, sample_size) / sample_size
        return p_new, (jnp.sum(p_new * (1 - p_new), axis=-1), jnp.sum(p_new > 0, axis=-1), p_new[0])

    p = jnp.broadcast_to(p0, (chains, p0.shape[0]))
    return jax.lax.scan(step, p, jax.random.split(key, generations))[1]


def first_generation_survival(key, p, sample_size: int, chains: int):
    """Indicator (chains, bins) that bin k has a count > 0 after one resampling of M draws from ``p``."""
    counts = resample_counts(key, jnp.broadcast_to(p, (chains, p.shape[0])), sample_size)
    return (counts > 0).astype(p.dtype)


@functools.partial(jax.jit, static_argnames=("sample_size", "chains", "generations"))
def categorical_chain(key_chain, key_first, p0, *, sample_size: int, chains: int, generations: int):
    """The Wright-Fisher chains (:func:`wright_fisher`, key ``key_chain``) and the first-generation survival
    indicators (:func:`first_generation_survival`, key ``key_first``), in one compiled program."""
    return (wright_fisher(key_chain, p0, sample_size=sample_size, chains=chains, generations=generations),
            first_generation_survival(key_first, p0, sample_size, chains))
