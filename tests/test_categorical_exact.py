"""Exact discrete chain, per category: brute-force enumeration of the whole process (every workflow, MLE and
add-alpha, through DiscreteLearner.fit), the Wright-Fisher identity, the truncated route's bracket against the full
route, accumulate's closed forms, Suresh et al.'s bound, and literal Monte Carlo z-tests."""

import itertools
import math
import zlib
from collections import defaultdict

import numpy as np
import pytest
import sympy as sp
from scipy.stats import binom, norm

from theory import ParameterError
from theory.chain import CategoricalSource, DiscreteChain, DiscreteLearner
from theory.numeric._categorical_exact import (
    MAX_SAMPLE_SIZE,
    category_exact,
    discrete_exact_values,
    gini_simpson_mean,
    loss_time_distribution,
    transition_band,
)
from theory.quantities import DISCRETE_QUANTITIES

KEYS = DISCRETE_QUANTITIES


def _chain(p, m, workflow="replace", **learner):
    return DiscreteChain(CategoricalSource(p), m, DiscreteLearner(**learner), workflow)


# --- the identity E p_n(1-p_n) = p_0(1-p_0)(1-1/M)^n ------------------------------------------------------------


def test_one_step_factor_from_the_binomial_law():
    """E[c'(M - c') | c] = (1 - 1/M) c (M - c) for c' ~ Binomial(M, c/M), symbolically for each M (sympy.stats)."""
    from sympy.stats import Binomial, E

    for m in (2, 3, 7, 12):
        for c in range(m + 1):
            x = Binomial("X", m, sp.Rational(c, m))
            assert sp.simplify(E(x * (m - x)) - sp.Rational(m - 1, m) * c * (m - c)) == 0


