"""Throughput of the Monte Carlo engine against its floor and against plain NumPy, on one device and run.

Figures are the best of a few timed repetitions after a warm-up run (compile time excluded, JAX results
waited for with ``block_until_ready``):

(a) ``rng_floor``: a bare ``(chains, M)`` array of standard normals from the generator samples mode uses
    (:data:`theory.montecarlo._normals.GENERATOR`, named in ``rng_floor_generator``), written to memory,
    samples/s: the floor for samples mode (which fuses the same draws into its fit and need not store them,
    so it may reach or pass this figure). For reference, ``jax_random_normal`` is plain
    ``jax.random.normal`` (default Threefry) on the same array;
(b) ``samples_mode``: :func:`simulate` in samples mode, samples/s;
(c) ``sufficient_mode``: :func:`simulate` in sufficient mode, chain-generations/s, at ``M`` and, interleaved
    run by run so that a change of machine load hits both alike, at ``10 M`` and at ``M = 10**7``
    (``sufficient_mode_at_10m``, ``sufficient_mode_at_large_m``), to show it does not fall with ``M``;
(d) ``numpy_loop``: the authors' notebook, one chain at a time with a fresh ``np.random.default_rng``:
    ``for each chain: for each generation: x = rng.normal(mu, sigma, M); mu, sigma = x.mean(), x.std(ddof=1)``,
    samples/s;
(e) ``numpy_vectorised``: the same recursion for all chains of a generation at once on a ``(chains, M)`` array
    (``mu[:, None] + sigma[:, None] * rng.standard_normal((chains, M))``, then ``mean`` and ``std`` along
    axis 1), samples/s; ``numpy_vectorised_float32`` is the same in float32 (information, no target).

JAX runs in float32 (the usual accelerator precision), NumPy in float64 (its default, and the notebook's).
The machine's load average (``os.getloadavg``) before and after is reported: on a shared machine it says how
far the figures can be trusted.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from ..chain import GaussianChain
from ._normals import GENERATOR, draws_per_counter, normals, stream_key
from ._simulate import simulate

#: Sample size at which (c) is also measured, to show that sufficient mode does not slow down with ``M``.
LARGE_SAMPLE_SIZE = 10**7

TARGETS = {
    "samples_vs_rng_floor": 0.7,
    "samples_vs_numpy_loop": 10.0,
    "samples_vs_numpy_vectorised": 3.0,
    "sufficient_vs_samples_per_m": 5.0,
}

#: (c) counts as "not falling with M" when at 10 M and at M = 10**7 it keeps this fraction of its rate at M.
FALLING_TOLERANCE = 0.8


def _seconds(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _best(fn, repeats):
    fn()  # warm-up: compile
    return min(_seconds(fn) for _ in range(repeats))


def _best_interleaved(fns, repeats):
    """Best time of each of ``fns``, run in turn ``repeats`` times (after one warm-up each)."""
    for fn in fns:
        fn()
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], _seconds(fn))
    return best


def fast_normals(key, shape, dtype):
    """A ``shape = (chains, M)`` array of the standard normals samples mode draws (the floor of the benchmark)."""
    chains, m = shape
    per = draws_per_counter(dtype)
    counter = jax.lax.broadcasted_iota(jnp.uint32, (chains, -(-m // per)), 1)
    chain = jax.lax.broadcasted_iota(jnp.uint32, (chains, -(-m // per)), 0)
    return jnp.concatenate(normals(stream_key(key), counter, chain, dtype), axis=1)[:, :m]


def benchmark(
    key,
    *,
    sample_size: int = 100,
    device: str | None = None,
    elements: int = 2**22,
    generations: int = 8,
    sufficient_chains: int = 2**18,
    numpy_chains: int = 200,
    repeats: int = 3,
) -> dict:
    """Measure the five throughputs at ``sample_size`` ``M``; return a JSON-ready dict (see module doc)."""
    from .._errors import check_integer
    from ._sharding import select_devices

    m = check_integer("sample_size", sample_size, minimum=2)
    devices = select_devices(device)
    dtype = jnp.float32
    chains = max(1, elements // m)
    chain = GaussianChain(m)
    keys = iter(jax.random.split(key, 1000))

    load_before = os.getloadavg()
    with jax.default_device(devices[0]):
        floor = jax.jit(lambda k: fast_normals(k, (chains, m), dtype))
        floor_t = _best(lambda: floor(next(keys)).block_until_ready(), repeats * 3)
        rng_floor = chains * m / floor_t
        normal = jax.jit(lambda k: jax.random.normal(k, (chains, m), dtype))
        jax_normal = chains * m / _best(lambda: normal(next(keys)).block_until_ready(), repeats * 3)

    def run_samples():
        simulate(next(keys), chain, chains=chains, generations=[generations], mode="samples", dtype=dtype,
                 devices=devices, progress=False)

    samples_t = _best(run_samples, repeats)
    samples_mode = chains * m * generations / samples_t

    gens = 4 * generations
    large_m = max(LARGE_SAMPLE_SIZE, 10 * m)

    def sufficient_run(size):
        ch = GaussianChain(size)
        return lambda: simulate(next(keys), ch, chains=sufficient_chains, generations=[gens], mode="sufficient",
                                dtype=dtype, devices=devices, progress=False)

    sufficient_t = _best_interleaved([sufficient_run(size) for size in (m, 10 * m, large_m)], 2 * repeats)
    sufficient_mode, sufficient_mode_10m, sufficient_mode_large = (sufficient_chains * gens / t for t in sufficient_t)

    seed = int(jax.random.randint(next(keys), (), 0, 2**31 - 1))
    loop_gens = max(1, generations // 2)

    def numpy_loop():
        rng = np.random.default_rng(seed)
        for _ in range(numpy_chains):
            mu, sigma = 0.0, 1.0
            for _ in range(loop_gens):
                x = rng.normal(mu, sigma, m)
                mu, sigma = x.mean(), x.std(ddof=1)

    loop_t = _best(numpy_loop, repeats)
    numpy_loop_rate = numpy_chains * loop_gens * m / loop_t

    def numpy_vectorised():
        rng = np.random.default_rng(seed)
        mu, sigma = np.zeros(chains), np.ones(chains)
        for _ in range(loop_gens):
            x = mu[:, None] + sigma[:, None] * rng.standard_normal((chains, m))
            mu, sigma = x.mean(axis=1), x.std(axis=1, ddof=1)

    vec_t = _best(numpy_vectorised, repeats)
    numpy_vec_rate = chains * loop_gens * m / vec_t

    def numpy_vectorised_float32():  # the same in float32, JAX's precision here: information, no target
        rng = np.random.default_rng(seed)
        mu, sigma = np.zeros(chains, np.float32), np.ones(chains, np.float32)
        for _ in range(loop_gens):
            x = mu[:, None] + sigma[:, None] * rng.standard_normal((chains, m), dtype=np.float32)
            mu, sigma = x.mean(axis=1), x.std(axis=1, ddof=1)

    numpy_vec32_rate = chains * loop_gens * m / _best(numpy_vectorised_float32, repeats)
    load_after = os.getloadavg()

    ratios = {
        "samples_vs_rng_floor": samples_mode / rng_floor,
        "samples_vs_numpy_loop": samples_mode / numpy_loop_rate,
        "samples_vs_numpy_vectorised": samples_mode / numpy_vec_rate,
        "sufficient_vs_samples_per_m": sufficient_mode / (samples_mode / m),
    }
    met = {k: bool(v >= TARGETS[k]) for k, v in ratios.items()}
    ratios["sufficient_10m_vs_m"] = sufficient_mode_10m / sufficient_mode
    ratios["sufficient_large_m_vs_m"] = sufficient_mode_large / sufficient_mode
    met["sufficient_not_falling_with_m"] = bool(
        min(ratios["sufficient_10m_vs_m"], ratios["sufficient_large_m_vs_m"]) >= FALLING_TOLERANCE
    )
    d = devices[0]
    return {
        "device": f"{d.platform}:{getattr(d, 'device_kind', d.platform)} x{len(devices)}",
        "sample_size": m,
        "chains": chains,
        "generations": generations,
        "jax_dtype": "float32",
        "numpy_dtype": "float64",
        "rng_floor": rng_floor,
        "rng_floor_generator": GENERATOR,
        "jax_random_normal": jax_normal,
        "samples_mode": samples_mode,
        "sufficient_mode": sufficient_mode,
        "sufficient_mode_at_10m": sufficient_mode_10m,
        "large_sample_size": large_m,
        "sufficient_mode_at_large_m": sufficient_mode_large,
        "numpy_loop": numpy_loop_rate,
        "numpy_vectorised": numpy_vec_rate,
        "numpy_vectorised_float32": numpy_vec32_rate,
        "units": {
            "rng_floor": "samples/s",
            "jax_random_normal": "samples/s",
            "samples_mode": "samples/s",
            "numpy_loop": "samples/s",
            "numpy_vectorised": "samples/s",
            "numpy_vectorised_float32": "samples/s",
            "sufficient_mode": "chain-generations/s",
            "sufficient_mode_at_10m": "chain-generations/s",
            "sufficient_mode_at_large_m": "chain-generations/s",
        },
        "samples_vs_jax_random_normal": samples_mode / jax_normal,
        "samples_vs_numpy_vectorised_float32": samples_mode / numpy_vec32_rate,
        "ratios": ratios,
        "targets": TARGETS | {"sufficient_10m_vs_m": FALLING_TOLERANCE, "sufficient_large_m_vs_m": FALLING_TOLERANCE},
        "targets_met": met,
        "load_average": {"before": list(load_before), "after": list(load_after), "cpus": os.cpu_count()},
    }
