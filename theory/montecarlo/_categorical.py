"""Exact multinomial draws for the discrete chain (Wright-Fisher), many chains at once.

The discrete engine (:func:`theory.montecarlo.simulate_discrete`) draws each generation's training counts with
:func:`multinomial`, a binary tree of conditional binomials (:func:`binomial`: inversion or BTRS, exact) whose work
and memory are ``O(K)`` per chain whatever ``M`` (``M`` up to ``2**31 - 1``), or, for ``M`` up to about ``16 K``,
with :func:`spacings_multinomial`: the normalised partial sums of ``M + 1`` i.i.d. exponentials are the order
statistics of ``M`` uniforms, and the number of them at most the cumulative probability of category ``k`` is the
number of draws in categories ``0..k`` (inverse CDF), with a key per chain.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# ---------------------------------------------------------------------------------------------------------------
# Exact binomial and multinomial draws for the discrete engine (:mod:`._discrete`): O(K) memory and work per chain,
# whatever the number of draws M.

#: Below this mean ``n min(q, 1 - q)`` a binomial is drawn by inversion (sequential search of the CDF, one uniform),
#: at or above it by Hormann's BTRS rejection (valid there: Hormann 1993 requires ``n q >= 10``).
INVERSION_MEAN = 10.0

_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    """``log k! - [(k + 1/2) log(k + 1) - (k + 1) + log sqrt(2 pi)]``: a table for ``k <= 9``, else the series
    ``1/12 - 1/360 + 1/1260`` in ``1/(k + 1)`` (relative error below 1e-10 there)."""
    table = jnp.asarray(_STIRLING_TAIL, k.dtype)
    small = k <= 9
    kk = jnp.clip(k, 0.0, 9.0)
    kp1sq = (k + 1) * (k + 1)
    series = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    return jnp.where(small, table[kk.astype(jnp.int32)], series)


def _uniforms(key):
    """``draw(i, shape)``: float64 uniforms on [0, 1) from ``fold_in(key, i)``; with a batch of keys ``(B,)``, row
    ``b`` of the ``(B, ...)`` result comes from key ``b`` alone (so a chain's numbers do not depend on its batch)."""
    if key.shape == ():
        return lambda i, shape: jax.random.uniform(jax.random.fold_in(key, i), shape, jnp.float64)
    return lambda i, shape: jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(k, i), shape[1:],
                                                                   jnp.float64))(key)


