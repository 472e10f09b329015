"""Monte Carlo kernels of the workflows other than ``replace`` (``mix``, ``mix-fixed``, ``accumulate``,
``accumulate-subsample``): a pure ``init`` and ``step`` per workflow, driven by the one engine (:mod:`._engine`:
scan, segments, blocks of chains, sharding, the reduction of the reported generations).

``replace`` keeps the engine's own step functions (:func:`._engine._samples_step`,
:func:`._engine._sufficient_step`), untouched, so its numbers stay what they were bit for bit.

**State.** :class:`WorkflowState` ``(mu, log_variance, extra)``: the engine reads ``mu_n`` and
``log sigma_n**2`` (as for replace); ``extra`` is a tuple of per-chain arrays (chain axis first) that the workflow
carries from step to step:

=========================  ========================================================================================
``mix``                    nothing
``mix-fixed``              the fixed real set's mean and ``log`` scatter (drawn once by ``init``), and the model's
                           mean relative to it in units of the model's sd, ``(m_i - rbar)/s_i`` (with one real
                           point the model collapses onto it: this keeps the difference exact)
``accumulate``             the pool's mean and scatter ``S = sum (y - ybar)**2`` (its size ``N_i`` is known on the
                           host, a per-step input)
``accumulate-subsample``   the pool's points, ``(chains, N_max + M_max)``
=========================  ========================================================================================

Everything inside a step is in source units ``y = (x - mu)/sigma`` (real points are standard normals; a sample of
model ``i`` is ``m_i + s_i z`` with ``m_i = (mu_i - mu)/sigma``, ``s_i**2 = sigma_i**2/sigma**2``); the state's
``mu`` and ``log_variance`` are converted back. Each group of points drawn in a step is summarised by its exact
``(count, mean, scatter)``:

* ``samples`` mode draws the points (the engine's counter-based normals, tiles and memory-bounded chunks as in the
  replace step, the scatter about the group's first draw so that it does not cancel) and sums them;
* ``sufficient`` mode draws the summary from its exact law: mean ``N(0, 1/count)``, scatter
  ``chi2_{count - 1} = 2 Gamma((count - 1)/2)`` (the engine's Marsaglia-Tsang sampler, in log space), independent.

Groups are merged with the exact pooled formulas (Chan, Golub and LeVeque 1979):
``S = S_1 + S_2 + m_1 m_2/(m_1 + m_2) (ybar_1 - ybar_2)**2``; the weighted fit of ``mix`` with weight ``w`` on the
real group (``R`` points) and ``1 - w`` on the synthetic group (``M - R`` points) is
``mean = w rbar + (1 - w) sbar``,
``sum omega (y - mean)**2 = w S_r/R + (1 - w) S_s/(M - R) + w (1 - w)(rbar - sbar)**2``, divided by
``1 - w**2/R - (1 - w)**2/(M - R)`` for the unbiased learner, times ``A`` (``w = R/M`` gives divisors ``M - 1`` and
``M``). The synthetic scatter is kept in log space (``log S_s + log s_i**2``), so that ``mix:0`` (no real data:
replace) collapses as replace does without underflow.

**Streams.** Step ``i`` uses the engine's step key ``k_i = fold_in(block key, i)`` (as replace); the real points
come from the stream of ``fold_in(k_i, 1)``, the synthetic points from ``fold_in(k_i, 2)``, the subsample's
uniforms from ``fold_in(k_i, 3)``, the fixed real set of ``mix-fixed`` from ``fold_in(k_0, 4)``: streams never
overlap, and the same key gives the same numbers.

**accumulate-subsample** keeps every chain's pool (``N_max + M_max`` numbers of the working dtype per chain,
planned within the memory bound by :func:`theory.montecarlo.simulate`): step ``i`` writes the ``M_i`` new samples
at ``N_{i-1}`` (in place), then draws ``K`` distinct indices of the valid prefix ``[0, N_i)`` uniformly without
replacement by Robert Floyd's algorithm (Bentley and Floyd, *CACM* 30, 1987: for ``j = N - K .. N - 1`` draw
``t`` uniform on ``[0, j]`` and take ``t``, or ``j`` if ``t`` is already taken), each ``t`` as
``floor(b (j + 1) / 2**32)`` from a 32-bit word ``b`` (its bias is below ``N_i / 2**32`` relative), and fits the
``K`` points gathered there. The pool is never reordered or copied. Cost per chain and step: ``M_i`` normals,
``K`` hashes and ``K**2`` comparisons (a sequential loop of ``K`` small vectorised steps), ``K`` gathered points;
nothing proportional to the pool's size. No sufficient mode: which points of the pool enter the subsample is not a
function of the pool's sufficient statistics.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._gamma import gamma_parameters, sufficient_draws
from ._normals import _hash, draws_per_counter, normals, stream_key


class WorkflowState(NamedTuple):
    """Per-chain state of a non-replace workflow: ``mu_n``, ``log sigma_n**2`` and the workflow's ``extra``."""

    mu: jax.Array
    log_variance: jax.Array
    extra: tuple


