"""``simulate``: many independent chains of the recursive Gaussian fitting process, vectorised in JAX."""

from __future__ import annotations

import decimal
import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer, check_key
from ..chain import GaussianChain, check_generations
from . import _engine, _kernels
from ._sharding import chain_mesh, select_devices, to_host
from ._summary import PER_CHAIN, SimulationResult, merge_moments, overflow_notes, summarise

MODES = ("sufficient", "samples")

#: Largest ``M_i`` the Monte Carlo accepts per dtype: ``(M - 1)/2`` and ``1/sqrt(M)`` stay finite and normal.
_LARGEST_SAMPLE_SIZE = {"float32": 1e30, "float64": 1e300}

#: Default bound on the random numbers in flight per device and chunk (samples mode): 2**24 (64 MiB in float32).
DEFAULT_CHUNK_ELEMENTS = 2**24

_SUFFICIENT_ELEMENTS_PER_CHAIN = 16  # state, draws and temporaries of one chain in sufficient mode

#: Work of one chain and generation in sufficient mode, in normal-draw equivalents (a normal and a gamma draw).
SUFFICIENT_COST = 8
#: Work (normal-draw equivalents) of one compiled segment, per platform: about a second or less on that platform,
#: so that the host regains control (Ctrl-C, progress) that often. Segments end with ``block_until_ready``.
SEGMENT_WORK = {"cpu": 2**25, "gpu": 2**31}
#: Optimistic throughput (normal-draw equivalents per second and device) used to refuse absurd requests: an
#: estimate from it is a lower bound on the run time.
OPTIMISTIC_RATE = {"cpu": 1e9, "gpu": 1e11}
#: Requests estimated (optimistically) to take longer than this are refused (``max_seconds`` overrides it).
MAX_SECONDS = 86_400.0


def default_dtype():
    """The dtype :func:`simulate` runs in by default: float64 (x64 switched on locally for the run), as the CLI."""
    return jnp.float64


def _check_dtype(dtype):
    if dtype is None:
        return jnp.dtype(default_dtype())
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        raise ParameterError("dtype", "float32 or float64", dtype) from None
    if dtype not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ParameterError("dtype", "float32 or float64", str(dtype))
    return dtype


def _as_key(key):
    return check_key(key)


def _platform(devices) -> str:
    return "gpu" if devices[0].platform in ("gpu", "cuda", "rocm") else "cpu"


def _format_seconds(seconds: float) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.3g} {unit}" + ("" if f"{value:.3g}" == "1" else "s")
    return f"{seconds:.3g} s"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 * 2**30


def _progress_default() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover
        return False


