"""The exact joint chain on compositions: against the per-category route (MLE), brute-force path enumeration,
literal NumPy Monte Carlo of DiscreteLearner.fit (z-tests), the T -> 0 limit and greedy top-k = 1."""

import itertools
import math

import numpy as np
import pytest
from scipy.special import entr
from scipy.stats import multinomial, norm

from theory import ParameterError
from theory.chain import DiscreteChain, DiscreteLearner
from theory.numeric._categorical_joint import (
    JOINT_MAX_STATES,
    _joint_table,
    compositions,
    joint_category_exact,
    joint_exact_values,
    joint_state_count,
)
from theory.quantities import DISCRETE_QUANTITIES

EXACT_KEYS = ("surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean", "collapse_probability")


def _per_category_route(chain, gens):
    from theory.numeric._categorical_exact import discrete_exact_values

    return discrete_exact_values(chain, gens)


# --- the state space --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("total, parts", [(0, 3), (1, 5), (4, 2), (5, 4), (7, 3), (2, 40)])
def test_compositions_are_all_distinct_and_counted(total, parts):
    c = compositions(total, parts)
    assert c.shape == (joint_state_count(parts, total), parts)
    assert np.all(c.sum(axis=1) == total) and np.all(c >= 0)
    assert len({tuple(row) for row in c.tolist()}) == c.shape[0]
    brute = {row for row in itertools.product(range(total + 1), repeat=parts) if sum(row) == total} if parts <= 5 else None
    if brute is not None:
        assert brute == {tuple(row) for row in c.tolist()}


def test_contract_keys_and_shapes():
    v = joint_exact_values(DiscreteChain("zipf:1:3", 5, DiscreteLearner(temperature=0.5)), [3, 0, 1, 3])
    assert set(v) == {"generations", *DISCRETE_QUANTITIES, "notes", "bounds"}
    assert v["generations"].dtype == np.int64 and v["generations"].tolist() == [3, 0, 1, 3]
    for key in DISCRETE_QUANTITIES:
        assert v[key].dtype == np.float64 and v[key].shape == (4,)
    assert v[DISCRETE_QUANTITIES[0]][0] == v[DISCRETE_QUANTITIES[0]][3]
    assert "method" in v["notes"] and v["bounds"] == {}


# --- MLE: the per-category route --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, m", [("zipf:1:4", 12), ("uniform:3", 20), ("0.7,0.2,0.1", 40), ("zipf:1.5:2", 1000)])
def test_mle_equals_the_per_category_route(spec, m):
    gens = [0, 1, 2, 5, 30]
    chain = DiscreteChain(spec, m)
    joint = joint_exact_values(chain, gens)
    per = _per_category_route(chain, gens)
    for key in DISCRETE_QUANTITIES:
        if per[key] is not None:  # the per-category route's entropy is exact on its full route
            np.testing.assert_allclose(joint[key], per[key], rtol=0, atol=1e-12, err_msg=key)
    # the Wright-Fisher identity E p_n(1 - p_n) = p_0(1 - p_0)(1 - 1/M)^n, per category, from the joint chain
    cat = joint_category_exact(chain, gens)
    p0 = cat.probabilities[:, None]
    np.testing.assert_allclose(cat.heterozygosity, p0 * (1 - p0) * (1 - 1 / m) ** np.array(gens), rtol=1e-11)
    np.testing.assert_allclose(cat.mean, np.broadcast_to(p0, cat.mean.shape), rtol=1e-11)
    np.testing.assert_allclose(cat.lost.sum(axis=0), chain.size - joint["surviving_mean"], atol=1e-12)
    np.testing.assert_allclose(cat.fixed.sum(axis=0), joint["collapse_probability"], atol=1e-12)


# --- brute force: every path of training sets -------------------------------------------------------------------


def _all_compositions(total, parts):
    return [c for c in itertools.product(range(total + 1), repeat=parts) if sum(c) == total]


def _values_of(model, counts, p0, alpha):
    model = np.asarray(model, dtype=float)
    counts = np.asarray(counts)
    lost = counts == 0 if alpha > 0 else model == 0
    collapsed = counts.max() == counts.sum() if alpha > 0 else model.max() == 1.0
    return np.array([np.sum(~lost), p0[lost].sum(), 1 - np.sum(model**2), float(collapsed), entr(model).sum()])


