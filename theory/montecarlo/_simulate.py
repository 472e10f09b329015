"""``simulate``: many independent chains of the recursive Gaussian fitting process, vectorised in JAX."""

from __future__ import annotations

import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer
from ..chain import GaussianChain, check_generations
from . import _engine
from ._sharding import chain_mesh, select_devices, to_host
from ._summary import PER_CHAIN, SimulationResult, merge_moments, summarise

MODES = ("sufficient", "samples")

#: Default bound on the random numbers in flight per device and chunk (samples mode): 2**24 (64 MiB in float32).
DEFAULT_CHUNK_ELEMENTS = 2**24

_SUFFICIENT_ELEMENTS_PER_CHAIN = 16  # state, draws and temporaries of one chain in sufficient mode
_SEGMENTS = 32  # progress updates per block of chains


def default_dtype():
    """float64 when ``jax_enable_x64`` is on, else float32."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def _check_dtype(dtype):
    if dtype is None:
        return jnp.dtype(default_dtype())
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        raise ParameterError("dtype", "float32 or float64", dtype) from None
    if dtype not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ParameterError("dtype", "float32 or float64", str(dtype))
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ParameterError("dtype", "float32, or float64 with jax_enable_x64 on", "float64")
    return dtype


def _as_key(key):
    if isinstance(key, (int, np.integer)):
        raise ParameterError("key", "a JAX PRNG key (jax.random.key(seed))", key)
    key = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    if key.dtype == jnp.uint32 and key.shape == (2,):  # legacy jax.random.PRNGKey
        return jax.random.wrap_key_data(key)
    raise ParameterError("key", "a JAX PRNG key (jax.random.key(seed))", key)


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
) -> SimulationResult:
    """Monte Carlo of ``chains`` independent runs of ``chain``, reported at ``generations``.

    Each run starts at ``p_0 = N(mu, sigma**2)`` and refits generation ``i + 1`` to ``M_i`` samples of
    generation ``i``. At every reported ``n`` the chains give MC means and standard errors of

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
        number of independent runs ``K >= 1``.
    generations:
        generation indices ``n >= 0`` to report (``0`` is ``p_0`` itself), in any order.
    mode:
        ``"sufficient"`` (default): draw each fit's sample mean and variance from their exact joint law,
        one draw per chain and generation whatever ``M``. ``"samples"``: draw the ``M_i`` points and fit
        them (the process itself), in memory-bounded chunks.
    dtype:
        ``float32`` or ``float64`` (the latter needs ``jax_enable_x64``); default float64 when x64 is on.
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
        bytes the returned trajectories may take (default half the machine's memory).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import jax
    >>> from theory import GaussianChain
    >>> result = simulate(jax.random.key(0), GaussianChain(10), chains=1000, generations=[0, 5])
    >>> result["variance_mean"].shape
    (2,)
    >>> float(result["w2_sq_mean"][0])
    0.0
    """
    if not isinstance(chain, GaussianChain):
        raise ParameterError("chain", "a theory.GaussianChain", chain)
    if chain.is_symbolic:
        raise ParameterError("chain", "a chain with numeric sample_size, variance_scale and sigma", chain)
    key = _as_key(key)
    chains = check_integer("chains", chains, minimum=1)
    requested = check_generations(generations)
    if mode not in MODES:
        raise ParameterError("mode", "'sufficient' or 'samples'", mode)
    dtype = _check_dtype(dtype)
    max_chunk_elements = check_integer("max_chunk_elements", max_chunk_elements, minimum=1)
    devices = select_devices(device, devices)
    mesh = chain_mesh(devices)
    n_dev = len(devices)
    if progress is None:
        progress = _progress_default()

    reported = sorted(set(requested))
    n_max = reported[-1]
    sample_sizes = chain.sample_sizes(n_max)
    slot_of = np.full(n_max + 1, -1, dtype=np.int64)
    slot_of[reported] = np.arange(len(reported))

    # ---- memory plan: tiles of the sample axis, chunks of tiles, blocks of chains
    max_m = int(sample_sizes.max()) if n_max else 2
    if mode == "samples":
        if max_m > np.iinfo(np.int32).max:
            raise ParameterError("sample_size", f"at most {np.iinfo(np.int32).max} in samples mode", max_m)
        tile = _engine.tile_size(max_m)
        if tile > max_chunk_elements:
            raise ParameterError(
                "max_chunk_elements", f"at least one tile of samples ({tile}) for sample size {max_m}", max_chunk_elements
            )
        per_chain = tile
    else:
        tile = 1
        per_chain = _SUFFICIENT_ELEMENTS_PER_CHAIN
    per_device = min(-(-chains // n_dev), max(1, max_chunk_elements // per_chain))
    block = per_device * n_dev
    if block >= 4096:
        multiple = 64 * n_dev
        block = -(-block // multiple) * multiple
    tiles_per_chunk = 1
    if mode == "samples":
        tiles_per_chunk = max(1, min(-(-max_m // tile), max_chunk_elements // (max(1, block // n_dev) * tile)))
    n_blocks = -(-chains // block)

    itemsize = dtype.itemsize
    limit = memory_limit if memory_limit is not None else _memory_bytes() // 2
    if trajectories and 2 * len(reported) * chains * itemsize > limit:
        raise ParameterError(
            "chains",
            f"few enough that the trajectories (2 x {len(reported)} generations x chains x {itemsize} bytes) "
            f"fit in memory_limit={limit} bytes",
            chains,
        )

    # ---- generations in segments (progress granularity; the compiled scan length is fixed)
    segments = max(1, min(n_max, _SEGMENTS))
    length = max(1, -(-n_max // segments))
    segments = max(1, -(-n_max // length)) if n_max else 0
    steps = _engine.step_inputs(chain, sample_sizes, slot_of, segments * length, dtype)

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
    )
    sigma = float(chain.sigma)
    constants = tuple(jnp.asarray(v, dtype) for v in (chain.mu, sigma, 2 * math.log(sigma)))
    segment_steps = [
        _engine.StepInputs(*(jnp.asarray(a[s * length : (s + 1) * length]) for a in steps)) for s in range(segments)
    ]

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
            carry = init(constants[0], constants[2], jnp.asarray(slot_of[0], jnp.int32), count_arr, constants)
            for s in range(segments):
                carry = segment(carry, block_key, jnp.asarray(s * length, jnp.int32), segment_steps[s], count_arr, constants)
                if bar is not None:
                    jax.block_until_ready(carry.moments)
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
    return SimulationResult(
        generations=np.asarray(requested, dtype=np.int64),
        estimates=estimates,
        chains=chains,
        mode=mode,
        dtype=dtype.name,
        devices=n_dev,
        mu_trajectories=np.concatenate(mu_traj, axis=1)[order] if trajectories else None,
        sigma_trajectories=np.concatenate(sd_traj, axis=1)[order] if trajectories else None,
    )