class Group(NamedTuple):
    """Per-step inputs of one group of points drawn in a step (arrays over steps)."""

    count: jax.Array  # int32
    inv_sqrt: jax.Array  # 1/sqrt(max(count, 1))
    d_hi: jax.Array  # Marsaglia-Tsang parameters of Gamma((max(count, 2) - 1)/2), as in the replace step
    d_lo: jax.Array
    c: jax.Array
    inv_shape: jax.Array
    boost: jax.Array
    log_2d: jax.Array  # log(2 d) in float64, rounded once: log S = log_2d + log(G/d)


class WorkflowInputs(NamedTuple):
    """Per-step inputs of a non-replace workflow (arrays over steps; unused ones are zeros)."""

    real: Group  # mix: the R_i fresh real points
    synth: Group  # mix: the M_i - R_i samples; accumulate(-subsample): the M_i samples
    weight: jax.Array  # mix: w_i, the real points' total weight (0 when R_i = 0, 1 when R_i = M_i)
    inv_real: jax.Array  # 1/max(R_i, 1)
    inv_synth: jax.Array  # 1/max(M_i - R_i, 1)
    log_factor: jax.Array  # log A - log(divisor), float64 then rounded
    pool_before: jax.Array  # accumulate: N_{i-1} (0 at step 0), working dtype
    pool_offset: jax.Array  # accumulate-subsample: N_{i-1}, int32
    pool_valid: jax.Array  # accumulate-subsample: N_i, int32


def _groups(counts: np.ndarray, dtype) -> Group:
    counts = np.asarray(counts, np.int64)
    np_dtype = np.dtype(dtype)
    shape = (np.maximum(counts, 2) - 1) / 2
    d_hi, d_lo, c, inv_shape, boost, log_d = gamma_parameters(shape, np_dtype)
    return Group(
        count=counts.astype(np.int32),
        inv_sqrt=(1 / np.sqrt(np.maximum(counts, 1))).astype(np_dtype),
        d_hi=d_hi, d_lo=d_lo, c=c, inv_shape=inv_shape, boost=boost,
        log_2d=(math.log(2) + log_d).astype(np_dtype),
    )