def binomial(key, count, prob):
    r"""Exact ``Binomial(count, prob)`` draws, elementwise (float64 ``count`` and ``prob``, same shape; float64 out).
    ``key``: one key, or a batch ``(B,)`` of keys for arrays of shape ``(B, ...)`` (row ``b`` drawn with key ``b``).

    ``q = min(prob, 1 - prob)``; where ``count q < 10`` by inversion: one uniform ``u``, then the smallest ``k``
    with ``F(k) >= u``, the pmf stepped by ``pmf(k + 1) = pmf(k) (n - k) q / ((k + 1)(1 - q))`` from
    ``pmf(0) = exp(n log1p(-q))`` (``>= e^{-14}``: no underflow); elsewhere by BTRS (Hormann 1993, the
    transformed-rejection sampler, with the exact log-pmf ratio written with Stirling tails, as in TensorFlow and
    ``jax.random.binomial``). Both are exact in distribution up to floating-point rounding. ``count = 0``,
    ``prob = 0`` and ``prob = 1`` give ``0``, ``0`` and ``count`` exactly. Own code rather than
    ``jax.random.binomial`` (the same two algorithms) so that a batch of per-chain keys draws each row from its own
    key, and the inversion needs one uniform per draw (``jax.random.binomial`` draws one per geometric step). Each loop runs until its last element is
    done (inversion: the largest draw, about 30 steps over 1e5 elements; BTRS: acceptance about 0.9 per round).
    """
    flip = prob > 0.5
    q = jnp.where(flip, 1.0 - prob, prob)
    q = jnp.clip(q, 0.0, 0.5)
    use_btrs = count * q >= INVERSION_MEAN

    draw = _uniforms(key)
    # --- inversion
    u = draw(0, count.shape)
    n_inv = jnp.where(use_btrs, 0.0, count)
    ratio = q / (1.0 - q)
    pmf0 = jnp.exp(n_inv * jnp.log1p(-q))

    def inv_cond(c):
        k, _, cdf = c
        return jnp.any((u > cdf) & (k < n_inv))

    def inv_body(c):
        k, pmf, cdf = c
        go = (u > cdf) & (k < n_inv)
        pmf_next = pmf * (n_inv - k) / (k + 1) * ratio
        return jnp.where(go, k + 1, k), jnp.where(go, pmf_next, pmf), jnp.where(go, cdf + pmf_next, cdf)

    k_inv = jax.lax.while_loop(inv_cond, inv_body, (jnp.zeros_like(count), pmf0, pmf0))[0]

    # --- BTRS, only where needed (others start accepted)
    n_b = jnp.where(use_btrs, count, 1e4)
    q_b = jnp.where(use_btrs, q, 0.5)
    stddev = jnp.sqrt(n_b * q_b * (1 - q_b))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * q_b
    c = n_b * q_b + 0.5
    v_r = 0.92 - 4.2 / b
    r = q_b / (1 - q_b)
    alpha = (2.83 + 5.1 / b) * stddev
    m = jnp.floor((n_b + 1) * q_b)
    fixed_part = (m + 0.5) * jnp.log((m + 1) / (r * (n_b - m + 1))) + _stirling_tail(m) + _stirling_tail(n_b - m)

    def btrs_cond(st):
        return jnp.any(~st[2])

    def btrs_body(st):
        i, k_out, accepted = st
        uv = draw(i + 1, count.shape + (2,))
        uu = uv[..., 0] - 0.5
        v = uv[..., 1]
        us = 0.5 - jnp.abs(uu)
        accept1 = (us >= 0.07) & (v <= v_r)
        k = jnp.floor((2 * a / us + b) * uu + c)
        reject = (k < 0) | (k > n_b)
        kc = jnp.clip(k, 0.0, n_b)
        lv = jnp.log(v * alpha / (a / (us * us) + b))
        ub = (fixed_part + (n_b + 1) * jnp.log((n_b - m + 1) / (n_b - kc + 1))
              + (kc + 0.5) * jnp.log(r * (n_b - kc + 1) / (kc + 1)) - _stirling_tail(kc) - _stirling_tail(n_b - kc))
        accept = (accept1 | (~reject & (lv <= ub))) & ~accepted
        return i + 1, jnp.where(accept, k, k_out), accepted | accept

    k_btrs = jax.lax.while_loop(btrs_cond, btrs_body, (jnp.int32(0), jnp.zeros_like(count), ~use_btrs))[1]
    k = jnp.where(use_btrs, k_btrs, k_inv)
    return jnp.where(flip, count - k, k)


def tree_sums(p):
    """The levels of the binary tree of partial sums of ``p (..., K)`` padded with zeros to ``2**L >= K``: a list
    of ``L + 1`` arrays, level ``l`` of shape ``(..., 2**l)`` (level ``L`` is the padded ``p``)."""
    size = p.shape[-1]
    depth = max(1, (size - 1).bit_length())
    levels = [jnp.pad(p, [(0, 0)] * (p.ndim - 1) + [(0, 2**depth - size)])]
    for _ in range(depth):
        levels.append(levels[-1].reshape(*p.shape[:-1], -1, 2).sum(axis=-1))
    return levels[::-1]


#: The last levels of the tree (the widest) are unrolled, each its own compiled binomial; the levels above them
#: share one compiled binomial in a ``fori_loop`` on arrays of the width of the first unrolled level (at least
#: :data:`LOOPED_WIDTH`). Compiling a binomial costs seconds on a CPU, so a fully unrolled tree of K = 1e5 (17 levels)
#: took minutes to compile; this way any K compiles at most 4 binomials, for at most 1.75x the binomial draws of
#: the full unroll (and a tree of K <= 64 one binomial).
UNROLLED_LEVELS = 3
LOOPED_WIDTH = 64


