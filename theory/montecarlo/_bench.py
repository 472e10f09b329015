"""Throughput of the Monte Carlo engine against its floor and against plain NumPy, on one device and run.

Five figures, each the best of a few timed repetitions after a warm-up run (compile time excluded, JAX results
waited for with ``block_until_ready``):

(a) ``rng_floor``: bare ``jax.random.normal`` of a ``(chains, M)`` array, samples/s: what samples mode cannot
    beat; (b) ``samples_mode``: :func:`simulate` in samples mode, samples/s; (c) ``sufficient_mode``:
    :func:`simulate` in sufficient mode, chain-generations/s (also measured at ``10 M`` to show it does not
    fall with ``M``); (d) ``numpy_loop``: one chain at a time, ``rng.normal(mu, sigma, M)`` then mean and
    standard deviation, as in the authors' notebook, samples/s; (e) ``numpy_vectorised``: all chains of a
    generation as one ``(chains, M)`` NumPy array, samples/s.

JAX runs in float32 (the usual accelerator precision), NumPy in float64 (its default, and the notebook's).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from ..chain import GaussianChain
from ._simulate import simulate

TARGETS = {
    "samples_vs_rng_floor": 0.7,
    "samples_vs_numpy_loop": 10.0,
    "samples_vs_numpy_vectorised": 3.0,
    "sufficient_vs_samples_per_m": 5.0,
}


def _best(fn, repeats):
    fn()  # warm-up: compile
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


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

    with jax.default_device(devices[0]):
        normal = jax.jit(lambda k: jax.random.normal(k, (chains, m), dtype))
        floor_t = _best(lambda: normal(next(keys)).block_until_ready(), repeats * 3)
        rng_floor = chains * m / floor_t

    def run_samples():
        simulate(next(keys), chain, chains=chains, generations=[generations], mode="samples", dtype=dtype,
                 devices=devices, progress=False)

    samples_t = _best(run_samples, repeats)
    samples_mode = chains * m * generations / samples_t

    def sufficient_rate(size):
        ch = GaussianChain(size)
        gens = 4 * generations

        def run():
            simulate(next(keys), ch, chains=sufficient_chains, generations=[gens], mode="sufficient", dtype=dtype,
                     devices=devices, progress=False)

        return sufficient_chains * gens / _best(run, repeats)

    sufficient_mode = sufficient_rate(m)
    sufficient_mode_10m = sufficient_rate(10 * m)

    rng = np.random.default_rng(int(jax.random.randint(next(keys), (), 0, 2**31 - 1)))
    loop_gens = max(1, generations // 2)

    def numpy_loop():
        for _ in range(numpy_chains):
            mu, sigma = 0.0, 1.0
            for _ in range(loop_gens):
                x = rng.normal(mu, sigma, m)
                mu, sigma = x.mean(), x.std(ddof=1)

    loop_t = _best(numpy_loop, 1)
    numpy_loop_rate = numpy_chains * loop_gens * m / loop_t

    def numpy_vectorised():
        mu, sigma = np.zeros(chains), np.ones(chains)
        for _ in range(loop_gens):
            x = mu[:, None] + sigma[:, None] * rng.standard_normal((chains, m))
            mu, sigma = x.mean(axis=1), x.std(axis=1, ddof=1)

    vec_t = _best(numpy_vectorised, 1)
    numpy_vec_rate = chains * loop_gens * m / vec_t

    ratios = {
        "samples_vs_rng_floor": samples_mode / rng_floor,
        "samples_vs_numpy_loop": samples_mode / numpy_loop_rate,
        "samples_vs_numpy_vectorised": samples_mode / numpy_vec_rate,
        "sufficient_vs_samples_per_m": sufficient_mode / (samples_mode / m),
    }
    met = {k: bool(v >= TARGETS[k]) for k, v in ratios.items()}
    ratios["sufficient_10m_vs_m"] = sufficient_mode_10m / sufficient_mode
    met["sufficient_not_falling_with_m"] = bool(ratios["sufficient_10m_vs_m"] >= 0.8)
    d = devices[0]
    return {
        "device": f"{d.platform}:{getattr(d, 'device_kind', d.platform)} x{len(devices)}",
        "sample_size": m,
        "chains": chains,
        "generations": generations,
        "jax_dtype": "float32",
        "numpy_dtype": "float64",
        "rng_floor": rng_floor,
        "samples_mode": samples_mode,
        "sufficient_mode": sufficient_mode,
        "sufficient_mode_at_10m": sufficient_mode_10m,
        "numpy_loop": numpy_loop_rate,
        "numpy_vectorised": numpy_vec_rate,
        "units": {
            "rng_floor": "samples/s",
            "samples_mode": "samples/s",
            "numpy_loop": "samples/s",
            "numpy_vectorised": "samples/s",
            "sufficient_mode": "chain-generations/s",
        },
        "ratios": ratios,
        "targets": TARGETS | {"sufficient_10m_vs_m": 0.8},
        "targets_met": met,
    }
