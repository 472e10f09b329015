"""Monte Carlo engine against exact values, the two modes against each other, and bad input.

Every Monte Carlo assertion is a z-score test: a test with ``N`` z-scores fails when any exceeds
``Phi^-1(1 - BUDGET / (2 N))``, so its false-failure probability is at most ``BUDGET = 1e-4`` (Bonferroni).
Keys are fixed and everything runs in float64, so a run is reproducible; the budget is what a fresh key
would risk. Cells whose standard error is unreliable (heavy tails, see ``theory.montecarlo._verify``) are not
z-tested, with the kurtosis criterion of ``verify``.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma, gammaln

import theory
from theory import GaussianChain, ParameterError
from theory.montecarlo import QUANTITIES, simulate
from theory.montecarlo._gamma import log_gamma
from theory.montecarlo._verify import _POWER, log_kurtosis

BUDGET = 1e-4


pytestmark = pytest.mark.usefixtures("x64")  # float64 switched on for each test (tests/conftest.py)


def bound(n_tests: int) -> float:
    return float(stats.norm.isf(BUDGET / (2 * n_tests)))


def textbook(chain, generations):
    """Constant-M textbook facts (k = M - 1, d the divisor): E sigma_n^p = sigma^p r_p^n, mse, log-variance."""
    m, a, s = chain.sample_size, float(chain.variance_scale), float(chain.sigma)
    k, d = m - 1, chain.variance_divisor(m)

    def r(p):
        return a ** (p / 2) * math.exp(p / 2 * math.log(2 / d) + gammaln(k / 2 + p / 2) - gammaln(k / 2))

    n = np.asarray(generations, dtype=float)
    variance = s**2 * r(2) ** n
    sd = s * r(1) ** n
    mse = np.array([sum(s**2 * r(2) ** i / m for i in range(int(g))) for g in n])
    return {
        "mean_sq_error": mse,
        "variance_mean": variance,
        "variance_var": s**4 * (r(4) ** n - r(2) ** (2 * n)),
        "sd_mean": sd,
        "log_variance_mean": n * (math.log(a) + digamma(k / 2) + math.log(2 / d)),
        "w2_sq_mean": mse + variance - 2 * s * sd + s**2,
    }


def z_scores(result, exact, chain, chains, skip_heavy=True):
    """z of every (quantity, generation) with a trustworthy SE; returns a list of (label, z)."""
    out = []
    for q in QUANTITIES:
        if q not in exact:
            continue
        for j, n in enumerate(result.generations):
            if n == 0:
                continue
            if skip_heavy and log_kurtosis(
                _POWER[q], chain.sample_size, chain.learner, float(chain.variance_scale), int(n)
            ) > math.log(chains / 100):
                continue
            z = (result[q][j] - np.asarray(exact[q])[j]) / result[q + "_se"][j]
            out.append((f"{q}[n={n}]", float(z)))
    return out


def assert_z(zs):
    assert zs, "nothing was tested"
    b = bound(len(zs))
    worst = max(zs, key=lambda t: abs(t[1]))
    assert abs(worst[1]) <= b, f"{worst[0]}: |z| = {abs(worst[1]):.2f} > {b:.2f} ({len(zs)} z-tests, budget {BUDGET})"


CHAINS = [
    GaussianChain(3),
    GaussianChain(10, learner="mle", variance_scale=1.1, sigma=2.0, mu=1.0),
    GaussianChain(2, learner="mle"),
]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: f"M{c.sample_size}-{c.learner}")
@pytest.mark.parametrize("mode", ["sufficient", "samples"])
def test_textbook_moments(chain, mode):
    k = 20_000
    gens = [0, 1, 2, 5, 12]
    result = simulate(jax.random.key(11), chain, chains=k, generations=gens, mode=mode)
    assert_z(z_scores(result, textbook(chain, gens), chain, k))


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: f"M{c.sample_size}-{c.learner}")
def test_exact_values_every_closed_form(chain):
    exact_values = theory.exact_values
    k = 40_000
    gens = [0, 1, 3, 8]
    exact = exact_values(chain, gens)
    assert set(QUANTITIES) <= set(exact)
    result = simulate(jax.random.key(12), chain, chains=k, generations=gens, mode="sufficient")
    zs = z_scores(result, exact, chain, k)
    assert {label.split("[")[0] for label, _ in zs} >= {"mean_sq_error", "variance_mean", "sd_mean",
                                                         "log_variance_mean", "w2_sq_mean"}
    assert_z(zs)


def test_exact_values_fourth_moments_at_large_m():
    # variance_var and w2_sq_var need E sigma^16-type moments for their SE: tested where M is large enough
    exact_values = theory.exact_values
    chain = GaussianChain(50, variance_scale=1.05)
    k, gens = 40_000, [1, 4, 10]
    result = simulate(jax.random.key(13), chain, chains=k, generations=gens, mode="sufficient")
    zs = z_scores(result, exact_values(chain, gens), chain, k)
    assert {"variance_var", "w2_sq_var"} <= {label.split("[")[0] for label, _ in zs}
    assert_z(zs)


def test_exact_values_schedule():
    exact_values = theory.exact_values
    chain = GaussianChain([20, 5, 40, 8, 100])
    k, gens = 40_000, [1, 2, 5]
    exact = exact_values(chain, gens)
    zs = []
    for mode, seed in (("sufficient", 14), ("samples", 15)):
        result = simulate(jax.random.key(seed), chain, chains=k, generations=gens, mode=mode)
        for q in ("mean_sq_error", "variance_mean", "sd_mean", "log_variance_mean", "w2_sq_mean"):
            zs += [(f"{mode}:{q}", float((result[q][j] - exact[q][j]) / result[q + "_se"][j])) for j in range(3)]
    assert_z(zs)


def test_modes_agree_in_distribution():
    # two-sample tests on the per-chain trajectories: KS on log sigma_n and on mu_n, and z on every moment
    chain = GaussianChain([2, 7, 3, 30, 4], learner="unbiased", variance_scale=1.2)
    k, gens = 20_000, [1, 3, 5]
    a = simulate(jax.random.key(21), chain, chains=k, generations=gens, mode="sufficient", trajectories=True)
    b = simulate(jax.random.key(22), chain, chains=k, generations=gens, mode="samples", trajectories=True)
    n_ks = 2 * len(gens)
    for j in range(len(gens)):
        for name, x, y in (("log sigma", np.log(a.sigma_trajectories[j]), np.log(b.sigma_trajectories[j])),
                           ("mu", a.mu_trajectories[j], b.mu_trajectories[j])):
            p = stats.ks_2samp(x, y).pvalue
            assert p > BUDGET / (2 * n_ks), f"KS {name} at n={gens[j]}: p = {p:.2g}"
    zs = []
    for q in ("mean_sq_error", "sd_mean", "log_variance_mean", "w2_sq_mean"):
        se = np.hypot(a[q + "_se"], b[q + "_se"])
        zs += [(f"{q}[{n}]", float(z)) for n, z in zip(gens, (a[q] - b[q]) / se)]
    assert_z(zs)


def test_chunking_changes_only_summation_order():
    chain = GaussianChain(5000, learner="mle")  # two tiles of 2500 samples
    kwargs = dict(chains=6, generations=[1, 3], mode="samples", trajectories=True)
    whole = simulate(jax.random.key(3), chain, **kwargs)
    chunked = simulate(jax.random.key(3), chain, max_chunk_elements=6 * 2500, **kwargs)  # one tile a chunk
    np.testing.assert_allclose(chunked.mu_trajectories, whole.mu_trajectories, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.sigma_trajectories, whole.sigma_trajectories, rtol=1e-12)
    for q in QUANTITIES:
        np.testing.assert_allclose(chunked[q], whole[q], rtol=1e-9, atol=1e-15)


def test_schedule_needs_enough_sample_sizes():
    with pytest.raises(ParameterError, match="generations"):
        simulate(jax.random.key(0), GaussianChain([3, 4]), chains=2, generations=[3])


@pytest.mark.parametrize("a", [0.5, 1.0, 2.5, 4999.5])
def test_log_gamma_sampler(a):
    x = np.asarray(log_gamma(jax.random.key(5), a, (50_000,), "float64"))
    assert np.all(np.isfinite(x))
    p = stats.kstest(x, lambda t: stats.gamma(a).cdf(np.exp(t))).pvalue
    assert p > BUDGET, f"KS p = {p:.2g}"


def test_result_layout_and_generation_zero():
    chain = GaussianChain(4, sigma=3.0, mu=-2.0)
    result = simulate(jax.random.key(1), chain, chains=50, generations=[3, 0, 1], trajectories=True)
    assert list(result.generations) == [3, 0, 1]
    assert result["variance_mean"][1] == pytest.approx(9.0)
    assert result["w2_sq_mean"][1] == 0.0 and result["log_variance_mean"][1] == 0.0
    assert result.mu_trajectories.shape == (3, 50) and result.sigma_trajectories.shape == (3, 50)
    np.testing.assert_allclose(result["sd_mean"], result.sigma_trajectories.mean(axis=1), rtol=1e-10)
    np.testing.assert_allclose(result["mean_sq_error"], ((result.mu_trajectories + 2.0) ** 2).mean(axis=1),
                               rtol=1e-10)
    for q in QUANTITIES:
        assert q in result.keys() and q + "_se" in result.keys()
    d = result.to_dict()
    assert d["generations"] == [3, 0, 1] and len(d["w2_sq_var_se"]) == 3


def test_float32_and_chain_blocks():
    chain = GaussianChain(30)
    result = simulate(jax.random.key(2), chain, chains=5000, generations=[10], dtype="float32",
                      max_chunk_elements=16 * 700)  # blocks of 700 chains
    assert result.dtype == "float32"
    exact = textbook(chain, [10])
    z = (result["log_variance_mean"] - exact["log_variance_mean"]) / result["log_variance_mean_se"]
    assert abs(z[0]) < bound(1)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        (dict(chains=0, generations=[1]), "chains"),
        (dict(chains=-3, generations=[1]), "chains"),
        (dict(chains=10, generations=[-1]), "generations"),
        (dict(chains=10, generations=[]), "generations"),
        (dict(chains=10, generations=[1], mode="exact"), "mode"),
        (dict(chains=10, generations=[1], device="tpu"), "device"),
        (dict(chains=10, generations=[1], dtype="int32"), "dtype"),
        (dict(chains=10**6, generations=[1, 2], trajectories=True, memory_limit=10**6), "chains"),
        (dict(chains=10, generations=[1], mode="samples", max_chunk_elements=10), "max_chunk_elements"),
    ],
)
def test_bad_input(kwargs, parameter):
    with pytest.raises(ParameterError) as err:
        simulate(jax.random.key(0), GaussianChain(100), **kwargs)
    assert err.value.parameter == parameter


def test_bad_sample_size_and_key():
    with pytest.raises(ParameterError, match="sample_size"):
        GaussianChain(0)
    with pytest.raises(ParameterError, match="key"):
        simulate(0, GaussianChain(3), chains=2, generations=[1])


def test_float64_without_global_x64():
    # simulate switches x64 on locally for a float64 run and leaves the global flag as it was
    jax.config.update("jax_enable_x64", False)
    result = simulate(jax.random.key(0), GaussianChain(3), chains=2, generations=[1], dtype="float64")
    assert result.dtype == "float64"
    assert not jax.config.jax_enable_x64


def test_gpu_absent_is_a_parameter_error():
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    with pytest.raises(ParameterError, match="device"):
        simulate(jax.random.key(0), GaussianChain(3), chains=2, generations=[1], device="gpu")


@pytest.mark.slow
@pytest.mark.parametrize("m", [2, 3, 5])
def test_small_m_many_chains_both_modes(m):
    # heavier: 10^6 chains make more heavy-tailed cells testable at small M
    chain = GaussianChain(m)
    k, gens = 1_000_000, [1, 2, 4, 8]
    zs = []
    for mode, seed in (("sufficient", 31), ("samples", 32)):
        result = simulate(jax.random.key(seed), chain, chains=k, generations=gens, mode=mode)
        zs += z_scores(result, textbook(chain, gens), chain, k)
    assert_z(zs)


def test_fused_threefry_is_jax_threefry():
    # the unrolled hash at 20 rounds is bit for bit jax's Threefry-2x32 (the engine uses the same code at 13)
    from jax.extend.random import threefry_2x32

    from theory.montecarlo._normals import threefry2x32

    words = jax.random.bits(jax.random.key(4), (2,), jax.numpy.uint32)
    x0 = jax.numpy.arange(1000, dtype=jax.numpy.uint32) * 7919
    x1 = jax.numpy.arange(1000, dtype=jax.numpy.uint32) % 13
    ours = threefry2x32(words[0], words[1], x0, x1, rounds=20)
    theirs = threefry_2x32(words, jax.numpy.concatenate([x0, x1])).reshape(2, -1)
    np.testing.assert_array_equal(np.asarray(ours[0]), np.asarray(theirs[0]))
    np.testing.assert_array_equal(np.asarray(ours[1]), np.asarray(theirs[1]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_samples_stream_is_standard_normal(dtype):
    # the draws samples mode fits: KS against N(0, 1), in both precisions
    from theory.montecarlo._bench import fast_normals

    z = np.asarray(fast_normals(jax.random.key(6), (200, 501), dtype), dtype=np.float64).ravel()
    assert z.shape == (200 * 501,)
    p = stats.kstest(z, "norm").pvalue
    assert p > BUDGET / 2, f"KS p = {p:.2g}"


# ---- the counter-based stream: known answers, transforms, distribution (issue 8)

# Random123's kat_vectors for threefry2x32 (rounds, counter, key, expected output)
_KAT = [
    (13, (0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x9D1C5EC6, 0x8BD50731)),
    (13, (0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0xFD36D048, 0x2D17272C)),
    (13, (0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xBA3E4725, 0xF27D669E)),
    (20, (0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    (20, (0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    (20, (0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("rounds, counter, key, expected", _KAT)
def test_threefry_known_answers(rounds, counter, key, expected):
    from theory.montecarlo._normals import threefry2x32

    u32 = jax.numpy.uint32
    out = threefry2x32(u32(key[0]), u32(key[1]), jax.numpy.asarray([counter[0]], u32),
                       jax.numpy.asarray([counter[1]], u32), rounds=rounds)
    assert [int(o[0]) for o in out] == list(expected)


def test_engine_uses_13_rounds():
    from theory.montecarlo import _normals

    assert _normals.ROUNDS == 13 and "threefry2x32-13" in _normals.GENERATOR


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_transform_polynomials_within_two_ulp(dtype):
    # Box-Muller's sin/cos on [-pi/4, pi/4] and the float64 log, against long-double references
    from theory.montecarlo import _normals as N

    eps = float(np.finfo(dtype).eps)
    phi = np.linspace(-np.pi / 4, np.pi / 4, 200_001).astype(dtype)
    z = phi * phi
    sin_c, cos_c = (N._SIN32, N._COS32) if dtype == "float32" else (N._SIN64, N._COS64)
    s = phi + phi * z * N._poly([np.asarray(c, dtype) for c in sin_c], z)
    c = np.asarray(1, dtype) - np.asarray(0.5, dtype) * z + z * z * N._poly([np.asarray(c, dtype) for c in cos_c], z)
    ref = phi.astype(np.longdouble)
    nonzero = phi != 0
    assert np.max(np.abs(s - np.sin(ref))[nonzero] / np.abs(np.sin(ref))[nonzero]) < 2 * eps
    assert np.max(np.abs(c - np.cos(ref))) < 2 * eps
    if dtype == "float64":
        rng = np.random.default_rng(0)
        x = np.concatenate([rng.random(100_000), np.exp(-40 * rng.random(100_000)), 1 - 1e-6 * rng.random(1000),
                            [2.0**-54, 1 - 2.0**-53, 1.0, 0.5, np.sqrt(0.5), np.nextafter(np.sqrt(0.5), 1)]])
        y = np.asarray(jax.jit(N.log64)(jax.numpy.asarray(x)))
        ref = np.log(x.astype(np.longdouble))
        assert y[x == 1.0][0] == 0.0
        keep = x != 1.0
        assert np.max(np.abs(y[keep] - ref[keep]) / np.abs(ref[keep])) < 2 * eps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_pairs_moments_and_tails(dtype):
    # z-tests on E z, E z^2 - 1, E z^3, E z^4 - 3, the tail P(|z| > 3) and the correlation within a pair
    from theory.montecarlo._normals import normal_pair, stream_key

    n = 1 << 20
    words = stream_key(jax.random.key(8))
    a, b = jax.jit(lambda w: normal_pair(w, jax.numpy.arange(n, dtype=jax.numpy.uint32), jax.numpy.uint32(3),
                                         dtype))(words)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    z = np.concatenate([a, b])
    tail = 2 * stats.norm.sf(3)
    zs = []
    for label, values, mean in (("mean", z, 0.0), ("var", z**2, 1.0), ("skew", z**3, 0.0), ("kurt", z**4, 3.0),
                                ("tail", (np.abs(z) > 3).astype(float), tail), ("pair corr", a * b, 0.0)):
        zs.append((label, float((values.mean() - mean) / (values.std() / np.sqrt(values.size)))))
    assert_z(zs)
    assert np.all(np.isfinite(z)) and np.abs(z).max() < (6.8 if dtype == "float32" else 8.7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("a", [0.5, 1.0, 49.5, 4999999.5])
def test_sufficient_draws_both_precisions(dtype, a):
    # KS of z against N(0, 1) and of log G against log Gamma(a); a = 1 exercises the straggler loop
    from theory.montecarlo._gamma import gamma_parameters, sufficient_draws
    from theory.montecarlo._normals import stream_key

    n = 40_000
    d_hi, d_lo, c, inv_shape, boost, log_d = gamma_parameters(np.asarray(a), dtype)
    params = tuple(jax.numpy.asarray(p) for p in (d_hi, d_lo, c, inv_shape, boost))
    z, small = sufficient_draws(stream_key(jax.random.key(9)), jax.numpy.arange(n, dtype=jax.numpy.uint32),
                                params, dtype)
    log_g = np.asarray(small, np.float64) + float(log_d)
    assert np.all(np.isfinite(log_g))
    p_z = stats.kstest(np.asarray(z, np.float64), "norm").pvalue
    # log G - log a is O(1/sqrt(a)): compare in that variable so that float64 rounding of the cdf argument is moot
    p_g = stats.kstest(log_g, lambda t: stats.gamma(a).cdf(np.exp(t))).pvalue
    assert min(p_z, p_g) > BUDGET / 2, f"KS p = {p_z:.2g} (z), {p_g:.2g} (log G)"


def test_gamma_draws_do_not_depend_on_array_size():
    # an element's proposals come from its own counters: the first 500 draws are the same among 500 or 30000
    short = np.asarray(log_gamma(jax.random.key(10), 1.0, (500,), "float64"))
    long = np.asarray(log_gamma(jax.random.key(10), 1.0, (30_000,), "float64"))
    np.testing.assert_array_equal(short, long[:500])


def test_float32_unbiased_at_large_m():
    # Issue 8, point 3. At M = 1e7 the true drift of log sigma^2 is about -1e-7 a step; the old float32 update
    # added log(M - 1) and the gamma sampler's log d (about 16 each) separately and rounded them, a bias of
    # about 5.5e-7 a step (z = +5.5 at 200k chains and n = 100). Here 2**17 chains and n = 400: the SE of
    # log_variance_mean is sqrt(2/M) * 20 / 362 = 2.5e-5, so that bias (2.2e-4 at n = 400) gives z of about 8
    # (measured with the old engine at 2**18 chains: z = +6.3 at n = 100 and +11.7 at n = 400 on all three).
    # Six z-scores, false-failure budget 1e-4 for the test: |z| < 4.3.
    import jax.numpy as jnp

    m, k, gens = 10**7, 2**17, [100, 400]
    chain = theory.GaussianChain(m)
    exact = theory.exact_values(chain, gens)
    result = simulate(jax.random.key(0), chain, chains=k, generations=gens, mode="sufficient", dtype=jnp.float32)
    assert result.dtype == "float32"
    zs = []
    for q in ("log_variance_mean", "sd_mean", "variance_mean"):
        for j, n in enumerate(gens):
            zs.append((f"{q}[n={n}]", float((result[q][j] - float(exact[q][j])) / result[q + "_se"][j])))
    assert_z(zs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [1.0, 49.5])
def test_block_straggler_loop_equals_whole_array_loop_and_plain_marsaglia_tsang(dtype, shape):
    # 16384 elements take the block loop, 16001 the whole-array loop: the same draws (a = 1: 5% stragglers, the
    # first pass with the exact test; a = 49.5, M = 100: the first pass with the log-free squeeze, whose
    # undecided elements are decided by the exact test on the straggler path). Both equal plain Marsaglia-Tsang
    # on the same counters: the exact test on every proposal, proposal after proposal until the first acceptance.
    import jax.numpy as jnp

    from theory.montecarlo._gamma import BLOCK, BLOCKED_MIN, _proposal, _slots, gamma_parameters, sufficient_draws
    from theory.montecarlo._normals import normal_pair, stream_key, uniforms

    assert 16384 >= BLOCKED_MIN and 16384 % BLOCK == 0 and 16001 % BLOCK != 0
    d_hi, d_lo, c, inv_shape, boost, _ = gamma_parameters(np.asarray(shape), dtype)
    params = tuple(jnp.asarray(p) for p in (d_hi, d_lo, c, inv_shape, boost))
    assert (float(c) < 0.06) == (shape > 2)  # the two first passes
    words = stream_key(jax.random.key(12))
    blocked = sufficient_draws(words, jnp.arange(16384, dtype=jnp.uint32), params, dtype)
    whole = sufficient_draws(words, jnp.arange(16001, dtype=jnp.uint32), params, dtype)
    for b, w in zip(blocked, whole):
        np.testing.assert_array_equal(np.asarray(b)[:16001], np.asarray(w))

    chain = jnp.arange(16384, dtype=jnp.uint32)
    pair_slots, uniform_slots, straggler_slot, per_attempt = _slots(dtype)
    z, x = normal_pair(words, pair_slots[0], chain, dtype)
    u = uniforms(words, uniform_slots[0], chain, dtype)[0]
    accept, value = (np.asarray(a) for a in _proposal(x, u, d_hi, d_lo, c))
    value = np.where(accept, value, np.nan)
    assert 0 < np.isnan(value).sum() < 0.1 * value.size  # the straggler path is exercised
    attempt = 0
    while np.isnan(value).any():
        slot = np.uint32(straggler_slot + per_attempt * attempt)
        x = normal_pair(words, slot, chain, dtype)[0]
        u = uniforms(words, slot + np.uint32(per_attempt - 1), chain, dtype)[0]
        accept, proposal = (np.asarray(a) for a in _proposal(x, u, d_hi, d_lo, c))
        value = np.where(np.isnan(value) & accept, proposal, value)
        attempt += 1
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(np.asarray(blocked[0]), np.asarray(z), rtol=rtol)
    np.testing.assert_allclose(np.asarray(blocked[1]), value, rtol=rtol, atol=rtol)
