"""The one engine: one generation step for a block of chains, in either mode, scanned over generations.

The engine scans a per-workflow kernel over generations in segments, for blocks of chains, optionally sharded
over a mesh, and reduces the reported generations. The ``replace`` workflow's kernel is this module's
:func:`_samples_step` / :func:`_sufficient_step` on a :class:`ChainState` (below); the other workflows' kernels
(``init``, ``step`` on a :class:`._kernels.WorkflowState` that adds the workflow's per-chain fields) are in
:mod:`._kernels`. The engine only reads a state's ``mu`` and ``log_variance``.

State of a replace chain: ``ChainState(mu, log_variance)``. The log of the variance is kept (not the variance),
because ``sigma_n -> 0`` almost surely and ``sigma_n**2`` underflows long before ``log sigma_n**2`` does
(``E log sigma_n**2 / sigma**2 = -1.27 n`` at ``M = 2``).

Step ``i`` (generation ``i`` -> ``i + 1``), with ``M = M_i``, ``d`` the learner's divisor, ``A`` the
variance scale:

* ``samples`` mode draws the ``M`` points ``x_j = mu_i + sigma_i z_j`` (``z_j`` standard normal) and fits
  the learner. Both learners are affine-equivariant, so the fit is computed on the standardised points:
  ``mu_{i+1} = mu_i + sigma_i zbar`` and ``sigma_{i+1}**2 = A sigma_i**2 SS(z) / d``. This is the same
  fit, written so that it stays accurate when ``|mu_i| >> sigma_i`` (collapse), where fitting raw ``x`` in
  float32 would lose every digit. The ``z_j`` come from the counter-based stream of :mod:`._normals`
  (draw ``j`` of chain ``c`` is a pure function of the generation's key, ``j`` and ``c``). Per tile of ``T``
  samples, one fused loop hashes each counter once, transforms, masks ``j >= M`` and forms the pair
  (``z - z_0``, ``(z - z_0)**2``) summed over the counter's draws (one complex number, so that XLA keeps it one
  loop); one reduction then sums the tile. The shift by the chain's first draw ``z_0`` keeps
  ``SS = sum (z - z_0)**2 - (sum (z - z_0))**2 / M`` from cancelling catastrophically at small ``M``. Tiles
  are summed per memory-bounded chunk, chunks into the running sums, so the chunk size changes nothing but
  summation order.
* ``sufficient`` mode draws the fitted statistics from their exact joint law, one draw per chain whatever
  ``M``: ``zbar ~ N(0, 1/M)`` and ``SS(z) ~ chi2_{M-1}`` independent, the latter as
  ``log 2 + log Gamma((M - 1)/2)`` (:mod:`._gamma`: Marsaglia-Tsang on the same counter-based stream, fused
  with the normal of ``zbar``; in log space so that tiny draws at ``M = 2`` do not underflow). With a mesh,
  each device runs the sampler's straggler loop on its own chains (``shard_map``).

Float32 at every ``M``: every constant of a step's log-variance update (``log A - log d_i``, ``log 2``, the
sampler's ``log d``; in samples mode the log of the scale that brings ``SS`` near 1) is summed on the host in
float64 and rounded once (:func:`step_inputs`); the state only receives that small offset plus the small random
term (``3 log1p(c x)``, or ``log(SS * scale)``). Adding the large constants in float32, as before, made an error
of about 5e-7 a step at ``M = 10**7``, five times the true drift.

Reported generations are reduced across the block's chains inside the scan (``lax.cond`` on the step's
slot), to ``(count, mean, C2, C3, C4)`` of each per-chain value of :data:`PER_CHAIN`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _kernels
from ._gamma import gamma_parameters
from ._normals import stream_key
from ._summary import PER_CHAIN

#: The largest tile of samples drawn with one key in samples mode.
MAX_TILE = 4096


class ChainState(NamedTuple):
    """Per-chain state of a block: ``mu_n`` and ``log sigma_n**2`` (arrays of shape ``(chains,)``)."""

    mu: jax.Array
    log_variance: jax.Array


class Carry(NamedTuple):
    state: ChainState  # or a _kernels.WorkflowState (workflows other than replace)
    moments: jax.Array  # (slots, len(PER_CHAIN), 5)
    trajectories: jax.Array | None  # (slots, 2, chains) or None


class StepInputs(NamedTuple):
    """Per-step inputs (arrays over steps, so that a schedule ``M_i`` never recompiles).

    The constant part of each step's log-variance update is computed on the host in float64 and rounded once
    (``log_offset_*``), so that float32 adds only small random terms to the state (see the module doc).
    """

    sample_size: jax.Array  # int32, M_i
    inv_sqrt_sample_size: jax.Array  # 1/sqrt(M_i)
    gamma_d_hi: jax.Array  # Marsaglia-Tsang d = a - 1/3 (a = (M_i - 1)/2, + 1 when boosted), high part
    gamma_d_lo: jax.Array  # ... and low part: d_hi + d_lo = d to float64 precision
    gamma_c: jax.Array  # 1/sqrt(9 d)
    inv_shape: jax.Array  # 1/a, for the boost a < 1 (M_i = 2)
    boost: jax.Array  # bool: a < 1
    ss_scale: jax.Array  # samples mode: a number of the working dtype near 1/(M_i - 1), so SS * ss_scale ~ 1
    log_offset_samples: jax.Array  # log A - log d_i - log(ss_scale), in float64 then rounded
    log_offset_sufficient: jax.Array  # log A - log d_i + log 2 + log(gamma d), in float64 then rounded
    slot: jax.Array  # int32: slot of generation i + 1, -1 if not reported
    active: jax.Array  # bool: the step is within the requested generations


def tile_size(max_sample_size: int) -> int:
    """Samples per tile: even, at most :data:`MAX_TILE`, balanced so that ``M`` wastes fewer than one tile."""
    tiles = -(-max_sample_size // MAX_TILE)
    size = -(-max_sample_size // tiles)
    return size + size % 2  # even: a counter gives two float32 draws


def _sums(xs):
    """Sums of the equal-shaped 1-D arrays ``xs``, in one pass (a variadic reduction: XLA CPU would otherwise
    make a loop, and re-evaluate the shared terms, per sum). Two-level: error ~ sqrt(K) eps instead of K eps
    for K chains (matters in float32)."""
    n = xs[0].shape[0]
    if n >= 4096 and n % 64 == 0:
        xs = [x.reshape(-1, 64) for x in xs]
        zeros = tuple(jnp.zeros((), x.dtype) for x in xs)
        rows = jax.lax.reduce(tuple(xs), zeros, lambda a, b: tuple(ai + bi for ai, bi in zip(a, b)), (1,))
        return [r.sum() for r in rows]
    return [x.sum() for x in xs]


def _block_moments(state: ChainState, valid, count, mu0, sigma0, log_variance0):
    error = state.mu - mu0
    sd = jnp.exp(0.5 * state.log_variance)
    values = (
        error**2,
        jnp.exp(state.log_variance),
        sd,
        state.log_variance - log_variance0,
        error**2 + (sd - sigma0) ** 2,
    )
    means = [m / count for m in _sums([jnp.where(valid, x, 0) for x in values])]
    centred = []
    for x, mean in zip(values, means):
        d = jnp.where(valid, x - mean, 0)
        d2 = d * d
        centred += [d2, d2 * d, d2 * d2]
    sums = _sums(centred)
    return jnp.stack([jnp.stack([count, mean, *sums[3 * i : 3 * i + 3]]) for i, mean in enumerate(means)])


def _record(carry: Carry, slot, valid, count, constants) -> Carry:
    # only mu, log_variance and the records enter the conditional: a workflow's other state (a pool of points)
    # passed through it would be copied every step
    def write(operands):
        moments, traj, mu, log_variance = operands
        block = _block_moments(ChainState(mu, log_variance), valid, count, *constants).astype(moments.dtype)
        moments = jax.lax.dynamic_update_index_in_dim(moments, block, slot, axis=0)
        if traj is not None:
            row = jnp.stack([mu, jnp.exp(0.5 * log_variance)])
            traj = jax.lax.dynamic_update_index_in_dim(traj, row, slot, axis=0)
        return moments, traj

    operands = (carry.moments, carry.trajectories, carry.state.mu, carry.state.log_variance)
    moments, traj = jax.lax.cond(slot >= 0, write, lambda o: (o[0], o[1]), operands)
    return Carry(carry.state, moments, traj)


def _sufficient_step(state: ChainState, key, step: StepInputs, dtype, constrain, mesh=None) -> ChainState:
    params = (step.gamma_d_hi, step.gamma_d_lo, step.gamma_c, step.inv_shape, step.boost)
    z, log_ratio = _kernels.sufficient_pair(stream_key(key), state.mu.shape[0], params, dtype, constrain,
                                            mesh)  # log_ratio = log(G / d)
    mu = state.mu + jnp.exp(0.5 * state.log_variance) * z * step.inv_sqrt_sample_size
    return ChainState(mu, state.log_variance + (log_ratio + step.log_offset_sufficient))


def _samples_step(state: ChainState, key, step: StepInputs, dtype, tile, tiles_per_chunk, constrain) -> ChainState:
    m = step.sample_size
    shift, s, q = _kernels.sample_sums(stream_key(key), m, state.mu.shape[0], dtype, tile, tiles_per_chunk,
                                       constrain)
    m_f = m.astype(dtype)
    zbar = shift + s / m_f
    ss = jnp.maximum(q - s * s / m_f, jnp.finfo(dtype).tiny)  # SS = 0 has probability 0, but not in float32
    mu = state.mu + jnp.exp(0.5 * state.log_variance) * zbar
    return ChainState(mu, state.log_variance + (jnp.log(ss * step.ss_scale) + step.log_offset_samples))


@functools.lru_cache(maxsize=64)
def build_kernels(
    *,
    mode: str,
    chains: int,
    slots: int,
    length: int,
    dtype: str,
    tile: int,
    tiles_per_chunk: int,
    trajectories: bool,
    mesh=None,
    workflow: str = "replace",
    subsample: int = 0,
    pool_width: int = 0,
):
    """``(init, segment)`` jitted for a block of ``chains`` chains and segments of ``length`` steps.

    ``init(mu, log_variance, slot0, count, constants, block_key, init_inputs) -> Carry`` and
    ``segment(carry, block_key, first_step, steps: StepInputs, count, constants, wf_steps) -> Carry``. With a
    ``mesh`` (axis ``"chains"``), the chain axis of every per-chain array is split across its devices.

    ``workflow`` picks the kernel: ``"replace"`` steps a :class:`ChainState` with :func:`_samples_step` or
    :func:`_sufficient_step` (``block_key``, ``init_inputs`` and ``wf_steps`` are ``None``); the other workflows
    step a :class:`._kernels.WorkflowState` with :func:`._kernels.step` (``wf_steps``: the
    :class:`._kernels.WorkflowInputs` of the segment, ``init_inputs``: the fixed real set's
    :class:`._kernels.Group`). ``subsample`` is ``K`` and ``pool_width`` the pool's width per chain for
    ``accumulate-subsample`` (whose ``tile`` is the even width of the new samples of a step).
    """
    dtype = jnp.dtype(dtype)
    replace = workflow == "replace"
    if mesh is not None:
        from jax.sharding import NamedSharding
        from jax.sharding import PartitionSpec as P

        chain_sharding = NamedSharding(mesh, P("chains"))
        replicated = NamedSharding(mesh, P())

        def constrain_chains(x):
            return jax.lax.with_sharding_constraint(x, chain_sharding)

        def constrain_tiles(x):
            return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, P(None, "chains", None)))

        traj_sharding = NamedSharding(mesh, P(None, None, "chains")) if trajectories else None
        if replace:
            state_sharding = ChainState(chain_sharding, chain_sharding)
        else:
            extra = {"mix": (), "mix-fixed": (chain_sharding,) * 3, "accumulate": (chain_sharding,) * 2,
                     "accumulate-subsample": (NamedSharding(mesh, P("chains", None)),)}[workflow]
            state_sharding = _kernels.WorkflowState(chain_sharding, chain_sharding, extra)
        carry_sharding = Carry(state_sharding, replicated, traj_sharding)
    else:

        def constrain_chains(x):
            return x

        constrain_tiles = constrain_chains
        carry_sharding = None

    def valid_mask(count):
        return jnp.arange(chains) < count

    def init(mu, log_variance, slot0, count, constants, block_key=None, init_inputs=None):
        if replace:
            state = ChainState(
                constrain_chains(jnp.full((chains,), mu, dtype)), constrain_chains(jnp.full((chains,), log_variance, dtype))
            )
        else:
            state = _kernels.init(workflow, mode, block_key, mu, log_variance, init_inputs, chains, dtype, tile,
                                  tiles_per_chunk, constrain_chains, mesh, pool_width)
        moments = jnp.zeros((slots, len(PER_CHAIN), 5), dtype)
        traj = jnp.zeros((slots, 2, chains), dtype) if trajectories else None
        if traj is not None and mesh is not None:
            traj = jax.lax.with_sharding_constraint(traj, traj_sharding)
        carry = Carry(state, moments, traj)
        return _record(carry, slot0, valid_mask(count), count.astype(dtype), constants)

    def segment(carry, block_key, first_step, steps: StepInputs, count, constants, wf_steps=None):
        valid = valid_mask(count)
        count_f = count.astype(dtype)

        def body(c: Carry, xs):
            offset, step, wf = xs
            key = jax.random.fold_in(block_key, first_step + offset)

            def advance(state):
                if not replace:
                    return _kernels.step(workflow, mode, state, key, wf, constants, chains, dtype, tile,
                                         tiles_per_chunk, subsample, constrain_chains, mesh)
                if mode == "sufficient":
                    new = _sufficient_step(state, key, step, dtype, constrain_chains, mesh)
                else:
                    new = _samples_step(state, key, step, dtype, tile, tiles_per_chunk, constrain_tiles)
                return ChainState(constrain_chains(new.mu), constrain_chains(new.log_variance))

            if replace:
                state = jax.lax.cond(step.active, advance, lambda s: s, c.state)
            else:
                # the padding steps after the last generation run too (nothing after it is recorded): no
                # conditional around a workflow's state, whose pool it would copy every step
                state = advance(c.state)
            c = _record(Carry(state, c.moments, c.trajectories), step.slot, valid, count_f, constants)
            return c, None

        carry, _ = jax.lax.scan(body, carry, (jnp.arange(length, dtype=jnp.int32), steps, wf_steps))
        return carry

    options = compiler_options(mesh)
    if carry_sharding is not None:
        init_fn = jax.jit(init, out_shardings=carry_sharding, compiler_options=options)
        segment_fn = jax.jit(segment, out_shardings=carry_sharding, donate_argnums=0, compiler_options=options)
    else:
        init_fn = jax.jit(init, compiler_options=options)
        segment_fn = jax.jit(segment, donate_argnums=0, compiler_options=options)
    return init_fn, segment_fn


@functools.lru_cache(maxsize=1)
def _cpu_has_avx512() -> bool:
    """True when the processor reports AVX-512F (Linux ``/proc/cpuinfo``); False when it does not or cannot tell."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


