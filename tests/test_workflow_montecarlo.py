"""Monte Carlo of every workflow (mix, mix-fixed, accumulate, accumulate-subsample) in the one engine.

Every Monte Carlo assertion is a z-score test: a test with ``N`` z-scores fails when any exceeds
``Phi^-1(1 - BUDGET / (2 N))``, so its false-failure probability is at most ``BUDGET = 1e-4`` (Bonferroni over the
test's cells). Keys are fixed, so a run is reproducible; the budget is what a fresh key would risk. Two-sample z
(two independent runs, e.g. samples against sufficient mode) use ``(a - b) / sqrt(se_a**2 + se_b**2)``.

Heavy tails: at small ``M`` the per-chain values are heavy-tailed under every workflow (``mix`` at ``M = 2`` has
``E sigma_n**2`` bounded but ``Var sigma_n**2 -> inf``; ``mix-fixed`` with one real point collapses as replace does,
its ``E sigma_n**2`` carried by rare chains). A mean is z-tested only where the sample kurtosis of its per-chain
value (``(mu_n - mu)**2`` or ``sigma_n**2``, from the trajectories) is at most ``chains / 100`` (the criterion of
``verify``, there from the exact kurtosis); ``variance_var``, whose fourth-moment standard error is only as good as
the sample eighth moment, only where the sample kurtosis of ``sigma_n**2`` is at most :data:`MAX_KURTOSIS`
(the sample kurtosis underestimates a heavy tail's, hence the stricter bound).

Hand-derived values (sigma = 1, mu = 0, constant ``M``; ``e_n = E(mu_n - mu)**2``, ``v_n = E sigma_n**2``):

* ``mix`` (fresh real data; ``R`` real points of total weight ``w``, ``M - R`` synthetic, ``d`` the divisor
  ``1 - w**2/R - (1 - w)**2/(M - R)`` (unbiased) or 1 (mle)). Given model ``n``, the weighted mean of independent
  points with means ``a_j`` and variances ``b_j`` has ``E sum omega (y - ybar)**2 = sum omega b - sum omega**2 b +
  sum omega a**2 - (sum omega a)**2``, so
  ``e_{n+1} = w**2/R + (1 - w)**2 (e_n + v_n/(M - R))`` and
  ``v_{n+1} = A/d [w (1 - w/R) + (1 - w)(1 - (1 - w)/(M - R)) v_n + w (1 - w) e_n]``.
* ``accumulate`` (``N_n = (n + 1) M``): the model's mean is the pool's, the new samples' mean deviates from it by
  ``s_n zbar``, so ``e_{n+1} = e_n + M v_n / N_n**2``, ``E S_n = E S_{n-1} + v_n (M - 1 + N_{n-1}/N_n)``
  (Chan's merge; ``S_{-1} = 0``) and ``v_{n+1} = A E S_n / (N_n - 1 or N_n)``.
* ``mix-fixed`` (the same ``R`` real points, mean ``r``, at every step): ``mu_2 = w (2 - w) r + (1 - w)**2 a_0 +
  (1 - w) s_1 b_1`` with independent group means, so ``e_1`` is ``mix``'s and
  ``e_2 = (w (2 - w))**2/R + (1 - w)**4/(M - R) + (1 - w)**2 v_1/(M - R)``.
* ``accumulate-subsample:K``: model 1 is fitted to ``K`` i.i.d. points of ``D_0``: ``e_1 = 1/K``,
  ``v_1 = A (K - 1)/(K - 1 or K)``.
* ``mix:1`` refits to ``M`` fresh real points every step: every generation ``n >= 1`` has the law of generation 1.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import stats

from theory import GaussianChain, ParameterError, exact_values
from theory.chain import Workflow
from theory.montecarlo import simulate

BUDGET = 1e-4
#: variance_var is z-tested only where the sample kurtosis of sigma_n**2 is at most this (see the module doc).
MAX_KURTOSIS = 10.0
MEANS = ("mean_sq_error", "variance_mean", "sd_mean", "log_variance_mean", "w2_sq_mean")


pytestmark = pytest.mark.usefixtures("x64")  # float64 switched on for each test (tests/conftest.py)


def bound(n_tests: int) -> float:
    return float(stats.norm.isf(BUDGET / (2 * n_tests)))


def assert_z(zs):
    assert zs, "nothing was tested"
    b = bound(len(zs))
    worst = max(zs, key=lambda t: abs(t[1]))
    assert abs(worst[1]) <= b, f"{worst[0]}: |z| = {abs(worst[1]):.2f} > {b:.2f} ({len(zs)} z-tests, budget {BUDGET})"


def z_against(result, values: dict, label: str, keys=("mean_sq_error", "variance_mean", "variance_var"), mu=0.0):
    """z of every (key, reported n >= 1) with a value in ``values`` (None: no exact value under the workflow) and,
    when the run kept trajectories, a trustworthy standard error (module doc)."""
    out = []
    for q in keys:
        if values.get(q) is None:
            continue
        for j, n in enumerate(result.generations):
            if n == 0:
                continue
            # heavy tails: see the module doc; generation 1 is a fit to Gaussian points under every workflow (light
            # tails), so its means are always tested: a bug that fattened the tails cannot remove every cell
            always = n == 1 and q != "variance_var"
            if result.sigma_trajectories is not None and not always:
                if q == "mean_sq_error":
                    per_chain = (result.mu_trajectories[j] - mu) ** 2
                else:
                    per_chain = result.sigma_trajectories[j] ** 2
                kurtosis = stats.kurtosis(per_chain, fisher=False)
                if not kurtosis <= (MAX_KURTOSIS if q == "variance_var" else result.chains / 100):
                    continue
            z = (result[q][j] - float(np.asarray(values[q])[j])) / result[q + "_se"][j]
            out.append((f"{label} {q}[n={n}]", float(z)))
    return out


def z_two_sample(a, b, label: str, keys=MEANS):
    out = []
    for q in keys:
        for j, n in enumerate(a.generations):
            if n == 0:
                continue
            se = np.hypot(a[q + "_se"][j], b[q + "_se"][j])
            out.append((f"{label} {q}[n={n}]", float((a[q][j] - b[q][j]) / se)))
    return out


# ------------------------------------------------------------------------------------------- hand-derived values
def mix_recursion(m, r, w, a, learner, n_max):
    """(e_n, v_n), n = 0..n_max, of mix with fresh real data (module doc)."""
    s = m - r
    sum_sq = (w * w / r if r else 0.0) + ((1 - w) ** 2 / s if s else 0.0)
    d = 1 - sum_sq if learner == "unbiased" else 1.0
    e, v = [0.0], [1.0]
    for _ in range(n_max):
        en, vn = e[-1], v[-1]
        e.append((w * w / r if r else 0.0) + ((1 - w) ** 2 * (en + vn / s) if s else 0.0))
        v.append(a / d * ((w * (1 - w / r) if r else 0.0) + ((1 - w) * (1 - (1 - w) / s) * vn if s else 0.0)
                          + w * (1 - w) * en))
    return np.array(e), np.array(v)


def accumulate_recursion(m, a, learner, n_max):
    """(e_n, v_n), n = 0..n_max, of accumulate (module doc)."""
    e, v, scatter = [0.0], [1.0], 0.0
    for n in range(n_max):
        before, after = n * m, (n + 1) * m
        e.append(e[-1] + m * v[-1] / after**2)
        scatter += v[-1] * (m - 1 + before / after)
        v.append(a * scatter / (after - 1 if learner == "unbiased" else after))
    return np.array(e), np.array(v)


def _mix_weight(chain):
    wf = chain.workflow
    m = chain.sample_size
    return wf.real_count(m), wf.weight(m)


HAND = [
    # (chain, generations)
    (GaussianChain(5, workflow="mix:0.4"), [1, 2, 10]),
    (GaussianChain(6, learner="mle", variance_scale=1.2, workflow="mix:0.5"), [1, 3, 10]),
    (GaussianChain(5, workflow=Workflow.parse("mix:0.3", real_weight=0.7)), [1, 2, 10]),
    (GaussianChain(4, learner="mle", workflow="mix:1"), [1, 5]),
    (GaussianChain(2, workflow="mix:0.5"), [1, 2, 10]),
    (GaussianChain(4, workflow="accumulate"), [1, 2, 10]),
    (GaussianChain(2, learner="mle", variance_scale=1.1, workflow="accumulate"), [1, 3, 10]),
    (GaussianChain(5, workflow="mix-fixed:0.4"), [1, 2]),
    (GaussianChain(5, learner="mle", workflow="mix-fixed:0.4", variance_scale=0.9), [1, 2]),
    (GaussianChain(6, workflow="accumulate-subsample:3"), [1]),
    (GaussianChain(6, learner="mle", workflow="accumulate-subsample:4"), [1]),
]


def hand_values(chain, generations):
    kind = chain.workflow.kind
    m, a, learner = chain.sample_size, float(chain.variance_scale), chain.learner
    n_max = max(generations)
    if kind == "mix":
        r, w = _mix_weight(chain)
        e, v = mix_recursion(m, r, w, a, learner, n_max)
    elif kind == "accumulate":
        e, v = accumulate_recursion(m, a, learner, n_max)
    elif kind == "mix-fixed":
        r, w = _mix_weight(chain)
        e, v = mix_recursion(m, r, w, a, learner, 1)
        e = np.append(e, (w * (2 - w)) ** 2 / r + (1 - w) ** 4 / (m - r) + (1 - w) ** 2 * v[1] / (m - r))
    else:
        k = chain.workflow.subsample
        e, v = np.array([0.0, 1 / k]), np.array([1.0, a * (k - 1) / (k - 1 if learner == "unbiased" else k)])
    out = {"mean_sq_error": e[generations]}
    if kind != "mix-fixed" or n_max <= 1:
        out["variance_mean"] = v[generations]
    else:
        out["variance_mean"] = np.array([v[1] if g == 1 else np.nan for g in generations])
    return out


@pytest.mark.slow  # the default run keeps test_hand_recursions_match_exact_values and the z-tests against exact_values
@pytest.mark.parametrize("mode", ["samples", "sufficient"])
def test_hand_derived_values(mode):
    zs = []
    for i, (chain, gens) in enumerate(HAND):
        if mode == "sufficient" and chain.workflow.kind == "accumulate-subsample":
            continue
        hand = hand_values(chain, gens)
        result = simulate(jax.random.key(100 + i), chain, chains=6000, generations=gens, mode=mode)
        for q, values in hand.items():
            for j, g in enumerate(gens):
                if np.isnan(values[j]):
                    continue
                zs.append((f"{chain.workflow} {chain.learner} M={chain.sample_size} {q}[n={g}]",
                           float((result[q][j] - values[j]) / result[q + "_se"][j])))
    assert_z(zs)


def test_hand_recursions_match_exact_values():
    """The two hand-derived recursions equal the exact helper's values (no Monte Carlo: a check of the test's own
    formulas against the independently derived exact side)."""
    for chain, gens in HAND:
        if chain.workflow.kind not in ("mix", "accumulate"):
            continue
        exact = exact_values(chain, gens)
        hand = hand_values(chain, gens)
        for q in ("mean_sq_error", "variance_mean"):
            np.testing.assert_allclose(hand[q], np.asarray(exact[q], float), rtol=1e-10, err_msg=str(chain.workflow))


# ------------------------------------------------------------------------------------------- against exact_values
DEFAULT_CELLS = [
    GaussianChain(3, workflow="mix:0.4"),
    GaussianChain(3, learner="mle", workflow=Workflow.parse("mix:0.4", real_weight=0.6)),
    GaussianChain(3, learner="mle", workflow="mix-fixed:0.4"),
    GaussianChain(2, workflow="mix-fixed:0.5", variance_scale=1.1),
    GaussianChain(3, workflow="accumulate"),
    GaussianChain(2, learner="mle", workflow="accumulate"),
    GaussianChain(3, workflow="accumulate-subsample:2"),
    GaussianChain(4, learner="mle", workflow="accumulate-subsample:3", variance_scale=1.2),
]


def _ids(c):
    return f"{c.workflow}-{c.learner}-M{c.sample_size}".replace(" ", "")


def test_against_exact_values_small():
    """Samples mode (the literal process) against ``exact_values``: mean_sq_error, variance_mean, variance_var."""
    gens = [1, 2, 5, 20]
    zs = []
    for i, chain in enumerate(DEFAULT_CELLS):
        exact = exact_values(chain, gens)
        result = simulate(jax.random.key(200 + i), chain, chains=4000, generations=gens, mode="samples",
                          trajectories=True)
        zs += z_against(result, exact, _ids(chain))
    assert_z(zs)


SLOW_WORKFLOWS = ["mix:0.3", "mix:0.5", "mix-fixed:0.3", "mix-fixed:0.5", "accumulate", "accumulate-subsample:2",
                  "accumulate-subsample:K"]


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("m", [2, 3, 20])
def test_against_exact_values_to_n_1000(m, learner):
    """Every workflow, samples mode, n up to 1000, against ``exact_values`` (budget 1e-4 per parametrised case)."""
    gens = [1, 10, 100, 1000]
    zs = []
    seen = set()
    for i, spelling in enumerate(SLOW_WORKFLOWS):
        spelling = spelling.replace(":K", f":{max(2, (m + 1) // 2)}")
        chain = GaussianChain(m, learner=learner, workflow=spelling, variance_scale=1.05 if i % 2 else 1)
        sizes = (chain.workflow.kind, chain.workflow.real_count(m), chain.workflow.subsample)
        if sizes in seen:  # at M = 2, mix:0.3 and mix:0.5 both hold one real point
            continue
        seen.add(sizes)
        exact = exact_values(chain, gens)
        result = simulate(jax.random.key(300 + 10 * m + i), chain, chains=3000, generations=gens, mode="samples",
                          trajectories=True)
        zs += z_against(result, exact, _ids(chain))
    assert_z(zs)


# ------------------------------------------------------------------------------------------- samples vs sufficient
@pytest.mark.parametrize("chain", [
    GaussianChain(3, workflow="mix:0.4"),
    GaussianChain(4, learner="mle", workflow=Workflow.parse("mix:0.5", real_weight=0.3)),
    GaussianChain(3, workflow="mix-fixed:0.4", variance_scale=1.1),
    GaussianChain(2, learner="mle", workflow="accumulate"),
], ids=_ids)
def test_samples_and_sufficient_agree(chain):
    """Two independent runs, one per mode, agree on every mean quantity (including those without exact values:
    E sigma_n, E log sigma_n**2, E W2**2) by two-sample z."""
    gens = [1, 3, 10]
    a = simulate(jax.random.key(1), chain, chains=6000, generations=gens, mode="samples")
    b = simulate(jax.random.key(2), chain, chains=6000, generations=gens, mode="sufficient")
    assert_z(z_two_sample(a, b, _ids(chain)))


@pytest.mark.slow
def test_mix_without_real_data_is_replace_in_law():
    """``mix:0`` (no real point) has replace's law: two-sample z on every mean quantity, both modes (one learner
    each)."""
    zs = []
    gens = [1, 5, 20]
    for i, (mode, learner) in enumerate((("samples", "unbiased"), ("sufficient", "mle"))):
        mix = simulate(jax.random.key(10 + i), GaussianChain(3, learner=learner, workflow="mix:0"), chains=6000,
                       generations=gens, mode=mode)
        rep = simulate(jax.random.key(20 + i), GaussianChain(3, learner=learner), chains=6000, generations=gens,
                       mode=mode)
        zs += z_two_sample(mix, rep, f"{mode} {learner}")
    assert_z(zs)


def test_mix_without_real_data_collapses_like_replace_in_float32():
    """``mix:0`` at M = 2 over 300 generations in float32: the log-space synthetic scatter follows replace's
    E log sigma_n**2 = n (digamma(1/2) + log 2) (unbiased) without underflow."""
    from scipy.special import digamma

    gens = [300]
    result = simulate(jax.random.key(3), GaussianChain(2, workflow="mix:0"), chains=4000, generations=gens,
                      mode="sufficient", dtype="float32")
    exact = 300 * (digamma(0.5) + np.log(2))
    z = (result["log_variance_mean"][0] - exact) / result["log_variance_mean_se"][0]
    assert np.isfinite(result["log_variance_mean"][0])
    assert abs(z) < bound(1)


# ------------------------------------------------------------------------------------------- float32, determinism
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["samples", "sufficient"])
def test_float32_every_workflow(mode):
    """float32 runs are finite and agree with ``exact_values`` (mean_sq_error, variance_mean) to n = 200."""
    gens = [1, 200]
    zs = []
    for i, spelling in enumerate(["mix:0.4", "mix-fixed:0.4", "accumulate", "accumulate-subsample:3"]):
        if mode == "sufficient" and "subsample" in spelling:
            continue
        chain = GaussianChain(4, workflow=spelling, learner="mle" if i % 2 else "unbiased")
        result = simulate(jax.random.key(40 + i), chain, chains=4000, generations=gens, mode=mode, dtype="float32")
        assert result.dtype == "float32"
        for q in MEANS:
            assert np.all(np.isfinite(result[q])), (spelling, q)
        zs += z_against(result, exact_values(chain, gens), f"{spelling} f32", keys=("mean_sq_error", "variance_mean"))
    assert_z(zs)


_SLOW = pytest.mark.slow


@pytest.mark.parametrize("spelling,mode", [
    pytest.param("mix:0.4", "samples", marks=_SLOW), pytest.param("mix:0.4", "sufficient", marks=_SLOW),
    pytest.param("mix-fixed:0.4", "samples", marks=_SLOW), ("mix-fixed:0.4", "sufficient"), ("accumulate", "samples"),
    pytest.param("accumulate", "sufficient", marks=_SLOW), ("accumulate-subsample:3", "samples"),
])
def test_same_key_same_numbers(spelling, mode):
    chain = GaussianChain(4, workflow=spelling)
    kw = {"chains": 50, "generations": [0, 2, 7], "mode": mode, "trajectories": True}
    a = simulate(jax.random.key(5), chain, **kw)
    b = simulate(jax.random.key(5), chain, **kw)
    c = simulate(jax.random.key(6), chain, **kw)
    np.testing.assert_array_equal(a.mu_trajectories, b.mu_trajectories)
    np.testing.assert_array_equal(a.sigma_trajectories, b.sigma_trajectories)
    for q in MEANS:
        np.testing.assert_array_equal(a[q], b[q])
    assert a.mu_trajectories.shape == (3, 50)
    assert np.all(a.sigma_trajectories[0] == 1.0) and not np.array_equal(a.mu_trajectories[1], c.mu_trajectories[1])


@pytest.mark.parametrize("spelling", ["mix:0.3", pytest.param("mix-fixed:0.3", marks=pytest.mark.slow),
                                      pytest.param("accumulate", marks=pytest.mark.slow)])
def test_chunking_changes_only_summation_order(spelling):
    """Samples mode in chunks of one tile (M = 5000: tiles of 2500) gives the same chains up to summation order."""
    chain = GaussianChain(5000, learner="mle", workflow=spelling)
    kw = {"chains": 6, "generations": [1, 3], "mode": "samples", "trajectories": True}
    whole = simulate(jax.random.key(3), chain, **kw)
    chunked = simulate(jax.random.key(3), chain, max_chunk_elements=6 * 2500, **kw)
    np.testing.assert_allclose(chunked.mu_trajectories, whole.mu_trajectories, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(chunked.sigma_trajectories, whole.sigma_trajectories, rtol=1e-11)


# ------------------------------------------------------------------------------------------- replace unchanged
#: Replace-workflow numbers (float.hex) produced by the engine before the workflow kernels existed (commit cc26d36):
#: the refactor must leave them bit for bit unchanged. Key 123, 300 chains, generations [1, 4], trajectories.
REPLACE_PINS = {
    ("suf64", 5, "unbiased", 1.0, 1.0, 0.0, "sufficient", "float64", None): [
        "0x1.851795b2134fep-1", "0x1.1855b4fed61e9p+0", "0x1.b5b186761e67ap-4", "0x1.0a0ca6b0cb782p+0",
        "0x1.2d14acf9d5007p+0"],
    ("sam64", 7, "mle", 1.1, 1.0, 0.0, "samples", "float64", None): [
        "0x1.e15cd07c58df1p-2", "0x1.bbf09f7fc6c18p-1", "0x1.c4cb89f58a5bfp-5", "-0x1.d7a782cbee438p-4",
        "0x1.683c6cb884db6p-1"],
    ("suf32", None, "unbiased", 1.0, 1.0, 0.0, "sufficient", "float32", (3, 50, 2, 9)): [
        "0x1.d4a5140000000p-1", "0x1.2ceca20000000p+0", "0x1.4776cd7c25ac1p-2", "0x1.0e53000000000p+1",
        "0x1.7230e00000000p-1"],
    ("sam32", 5000, "unbiased", 1.0, 2.0, 1.0, "samples", "float32", None): [
        "0x1.75237e0000000p-9", "0x1.01af280000000p+2", "0x1.0fb30e8e20890p-19", "0x1.d5520c0000000p-1",
        "0x1.fdf2620000000p+0"],
}


@pytest.mark.parametrize("case", list(REPLACE_PINS), ids=lambda c: c[0])
def test_replace_numbers_unchanged(case):
    _, m, learner, a, sigma, mu, mode, dtype, schedule = case
    chain = GaussianChain(list(schedule) if schedule else m, learner=learner, variance_scale=a, sigma=sigma, mu=mu)
    r = simulate(jax.random.key(123), chain, chains=300, generations=[1, 4], mode=mode, dtype=dtype,
                 trajectories=True)
    got = [float(r["mean_sq_error"][1]).hex(), float(r["variance_mean"][1]).hex(), float(r["w2_sq_var"][0]).hex(),
           float(r.mu_trajectories[1, 17]).hex(), float(r.sigma_trajectories[0, 299]).hex()]
    assert got == REPLACE_PINS[case]


# ------------------------------------------------------------------------------------------- bad input
def test_subsample_has_no_sufficient_mode():
    with pytest.raises(ParameterError) as info:
        simulate(jax.random.key(0), GaussianChain(5, workflow="accumulate-subsample:3"), chains=10, generations=[2])
    assert info.value.parameter == "mode"
    assert str(info.value).startswith("mode: ")


def test_subsample_pool_beyond_memory_is_refused():
    with pytest.raises(ParameterError) as info:
        simulate(jax.random.key(0), GaussianChain(100, workflow="accumulate-subsample:3"), chains=10,
                 generations=[10_000], mode="samples", memory_limit=2**20)
    assert info.value.parameter == "generations"
    assert "pool" in str(info.value)


def test_workflow_checked_against_a_schedule_function():
    chain = GaussianChain(lambda i: 4 + i, workflow="mix-fixed:0.5")  # R = 2, 3, 3, 4, ...: not fixed
    with pytest.raises(ParameterError) as info:
        simulate(jax.random.key(0), chain, chains=10, generations=[5])
    assert info.value.parameter == "sample_size"


def test_schedule_runs():
    """A schedule M_i under mix and accumulate-subsample: finite, and the first step is fitted to M_0 points (K for
    the subsample); z-tests with budget 1e-4 over the two."""
    for spelling in ("mix:0.5", "accumulate-subsample:3"):
        chain = GaussianChain([4, 10, 3, 7], workflow=spelling)
        r = simulate(jax.random.key(1), chain, chains=3000, generations=[1, 4], mode="samples")
        first = 1 / (3 if "subsample" in spelling else 4)
        assert abs(r["mean_sq_error"][0] - first) / r["mean_sq_error_se"][0] < bound(2)
        assert np.all(np.isfinite(r["variance_mean"]))

