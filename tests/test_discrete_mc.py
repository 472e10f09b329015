"""The discrete chain's Monte Carlo: the exact binomial/multinomial sampler, the JAX learner map, simulate_discrete
against formulas written down here, and verify_discrete.

False-failure budgets: every statistical test below is a z-test (or a chi-square test) at a stated level; each
test function's checks are Bonferroni-corrected to a budget of 1e-4 per test function (``_z_bound(n)`` is the
two-sided normal quantile for 1e-4 split over ``n`` checks), except ``verify_discrete`` (its own 1e-3 budget over
all its rows, slow-marked). Fixed seeds: a failure reproduces.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from theory import ParameterError
from theory.chain import DiscreteChain, DiscreteLearner
from theory.montecarlo import learner_map, simulate_discrete, verify_discrete
from theory.montecarlo._categorical import binomial, multinomial, spacings_multinomial
from theory.montecarlo._verify_discrete import DISCRETE_SETUPS

BUDGET = 1e-4


def _z_bound(checks: int, budget: float = BUDGET) -> float:
    return float(stats.norm.isf(budget / (2 * checks)))


def _keys(seed, n):
    return jax.vmap(jax.random.fold_in, (None, 0))(jax.random.key(seed), jnp.arange(n, dtype=jnp.uint32))


# ---------------------------------------------------------------------------------------------------- the sampler

BINOMIAL_CASES = [(0, 0.3), (7, 0.0), (7, 1.0), (12, 0.3), (40, 0.6), (1000, 0.02), (10**7, 0.3), (10**7, 1e-6),
                  (10**7, 0.999999), (2**31 - 1, 0.5)]


def test_binomial_mean_and_variance_z_tests():
    """Both branches (inversion below n q = 10, BTRS above) up to n = 2**31 - 1: sample mean and sample variance
    z-tested against n q and n q (1 - q) (the variance's standard error from the binomial's fourth central moment
    ``n q (1-q) (1 + 3 (n - 2) q (1-q))``); degenerate cases exactly."""
    n_draws = 100_000
    checks = 2 * len(BINOMIAL_CASES)
    bound = _z_bound(checks)
    with jax.enable_x64(True):
        draw = jax.jit(binomial)
        for i, (n, q) in enumerate(BINOMIAL_CASES):
            x = np.asarray(draw(jax.random.key(i), jnp.full(n_draws, float(n)), jnp.full(n_draws, q)))
            assert np.all(x == np.floor(x)) and x.min() >= 0 and x.max() <= n
            mean, var = n * q, n * q * (1 - q)
            if var == 0:
                assert np.all(x == mean), (n, q)
                continue
            z_mean = (x.mean() - mean) / math.sqrt(var / n_draws)
            mu4 = var * (1 + 3 * (n - 2) * q * (1 - q))
            se_var = math.sqrt((mu4 - var**2 * (n_draws - 3) / (n_draws - 1)) / n_draws)
            z_var = (x.var(ddof=1) - var) / se_var
            assert abs(z_mean) < bound and abs(z_var) < bound, (n, q, z_mean, z_var)


@pytest.mark.parametrize("n, q", [(12, 0.3), (30, 0.4), (25, 0.5)])
def test_binomial_pmf_chi_square(n, q):
    """The whole pmf at small n (inversion for 12 x 0.3; BTRS for 30 x 0.4 and 25 x 0.5): chi-square goodness
    of fit, cells with expected count < 5 pooled, rejected below p = 1e-4 / 3."""
    n_draws = 200_000
    with jax.enable_x64(True):
        x = np.asarray(jax.jit(binomial)(jax.random.key(n), jnp.full(n_draws, float(n)), jnp.full(n_draws, q)))
    observed = np.bincount(x.astype(int), minlength=n + 1)
    expected = stats.binom.pmf(np.arange(n + 1), n, q) * n_draws
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > BUDGET / 3


@pytest.mark.parametrize("sampler", ["tree", "spacings"])
def test_multinomial_exact_pmf_tiny(sampler):
    """M = 4 draws over K = 4 with a zero weight among them (and one first, for the spacings): the 15
    compositions' frequencies against the multinomial pmf, chi-square (p > 1e-4 / 2); zero categories never
    drawn. Both samplers."""
    p = np.array([0.0, 0.5, 0.3, 0.0, 0.2])[1:] if sampler == "tree" else np.array([0.5, 0.3, 0.0, 0.2])
    m, n_draws = 4, 100_000
    keys = _keys(1, n_draws)
    with jax.enable_x64(True):
        if sampler == "tree":
            counts = np.asarray(jax.jit(jax.vmap(lambda k: multinomial(k, jnp.asarray(p), m)))(keys))
        else:
            zero_first = jnp.broadcast_to(jnp.asarray(np.concatenate([[0.0], p])), (n_draws, 5))
            counts = np.asarray(jax.jit(lambda k: spacings_multinomial(k, zero_first, m))(keys))
            assert np.all(counts[:, 0] == 0)
            counts = counts[:, 1:]
    assert counts.dtype == np.int32
    assert np.all(counts.sum(1) == m) and np.all(counts[:, 2] == 0)
    comps = [c for c in itertools.product(range(m + 1), repeat=3) if sum(c) == m]
    index = {c: i for i, c in enumerate(comps)}
    observed = np.bincount([index[tuple(c)] for c in counts[:, [0, 1, 3]]], minlength=len(comps))
    expected = np.array([stats.multinomial.pmf(c, m, p[[0, 1, 3]]) for c in comps]) * n_draws
    assert stats.chisquare(observed, expected).pvalue > BUDGET / 2


def test_multinomial_moments_large_m():
    """M = 10**6 over a Zipf vector of K = 37 (BTRS and inversion nodes): every count's mean, the variance of the
    first and the covariance of the first two z-tested (Bonferroni over 39 checks); totals exactly M."""
    p = 1 / np.arange(1, 38)
    p = p / p.sum()
    m, n_draws = 10**6, 20_000
    with jax.enable_x64(True):
        c = np.asarray(jax.jit(jax.vmap(lambda k: multinomial(k, jnp.asarray(p), m)))(_keys(2, n_draws)), float)
    assert np.all(c.sum(1) == m)
    bound = _z_bound(39)
    z = (c.mean(0) - m * p) / np.sqrt(m * p * (1 - p) / n_draws)
    assert np.max(np.abs(z)) < bound, z
    # variance of c_0 and covariance of (c_0, c_1): sample estimates of E[(X - mu)(Y - mu)] with known means,
    # standard errors from the sample of the products
    d = c[:, :2] - m * p[:2]
    for prod, truth in ((d[:, 0] ** 2, m * p[0] * (1 - p[0])), (d[:, 0] * d[:, 1], -m * p[0] * p[1])):
        assert abs(prod.mean() - truth) / (prod.std(ddof=1) / math.sqrt(n_draws)) < bound


# ---------------------------------------------------------------------------------------------- the learner map

LEARNERS = [
    DiscreteLearner(),
    DiscreteLearner(alpha=0.5),
    DiscreteLearner(temperature=0.7),
    DiscreteLearner(temperature=2.5, alpha=1.0),
    DiscreteLearner(top_k=1),
    DiscreteLearner(top_k=3),
    DiscreteLearner(top_p=0.5),
    DiscreteLearner(top_p=0.9, temperature=0.5, top_k=5),
    DiscreteLearner(top_p=0.3, alpha=2.0),
]


@pytest.mark.parametrize("learner", LEARNERS, ids=str)
def test_learner_map_equals_numpy_definition(learner):
    """learner_map (JAX, float64) against DiscreteLearner.fit on 300 random count vectors, many with ties (counts
    0..3 over 12 categories) and some sparse, plus mixed real/synthetic counts with and without a weight: the
    same zero pattern exactly and the same probabilities to 1e-12 (they differ only in the order of a sum)."""
    rng = np.random.default_rng(7)
    cases = []
    for i in range(300):
        k = 12 if i % 3 else 40
        counts = rng.integers(0, 4, k) if i % 2 else rng.poisson(rng.exponential(3, k))
        if counts.sum() == 0:
            counts[0] = 1
        cases.append(counts)
    cases.append(np.array([5, 3, 2]))  # top-p 0.5 exactly at a boundary
    with jax.enable_x64(True):
        fit = jax.jit(lambda c: learner_map(learner, c))
        fit_mix = jax.jit(lambda c, r: learner_map(learner, c, r, None))
        fit_w = jax.jit(lambda c, r: learner_map(learner, c, r, 0.3))
        for counts in cases:
            expected = learner.fit(counts)
            got = np.asarray(fit(jnp.asarray(counts, jnp.int32)))
            np.testing.assert_array_equal(got == 0, expected == 0)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
            real = np.roll(counts, 1)
            for f, w in ((fit_mix, None), (fit_w, 0.3)):
                expected = learner.fit(counts, real_counts=real, real_weight=w)
                got = np.asarray(f(jnp.asarray(counts, jnp.int32), jnp.asarray(real, jnp.int32)))
                np.testing.assert_array_equal(got == 0, expected == 0)
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_top_k_ties_lower_index_wins():
    with jax.enable_x64(True):
        got = np.asarray(learner_map(DiscreteLearner(top_k=2), jnp.array([1, 3, 2, 3, 3])))
    assert got.tolist() == [0.0, 0.5, 0.0, 0.5, 0.0]


# ------------------------------------------------------------------------------------- simulate_discrete


def _z(sim, key, i, exact):
    return (sim.mean[key][i] - exact) / sim.se[key][i]


@pytest.mark.parametrize("sampler", ["tree", "spacings"])
def test_replace_first_generation_and_gini_simpson_identity(sampler):
    """Replace, MLE, zipf:1:30, M = 15, each sampler: E surviving_1 = sum_k 1 - (1 - p_k)^M, P(lost_1,k) =
    (1 - p_k)^M per group, E p_{n,k} = p_{0,k}, and the Wright-Fisher identity E GS_n = (1 - 1/M)^n GS_0 at
    n = 1, 4; Bonferroni over all the checks (1e-4 / 2 per sampler)."""
    chain = DiscreteChain("zipf:1:30", 15)
    p, m = chain.probabilities, 15
    gens = [0, 1, 4]
    sim = simulate_discrete(chain, gens, chains=3000, seed=1, sampler=sampler)
    assert sampler in sim.notes["method"]
    bound = _z_bound(3 + 2 * 30, BUDGET / 2)
    assert sim.mean["surviving_mean"][0] == 30 and sim.se["surviving_mean"][0] == 0
    assert abs(_z(sim, "surviving_mean", 1, np.sum(1 - (1 - p) ** m))) < bound
    gs0 = 1 - np.dot(p, p)
    assert sim.mean["gini_simpson_mean"][0] == pytest.approx(gs0, abs=1e-15)
    for i in (1, 2):
        assert abs(_z(sim, "gini_simpson_mean", i, gs0 * (1 - 1 / m) ** gens[i])) < bound
    order = np.argsort(p)
    q = p[order]
    lost1 = (1 - q) ** m
    z_lost = (sim.group_mean["lost"][:, 1] - lost1) / np.sqrt(lost1 * (1 - lost1) / sim.chains)
    assert np.max(np.abs(z_lost)) < bound
    np.testing.assert_array_equal(sim.group_probabilities, q)
    z_mean = (sim.group_mean["mean"][:, 2] - q) / sim.group_se["mean"][:, 2]
    assert np.max(np.abs(z_mean)) < bound


def test_accumulate_loss_is_the_first_draw():
    """Accumulate, MLE: category k is lost at generation n >= 1 iff none of the first M (real) draws hit it
    (later models give it probability 0), so P(lost_n,k) = (1 - p_k)^M at n = 1 and n = 5 (Bonferroni over 40)."""
    m = 10
    chain = DiscreteChain("zipf:1.2:20", m, workflow="accumulate")
    sim = simulate_discrete(chain, [1, 5], chains=3000, seed=2)
    q = sim.group_probabilities
    lost = (1 - q) ** m
    bound = _z_bound(2 * 20)
    for i in (0, 1):
        z = (sim.group_mean["lost"][:, i] - lost) / np.sqrt(lost * (1 - lost) / sim.chains)
        assert np.max(np.abs(z)) < bound


@pytest.mark.slow
def test_mix_means_are_the_source():
    """mix-fixed and mix, MLE: E p_{n,k} = p_{0,k} (the real part has mean p_0, the synthetic part's mean is
    E p_{n-1,k} = p_{0,k} by induction); Bonferroni over 40 checks."""
    m = 10
    bound = _z_bound(2 * 20)
    for workflow in ("mix-fixed:0.3", "mix:0.3"):
        sim = simulate_discrete(DiscreteChain("zipf:1.2:20", m, workflow=workflow), [3], chains=3000, seed=3)
        z = (sim.group_mean["mean"][:, 0] - sim.group_probabilities) / sim.group_se["mean"][:, 0]
        assert np.max(np.abs(z)) < bound


def test_smoothing_counts_lost_in_the_training_set():
    """Add-alpha (alpha = 1): 'lost' is count 0 in T_{n-1}; at n = 1 that is (1 - p_k)^M exactly as for the MLE
    (the first training set is M draws from p_0), though no probability is 0."""
    chain = DiscreteChain("zipf:1:25", 12, learner=DiscreteLearner(alpha=1.0))
    sim = simulate_discrete(chain, [1], chains=3000, seed=4)
    p = chain.probabilities
    assert abs(_z(sim, "surviving_mean", 0, np.sum(1 - (1 - p) ** 12))) < _z_bound(1)
    assert "training set" in sim.notes["lost"]


def test_top_k_one_collapses_at_once():
    """top-k 1: model 1 is one category, so every chain has collapsed from generation 1 on (deterministic; the tree
    sampler at M = 10**7)."""
    chain = DiscreteChain("zipf:1:10", 10**7, learner=DiscreteLearner(top_k=1))
    sim = simulate_discrete(chain, [0, 1, 3], chains=16, seed=5)
    assert "tree" in sim.notes["method"]
    assert sim.mean["collapse_probability"].tolist() == [0.0, 1.0, 1.0]
    assert sim.mean["surviving_mean"].tolist() == [10.0, 1.0, 1.0]
    assert sim.mean["gini_simpson_mean"][1:].tolist() == [0.0, 0.0]


def test_same_seed_same_numbers_whatever_the_block():
    """Same seed: the same numbers (blocks of 3 chains vs one block: equal up to summation order); another seed:
    different numbers; generations in any order; track_chain gives chain 0 and its generation 0 is p_0."""
    chain = DiscreteChain("zipf:1:20", 8, workflow="mix:0.25")
    a = simulate_discrete(chain, [2, 0, 5], chains=10, seed=9, track_chain=True)
    b = simulate_discrete(chain, [2, 0, 5], chains=10, seed=9, block_elements=3 * 32, track_chain=True)
    c = simulate_discrete(chain, [2, 0, 5], chains=10, seed=10)
    for key in a.mean:
        np.testing.assert_allclose(a.mean[key], b.mean[key], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a.se[key], b.se[key], rtol=1e-9, atol=1e-14)
    assert not np.allclose(a.mean["gini_simpson_mean"], c.mean["gini_simpson_mean"])
    np.testing.assert_array_equal(a.first_chain, b.first_chain)
    assert a.first_chain.shape == (3, 20) and c.first_chain is None
    np.testing.assert_allclose(a.first_chain[1], chain.probabilities, rtol=1e-15)
    assert a.generations.tolist() == [2, 0, 5]
    js = a.to_json()
    assert set(js) == {k + s for k in a.mean for s in ("_mc", "_se")} and len(js["entropy_mean_mc"]) == 3


def test_float32_runs():
    """dtype float32 (probabilities and learner in float32; the sampler's binomials stay float64): the
    Gini-Simpson identity still holds (z-test, 1e-4)."""
    chain = DiscreteChain("zipf:1:30", 15)
    sim = simulate_discrete(chain, [2], chains=2000, seed=6, dtype="float32")
    gs = (1 - np.dot(chain.probabilities, chain.probabilities)) * (1 - 1 / 15) ** 2
    assert sim.dtype == "float32" and abs(_z(sim, "gini_simpson_mean", 0, gs)) < _z_bound(1)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"chains": 1}, "chains"),
    ({"chains": 2.5}, "chains"),
    ({"generations": [-1]}, "generations"),
    ({"generations": []}, "generations"),
    ({"dtype": "float16"}, "dtype"),
    ({"seed": -1}, "seed"),
    ({"seed": "a"}, "seed"),
    ({"block_elements": 0}, "block_elements"),
    ({"sampler": "exp"}, "sampler"),
    ({"chain": "zipf:1:10"}, "chain"),
    ({"memory_limit": 1000}, "source"),
])
def test_bad_input_names_the_parameter(kwargs, parameter):
    args = {"chain": DiscreteChain("zipf:1:10", 5), "generations": [1], "chains": 4}
    args.update(kwargs)
    chain, generations = args.pop("chain"), args.pop("generations")
    with pytest.raises(ParameterError) as err:
        simulate_discrete(chain, generations, **args)
    assert err.value.parameter == parameter


def test_verify_discrete_bad_input():
    with pytest.raises(ParameterError) as err:
        verify_discrete(budget=0)
    assert err.value.parameter == "budget"
    with pytest.raises(ParameterError) as err:
        verify_discrete(chains=1)
    assert err.value.parameter == "chains"


@pytest.mark.slow  # the default run checks verify_discrete through the CLI (tests/test_cli_discrete.py)
def test_verify_discrete_one_setup():
    """verify_discrete on one small setup with the tree sampler (its own Bonferroni budget 1e-3 over its rows):
    every row passes."""
    rows = verify_discrete(quick=True, chains=1000, setups=[("zipf:1:10", 8, "mix:0.2")], sampler="tree")
    assert rows and all(r["passed"] for r in rows), [r for r in rows if not r["passed"]]
    assert {"surviving_mean", "gini_simpson_mean", "collapse_probability"} <= {r["quantity"] for r in rows}


@pytest.mark.slow
def test_verify_discrete_quick_all_setups():
    """The quick grid (zipf:1:50 at M = 20 and words:en:200 at M = 50; replace, mix:0.2, accumulate): every row
    passes at the 1e-3 budget."""
    rows = verify_discrete(quick=True)
    failed = [r for r in rows if not r["passed"]]
    assert not failed, failed[:10]


@pytest.mark.slow
def test_verify_discrete_tree_sampler():
    """The Zipf setups of the quick grid with the conditional-binomial tree sampler: every row passes (1e-3)."""
    rows = verify_discrete(quick=True, sampler="tree", setups=[s for s in DISCRETE_SETUPS if s[0].startswith("zipf")])
    failed = [r for r in rows if not r["passed"]]
    assert not failed, failed[:10]