def simulate(
    key,
    chain: GaussianChain,
    *,
    chains: int,
    generations,
    mode: str = "sufficient",
    dtype=None,
    trajectories: bool = False,
    device: str | None = None,
    devices=None,
    progress: bool | None = None,
    max_chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    memory_limit: int | None = None,
    max_seconds: float | None = MAX_SECONDS,
) -> SimulationResult:
    """Monte Carlo of ``chains`` independent runs of ``chain``, reported at ``generations``.

    Each run starts at ``p_0 = N(mu, sigma**2)`` and refits generation ``i + 1`` to the training set of
    ``chain.workflow``: ``M_i`` samples of generation ``i`` (``replace``), with ``round(LAMBDA M_i)`` of them real
    points instead (``mix``, fresh each step; ``mix-fixed``, drawn once per chain), the pool of every sample so far
    (``accumulate``) or ``K`` points drawn from it without replacement (``accumulate-subsample``); see
    :mod:`theory.chain._workflow` and, for how each is run, :mod:`theory.montecarlo._kernels`. At every reported ``n`` the chains give MC means and standard errors of

    ``mean_sq_error`` ``E(mu_n - mu)**2``, ``variance_mean`` ``E sigma_n**2``, ``variance_var``
    ``Var sigma_n**2``, ``sd_mean`` ``E sigma_n``, ``log_variance_mean`` ``E log sigma_n**2 - log sigma**2``,
    ``w2_sq_mean`` ``E W2**2(p_n, p_0)``, ``w2_sq_var`` ``Var W2**2(p_n, p_0)``, with
    ``W2**2 = (mu_n - mu)**2 + (sigma_n - sigma)**2``: the keys of :func:`theory.exact_values`.

    Parameters
    ----------
    key:
        a JAX PRNG key (``jax.random.key(seed)``); the run is a pure function of it.
    chain:
        the :class:`theory.GaussianChain` (constant ``M`` or a schedule; numeric parameters).
    chains:
        number of independent runs ``K >= 2`` (standard errors need two).
    generations:
        generation indices ``n >= 0`` to report (``0`` is ``p_0`` itself), in any order.
    mode:
        ``"sufficient"`` (default): draw each fit's sample mean and variance from their exact joint law,
        one draw per chain and generation whatever ``M`` (for ``mix`` one per group, real and synthetic, merged
        exactly). ``"samples"``: draw the ``M_i`` points and fit them (the process itself), in memory-bounded
        chunks. ``accumulate-subsample`` has samples mode only (a ``ParameterError`` naming ``mode`` otherwise);
        it keeps every chain's pool (``M_0 + ... + M_{n-1}`` numbers per chain), and refuses, naming
        ``generations``, a pool that does not fit ``memory_limit``.
    dtype:
        ``"float64"`` (default, as the command line) or ``"float32"`` (about 2x faster on CPU). Float64 runs
        switch x64 on locally (``jax.enable_x64``), never globally.
    trajectories:
        also return every chain's ``mu_n`` and ``sigma_n`` at the reported generations.
    device, devices:
        ``"cpu"`` or ``"gpu"`` (every device of that platform), or an explicit list of JAX devices. With
        more than one, chains are split across them (see :mod:`theory.montecarlo._sharding`, which also
        explains multi-host runs with ``jax.distributed``).
    progress:
        show a tqdm bar on stderr; default: when stderr is a terminal.
    max_chunk_elements:
        random numbers in flight per device in samples mode (chunks over the sample axis, then blocks of
        chains); results do not depend on it beyond floating-point summation order.
    memory_limit:
        bytes the returned trajectories, and the pools of ``accumulate-subsample``, may take (default half the
        machine's memory).
    max_seconds:
        refuse a request whose optimistic run-time estimate (:data:`OPTIMISTIC_RATE`) exceeds this many seconds
        (default a day); ``None``: no limit. Compiled segments are sized to about a second of work
        (:data:`SEGMENT_WORK`), so Ctrl-C acts within seconds.

    Returns
    -------
    SimulationResult
        float64 arrays; a value that overflows the run's dtype (e.g. ``variance_var`` for ``A > 1`` and large
        ``n``) is ``inf`` or ``nan`` with its reason in ``result.notes`` (``None`` with the note in ``to_dict()``).

    Examples
    --------
    >>> import jax
    >>> from theory import GaussianChain
    >>> result = simulate(jax.random.key(0), GaussianChain(10), chains=1000, generations=[0, 5])
    >>> result["variance_mean"].shape
    (2,)
    >>> float(result["w2_sq_mean"][0]), result.dtype
    (0.0, 'float64')
    """
    if not isinstance(chain, GaussianChain):
        raise ParameterError("chain", "a theory.GaussianChain", chain)
    if chain.is_symbolic:
        raise ParameterError("chain", "a chain with numeric sample_size, variance_scale and sigma", chain)
    key = _as_key(key)
    chains = check_integer("chains", chains, minimum=2)
    requested = check_generations(generations)
    if mode not in MODES:
        raise ParameterError("mode", "'sufficient' or 'samples'", mode)
    if mode == "sufficient" and chain.workflow.kind == "accumulate-subsample":
        raise ParameterError("mode", "'samples' for workflow accumulate-subsample (which pool points enter the "
                             "subsample is not a function of the pool's sufficient statistics)", mode)
    dtype = _check_dtype(dtype)
    info = np.finfo(dtype.name)
    lo, hi = math.sqrt(float(info.tiny)), math.sqrt(float(info.max))
    if not lo <= float(chain.sigma) <= hi:  # sigma**2 (the reported variances) must be a normal number of the dtype
        raise ParameterError("sigma", f"between {lo:.2g} and {hi:.2g} in {dtype.name} Monte Carlo (sigma**2 must not "
                             "underflow or overflow; the exact values have no such limit)", float(chain.sigma))
    max_chunk_elements = check_integer("max_chunk_elements", max_chunk_elements, minimum=1)
    if max_seconds is not None and not (isinstance(max_seconds, (int, float)) and max_seconds > 0):
        raise ParameterError("max_seconds", "a number > 0 or None", max_seconds)
    devices = select_devices(device, devices)
    if progress is None:
        progress = _progress_default()
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):
            return _run(key, chain, chains, requested, mode, dtype, trajectories, devices, progress,
                        max_chunk_elements, memory_limit, max_seconds)
    return _run(key, chain, chains, requested, mode, dtype, trajectories, devices, progress, max_chunk_elements,
                memory_limit, max_seconds)


