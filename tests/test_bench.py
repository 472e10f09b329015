"""The benchmark: like-for-like structure at tiny sizes, and peers that compute the same recursion as the engine.

z-tests use a false-failure budget of 1e-4 per test (Bonferroni over the test's z-scores).
"""

from __future__ import annotations

import json
import math

import jax
import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma

from theory.montecarlo import _peers
from theory.montecarlo._bench import benchmark, multivariate_sizes, numpy_multivariate

BUDGET = 1e-4


def _bound(n):
    return float(stats.norm.isf(BUDGET / (2 * n)))


@pytest.fixture(scope="module")
def tiny():
    # float64 only, to keep compilation short: float32 is smoke-tested by `bench --tiny` (test_cli_montecarlo)
    return benchmark(jax.random.key(0), sample_size=10, elements=2**11, generations=2, sufficient_chains=2**9,
                     sufficient_generations=2, repeats=1, dtypes=("float64",), torch=False,
                     multivariate_dimensions=(2,), multivariate_large=False)


def test_same_work_for_every_method(tiny):
    json.dumps(tiny)  # JSON-ready
    methods = tiny["methods"]
    samples = {r["work"] for r in methods.values() if r["unit"] == "samples"}
    assert samples == {tiny["chains"] * tiny["sample_size"] * tiny["generations"]}
    sufficient = {r["work"] for r in methods.values()
                  if r["unit"] == "chain-generations" and "multivariate" not in r["group"]}  # see test_multivariate_rows
    assert sufficient == {tiny["sufficient_chains"] * tiny["sufficient_generations"]}
    for r in methods.values():
        assert r["wall_s"] > 0 and r["cpu_s"] >= 0 and r["threads"] >= 1
    for dtype in tiny["dtypes"]:  # every peer and floor (the notebook: float64 only)
        groups = {r["group"] for r in methods.values() if r["dtype"] == dtype}
        assert {"engine_samples", "numpy_samples", "normal_floor", "engine_sufficient_M10",
                "numpy_sufficient_M10", "normal_gamma_floor_M10", "engine_sufficient_M10000000"} <= groups
    assert methods["numpy_loop_float64"]["group"] == "notebook"
    assert {r["threads"] for n, r in methods.items() if n.startswith("numpy_vectorised")} == {1, 2}


def test_targets_reported_with_met(tiny):
    details = {t["name"]: t for t in tiny["target_details"]}
    for name in ("samples_float64_vs_numpy_cpu", "samples_float64_vs_numpy_wall", "sufficient_float64_M10_vs_numpy_wall",
                 "sufficient_float64_M10000000_vs_numpy_cpu"):
        t = details[name]
        assert tiny["targets_met"][name] == t["met"] and t["target"] in (1.0, 1.5)
    # the ratios recomputed from the per-method rates (best of each group, as the targets are defined)
    methods = tiny["methods"]

    def best(prefix, metric):
        return max(r[f"rate_{metric}"] for n, r in methods.items() if n.startswith(prefix))

    for metric in ("cpu", "wall"):
        expect = best("engine_samples_float64_", metric) / best("numpy_vectorised_float64_", metric)
        assert details[f"samples_float64_vs_numpy_{metric}"]["ratio"] == pytest.approx(expect, rel=1e-12)
        expect = best("engine_sufficient_float64_M10_", metric) / best("numpy_sufficient_float64_M10_", metric)
        assert details[f"sufficient_float64_M10_vs_numpy_{metric}"]["ratio"] == pytest.approx(expect, rel=1e-12)
    assert "torch" in tiny["torch"]
    assert tiny["all_targets_met"] == all(t["met"] for t in tiny["target_details"])
    for key in ("device", "rng_floor", "samples_mode", "sufficient_mode", "numpy_loop", "numpy_vectorised",
                "load_average", "ratios", "targets"):
        assert key in tiny