def workflow_inputs(chain, sample_sizes: np.ndarray, total_steps: int, dtype) -> WorkflowInputs:
    """Host-side per-step arrays of ``chain.workflow`` (length ``total_steps``, padded with harmless steps)."""
    wf = chain.workflow
    np_dtype = np.dtype(dtype)
    sizes = [int(m) for m in sample_sizes]
    n = len(sizes)
    pad = total_steps - n
    m = np.array(sizes + [2] * pad, dtype=np.int64)
    log_a = math.log(float(chain.variance_scale))
    unbiased = chain.learner == "unbiased"
    zeros = np.zeros(total_steps)
    if wf.kind in ("mix", "mix-fixed"):
        r = np.array([wf.real_count(int(v)) for v in m], dtype=np.int64)
        w = np.array([wf.weight(int(v)) if 0 < wf.real_count(int(v)) < int(v) else
                      (0.0 if wf.real_count(int(v)) == 0 else 1.0) for v in m])
        s = m - r
        sum_sq = np.where(r > 0, w**2 / np.maximum(r, 1), 0) + np.where(s > 0, (1 - w) ** 2 / np.maximum(s, 1), 0)
        divisor = 1 - sum_sq if unbiased else np.ones(total_steps)
        real, synth = _groups(r, dtype), _groups(s, dtype)
        inv_real, inv_synth = 1 / np.maximum(r, 1), 1 / np.maximum(s, 1)
        pool_before, offset, valid = zeros, zeros, zeros
    else:
        pool = np.cumsum(m)
        before = pool - m
        if wf.kind == "accumulate":
            divisor = (pool - 1 if unbiased else pool).astype(np.float64)
        else:
            k = wf.subsample
            divisor = np.full(total_steps, float(k - 1 if unbiased else k))
        real, synth = _groups(np.zeros(total_steps), dtype), _groups(m, dtype)
        w, inv_real, inv_synth = zeros, zeros, 1 / m
        pool_before, offset, valid = before, before, pool
    return WorkflowInputs(
        real=real,
        synth=synth,
        weight=w.astype(np_dtype),
        inv_real=np.asarray(inv_real, np.float64).astype(np_dtype),
        inv_synth=np.asarray(inv_synth, np.float64).astype(np_dtype),
        log_factor=(log_a - np.log(divisor)).astype(np_dtype),
        pool_before=np.asarray(pool_before, np.float64).astype(np_dtype),
        pool_offset=np.minimum(offset, np.iinfo(np.int32).max).astype(np.int32),
        pool_valid=np.minimum(valid, np.iinfo(np.int32).max).astype(np.int32),
    )


def init_group(chain, dtype) -> Group:
    """The fixed real set of ``mix-fixed`` (``R = round(LAMBDA M_0)`` points) as a one-element :class:`Group`;
    for other workflows a group of 0 points (unused)."""
    r = chain.workflow.real_count(chain.sample_size_at(0)) if chain.workflow.kind == "mix-fixed" else 0
    return Group(*(np.asarray(a)[0] for a in _groups(np.array([r]), dtype)))


# ---------------------------------------------------------------------------------------------------- groups
def sample_sums(words, count, chains: int, dtype, tile: int, tiles_per_chunk: int, constrain):
    """Samples mode, shared by every workflow's step (replace's too): ``(shift, s, q)`` per chain, with ``shift``
    the chain's first draw and ``s``, ``q`` the sums of ``z - shift`` and ``(z - shift)**2`` over its ``count``
    (traced int32) standard normals.

    Draw ``j`` of chain ``c`` is the normal at counter ``j // 2`` of the stream ``words``. Per tile of ``tile``
    samples, one fused loop hashes each counter once, transforms, masks ``j >= count`` and forms the pair, summed
    as one complex number (so that XLA CPU keeps it one loop); tiles are summed per memory-bounded chunk of
    ``tiles_per_chunk``, chunks into the running sums. The shift keeps ``SS = q - s**2 / count`` from cancelling
    catastrophically at small ``count``."""
    per = draws_per_counter(dtype)
    width = tile // per  # counters per tile
    n_tiles = (count + tile - 1) // tile
    n_chunks = (n_tiles + tiles_per_chunk - 1) // tiles_per_chunk
    chain = constrain(jax.lax.broadcasted_iota(jnp.uint32, (1, chains, 1), 1))
    shift = normals(words, jnp.uint32(0), chain, dtype)[0]  # draw 0 of each chain: (1, chains, 1)
    zero = jnp.zeros((chains,), dtype)

    def chunk(c, acc):
        total, total_sq = acc
        tiles = c * tiles_per_chunk + jnp.arange(tiles_per_chunk, dtype=jnp.int32)
        counter = tiles[:, None, None] * width + jnp.arange(width, dtype=jnp.int32)[None, None, :]
        s = q = None
        for j, z in enumerate(normals(words, counter.astype(jnp.uint32), chain, dtype)):
            d = jnp.where(counter * per + j < count, z - shift, 0)  # (tiles, chains, width)
            s = d if s is None else s + d
            q = d * d if q is None else q + d * d
        # s and q as the real and imaginary parts of one array: XLA CPU then computes the hash once per counter
        # (two real outputs became two loops, each hashing) and sums both in one pass; per tile, then over tiles
        both = jax.lax.complex(s, q).sum(axis=2).sum(axis=0)
        return total + jnp.real(both), total_sq + jnp.imag(both)

    s, q = jax.lax.fori_loop(0, n_chunks, chunk, (zero, zero))
    return shift[0, :, 0], s, q