def _brute_force(chain, top):
    """E quantities of models 1..top by enumerating every sequence of (synthetic, real) training counts."""
    p0 = np.asarray(chain.probabilities)
    k, m, r = chain.size, chain.sample_size, chain.real_count
    learner, weight, kind = chain.learner, chain.real_weight, chain.workflow.kind
    syn = _all_compositions(m - r, k)
    real = _all_compositions(r, k)
    pmf = lambda c, q: multinomial.pmf(c, sum(c), q) if sum(c) else 1.0
    real_law = [pmf(c, p0) for c in real]
    out = np.zeros((top, 5))

    def fit(s, rr):
        if weight is None:
            return learner.fit(np.add(s, rr))
        return learner.fit(s, rr, weight)

    def walk(model, prob, depth, fixed):
        if depth > top or prob == 0:
            return
        for s in syn:
            ps = pmf(s, model)
            if ps == 0:
                continue
            reals = [(fixed, 1.0)] if fixed is not None else list(zip(real, real_law))
            for rr, pr in reals:
                if pr == 0:
                    continue
                nxt = fit(s, rr)
                w = prob * ps * pr
                out[depth - 1] += w * _values_of(nxt, np.add(s, rr), p0, learner.alpha)
                walk(nxt, w, depth + 1, fixed)

    if kind == "mix-fixed":
        for rr, pr in zip(real, real_law):
            walk(p0, pr, 1, rr)
    else:
        walk(p0, 1.0, 1, None)
    return out


BRUTE_CASES = [
    ("0.5,0.3,0.2", 3, DiscreteLearner(), "replace"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(temperature=0.5), "replace"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(top_k=2), "replace"),
    ("0.4,0.35,0.25", 4, DiscreteLearner(top_p=0.6), "replace"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(alpha=0.5, temperature=2.0), "replace"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(temperature=0.5), "mix:0.34"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(top_k=2), "mix-fixed:0.34"),
    ("0.5,0.3,0.2", 3, DiscreteLearner(), "mix-fixed:0.67"),
    ("0.6,0,0.4", 3, DiscreteLearner(temperature=0.5, top_p=0.9), "mix:0.34"),  # a category of probability 0
]


@pytest.mark.parametrize("spec, m, learner, workflow", BRUTE_CASES)
def test_brute_force_enumeration_of_paths(spec, m, learner, workflow):
    chain = DiscreteChain(spec, m, learner, workflow)
    top = 3
    brute = _brute_force(chain, top)
    v = joint_exact_values(chain, range(top + 1))
    for i, key in enumerate(DISCRETE_QUANTITIES):
        np.testing.assert_allclose(v[key][1:], brute[:, i], rtol=0, atol=1e-13, err_msg=key)


def test_brute_force_weighted_mix():
    from theory.chain import Workflow

    chain = DiscreteChain("0.5,0.3,0.2", 3, DiscreteLearner(top_p=0.7), Workflow.parse("mix:0.34", real_weight=0.6))
    brute = _brute_force(chain, 3)
    v = joint_exact_values(chain, [1, 2, 3])
    for i, key in enumerate(DISCRETE_QUANTITIES):
        np.testing.assert_allclose(v[key], brute[:, i], rtol=0, atol=1e-13, err_msg=key)


# --- literal Monte Carlo of DiscreteLearner.fit ----------------------------------------------------------------

# False-failure budget 1e-4 per test function, split (Bonferroni) over its z-tests.
BUDGET = 1e-4


def _monte_carlo(chain, gens, chains, seed):
    """Literal multinomial resampling: per chain, T_i ~ Multinomial(M - R, model_i) + fresh real draws, model_{i+1}
    = DiscreteLearner.fit (cached per training composition, the map is deterministic)."""
    rng = np.random.default_rng(seed)
    p0 = np.asarray(chain.probabilities)
    k, m, r = chain.size, chain.sample_size, chain.real_count
    learner = chain.learner
    cache = {}
    models = np.broadcast_to(p0, (chains, k)).copy()
    per_gen = {}
    for n in range(1, max(gens) + 1):
        counts = rng.multinomial(m - r, models)
        if r:
            counts = counts + rng.multinomial(r, p0, size=chains)
        for i, row in enumerate(counts):
            key = row.tobytes()
            if key not in cache:
                cache[key] = learner.fit(row)
            models[i] = cache[key]
        if n in gens:
            lost = models == 0
            per_gen[n] = np.stack(
                [(~lost).sum(1), lost @ p0, 1 - (models**2).sum(1), (models.max(1) == 1.0).astype(float),
                 entr(models).sum(1)],
                axis=1,
            )
    return per_gen


@pytest.mark.parametrize(
    "learner, workflow",
    [
        (DiscreteLearner(temperature=0.5), "replace"),
        (DiscreteLearner(top_k=2), "replace"),
        (DiscreteLearner(top_p=0.6), "replace"),
        (DiscreteLearner(temperature=0.5), "mix:0.3"),
    ],
)
def test_literal_monte_carlo_z_scores(learner, workflow):
    chain = DiscreteChain("zipf:0.5:4", 10, learner, workflow)
    gens = [1, 2, 5, 10]
    v = joint_exact_values(chain, gens)
    mc = _monte_carlo(chain, gens, chains=20_000, seed=20261122)
    tests = [(n, i) for n in gens for i in range(5)]
    bound = norm.isf(BUDGET / 2 / len(tests))
    checked = 0
    for j, n in enumerate(gens):
        data = mc[n]
        for i, key in enumerate(DISCRETE_QUANTITIES):
            mean = data[:, i].mean()
            se = data[:, i].std(ddof=1) / math.sqrt(data.shape[0])
            exact = v[key][j]
            if se == 0:
                # every chain gave the same value: if the exact mean differs by d, some chain deviates with
                # probability >= d / span (span: the range of the quantity), so seeing none in N chains has
                # probability <= exp(-N d / span); it must not be below this comparison's share of the budget
                span = (chain.size, 1.0, 1.0, 1.0, math.log(chain.size))[i]
                assert data.shape[0] * abs(exact - mean) / span < math.log(len(tests) / BUDGET), (key, n, exact, mean)
                continue
            z = (mean - exact) / se
            assert abs(z) < bound, (key, n, mean, exact, se, z)
            checked += 1
    assert checked >= 10


