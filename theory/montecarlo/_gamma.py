"""``log Gamma(a, 1)`` variates by Marsaglia and Tsang (2000), vectorised, in log space.

``jax.random.loggamma`` is exact but slow on CPU (about 1-2 M draws/s here); this sampler is 4-10 times
faster. For ``a >= 1``: ``d = a - 1/3``, ``c = 1/sqrt(9 d)``, propose ``v = (1 + c x)**3`` with ``x`` standard
normal, accept when ``log u < x**2/2 + d - d v + d log v``; the draw is ``d v``. For ``a < 1`` the boost
``Gamma(a) = Gamma(a + 1) U**(1/a)`` is applied in log space (``+ log U / a``), so tiny draws (``a = 1/2``,
i.e. chi-square with one degree of freedom, ``M = 2``) never underflow. Every element proposes in rounds
until all are accepted (``lax.while_loop``); round ``r`` uses ``fold_in(key, r)`` so an element's draw does not
depend on the array's size (prefix-consistent, hence the same across device counts).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _log1p_cubic(t):
    """``log(1 + t) - t + t**2/2`` (about ``t**3/3``) without cancellation, for ``t > -1``.

    With ``s = t/(2 + t)``, ``log(1 + t) = 2 atanh(s)``, so the difference is
    ``t**3/(2 (2 + t)) + 2 s**3 (1/3 + s**2/5 + ...)``: two terms of the sign of ``t``, nothing cancels.
    The series (to ``s**15``) is used for ``|t| < 1/4`` (``|s| < 1/7``, truncation below 1e-14 relative);
    beyond, the direct formula loses at most a few bits.
    """
    s = t / (2 + t)
    s2 = s * s
    series = 1 / 15
    for k in (13, 11, 9, 7, 5, 3):
        series = 1 / k + s2 * series
    small = t**3 / (2 * (2 + t)) + 2 * s * s2 * series
    direct = jnp.log1p(t) - t + t * t / 2
    return jnp.where(jnp.abs(t) < 0.25, small, direct)


def log_gamma(key, a, shape, dtype) -> jax.Array:
    """``log G`` with ``G ~ Gamma(a, 1)``, ``a > 0`` a scalar (may be traced).

    The acceptance test ``log u < x**2/2 + d - d v + d log v`` is evaluated as
    ``log u < d (3 (log(1 + t) - t + t**2/2) - t**3)`` with ``t = c x`` (the same quantity: ``v = (1 + t)**3``
    and ``9 d c**2 = 1``). Written the first way it cancels terms of size ``d`` down to ``O(1)``; at
    ``M = 10**7`` (``d ~ 5e6``) in float32 that wrongly rejected 8% of proposals (0.05% is right), which both
    distorted the law and doubled the rounds of the loop.
    """
    dtype = jnp.dtype(dtype)
    a = jnp.asarray(a, dtype)
    boost = a < 1
    a1 = jnp.where(boost, a + 1, a)
    d = a1 - jnp.asarray(1 / 3, dtype)
    c = jax.lax.rsqrt(9 * d)
    k_boost, k_loop = jax.random.split(key)
    tiny = jnp.finfo(dtype).tiny

    def propose(k):
        kx, ku = jax.random.split(k)
        x = jax.random.normal(kx, shape, dtype)
        u = jax.random.uniform(ku, shape, dtype, minval=tiny)
        t = c * x
        positive = t > -1
        t = jnp.where(positive, t, 0)
        accept = positive & (jnp.log(u) < d * (3 * _log1p_cubic(t) - t * t * t))
        return accept, jnp.log(d) + 3 * jnp.log1p(t)

    def body(s):
        done, value, r = s
        accept, proposal = propose(jax.random.fold_in(k_loop, r))
        value = jnp.where(accept & ~done, proposal, value)
        return done | accept, value, r + 1

    init = (jnp.zeros(shape, bool), jnp.zeros(shape, dtype), jnp.asarray(0, jnp.int32))
    _, value, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[0]), body, init)
    u = jax.random.uniform(k_boost, shape, dtype, minval=tiny)
    return value + jnp.where(boost, jnp.log(u) / a, 0)