def sufficient_pair(words, chains: int, params, dtype, constrain, mesh=None):
    """Sufficient mode, shared by every workflow's step (replace's too): ``(z, log(G/d))`` per chain, a standard
    normal and a Marsaglia-Tsang gamma draw with ``params`` (:func:`._gamma.sufficient_draws`). With a mesh, each
    device runs the sampler's straggler loop on its own chains (``shard_map``; global chain indices come in
    sharded, so the loop needs no collective and the draws are the same as on one device)."""
    chain = constrain(jax.lax.broadcasted_iota(jnp.uint32, (chains,), 0))
    draws = functools.partial(sufficient_draws, dtype=dtype)
    if mesh is not None:
        from jax.sharding import PartitionSpec as P

        draws = jax.shard_map(draws, mesh=mesh, in_specs=(P(), P("chains"), P()),
                              out_specs=(P("chains"), P("chains")), check_vma=False)
    return draws(words, chain, params)


def group_samples(words, count, chains: int, dtype, tile: int, tiles_per_chunk: int, constrain):
    """Samples mode: ``(mean, log scatter)`` of ``count`` standard normals per chain (:func:`sample_sums`).
    ``count = 0``: mean 0; ``count < 2``: scatter 0 (log ``-inf``)."""
    shift, s, q = sample_sums(words, count, chains, dtype, tile, tiles_per_chunk, constrain)
    m_f = jnp.maximum(count, 1).astype(dtype)
    mean = jnp.where(count > 0, shift + s / m_f, 0)
    ss = jnp.maximum(q - s * s / m_f, jnp.finfo(dtype).tiny)  # as the replace step: SS = 0 only by rounding
    return mean, jnp.where(count >= 2, jnp.log(ss), -jnp.inf)


def group_sufficient(words, group: Group, chains: int, dtype, constrain, mesh=None):
    """Sufficient mode: ``(mean, log scatter)`` of ``group.count`` standard normals from their exact joint law
    (mean ``N(0, 1/count)``, scatter ``2 Gamma((count - 1)/2)``; :func:`sufficient_pair`)."""
    params = (group.d_hi, group.d_lo, group.c, group.inv_shape, group.boost)
    z, log_ratio = sufficient_pair(words, chains, params, dtype, constrain, mesh)
    mean = jnp.where(group.count > 0, z * group.inv_sqrt, 0)
    return mean, jnp.where(group.count >= 2, log_ratio + group.log_2d, -jnp.inf)


# ---------------------------------------------------------------------------------------------------- kernels
def _standardise(state, constants):
    mu0, sigma0, log_variance0 = constants
    return (state.mu - mu0) / sigma0, state.log_variance - log_variance0


def _restore(mean, log_rel_variance, constants):
    mu0, sigma0, log_variance0 = constants
    return mu0 + sigma0 * mean, log_rel_variance + log_variance0


def _log(x):
    return jnp.log(jnp.maximum(x, 0))  # log 0 = -inf


