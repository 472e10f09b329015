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


def log_gamma(key, a, shape, dtype) -> jax.Array:
    """``log G`` with ``G ~ Gamma(a, 1)``, ``a > 0`` a scalar (may be traced)."""
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
        v = 1 + c * x
        positive = v > 0
        log_v3 = 3 * jnp.log(jnp.where(positive, v, 1))
        accept = positive & (jnp.log(u) < 0.5 * x * x + d - d * jnp.exp(log_v3) + d * log_v3)
        return accept, jnp.log(d) + log_v3

    def body(s):
        done, value, r = s
        accept, proposal = propose(jax.random.fold_in(k_loop, r))
        value = jnp.where(accept & ~done, proposal, value)
        return done | accept, value, r + 1

    init = (jnp.zeros(shape, bool), jnp.zeros(shape, dtype), jnp.asarray(0, jnp.int32))
    _, value, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[0]), body, init)
    u = jax.random.uniform(k_boost, shape, dtype, minval=tiny)
    return value + jnp.where(boost, jnp.log(u) / a, 0)