@pytest.mark.parametrize("m", [1, 2, 5, 40, 300, 10**6])
def test_identity_from_the_moment_recursion(m):
    p = np.array([0.003, 0.05, 0.2, 0.3, 0.447])
    gens = [0, 1, 2, 7, 30]
    r = category_exact(_chain(p, m), gens)
    identity = (r.probabilities * (1 - r.probabilities))[:, None] * (1 - 1 / m) ** np.array(gens)[None, :]
    np.testing.assert_allclose(r.heterozygosity, identity, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(r.mean, np.broadcast_to(r.probabilities[:, None], r.mean.shape), rtol=1e-12)
    v = discrete_exact_values(_chain(p, m), gens)
    np.testing.assert_allclose(v["gini_simpson_mean"], gini_simpson_mean(p, m, gens), rtol=1e-12)


# --- brute force: the whole process enumerated with DiscreteLearner.fit ------------------------------------------


def _compositions(m, k):
    return [c for c in itertools.product(range(m + 1), repeat=k) if sum(c) == m]


def _multinomial(m, q):
    """{composition: probability} of Multinomial(m, q) (exact float arithmetic on small cases)."""
    out = {}
    for c in _compositions(m, len(q)):
        pr = math.factorial(m)
        for ci, qi in zip(c, q):
            pr *= qi**ci / math.factorial(ci)
        if pr > 0:
            out[c] = pr
    return out


def _quantities(model, training, p0, alpha):
    model = np.asarray(model)
    if alpha > 0:
        lost = np.asarray(training) == 0
        collapsed = float(np.max(training) == np.sum(training))
    else:
        lost = model == 0
        collapsed = float(model.max() == 1)
    pos = model[model > 0]
    return np.array([(~lost).sum(), lost @ p0, 1 - np.sum(model**2), collapsed, -np.sum(pos * np.log(pos))])


def _brute_force(chain, generations):
    """Every quantity's expectation by enumerating the process, models from ``chain.learner.fit``."""
    p0 = chain.probabilities
    m = chain.sample_size
    learner, kind = chain.learner, chain.workflow.kind
    r = chain.real_count
    w = chain.real_weight
    alpha = learner.alpha
    # state: (real counts, synthetic counts) of the current training set, or the pool for accumulate
    if kind == "accumulate":
        law = {(None, c): pr for c, pr in _multinomial(m, p0).items()}
    else:
        law = defaultdict(float)
        for a, pa in _multinomial(r, p0).items():
            for b, pb in _multinomial(m - r, p0).items():
                law[(a, b)] += pa * pb
    top = max(generations)
    out = {}
    if 0 in generations:
        pos = p0[p0 > 0]
        out[0] = np.array([np.sum(p0 > 0), 0.0, 1 - np.sum(p0**2), float(p0.max() == 1), -np.sum(pos * np.log(pos))])
    for n in range(1, top + 1):
        models = {}
        acc = np.zeros(5)
        for (a, b), pr in law.items():
            if kind == "accumulate" or r == 0:
                model = learner.fit(b)
                training = np.asarray(b)
            elif r == m:
                model = learner.fit(a)
                training = np.asarray(a)
            else:
                model = learner.fit(b, real_counts=a, real_weight=w)
                training = np.asarray(a) + np.asarray(b)
            models[(a, b)] = model
            acc += pr * _quantities(model, training, p0, alpha)
        if n in generations:
            out[n] = acc
        if n == top:
            break
        new = defaultdict(float)
        for (a, b), pr in law.items():
            model = models[(a, b)]
            if kind == "accumulate":
                for c, pc in _multinomial(m, model).items():
                    new[(None, tuple(np.add(b, c)))] += pr * pc
            elif kind == "mix-fixed":
                for c, pc in _multinomial(m - r, model).items():
                    new[(a, c)] += pr * pc
            else:
                for a2, pa in _multinomial(r, p0).items():
                    for c, pc in _multinomial(m - r, model).items():
                        new[(a2, c)] += pr * pa * pc
        law = new
    return {key: np.array([out[n][i] for n in generations]) for i, key in enumerate(KEYS)}


CASES = [
    ([0.3, 0.7], 3, "replace", {}),
    ([0.2, 0.3, 0.5], 3, "replace", {}),
    ([0.05, 0.25, 0.7], 4, "replace", {}),
    ([0.1, 0.1, 0.8], 5, "replace", {}),  # equal probabilities grouped
    ([1, 1, 1], 5, "replace", {}),
    ([0.2, 0.3, 0.5], 4, "replace", {"alpha": 0.5}),
    ([0.1, 0.9], 5, "replace", {"alpha": 2.0}),
    ([0.2, 0.3, 0.5], 4, "mix:0.5", {}),
    ([0.1, 0.2, 0.7], 4, "mix:0.25", {"alpha": 0.3}),
    ([0.1, 0.9], 3, "mix:1", {}),
    ([0.2, 0.3, 0.5], 4, "accumulate", {}),
    ([0.1, 0.2, 0.7], 3, "accumulate", {"alpha": 0.7}),
    ([0.3, 0.7, 0.0], 3, "accumulate", {}),  # a category of probability 0
    ([0.2, 0.3, 0.5], 3, "mix-fixed:1", {}),  # all real: marginally mix:1
    ([0.2, 0.3, 0.5], 3, "mix:0", {"alpha": 0.2}),  # no real point: replace
]


@pytest.mark.parametrize("p, m, workflow, learner", CASES)
def test_against_brute_force_enumeration(p, m, workflow, learner):
    gens = [0, 1, 2, 3, 5]
    chain = _chain(p, m, workflow, **learner)
    exact = discrete_exact_values(chain, gens)
    brute = _brute_force(chain, gens)
    np.testing.assert_array_equal(exact["generations"], gens)
    for key in KEYS:
        if exact[key] is None:
            assert key == "entropy_mean" and workflow == "accumulate" and key in exact["notes"]
            continue
        assert exact[key].dtype == np.float64
        np.testing.assert_allclose(exact[key], brute[key], rtol=1e-11, atol=1e-14, err_msg=key)
    assert exact["bounds"] == {}


@pytest.mark.parametrize(
    "p, m, workflow, weight",
    [([0.2, 0.3, 0.5], 4, "mix-fixed:0.5", None), ([0.1, 0.2, 0.7], 4, "mix-fixed:0.25", None),
     ([0.2, 0.3, 0.5], 4, "mix:0.5", 0.8), ([0.1, 0.2, 0.7], 4, "mix-fixed:0.75", 0.3),
     ([0.3, 0.7], 5, "mix-fixed:0.4", 0.45)],
)
@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_shared_and_weighted_real_draws_against_brute_force(p, m, workflow, weight, alpha):
    """mix-fixed (one real draw shared by every step, plain or weighted fit): moments by the recursion, loss and
    collapse from the synthetic count chain given the fixed real count 0 or R; entropy None. Mix with a real
    weight and fresh draws: moments only."""
    from theory.chain import Workflow

    chain = DiscreteChain(CategoricalSource(p), m, DiscreteLearner(alpha=alpha), Workflow.parse(workflow, real_weight=weight))
    gens = [0, 1, 2, 4]
    exact = discrete_exact_values(chain, gens)
    brute = _brute_force(chain, gens)
    np.testing.assert_allclose(exact["gini_simpson_mean"], brute["gini_simpson_mean"], rtol=1e-11, atol=1e-14)
    shared = workflow.startswith("mix-fixed")
    for key in ("surviving_mean", "tail_mass_lost_mean", "collapse_probability"):
        if shared:
            np.testing.assert_allclose(exact[key], brute[key], rtol=1e-11, atol=1e-14, err_msg=key)
        else:
            assert exact[key] is None and "Monte Carlo" in exact["notes"][key]
    assert exact["entropy_mean"] is None and "Monte Carlo" in exact["notes"]["entropy_mean"]


def test_per_category_means_against_brute_force_two_categories():
    """With K = 2 the per-category moments are visible in the whole-distribution brute force: E p(1-p) of either
    category is half the Gini-Simpson index, for an asymmetric fixed real draw."""
    chain = _chain([0.15, 0.85], 5, "mix-fixed:0.4", alpha=0.25)
    gens = [1, 2, 6]
    r = category_exact(chain, gens)
    brute = _brute_force(chain, gens)
    np.testing.assert_allclose(r.heterozygosity[0], brute["gini_simpson_mean"] / 2, rtol=1e-11)
    np.testing.assert_allclose(r.mean.sum(0), 1.0, rtol=1e-13)


def test_grouped_input_matches_the_vector():
    a = category_exact(_chain([0.1, 0.1, 0.1, 0.3, 0.4], 20), [3, 9])
    np.testing.assert_array_equal(a.multiplicities, [3, 1, 1])
    b = category_exact(_chain([0.1, 0.2, 0.3, 0.4], 20), [3, 9])
    np.testing.assert_allclose(a.lost[0], b.lost[0], rtol=1e-13)


def test_band_rows_sum_to_one_and_match_the_dense_binomial():
    m = 300
    band = transition_band(m)
    np.testing.assert_allclose(np.asarray(band.sum(axis=1)).ravel(), 1.0, rtol=1e-13)
    dense = binom.pmf(np.arange(m + 1)[None, :], m, np.arange(m + 1)[:, None] / m)
    assert np.abs(band.toarray() - dense).max() <= 1e-300


def test_backward_equation_matches_forward_propagation_of_the_dense_chain():
    """An independent route at a larger M: the law of c_n pushed forward through the dense binomial matrix."""
    m, p = 400, np.array([0.0025, 0.01, 0.1, 0.8875])
    gens = [1, 2, 10, 50]
    r = category_exact(_chain(p, m), gens)
    dense = binom.pmf(np.arange(m + 1)[None, :], m, np.arange(m + 1)[:, None] / m)
    state = binom.pmf(np.arange(m + 1)[None, :], m, r.probabilities[:, None])
    freq = np.arange(m + 1) / m
    ent = -np.where(freq > 0, freq * np.log(np.where(freq > 0, freq, 1)), 0)
    for n in range(1, max(gens) + 1):
        if n > 1:
            state = state @ dense
        if n in gens:
            j = gens.index(n)
            np.testing.assert_allclose(r.lost[:, j], state[:, 0], rtol=1e-11, atol=1e-300)
            np.testing.assert_allclose(r.fixed[:, j], state[:, m], rtol=1e-11, atol=1e-300)
            np.testing.assert_allclose(r.heterozygosity[:, j], state @ (freq * (1 - freq)), rtol=1e-11)
            np.testing.assert_allclose(r.entropy[:, j], state @ ent, rtol=1e-11)


# --- the truncated route: its bracket holds the full route's value -----------------------------------------------


def _check_bracket(full, trunc, tol):
    for name in ("lost", "fixed"):
        lo, hi = getattr(trunc, f"{name}_bounds")
        value = getattr(full, name)
        assert np.all(lo <= value * (1 + 1e-12) + 1e-300), name
        assert np.all(value <= hi * (1 + 1e-12) + 1e-300), name
        np.testing.assert_array_equal(getattr(trunc, name), lo)
        assert np.max(hi - lo) <= tol, (name, np.max(hi - lo))


@pytest.mark.parametrize("alpha, workflow", [(0.0, "replace"), (0.05, "replace"), (0.0, "mix-fixed:0.1"),
                                             (0.05, "mix-fixed:0.2")])
def test_truncated_route_brackets_the_full_route(alpha, workflow):
    chain = DiscreteChain("zipf:1.1:60", 2000, DiscreteLearner(alpha=alpha), workflow)
    gens = [1, 2, 10, 30]
    full = category_exact(chain, gens)
    assert full.lost_bounds is None
    for cap, tol in ((60, 1.0), (300, 1e-3), (900, 1e-15)):
        trunc = category_exact(chain, gens, truncation=cap)
        _check_bracket(full, trunc, tol)
    # a bracket that is not trivially wide: at C = 60 some category's loss is left undetermined
    lo, hi = category_exact(chain, gens, truncation=60).lost_bounds
    assert np.max(hi - lo) > 1e-9


@pytest.mark.slow
def test_truncated_route_at_the_full_routes_limit():
    chain = DiscreteChain("words:en:2000", MAX_SAMPLE_SIZE)
    gens = [1, 10, 100]
    full = discrete_exact_values(chain, gens)
    per_full = category_exact(chain, gens)
    trunc = category_exact(chain, gens, truncation=3000)
    _check_bracket(per_full, trunc, 1e-15)
    mult = trunc.multiplicities[:, None]
    np.testing.assert_allclose(np.sum(mult * (1 - trunc.lost), 0), full["surviving_mean"], rtol=1e-13)


def test_large_sample_size_reports_a_tight_bracket():
    v = discrete_exact_values(DiscreteChain("zipf:1:3000", 10**7), [1, 10, 100])
    assert v["entropy_mean"] is None and "Monte Carlo" in v["notes"]["entropy_mean"]
    assert "truncated at C =" in v["notes"]["method"]
    for key in ("surviving_mean", "tail_mass_lost_mean", "collapse_probability"):
        lo, hi = v["bounds"][key]
        assert np.all(lo <= v[key]) and np.all(v[key] <= hi)
        assert np.all(hi - lo <= 1e-15 * np.abs(v[key]) + 1e-30), key
    # generation 1 in closed form: P(lost) = (1 - p)^M
    p = DiscreteChain("zipf:1:3000", 10).probabilities
    np.testing.assert_allclose(v["surviving_mean"][0], np.sum(-np.expm1(10**7 * np.log1p(-p))), rtol=1e-12)


def test_suresh_bound_holds():
    """P(lost at n) <= (1 - p_0 a_n)^M with a_1 = 1, a_{n+1} = 1 - exp(-a_n) (Suresh et al.), so
    E surviving >= sum_k 1 - (1 - p_k a_n)^M; and the bound is not far off for the tail."""
    chain = DiscreteChain("zipf:1:200", 500)
    gens = np.arange(1, 41)
    r = category_exact(chain, gens)
    a = [1.0]
    for _ in range(gens[-1] - 1):
        a.append(-math.expm1(-a[-1]))
    a = np.array(a)
    bound = (1 - r.probabilities[:, None] * a[None, :]) ** 500
    assert np.all(r.lost <= bound * (1 + 1e-12))
    np.testing.assert_allclose(r.lost[:, 0], bound[:, 0], rtol=1e-12)  # n = 1: equality


def test_accumulate_closed_forms():
    p = np.array([0.001, 0.01, 0.2, 0.789])
    m = 40
    r = category_exact(_chain(p, m, "accumulate"), [0, 1, 2, 50])
    np.testing.assert_allclose(r.lost[:, 1:], np.repeat(((1 - r.probabilities) ** m)[:, None], 3, 1), rtol=1e-13)
    np.testing.assert_allclose(r.fixed[:, 1:], np.repeat((r.probabilities**m)[:, None], 3, 1), rtol=1e-12,
                               atol=1e-300)
    np.testing.assert_array_equal(r.lost[:, 0], 0)


def test_loss_time_distribution():
    distinct, _, pmf = loss_time_distribution(_chain([0.02, 0.18, 0.8], 30), 40)
    r = category_exact(_chain([0.02, 0.18, 0.8], 30), [40])
    assert np.all(pmf >= -1e-16)
    np.testing.assert_allclose(pmf.sum(1), r.lost[:, 0], rtol=1e-12)
    np.testing.assert_allclose(pmf[:, 0], (1 - distinct) ** 30, rtol=1e-12)
    with pytest.raises(ParameterError, match="^chain"):
        loss_time_distribution(_chain([0.5, 0.5], 30, alpha=1), 5)


def test_loss_is_absorbing_and_monotone():
    r = category_exact(_chain([0.001, 0.01, 0.989], 200), list(range(60)))
    assert np.all(np.diff(r.lost, axis=1) >= -1e-15)
    assert np.all(np.diff(r.fixed, axis=1) >= -1e-15)


def test_coupling_learner_beyond_the_joint_chain_is_none():
    chain = DiscreteChain("zipf:1:1000", 10**5, DiscreteLearner(temperature=0.7))
    v = discrete_exact_values(chain, [1, 10])
    for key in KEYS:
        assert v[key] is None and "Monte Carlo" in v["notes"][key]
    with pytest.raises(ParameterError, match="^learner"):
        category_exact(chain, [1])


def test_bad_input():
    chain = _chain([0.5, 0.5], 10)
    with pytest.raises(ParameterError, match="^generations"):
        discrete_exact_values(chain, [-1])
    with pytest.raises(ParameterError, match="^generations"):
        discrete_exact_values(chain, [])
    with pytest.raises(ParameterError, match="^generations"):
        discrete_exact_values(chain, [1.5])
    with pytest.raises(ParameterError, match="^chain"):
        discrete_exact_values([0.5, 0.5], [1])
    with pytest.raises(ParameterError, match="^truncation"):
        category_exact(chain, [1], truncation=0)


# --- Monte Carlo of the literal process (DiscreteLearner.fit, NumPy multinomial draws) -------------------------

# False-failure budget: 1e-4 per test, split by Bonferroni over every check it makes. Means of bounded
# quantities use a z-test on the sample standard error; probabilities of an event (a category lost, complete
# collapse) use the exact two-sided binomial test against the exact probability (many are a few occurrences).
BUDGET = 1e-4


def _binomial_pvalue(successes, trials, probability):
    if probability <= 0:
        return 1.0 if successes == 0 else 0.0
    if probability >= 1:
        return 1.0 if successes == trials else 0.0
    return min(1.0, 2 * min(binom.cdf(successes, trials, probability), binom.sf(successes - 1, trials, probability)))


def _simulate(chain, gens, chains, seed):
    """Literal process: per chain, the training counts of each generation and the model fitted to them."""
    rng = np.random.default_rng(seed)
    p0 = chain.probabilities
    m, kind, r, w = chain.sample_size, chain.workflow.kind, chain.real_count, chain.real_weight
    fit = chain.learner.fit
    top = max(gens)
    training = {n: [] for n in gens}
    models = {n: [] for n in gens}
    for _ in range(chains):
        model = p0
        pool = None
        fixed_real = rng.multinomial(r, p0) if kind == "mix-fixed" else None
        for n in range(1, top + 1):
            if kind == "accumulate":
                draw = rng.multinomial(m, model)
                pool = draw if pool is None else pool + draw
                train, model = pool, fit(pool)
            elif r > 0:
                real = fixed_real if kind == "mix-fixed" else rng.multinomial(r, p0)
                synth = rng.multinomial(m - r, model)
                train, model = real + synth, fit(synth, real_counts=real, real_weight=w)
            else:
                train = rng.multinomial(m, model)
                model = fit(train)
            if n in training:
                training[n].append(train)
                models[n].append(model)
    return {n: np.array(training[n]) for n in gens}, {n: np.array(models[n]) for n in gens}


@pytest.mark.parametrize(
    "source, m, workflow, alpha, chains",
    [("zipf:1:12", 30, "replace", 0.0, 4000), ("zipf:1:12", 30, "replace", 0.5, 3000),
     ("zipf:1.2:12", 30, "mix:0.2", 0.0, 3000), ("zipf:1:10", 20, "accumulate", 0.3, 2000),
     ("zipf:1:10", 20, "mix-fixed:0.3", 0.2, 3000)],
)
def test_against_literal_monte_carlo(source, m, workflow, alpha, chains):
    chain = DiscreteChain(source, m, DiscreteLearner(alpha=alpha), workflow)
    gens = [1, 4, 12]
    exact = discrete_exact_values(chain, gens)
    per = category_exact(chain, gens)
    p0 = chain.probabilities
    index = np.searchsorted(per.probabilities, p0)
    training, models = _simulate(chain, gens, chains, seed=zlib.crc32(repr((source, m, workflow, alpha)).encode()))
    checks = []
    for j, n in enumerate(gens):
        t, q = training[n], models[n]
        lost = (t == 0) if alpha > 0 else (q == 0)
        collapsed = (t.max(1) == t.sum(1)) if alpha > 0 else (q.max(1) == 1)
        pos = np.where(q > 0, q, 1.0)
        samples = {
            "surviving_mean": (~lost).sum(1),
            "tail_mass_lost_mean": lost @ p0,
            "gini_simpson_mean": 1 - (q**2).sum(1),
            "entropy_mean": -(q * np.log(pos)).sum(1),
        }
        for key, sample in samples.items():
            if exact[key] is None:
                continue
            se = sample.std(ddof=1) / math.sqrt(chains)
            if se == 0:
                assert abs(sample.mean() - exact[key][j]) < 1e-12
                continue
            z = (sample.mean() - exact[key][j]) / se
            checks.append((f"{key} n={n} z={z:.2f}", 2 * norm.sf(abs(z))))
        if exact["collapse_probability"] is not None:
            checks.append((f"collapse n={n}", _binomial_pvalue(int(collapsed.sum()), chains,
                                                              exact["collapse_probability"][j])))
        for cat in range(chain.size):
            h = q[:, cat] * (1 - q[:, cat])
            se = h.std(ddof=1) / math.sqrt(chains)
            if se > 0:
                z = (h.mean() - per.heterozygosity[index[cat], j]) / se
                checks.append((f"E p(1-p) k={cat} n={n} z={z:.2f}", 2 * norm.sf(abs(z))))
            if per.lost is not None:
                checks.append((f"lost k={cat} n={n}",
                               _binomial_pvalue(int(lost[:, cat].sum()), chains, per.lost[index[cat], j])))
    alpha_level = BUDGET / len(checks)
    failed = [name for name, pvalue in checks if pvalue < alpha_level]
    assert not failed, (alpha_level, failed)
    # power: categories are lost (or the checked means move) over the generations tested
    assert exact["surviving_mean"] is None or exact["surviving_mean"][-1] < chain.size - 0.5
    assert abs(exact["gini_simpson_mean"][-1] - exact["gini_simpson_mean"][0]) > 0.005


@pytest.mark.slow
@pytest.mark.parametrize("source", ["zipf:1:300", "words:en:300"])
def test_truncated_route_against_literal_multinomial_monte_carlo(source):
    """M = 1e5 (the truncated route) against literal multinomial resampling of the counts."""
    m, chains, gens = 100_000, 4000, [1, 10, 60]
    chain = DiscreteChain(source, m)
    exact = discrete_exact_values(chain, gens)
    per = category_exact(chain, gens)
    assert "truncated" in exact["notes"]["method"]
    p0 = chain.probabilities
    index = np.searchsorted(per.probabilities, p0)
    rng = np.random.default_rng(20261122 + len(source))
    counts = rng.multinomial(m, p0, size=chains)
    snapshots = {1: counts}
    for n in range(2, max(gens) + 1):
        counts = rng.multinomial(m, counts / m)
        snapshots[n] = counts
    checks = []
    for j, n in enumerate(gens):
        c = snapshots[n]
        freq = c / m
        lost = c == 0
        for key, sample in {"surviving_mean": (~lost).sum(1), "tail_mass_lost_mean": lost @ p0,
                            "gini_simpson_mean": 1 - (freq**2).sum(1)}.items():
            se = sample.std(ddof=1) / math.sqrt(chains)
            if se == 0:  # no chain lost anything yet: the exact value must be negligible
                assert abs(sample.mean() - exact[key][j]) < 1e-12 * max(1.0, abs(sample.mean())), key
                continue
            z = (sample.mean() - exact[key][j]) / se
            checks.append((f"{key} n={n} z={z:.2f}", 2 * norm.sf(abs(z))))
        for cat in range(chain.size):
            checks.append((f"lost k={cat} n={n}",
                           _binomial_pvalue(int(lost[:, cat].sum()), chains, per.lost[index[cat], j])))
    alpha_level = BUDGET / len(checks)
    failed = [name for name, pvalue in checks if pvalue < alpha_level]
    assert not failed, (alpha_level, failed)
    # power: over ten categories are lost by the last generation checked
    assert exact["surviving_mean"][-1] < chain.size - 10 and exact["tail_mass_lost_mean"][-1] > 1e-3