def init(kind: str, mode: str, block_key, mu, log_variance, init_inputs: Group, chains: int, dtype, tile: int,
         tiles_per_chunk: int, constrain, mesh, pool_width: int) -> WorkflowState:
    """The state of a block's chains at generation 0 (``mu``, ``log_variance`` of the source)."""
    mu_arr = constrain(jnp.full((chains,), mu, dtype))
    lv_arr = constrain(jnp.full((chains,), log_variance, dtype))
    if kind == "mix":
        extra = ()
    elif kind == "mix-fixed":
        words = stream_key(jax.random.fold_in(jax.random.fold_in(block_key, 0), 4))
        if mode == "sufficient":
            mean, log_ss = group_sufficient(words, init_inputs, chains, dtype, constrain, mesh)
        else:
            mean, log_ss = group_samples(words, init_inputs.count, chains, dtype, tile, tiles_per_chunk,
                                         _tile_constraint(constrain))
        extra = (constrain(mean), constrain(log_ss), constrain(-mean))  # u = (m_0 - rbar)/s_0 = -rbar
    elif kind == "accumulate":
        extra = (constrain(jnp.zeros((chains,), dtype)), constrain(jnp.zeros((chains,), dtype)))
    else:
        extra = (jnp.zeros((chains, pool_width), dtype),)
    return WorkflowState(mu_arr, lv_arr, extra)


def _tile_constraint(constrain):
    # constrain() expects the chain axis first; the tiles of group_samples have it second
    def tiles(x):
        return jnp.moveaxis(constrain(jnp.moveaxis(x, 1, 0)), 0, 1)

    return tiles


