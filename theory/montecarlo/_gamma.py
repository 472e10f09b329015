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

**One fused pass, then a loop over the stragglers only.** Every element makes one proposal in the first
(fused) pass (with the normal of ``zbar``: one Box-Muller pair gives ``zbar`` and the proposal's ``x``). Where
``c < 0.06`` (``M`` above about 64) that pass uses no logarithm: Marsaglia and Tsang's squeeze idea, here
``u - 1 < d y`` (which implies the exact test ``log u < d y``, since ``log u <= u - 1``) with ``|c x| < 0.24``
(:func:`_squeeze`); the few elements it leaves undecided (the rejections, about ``(d y)**2/2`` more, and
``|x| >= 4``: 0.05% at ``M = 100``) have that same proposal decided by the exact test on the straggler path.
Where ``c >= 0.06`` the first pass applies the exact test itself. Elements rejected (0.05% at ``M = 100``,
none in practice at ``M = 10**7``, at most 5% at ``a = 1``) make more proposals, in a ``lax.while_loop`` that
gathers, per round, up to ``1/32`` of the blocks of :data:`BLOCK` elements holding such an element, proposes
again for those elements only and scatters back (arrays smaller than :data:`BLOCKED_MIN` or not a multiple of
the block loop over the whole array instead). Where the squeeze pass ran, stragglers are rare, and each round
takes instead the first straggler of up to ``size/1024`` such blocks and runs it to its acceptance
(:func:`_stragglers_one_per_block`). Each element counts its own attempts and its ``k``-th extra
proposal uses its own ``k``-th counters, so the draws do not depend on the array's size, its blocking or the
rounds, and equal plain Marsaglia-Tsang (the exact test on every proposal) on the same counters (tested). The
first pass writes one complex array (``zbar``, the draw; NaN: rejected, inf: undecided) so that XLA CPU, which
gives each output of a computation its own loop, keeps it one loop; its divisions are Newton reciprocals
(:func:`._normals.reciprocal`), as a division used twice also splits the loop.

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


def _squeeze(x, u, d_hi, d_lo, c):
    """``(sure, 3 log1p(c x))`` for the first proposal without a logarithm: ``sure`` where ``|c x| < 0.24``
    and ``u - 1 < d y`` (``y`` as in :func:`_proposal`). Since ``log u <= u - 1``, such a proposal passes the
    exact test ``log u < d y``; the others (Marsaglia-Tsang's rejections and about ``(d y)**2/2`` more) are
    decided by the exact test later, on the straggler path, with the same ``x`` and ``u``.
    """
    t = c * x
    small = jnp.abs(t) < 0.24
    t = jnp.where(small, t, 0)
    cubic = _log1p_cubic(t, direct=False)
    y = 3 * cubic - t * t * t
    sure = small & (u - 1 < d_hi * y + d_lo * y)
    return sure, 3 * (cubic + t - t * t / 2)


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

    def first_pass(squeeze):
        z, x = normal_pair(words, pair_slots[0], chain, dtype)
        u = uniforms(words, uniform_slots[0], chain, dtype)[0]
        if squeeze:  # +inf: the exact test decides later (see _squeeze)
            sure, value = _squeeze(x, u, d_hi, d_lo, c)
            value = jnp.where(sure, value, jnp.inf)
        else:  # NaN: rejected
            accept, value = _proposal(x, u, d_hi, d_lo, c)
            value = jnp.where(accept, value, jnp.nan)
        # one output, so one loop: XLA CPU has no multi-output loop fusion, and gives each output its own loop
        # (each re-hashing its counters); draws are finite, so NaN and inf are free as markers
        return jax.lax.complex(z, value.astype(dtype))

    # The squeeze pass needs no logarithm (on the straggler path, about (d y)**2/2 of the elements and the
    # elements with |c x| >= 0.24 have their first proposal decided by the exact test): used where c < 0.06,
    # i.e. |x| >= 4 sends at most 6e-5 of the elements to the straggler path (M above about 64).
    packed = jax.lax.cond(c < 0.06, lambda: first_pass(True), lambda: first_pass(False))
    z, value = jnp.real(packed), jnp.imag(packed)

    def propose(ch, attempt, redo):
        """The element's next proposal (NaN where rejected): its first proposal again, with the exact test,
        where ``redo``, else its ``attempt``-th straggler proposal."""
        slot = jnp.where(redo, np.uint32(pair_slots[0]), straggler_slot + per_attempt * attempt)
        z0, z1 = normal_pair(words, slot, ch, dtype)
        x = jnp.where(redo, z1, z0)
        u_slot = jnp.where(redo, np.uint32(uniform_slots[0]), slot + np.uint32(per_attempt - 1))
        u = uniforms(words, u_slot, ch, dtype)[0]
        accept, proposal = _proposal(x, u, d_hi, d_lo, c)
        return jnp.where(accept, proposal, jnp.nan).astype(dtype)

    size = chain.shape[0] if chain.ndim == 1 else 0
    if size >= BLOCKED_MIN and size % BLOCK == 0:
        value = jax.lax.cond(c < 0.06, lambda v: _stragglers_one_per_block(v, chain, propose),
                             lambda v: _stragglers_by_block(v, chain, propose), value)
    else:
        value = jax.lax.cond(jnp.any(jnp.isinf(value)),
                             lambda v: jnp.where(jnp.isinf(v), propose(chain, np.uint32(0), True), v),
                             lambda v: v, value)

        def more(state):  # every element still without a draw makes its next attempt
            value, attempt = state
            return jnp.where(jnp.isnan(value), propose(chain, attempt, False), value), attempt + 1

        value, _ = jax.lax.while_loop(lambda s: jnp.any(jnp.isnan(s[0])), more,
                                      (value, jnp.asarray(0, jnp.uint32)))

    def boosted(v):  # the boost uniform: the last uniform slot's last draw, drawn only when a < 1
        u = uniforms(words, uniform_slots[-1], chain, dtype)[-1]
        return v + _log(u) * inv_shape

    value = jax.lax.cond(boost, boosted, lambda v: v, value)
    return z, value


def _stragglers_by_block(value, chain, propose):
    """The straggler loop on blocks of :data:`BLOCK` elements: each round gathers up to ``size/32`` blocks that
    hold an element without a draw (``NaN``), lets those elements make their next attempt, and scatters back.

    Each element counts its own attempts, so its ``k``-th straggler proposal uses its own ``k``-th counters
    whichever round processes it: the draws equal those of the whole-array loop (tested). The whole array is
    read once (a block needs a round when its sum is NaN: draws are finite); the rounds touch only the
    gathered blocks and a flag per block, and there are none when every element has its draw.
    """
    size = value.shape[0]
    n_blocks = size // BLOCK
    per_round = max(16, n_blocks // 32)
    shape2 = (n_blocks, BLOCK)
    value2 = value.reshape(shape2)
    chain2 = chain.reshape(shape2)
    need = ~jnp.isfinite(jnp.sum(value2, axis=1))

    def body(st):
        value2, attempts2, need = st
        rows = jnp.nonzero(need, size=per_round, fill_value=n_blocks)[0]  # out of range: dropped below

        def take(x, fill):
            return jnp.take(x, rows, axis=0, mode="fill", fill_value=fill)

        v, a, ch = take(value2, 0), take(attempts2, 0), take(chain2, 0)
        redo = jnp.isinf(v)  # undecided: the first proposal, exact test
        todo = jnp.isnan(v)  # rejected: the next straggler proposal
        v = jnp.where(redo | todo, propose(ch, a, redo), v)
        a = jnp.where(todo, a + np.uint32(1), a)
        return (value2.at[rows].set(v, mode="drop"), attempts2.at[rows].set(a, mode="drop"),
                need.at[rows].set(~jnp.isfinite(jnp.sum(v, axis=1)), mode="drop"))

    def loop(value2):
        state = (value2, jnp.zeros(shape2, jnp.uint32), need)
        return jax.lax.while_loop(lambda st: jnp.any(st[2]), body, state)[0]

    return jax.lax.cond(jnp.any(need), loop, lambda v: v, value2).reshape(size)


def _stragglers_one_per_block(value, chain, propose):
    """The straggler loop where stragglers are rare (the squeeze pass: 0.06% of the elements at ``M = 100``):
    each round takes up to ``size/1024`` blocks of :data:`BLOCK` elements that hold an element without a draw,
    and in each the first such element only, and runs those elements to their acceptance (undecided: the
    first proposal with the exact test; then straggler proposals 0, 1, ... until one is accepted). An element
    is done within one round, so its ``k``-th straggler proposal is its own ``k``-th, as in the other loops:
    the same draws. Per round this touches a flag per block and the gathered blocks, not the whole array.
    """
    size = value.shape[0]
    n_blocks = size // BLOCK
    per_round = max(16, n_blocks // 16)
    value2 = value.reshape(n_blocks, BLOCK)
    need = ~jnp.isfinite(jnp.sum(value2, axis=1))

    def body(st):
        value2, need = st
        rows = jnp.nonzero(need, size=per_round, fill_value=n_blocks)[0]  # out of range: dropped below
        block = jnp.take(value2, rows, axis=0, mode="fill", fill_value=0)
        col = jnp.argmax(~jnp.isfinite(block), axis=1)  # the first element without a draw (0 in full rows)
        lane = jnp.arange(per_round)
        v = block[lane, col]
        ch = jnp.take(chain, jnp.minimum(rows, n_blocks - 1) * BLOCK + col)
        v = jnp.where(jnp.isinf(v), propose(ch, np.uint32(0), True), v)

        def more(s):
            v, attempt = s
            return jnp.where(jnp.isnan(v), propose(ch, attempt, False), v), attempt + np.uint32(1)

        v, _ = jax.lax.while_loop(lambda s: jnp.any(jnp.isnan(s[0])), more, (v, np.uint32(0)))
        block = block.at[lane, col].set(v)
        return (value2.at[rows].set(block, mode="drop"),
                need.at[rows].set(~jnp.isfinite(jnp.sum(block, axis=1)), mode="drop"))

    def loop(value2):
        return jax.lax.while_loop(lambda st: jnp.any(st[1]), body, (value2, need))[0]

    return jax.lax.cond(jnp.any(need), loop, lambda v: v, value2).reshape(size)


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