def multinomial(key, p, count, *, levels=None):
    r"""Counts (int32) of ``count`` draws from the weights ``p`` (non-negative, not all zero; they need not sum to
    1), exactly, in ``O(K)`` work and memory whatever ``count``: ``p (K,)`` with one key, or ``p (B, K)`` with a
    batch of keys ``(B,)`` and ``count`` a scalar or ``(B,)`` (row ``b`` drawn with key ``b`` alone).

    A binary tree of conditional binomials: the ``n`` draws that fall in a node split between its halves as
    ``Binomial(n, s_left / (s_left + s_right))`` (``s`` the halves' weights), which is the multinomial law
    (the conditional law of one part of a multinomial given the node's total). ``L = ceil(log2 K)`` levels of
    :func:`binomial`, all in float64; a zero weight gets zero draws exactly. ``levels``: :func:`tree_sums` of ``p``
    when ``p`` is one fixed vector (the source, under ``mix``), to skip recomputing it. Level ``l`` draws with
    ``fold_in(key, l)`` (the same numbers whichever levels are looped or unrolled).
    """
    single = key.shape == ()
    if single:
        key = key[None]
        p = p[None]
    batch, size = key.shape[0], p.shape[-1]
    if levels is None:
        levels = tree_sums(p.astype(jnp.float64))
    levels = [jnp.broadcast_to(level.astype(jnp.float64), (batch, level.shape[-1])) for level in levels]
    depth = len(levels) - 1
    looped = max(0, depth - UNROLLED_LEVELS, min(depth, LOOPED_WIDTH.bit_length() - 1))
    n = jnp.broadcast_to(jnp.asarray(count, jnp.float64), (batch,))[:, None]

    def split(level, n, halves):
        node = halves[..., 0] + halves[..., 1]
        q = jnp.where(node > 0, halves[..., 0] / jnp.where(node > 0, node, 1.0), 0.0)
        left = binomial(jax.vmap(jax.random.fold_in, (0, None))(key, level), n, jnp.clip(q, 0.0, 1.0))
        return jnp.stack([left, n - left], axis=-1).reshape(batch, -1)

    if looped:
        width = 2**looped  # nodes at level `looped`; level l < looped holds its 2**l nodes first, zeros after
        table = jnp.stack([jnp.pad(levels[level], ((0, 0), (0, width - 2**level))) for level in range(1, looped + 1)])

        def body(i, n):
            return split(i + 1, n[:, : width // 2], table[i].reshape(batch, -1, 2))

        n = jax.lax.fori_loop(0, looped, body, jnp.pad(n, ((0, 0), (0, width - 1))))
    for level in range(looped + 1, depth + 1):
        n = split(level, n, levels[level].reshape(batch, -1, 2))
    counts = n[:, :size].astype(jnp.int32)
    return counts[0] if single else counts


def spacings_multinomial(keys, p, count: int):
    """Counts (int32, ``(B, K)``) of ``count`` (static) draws from each row of ``p (B, K)``, row ``b`` with key
    ``keys[b]`` alone, by the exponential spacings of :func:`resample_counts`: the normalised partial sums of
    ``count + 1`` i.i.d. float64 exponentials are the order statistics of ``count`` uniforms, and the number of them
    at most ``F_k`` (binary search of the ``K`` CDF values among the sorted uniforms) is the number of draws in
    categories ``0..k``. Exact; ``O(count + K log count)`` work and ``O(count + K)`` memory per chain: faster than
    :func:`multinomial` for ``count`` up to about 16 K (:data:`theory.montecarlo._discrete.SPACINGS_RATIO`). A
    zero-probability category gets no draw (equal CDF values), except that a uniform rounded to exactly 0 (an
    exponential draw of exactly 0, probability about 2**-53 each) is moved up to the smallest positive float."""

    def one(key, q):
        e = jax.random.exponential(key, (count + 1,), jnp.float64)
        s = jax.lax.associative_scan(jnp.add, e)
        u = jnp.maximum(s[:count] / s[count], jnp.finfo(jnp.float64).tiny)
        cdf = jnp.cumsum(q.astype(jnp.float64))
        cdf = cdf / cdf[-1]
        below = jnp.searchsorted(u, cdf, side="right").at[-1].set(count)  # draws in categories 0..k
        return jnp.diff(below, prepend=0).astype(jnp.int32)

    return jax.vmap(one)(keys, p)