# --- limits -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", ["replace", "mix:0.2", "mix-fixed:0.2"])
def test_greedy_top_k_one_collapses_at_generation_one(workflow):
    chain = DiscreteChain("zipf:1:3", 5, DiscreteLearner(top_k=1), workflow)
    v = joint_exact_values(chain, [0, 1, 2, 7])
    np.testing.assert_allclose(v["collapse_probability"][1:], 1.0, rtol=0, atol=1e-14)  # a sum of path weights
    np.testing.assert_allclose(v["surviving_mean"][1:], 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(v["gini_simpson_mean"][1:], 0.0, atol=1e-15)
    np.testing.assert_allclose(v["entropy_mean"][1:], 0.0, atol=1e-15)
    assert v["collapse_probability"][0] == 0.0 and v["surviving_mean"][0] == 3.0


def test_zero_temperature_limit():
    """T -> 0: p ~ phat^(1/T) tends to the uniform law on the most frequent categories of T_i. At T = 0.002 the
    others carry at most (5/6)^500 ~ 1e-40 (M = 6), so Gini-Simpson and entropy equal the limit map's to 1e-12 --
    but not the surviving count nor collapse (one category left): temperature never sets a positive frequency to
    0."""

    def limit_fit(counts, real_counts=None, real_weight=None):
        c = np.asarray(counts, dtype=float)
        top = c == c.max()
        return top / top.sum()

    chain = DiscreteChain("0.45,0.3,0.25", 6, DiscreteLearner(temperature=0.002))
    gens = [1, 2, 4]
    _, cold, _ = _joint_table(chain, gens, per_category=False)
    _, limit, _ = _joint_table(chain, gens, per_category=False, fit=limit_fit)
    for i in (2, 4):  # Gini-Simpson, entropy
        np.testing.assert_allclose(cold[:, i], limit[:, i], rtol=0, atol=1e-12)
    assert np.all(cold[:, 0] >= limit[:, 0]) and cold[0, 0] > limit[0, 0] + 0.1
    assert np.all(cold[:, 3] <= limit[:, 3] + 1e-12) and cold[0, 3] < limit[0, 3] - 0.1


# --- bad input --------------------------------------------------------------------------------------------------


def test_refusals_name_the_parameter():
    with pytest.raises(ParameterError, match=r"^workflow: .*joint chain"):
        joint_exact_values(DiscreteChain("zipf:1:3", 5, workflow="accumulate"), [1])
    with pytest.raises(ParameterError, match=rf"^sample_size: must be at most {JOINT_MAX_STATES} .*K = 3, replace: M <= 75"):
        joint_exact_values(DiscreteChain("zipf:1:3", 76, DiscreteLearner(top_k=2)), [1])
    assert joint_state_count(3, 75) <= JOINT_MAX_STATES < joint_state_count(3, 76)
    with pytest.raises(ParameterError, match=r"^sample_size: .*M <= \d+"):
        joint_exact_values(DiscreteChain("zipf:1:3", 10**7, DiscreteLearner(top_k=2)), [1])
    with pytest.raises(ParameterError, match="^chain"):
        joint_exact_values("zipf:1:3", [1])
    with pytest.raises(ParameterError, match="^generations"):
        joint_exact_values(DiscreteChain("zipf:1:3", 5), [-1])


def test_collapse_is_one_category_left_not_a_rounded_one():
    """At temperature 0.03 the map gives [1.0, 5e-24] for counts [5, 1]: two categories survive, so the chain has
    not collapsed (the exact side counted it as collapsed while the Monte Carlo did not: z = -60, found in review).
    Regression: the exact collapse probability at n = 1 is P(the first draw holds one category) only."""
    from theory.chain import DiscreteChain, DiscreteLearner
    from theory.numeric import joint_exact_values

    learner = DiscreteLearner(temperature=0.03)
    assert learner.fit([5, 1])[0] == 1.0 and learner.fit([5, 1])[1] > 0
    v = joint_exact_values(DiscreteChain("0.7,0.3", 6, learner), [1])
    assert v["collapse_probability"][0] == pytest.approx(0.7**6 + 0.3**6, rel=1e-12)
    assert v["surviving_mean"][0] == pytest.approx(2 - 0.7**6 - 0.3**6, rel=1e-12)
