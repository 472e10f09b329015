"""Sufficient mode's draws: ``zbar`` and ``log Gamma(a, 1)`` (Marsaglia and Tsang 2000), fused, in log space.

One step of a chain needs ``zbar ~ N(0, 1)`` (scaled by ``1/sqrt(M)`` later) and ``G ~ Gamma(a, 1)`` with
``a = (M - 1)/2`` (``SS = 2 G``). Both come from the counter-based stream of :mod:`._normals` at counters
``(slot, chain)``, so the whole step is one fused elementwise loop over chains, and a chain's draws do not
depend on the number of chains or devices.

Marsaglia and Tsang (*ACM TOMS* 26, 2000), for ``a >= 1``: ``d = a - 1/3``, ``c = 1/sqrt(9 d)``, propose
``v = (1 + c x)**3`` with ``x`` standard normal, accept when ``log u < x**2/2 + d - d v + d log v`` (``u``
uniform); the draw is ``G = d v``. For ``a < 1`` (``M = 2``) the boost ``Gamma(a) = Gamma(a + 1) U**(1/a)`` is
applied in log space (``+ log U / a``), so tiny draws never underflow; the boost uniform is drawn only on
steps with ``a < 1`` (``lax.cond``).

**One fused pass, then a loop over the stragglers only.** Every element makes :data:`PROPOSALS` proposal(s)
in the first pass (fused with the normal of ``zbar``: one Box-Muller pair gives ``zbar`` and the first
proposal's ``x``); only the elements that rejected them all (0.05% at ``M = 100``, none in practice at
``M = 10**7``, at most 5% at ``a = 1``) make more, in a ``lax.while_loop`` that gathers, per round, up to
``1/32`` of the blocks of :data:`BLOCK` elements holding such an element, proposes again for those elements
only and scatters back (arrays smaller than :data:`BLOCKED_MIN` or not a multiple of the block loop over the
whole array instead). Each element counts its own attempts and its ``k``-th extra proposal uses its own
``k``-th counters, so the draws do not depend on the array's size, its blocking or the rounds (tested): this
is exactly Marsaglia-Tsang, proposal after proposal until the first acceptance. Measured here: three
proposals in one pass cost 25 ns per chain-step (float32), two 20, one plus the block loop 15-18.

**Exact in float32 at large ``M``** (``M = 10**7``: ``d = 5 10**6``, where float32's spacing is 0.5): the
sampler returns only the small random part ``log(G/d) = 3 log1p(c x)`` (plus the boost term); the constant
``log d`` is added on the host in float64, folded with the step's other constants (:mod:`._engine`). The
accepted ``v`` has law ``Gamma(d + 1/3, rate = d)`` for the ``d`` that the acceptance test uses (``c`` only
sets the efficiency), so the test uses ``d`` in two parts, ``d_hi + d_lo`` (float32 each, their sum ``a -
1/3`` to float64 precision): rounding ``d`` to float32 would sample shape ``a + O(0.25)`` at ``M = 10**7``,
a bias of ``5e-8`` per step in ``E log sigma**2``, half the true drift there.

The acceptance test ``log u < x**2/2 + d - d v + d log v`` is evaluated as
``log u < d (3 (log(1 + t) - t + t**2/2) - t**3)`` with ``t = c x`` (the same quantity when ``9 d c**2 = 1``).
Written the first way it cancels terms of size ``d`` down to ``O(1)``; at ``M = 10**7`` in float32 that
wrongly rejected 8% of proposals.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._normals import log64, normal_pair, reciprocal, stream_key, uniforms

# (the whole-array loop re-proposes for every element still without a draw; the block loop only for those)

#: Proposals per element in the first (fused) pass.
PROPOSALS = 1
#: Bound on |x| for a Box-Muller normal: sqrt(-2 log u) at the smallest u (2**-33 in float32, 2**-54 in float64).
RADIUS_MAX = {"float32": 6.8, "float64": 8.7}
#: Block of elements of the straggler loop (arrays of at least BLOCKED_MIN elements, a multiple of BLOCK).
BLOCK = 64
BLOCKED_MIN = 8192


def gamma_parameters(shape: np.ndarray, dtype):
    """Host-side (float64) Marsaglia-Tsang parameters of ``Gamma(shape)`` for the working ``dtype``.

    Returns ``(d_hi, d_lo, c, inv_shape, boost, log_d)``: ``d = a1 - 1/3`` with ``a1 = shape + 1`` where
    ``shape < 1`` (boost), split as ``d_hi + d_lo`` in ``dtype``; ``c = 1/sqrt(9 d)``; ``1/shape``; the boost
    flag; and ``log d`` in float64 (to be folded into the step's constant offset).
    """
    shape = np.asarray(shape, np.float64)
    np_dtype = np.dtype(dtype)
    boost = shape < 1
    a1 = np.where(boost, shape + 1, shape)
    d = a1 - 1 / 3
    d_hi = d.astype(np_dtype)
    d_lo = (d - d_hi.astype(np.float64)).astype(np_dtype)
    c = (1 / np.sqrt(9 * d)).astype(np_dtype)
    return d_hi, d_lo, c, (1 / shape).astype(np_dtype), boost, np.log(d)


def _log(x):
    return log64(x) if x.dtype == jnp.float64 else jnp.log(x)


def _log1p_cubic(t, direct=True):
    """``log(1 + t) - t + t**2/2`` (about ``t**3/3``) without cancellation, for ``t > -1``.

    With ``s = t/(2 + t)``, ``log(1 + t) = 2 atanh(s)``, so the difference is
    ``t**2 s/2 + 2 s**3 (1/3 + s**2/5 + ...)`` (``t**3/(2 (2 + t)) = t**2 s/2``): two terms of the sign of
    ``t``, nothing cancels. The series (to ``s**15``) is used for ``|t| < 1/4`` (``|s| < 1/7``, truncation
    below 1e-14 relative); beyond, the direct formula (``log(1 + t)`` is accurate there) loses a few bits.
    """
    s = t * reciprocal(2 + t) if t.dtype == jnp.float64 else t / (2 + t)
    s2 = s * s
    series = 1 / 15
    for k in (13, 11, 9, 7, 5, 3):
        series = 1 / k + s2 * series
    small = t * t * s / 2 + 2 * s * s2 * series
    if not direct:  # the caller knows |t| < 1/4
        return small
    return jnp.where(jnp.abs(t) < 0.25, small, _log(1 + t) - t + t * t / 2)


def _proposal(x, u, d_hi, d_lo, c, direct=True):
    """``(accept, 3 log1p(c x))`` for one Marsaglia-Tsang proposal (``direct=False``: ``|c x| < 1/4`` is known)."""
    t = c * x
    positive = t > -1
    t = jnp.where(positive, t, 0)
    cubic = _log1p_cubic(t, direct)
    y = 3 * cubic - t * t * t
    accept = positive & (_log(u) < d_hi * y + d_lo * y)
    return accept, 3 * (cubic + t - t * t / 2)


def _slots(dtype):
    """Counter slots: (normal pairs of the first pass, uniforms of the first pass, first straggler slot,
    slots per straggler attempt)."""
    if jnp.dtype(dtype) == jnp.float32:
        return (0, 1), (2, 3), 4, 2  # a pair per slot, two uniforms per slot
    return (0, 2), (4, 5, 6, 7), 8, 3  # a pair per two slots, one uniform per slot


def sufficient_draws(words, chain, params, dtype):
    """``(z, log(G/d))`` for every chain: ``z ~ N(0, 1)`` and ``G ~ Gamma(a)``, with ``params`` the
    ``(d_hi, d_lo, c, inv_shape, boost)`` of :func:`gamma_parameters` (scalars, possibly traced).

    ``chain`` is the uint32 chain index array (its shape is the output's).
    """
    dtype = jnp.dtype(dtype)
    d_hi, d_lo, c, inv_shape, boost = params
    pair_slots, uniform_slots, straggler_slot, per_attempt = _slots(dtype)
    n_pairs = -(-(1 + PROPOSALS) // 2)  # Box-Muller pairs for zbar and the first-pass proposals

    def first_pass(direct):
        normals_ = []
        for s in pair_slots[:n_pairs]:
            normals_ += list(normal_pair(words, s, chain, dtype))
        us = []
        for s in uniform_slots:
            us += list(uniforms(words, s, chain, dtype))
        z, xs = normals_[0], normals_[1 : 1 + PROPOSALS]
        done = value = None
        for x, u in zip(xs, us[:PROPOSALS]):
            accept, proposal = _proposal(x, u, d_hi, d_lo, c, direct)
            if done is None:
                done, value = accept, proposal
            else:
                value = jnp.where(done, value, proposal)
                done = done | accept
        # one output, so one loop: XLA CPU has no multi-output loop fusion, and gives each output its own loop
        # (each re-hashing its counters); NaN marks an element without a draw (a proposal is never NaN)
        return jax.lax.complex(z, jnp.where(done, value, jnp.nan).astype(dtype))

    # A Box-Muller normal is at most RADIUS_MAX in size, so when c RADIUS_MAX < 1/4 every |t| < 1/4 and the
    # log1p branch of the acceptance test is never taken: the pass without it gives the same values (up to
    # the compiler's rounding choices), faster (every M above about 170 in float32, 270 in float64).
    packed = jax.lax.cond(c * RADIUS_MAX[dtype.name] < 0.24, lambda: first_pass(False), lambda: first_pass(True))
    z, value = jnp.real(packed), jnp.imag(packed)
    done = ~jnp.isnan(value)

    def propose(ch, attempt):
        slot = straggler_slot + per_attempt * attempt
        x = normal_pair(words, slot, ch, dtype)[0]
        u = uniforms(words, slot + np.uint32(per_attempt - 1), ch, dtype)[0]
        return _proposal(x, u, d_hi, d_lo, c)

    size = chain.shape[0] if chain.ndim == 1 else 0
    if size >= BLOCKED_MIN and size % BLOCK == 0:
        value = _stragglers_by_block(done, value, chain, propose)
    else:

        def more(state):  # every element still without a draw makes its next attempt
            done, value, attempt = state
            accept, proposal = propose(chain, attempt)
            return done | accept, jnp.where(done, value, proposal), attempt + 1

        _, value, _ = jax.lax.while_loop(
            lambda s: ~jnp.all(s[0]), more, (done, value, jnp.asarray(0, jnp.uint32))
        )

    def boosted(v):  # the boost uniform: the last uniform slot's last draw, drawn only when a < 1
        u = uniforms(words, uniform_slots[-1], chain, dtype)[-1]
        return v + _log(u) * inv_shape

    value = jax.lax.cond(boost, boosted, lambda v: v, value)
    return z, value


def _stragglers_by_block(done, value, chain, propose):
    """The straggler loop on blocks of :data:`BLOCK` elements: each round gathers up to ``size/32`` blocks that
    hold an element without a draw, lets those elements make their next attempt, and scatters back.

    Each element counts its own attempts, so its ``k``-th straggler proposal uses its own ``k``-th counters
    whichever round processes it: the draws equal those of the whole-array loop (tested).
    """
    size = done.shape[0]
    n_blocks = size // BLOCK
    per_round = max(16, n_blocks // 32)
    shape2 = (n_blocks, BLOCK)
    state = (done.reshape(shape2), value.reshape(shape2), jnp.zeros(shape2, jnp.uint32))
    chain2 = chain.reshape(shape2)

    def body(st):
        done2, value2, attempts2 = st
        need = ~jnp.all(done2, axis=1)
        rows = jnp.nonzero(need, size=per_round, fill_value=n_blocks)[0]  # out of range: dropped below

        def take(x, fill):
            return jnp.take(x, rows, axis=0, mode="fill", fill_value=fill)

        d, v, a, ch = take(done2, True), take(value2, 0), take(attempts2, 0), take(chain2, 0)
        accept, proposal = propose(ch, a)
        v = jnp.where(d, v, proposal)
        a = jnp.where(d, a, a + np.uint32(1))
        d = d | accept
        return (done2.at[rows].set(d, mode="drop"), value2.at[rows].set(v, mode="drop"),
                attempts2.at[rows].set(a, mode="drop"))

    _, value2, _ = jax.lax.while_loop(lambda st: ~jnp.all(st[0]), body, state)
    return value2.reshape(size)


def log_gamma(key, a, shape, dtype) -> jax.Array:
    """``log G`` with ``G ~ Gamma(a, 1)`` for a concrete scalar ``a > 0``: an array of ``shape`` (the draws of
    :func:`sufficient_draws` for chains ``0 .. size - 1``, plus ``log d`` added in float64 then rounded)."""
    dtype = jnp.dtype(dtype)
    d_hi, d_lo, c, inv_shape, boost, log_d = gamma_parameters(np.asarray(float(a)), dtype)
    size = math.prod(shape)
    chain = jnp.arange(size, dtype=jnp.uint32)
    params = tuple(jnp.asarray(p) for p in (d_hi, d_lo, c, inv_shape, boost))
    _, small = sufficient_draws(stream_key(key), chain, params, dtype)
    return (small + jnp.asarray(log_d, dtype)).reshape(shape)