def step(kind: str, mode: str, state: WorkflowState, key, wf: WorkflowInputs, constants, chains: int, dtype,
         tile: int, tiles_per_chunk: int, subsample: int, constrain, mesh) -> WorkflowState:
    """One step ``i -> i + 1`` of the workflow for a block of chains (``wf``: this step's inputs)."""
    m, lv = _standardise(state, constants)
    s = jnp.exp(0.5 * lv)

    def draw(group: Group, index):
        words = stream_key(jax.random.fold_in(key, index))
        if mode == "sufficient":
            return group_sufficient(words, group, chains, dtype, constrain, mesh)
        return group_samples(words, group.count, chains, dtype, tile, tiles_per_chunk, _tile_constraint(constrain))

    if kind == "mix":
        rbar, log_rss = draw(wf.real, 1)
        zbar, log_zss = draw(wf.synth, 2)
        w = wf.weight
        sbar = m + s * zbar
        mean = w * rbar + (1 - w) * sbar
        b = w * jnp.exp(log_rss) * wf.inv_real + w * (1 - w) * (rbar - sbar) ** 2
        log_a = _log(1 - w) + log_zss + jnp.log(wf.inv_synth) + lv
        log_s = jnp.logaddexp(log_a, _log(b))
        new_lv = wf.log_factor + log_s
        mu, log_variance = _restore(mean, new_lv, constants)
        return WorkflowState(constrain(mu), constrain(log_variance), state.extra)

    if kind == "mix-fixed":
        # the model's mean relative to the fixed real mean, in units of the model's sd: u = (m - rbar)/s. With one
        # real point (R = 1) the model collapses onto it (sigma_n -> 0, m -> rbar); m - rbar computed from m would
        # cancel to nothing, u stays O(1). Then rbar - sbar = -s (u + zbar) = -s t and
        # S = w S_r/R + s**2 [(1 - w) S_z/(M - R) + w (1 - w) t**2], all in log space.
        rbar, log_rss, u = state.extra
        zbar, log_zss = draw(wf.synth, 2)
        w = wf.weight
        t = u + zbar
        inner = (1 - w) * jnp.exp(log_zss) * wf.inv_synth + w * (1 - w) * t * t
        log_s = jnp.logaddexp(lv + _log(inner), _log(w * jnp.exp(log_rss) * wf.inv_real))
        new_lv = wf.log_factor + log_s
        offset = (1 - w) * s * t  # m_{n+1} - rbar
        new_u = (1 - w) * t * jnp.exp(0.5 * (lv - new_lv))
        mu, log_variance = _restore(rbar + offset, new_lv, constants)
        return WorkflowState(constrain(mu), constrain(log_variance), (rbar, log_rss, constrain(new_u)))

    if kind == "accumulate":
        pool_mean, pool_ss = state.extra
        zbar, log_zss = draw(wf.synth, 2)
        ybar = m + s * zbar
        ss_new = jnp.exp(log_zss + lv)
        n_before = wf.pool_before
        n_new = wf.synth.count.astype(dtype)
        n_after = n_before + n_new
        delta = ybar - pool_mean
        mean = pool_mean + delta * (n_new / n_after)
        ss = pool_ss + ss_new + delta * delta * (n_before * n_new / n_after)
        new_lv = wf.log_factor + jnp.log(jnp.maximum(ss, jnp.finfo(dtype).tiny))
        mu, log_variance = _restore(mean, new_lv, constants)
        return WorkflowState(constrain(mu), constrain(log_variance), (constrain(mean), constrain(ss)))

    # accumulate-subsample
    (pool,) = state.extra
    width_new = tile  # the new samples, padded to a whole number of counter pairs (see simulate's plan)
    words = stream_key(jax.random.fold_in(key, 2))
    chain = constrain(jax.lax.broadcasted_iota(jnp.uint32, (chains, 1), 0))
    counter = jnp.arange(width_new // 2, dtype=jnp.uint32)[None, :]
    z0, z1 = normals(words, counter, chain, dtype)
    # the pair's two draws side by side (columns c and width/2 + c of counter c): interleaving them (stack and
    # reshape) made XLA CPU's float64 loop scalar, 10x slower
    z = jnp.concatenate([z0, z1], axis=1)
    new = m[:, None] + s[:, None] * z
    pool = jax.lax.dynamic_update_slice(pool, new, (jnp.int32(0), wf.pool_offset))
    valid = wf.pool_valid.astype(jnp.uint32)
    words_u = stream_key(jax.random.fold_in(key, 3))
    chain1 = chain[:, 0]

    def floyd(k, chosen):
        # Robert Floyd's sampling: j = N - K + k, t uniform on [0, j]; take t unless already taken, then j
        j = valid - np.uint32(subsample) + k.astype(jnp.uint32)
        bits = _hash(words_u, k.astype(jnp.uint32), chain1)[0]
        t = _mulhi(bits, j + np.uint32(1)).astype(jnp.int32)
        taken = jnp.any(chosen == t[:, None], axis=1)
        return chosen.at[:, k].set(jnp.where(taken, j.astype(jnp.int32), t))

    chosen = jax.lax.fori_loop(0, subsample, floyd, jnp.full((chains, subsample), -1, jnp.int32))
    sub = jnp.take_along_axis(pool, chosen, axis=1)
    mean = sub.mean(axis=1)
    d = sub - mean[:, None]
    ss = (d * d).sum(axis=1)
    new_lv = wf.log_factor + jnp.log(jnp.maximum(ss, jnp.finfo(dtype).tiny))
    mu, log_variance = _restore(mean, new_lv, constants)
    return WorkflowState(constrain(mu), constrain(log_variance), (pool,))


def _mulhi(a, b):
    """``floor(a b / 2**32)`` for uint32 ``a`` and ``b`` (exact, in 16-bit halves: no 64-bit integers needed)."""
    mask = np.uint32(0xFFFF)
    sixteen = np.uint32(16)
    ah, al = a >> sixteen, a & mask
    bh, bl = b >> sixteen, b & mask
    mid1, mid2, low = ah * bl, al * bh, al * bl
    carry = (low >> sixteen) + (mid1 & mask) + (mid2 & mask)
    return ah * bh + (mid1 >> sixteen) + (mid2 >> sixteen) + (carry >> sixteen)