def compiler_options(mesh=None) -> dict:
    """XLA options for the engine's kernels: on a CPU with AVX-512, 512-bit vectors (XLA CPU prefers 256-bit
    vectors by default; 512-bit ones made the float64 sufficient step about 1.6x faster on this project's AVX-512
    machine, bit for bit the same draws). Nothing elsewhere: other CPUs keep XLA's default."""
    platform = mesh.devices.flat[0].platform if mesh is not None else jax.default_backend()
    return {"xla_cpu_prefer_vector_width": 512} if platform == "cpu" and _cpu_has_avx512() else {}


def step_inputs(chain, sample_sizes: np.ndarray, slot_of: np.ndarray, total_steps: int, dtype) -> StepInputs:
    """Host-side per-step arrays (length ``total_steps``, padded with inactive steps).

    Every constant of a step's log-variance update is summed here in float64 and rounded to ``dtype`` once:
    in float32 at ``M = 10**7`` the separate constants (``log(M - 1)``, ``log 2``, ``log d`` about 16 each) had
    rounding errors (5e-7) larger than the true drift per step (1e-7), and biased ``E log sigma_n**2``.
    """
    n = len(sample_sizes)
    pad = total_steps - n
    m = np.concatenate([np.asarray(sample_sizes, dtype=np.float64), np.full(pad, 2.0)])
    divisor = m - 1 if chain.learner == "unbiased" else m
    log_factor = math.log(float(chain.variance_scale)) - np.log(divisor)
    slots = np.concatenate([slot_of[1 : n + 1], np.full(pad, -1)])
    np_dtype = np.dtype(dtype)
    d_hi, d_lo, c, inv_shape, boost, log_d = gamma_parameters((m - 1) / 2, np_dtype)
    ss_scale = (1 / (m - 1)).astype(np_dtype)
    return StepInputs(
        sample_size=np.minimum(m, np.iinfo(np.int32).max).astype(np.int32),
        inv_sqrt_sample_size=(1 / np.sqrt(m)).astype(np_dtype),
        gamma_d_hi=d_hi,
        gamma_d_lo=d_lo,
        gamma_c=c,
        inv_shape=inv_shape,
        boost=boost,
        ss_scale=ss_scale,
        log_offset_samples=(log_factor - np.log(ss_scale.astype(np.float64))).astype(np_dtype),
        log_offset_sufficient=(log_factor + math.log(2) + log_d).astype(np_dtype),
        slot=slots.astype(np.int32),
        active=np.arange(total_steps) < n,
    )
