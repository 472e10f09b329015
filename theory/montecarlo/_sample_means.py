"""Repeated sample means of ``N(mu, sigma**2)``: the one-generation experiment of the paper's mean-error figure.

``sample_means(key, n, repeats, mode=...)`` gives ``repeats`` independent sample means of ``n`` draws: in
``"samples"`` mode the ``n`` points are drawn and averaged (blocks of :data:`BLOCK` standard normals, one compiled
program for every ``n``); in ``"sufficient"`` mode each mean is drawn from its exact law ``N(mu, sigma**2 / n)``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer, check_key

#: Normals drawn per compiled call; every ``n`` shares the one compiled program (``n`` is not a static argument).
BLOCK = 1 << 20


@functools.partial(jax.jit, static_argnames=("block",))
def _block_means(key, n, mu, sigma, *, block: int):
    """Means of consecutive runs of ``n`` draws in a block of ``block`` standard normals (the first
    ``block // n`` entries are complete samples; the rest are to be ignored)."""
    z = jax.random.normal(key, (block,), dtype=jnp.float64)
    sums = jax.ops.segment_sum(z, jnp.arange(block) // n, num_segments=block, indices_are_sorted=True)
    return mu + sigma * sums / n


def sample_means(key, n: int, repeats: int, *, mu: float = 0.0, sigma: float = 1.0,
                 mode: str = "samples") -> np.ndarray:
    """``repeats`` sample means of ``n`` i.i.d. draws from ``N(mu, sigma**2)`` (float64; needs x64 switched on).

    ``mode="samples"`` draws the points (``n <= BLOCK``); ``"sufficient"`` draws each mean from its exact law.
    """
    key = check_key(key)
    n = check_integer("n", n, minimum=1)
    repeats = check_integer("repeats", repeats, minimum=1)
    if mode == "sufficient":
        return np.asarray(mu + sigma / math.sqrt(n) * jax.random.normal(key, (repeats,), dtype=jnp.float64))
    if mode != "samples":
        raise ParameterError("mode", "'samples' or 'sufficient'", mode)
    if n > BLOCK:
        raise ParameterError("n", f"at most {BLOCK} in samples mode (use mode='sufficient')", n)
    per_block = BLOCK // n
    parts = [np.asarray(_block_means(jax.random.fold_in(key, i), n, mu, sigma, block=BLOCK))[:per_block]
             for i in range(-(-repeats // per_block))]
    return np.concatenate(parts)[:repeats]