def _z(values, mean):
    values = np.asarray(values, dtype=np.float64)
    return float((values.mean() - mean) / (values.std(ddof=1) / math.sqrt(values.size)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_peers_compute_the_engine_recursion(dtype):
    # after one generation: E log sigma^2 = digamma((M-1)/2) + log(2/(M-1)) and E mu = 0, Var mu = 1/M, for the
    # samples peer (1 and 2 threads) and the sufficient-statistics peer alike
    m, chains = 10, 20_000
    expected = digamma((m - 1) / 2) + math.log(2 / (m - 1))
    zs = []
    for threads in (1, 2):
        rngs = _peers.generators(threads, threads)
        for name, fn in (("samples", _peers.numpy_samples), ("sufficient", _peers.numpy_sufficient)):
            mu, lv = fn(rngs, chains, m, 1, dtype)
            assert mu.dtype == np.dtype(dtype) and lv.dtype == np.dtype(dtype)
            zs += [_z(lv, expected), _z(mu, 0.0), _z(m * np.asarray(mu, np.float64) ** 2, 1.0)]
    assert max(abs(z) for z in zs) < _bound(len(zs)), zs


def test_notebook_loop_is_the_unbiased_fit():
    out = _peers.notebook(1, 4000, 5, 1)
    expected = digamma(2) + math.log(2 / 4)  # E log sigma_1^2 at M = 5
    z = _z(2 * np.log(out[:, 1]), expected)
    assert abs(z) < _bound(1)


def test_torch_peer_when_installed():
    torch = _peers.torch_module()
    if torch is None:
        pytest.skip("torch not installed (optional peer)")
    m, chains = 10, 20_000
    mu, lv = _peers.torch_samples(torch, 3, chains, m, 1, "float32")
    expected = digamma((m - 1) / 2) + math.log(2 / (m - 1))
    zs = [_z(lv.numpy(), expected), _z(mu.numpy(), 0.0)]
    assert max(abs(z) for z in zs) < _bound(len(zs)), zs


def test_multivariate_rows(tiny):
    # the engine and NumPy on the same work at d = 2, M = d + 1 (M = 10 d left out: each row compiles), both modes;
    # ratios from the rates
    chains, generations = multivariate_sizes(2, 2**9, 2)
    rows = tiny["multivariate"]
    assert set(rows) == {f"{mode}_d2_M3" for mode in ("sufficient", "samples")}
    for name, row in rows.items():
        assert (row["dimension"], row["chains"], row["generations"]) == (2, chains, generations)
        mode, label = name.split("_", 1)
        engine = tiny["methods"][f"engine_multivariate_{mode}_{label}"]
        peer = tiny["methods"][f"numpy_multivariate_{mode}_{label}"]
        assert engine["work"] == peer["work"] == chains * generations and engine["unit"] == "chain-generations"
        for metric in ("cpu", "wall"):
            assert row[f"ratio_{metric}"] == pytest.approx(engine[f"rate_{metric}"] / peer[f"rate_{metric}"],
                                                           rel=1e-12)


@pytest.mark.parametrize("mode", ["samples", "sufficient"])
def test_numpy_multivariate_peer_is_the_chain(mode):
    # one generation from Sigma = I, unbiased: E||mu_1||**2 = d/M, E tr Sigma_1 = d, and
    # E log det Sigma_1 = d log(1/(M - 1)) + sum_k (log 2 + digamma((M - 1 - k)/2)) (Bartlett)
    d, m, chains = 3, 5, 20_000
    mu, lower = numpy_multivariate(np.random.default_rng(4), chains, d, m, 1, mode)
    sigma = lower @ lower.transpose(0, 2, 1)
    log_det = 2 * np.log(np.abs(np.diagonal(lower, axis1=1, axis2=2))).sum(axis=1)
    expected = d * math.log(1 / (m - 1)) + sum(math.log(2) + digamma((m - 1 - k) / 2) for k in range(d))
    zs = [_z((mu**2).sum(axis=1), d / m), _z(np.trace(sigma, axis1=1, axis2=2), d), _z(log_det, expected)]
    assert max(abs(z) for z in zs) < _bound(len(zs)), zs