def _refuse_if_absurd(chains, n_max, work_per_chain_step, n_dev, platform, max_seconds, what):
    if max_seconds is None:
        return
    seconds = chains * n_max * work_per_chain_step / (OPTIMISTIC_RATE[platform] * n_dev)
    if seconds > max_seconds:
        raise ParameterError(
            what,
            f"a request that can finish in {_format_seconds(max_seconds)} (this one needs at least "
            f"{_format_seconds(seconds)}: {chains:.3g} chains x {n_max:.3g} generations x {work_per_chain_step:.3g} "
            f"random numbers at an optimistic {OPTIMISTIC_RATE[platform] * n_dev:.0e}/s on {n_dev} {platform} "
            "device(s); raise max_seconds, or --max-seconds, to run it anyway)",
            chains if what == "chains" else n_max,
        )


def _run(key, chain, chains, requested, mode, dtype, trajectories, devices, progress, max_chunk_elements,
         memory_limit, max_seconds):
    mesh = chain_mesh(devices)
    n_dev = len(devices)
    platform = _platform(devices)
    reported = sorted(set(requested))
    n_max = reported[-1]
    what = "chains" if chains >= n_max else "generations"
    # before anything n-long is built: sufficient mode costs the same per step whatever M
    _refuse_if_absurd(chains, n_max, SUFFICIENT_COST, n_dev, platform, max_seconds, what)
    limit = memory_limit if memory_limit is not None else _memory_bytes() // 2
    if 64 * n_max > limit:  # the per-step inputs (sample sizes, factors, slots) are n-long
        raise ParameterError("generations", f"at most {limit // 64} (per-step inputs of 64 bytes each must fit "
                             f"in memory_limit={limit} bytes)", n_max)
    chain.check_workflow(n_max)
    workflow = chain.workflow
    sample_sizes = chain.sample_sizes(n_max)
    slot_of = np.full(n_max + 1, -1, dtype=np.int64)
    slot_of[reported] = np.arange(len(reported))

    # ---- memory plan: tiles of the sample axis, chunks of tiles, blocks of chains
    max_m = int(sample_sizes.max()) if n_max else 2
    largest = _LARGEST_SAMPLE_SIZE[jnp.dtype(dtype).name]
    if max_m > largest:  # the per-step constants (M - 1)/2, 1/sqrt(M) must be finite and normal in the dtype
        raise ParameterError("sample_size", f"at most {largest:.0e} in {jnp.dtype(dtype).name} Monte Carlo "
                             "(the exact values have no such limit)", format(decimal.Decimal(max_m), ".3e"))
    itemsize = dtype.itemsize
    pool_width = 0
    if mode == "samples":
        if max_m > np.iinfo(np.int32).max:
            raise ParameterError("sample_size", f"at most {np.iinfo(np.int32).max} in samples mode", max_m)
        mean_m = float(np.mean(sample_sizes)) if n_max else 2.0
        _refuse_if_absurd(chains, n_max, mean_m, n_dev, platform, max_seconds, what)
        if workflow.kind == "accumulate-subsample":
            # every chain keeps its pool: N_max = M_0 + ... + M_{n-1} points, plus room for one step's new samples
            tile = max_m + max_m % 2
            pool_width = int(np.sum(sample_sizes, dtype=object)) + tile if n_max else tile
            per_chain = pool_width + 3 * tile
            if 2 * per_chain * itemsize > limit or pool_width > np.iinfo(np.int32).max:
                raise ParameterError(
                    "generations", f"few enough that one chain's pool of accumulate-subsample fits in memory "
                    f"(M_0 + ... + M_{{n-1}} = {pool_width - tile} points of {itemsize} bytes, twice, must fit in "
                    f"memory_limit={limit} bytes)", n_max)
            step_work = tile + 6 * workflow.subsample
        else:
            tile = _engine.tile_size(max_m)
            if tile > max_chunk_elements:
                raise ParameterError(
                    "max_chunk_elements", f"at least one tile of samples ({tile}) for sample size {max_m}",
                    max_chunk_elements
                )
            per_chain = tile
            step_work = -(-max_m // tile) * tile  # random numbers of one chain and generation
            if workflow.kind == "mix":
                step_work *= 2  # the real and the synthetic group: each padded to whole tiles
    else:
        tile = 1
        per_chain = _SUFFICIENT_ELEMENTS_PER_CHAIN
        step_work = SUFFICIENT_COST * (2 if workflow.kind == "mix" else 1)
    segment_work = SEGMENT_WORK[platform]
    # a block's generation step is at most one segment's work (a sample size of 1e7 runs a few chains at a time)
    per_device = min(-(-chains // n_dev), max(1, max_chunk_elements // per_chain), max(1, segment_work // step_work))
    if pool_width:  # the pools of a block's chains within the memory bound too
        per_device = max(1, min(per_device, limit // (2 * per_chain * itemsize * n_dev)))
    block = per_device * n_dev
    if block >= 4096 and not pool_width:
        multiple = 64 * n_dev
        block = -(-block // multiple) * multiple
    tiles_per_chunk = 1
    if mode == "samples" and not pool_width:
        tiles_per_chunk = max(1, min(-(-max_m // tile), max_chunk_elements // (max(1, block // n_dev) * tile)))
    n_blocks = -(-chains // block)

    if trajectories and 2 * len(reported) * chains * itemsize > limit:
        raise ParameterError(
            "chains",
            f"few enough that the trajectories (2 x {len(reported)} generations x chains x {itemsize} bytes) "
            f"fit in memory_limit={limit} bytes",
            chains,
        )

    # ---- generations in segments of about a second of work each (the compiled scan length is fixed): the host
    # waits for each one, so that Ctrl-C and the progress bar act within a segment. No shorter than that: each
    # segment is a host round trip (measured: 16 one-step segments cost 17% of a sufficient-mode run)
    length = max(1, min(max(1, n_max), segment_work // (max(1, block // n_dev) * step_work)))
    segments = -(-n_max // length) if n_max else 0
    steps = _engine.step_inputs(chain, sample_sizes, slot_of, segments * length, dtype)
    wf_steps = None if workflow.is_replace else _kernels.workflow_inputs(chain, sample_sizes, segments * length, dtype)

    init, segment = _engine.build_kernels(
        mode=mode,
        chains=block,
        slots=len(reported),
        length=length,
        dtype=dtype.name,
        tile=tile,
        tiles_per_chunk=tiles_per_chunk,
        trajectories=bool(trajectories),
        mesh=mesh,
        workflow=workflow.kind,
        subsample=workflow.subsample or 0,
        pool_width=pool_width,
    )
    sigma = float(chain.sigma)
    constants = tuple(jnp.asarray(v, dtype) for v in (chain.mu, sigma, 2 * math.log(sigma)))
    segment_steps = [
        _engine.StepInputs(*(jnp.asarray(a[s * length : (s + 1) * length]) for a in steps)) for s in range(segments)
    ]
    if workflow.is_replace:
        segment_wf = [()] * segments  # replace: today's calls, no workflow arguments
        init_args = ()
    else:
        segment_wf = [(jax.tree.map(lambda a, lo=s * length: jnp.asarray(a[lo : lo + length]), wf_steps),)
                      for s in range(segments)]
        init_group = jax.tree.map(jnp.asarray, _kernels.init_group(chain, dtype))

    moments = None
    mu_traj, sd_traj = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_blocks * n_max, unit="gen", desc=f"simulate ({mode})", file=sys.stderr, leave=False)
    try:
        for b in range(n_blocks):
            count = min(block, chains - b * block)
            count_arr = jnp.asarray(count, jnp.int32)
            block_key = jax.random.fold_in(key, b)
            if not workflow.is_replace:
                init_args = (block_key, init_group)
            carry = init(constants[0], constants[2], jnp.asarray(slot_of[0], jnp.int32), count_arr, constants,
                         *init_args)
            for s in range(segments):
                carry = segment(carry, block_key, jnp.asarray(s * length, jnp.int32), segment_steps[s], count_arr,
                                constants, *segment_wf[s])
                jax.block_until_ready(carry.moments)  # bounded work in flight: Ctrl-C acts within a segment
                if bar is not None:
                    bar.update(min(length, n_max - s * length))
            moments = merge_moments(moments, to_host(carry.moments).astype(np.float64))
            if trajectories:
                traj = to_host(carry.trajectories)[:, :, :count].astype(np.float64)
                mu_traj.append(traj[:, 0])
                sd_traj.append(traj[:, 1])
    finally:
        if bar is not None:
            bar.close()

    order = [reported.index(g) for g in requested]
    estimates = {k: v[order] for k, v in summarise(moments).items()}
    assert moments.shape[1] == len(PER_CHAIN)
    generations_out = np.asarray(requested, dtype=np.int64)
    return SimulationResult(
        notes=overflow_notes(estimates, generations_out, dtype.name),
        generations=generations_out,
        estimates=estimates,
        chains=chains,
        mode=mode,
        dtype=dtype.name,
        devices=n_dev,
        mu_trajectories=np.concatenate(mu_traj, axis=1)[order] if trajectories else None,
        sigma_trajectories=np.concatenate(sd_traj, axis=1)[order] if trajectories else None,
    )
