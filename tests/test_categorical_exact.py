"""Exact discrete (Wright-Fisher) chain: the identity, brute-force enumeration, literal multinomial Monte Carlo."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy.stats import binom, norm

from theory import ParameterError
from theory.numeric._categorical_exact import (
    MAX_SAMPLE_SIZE,
    category_exact,
    discrete_exact_values,
    gini_simpson_mean,
    loss_time_distribution,
    transition_band,
)

KEYS = ("surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean", "collapse_probability")


# --- the identity E p_n(1-p_n) = p_0(1-p_0)(1-1/M)^n ------------------------------------------------------------


def test_one_step_factor_from_the_binomial_law():
    """E[c'(M - c') | c] = (1 - 1/M) c (M - c) for c' ~ Binomial(M, c/M), symbolically for each M (sympy.stats)."""
    from sympy.stats import Binomial, E

    for m in (2, 3, 7, 12):
        for c in range(m + 1):
            x = Binomial("X", m, sp.Rational(c, m))
            assert sp.simplify(E(x * (m - x)) - sp.Rational(m - 1, m) * c * (m - c)) == 0


@pytest.mark.parametrize("m", [1, 2, 5, 40, 300])
def test_identity_against_the_markov_chain(m):
    p = np.array([0.003, 0.05, 0.2, 0.3, 0.447])
    gens = [0, 1, 2, 7, 30]
    r = category_exact(p, m, gens)
    identity = (r.probabilities * (1 - r.probabilities))[:, None] * (1 - 1 / m) ** np.array(gens)[None, :]
    np.testing.assert_allclose(r.heterozygosity, identity, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(r.mean, np.broadcast_to(r.probabilities[:, None], r.mean.shape), rtol=1e-12)
    # the exact Gini-Simpson is the sum of the identity over categories
    np.testing.assert_allclose(gini_simpson_mean(p, m, gens), (r.multiplicities[:, None] * r.heterozygosity).sum(0))


# --- brute force: the full multinomial chain over compositions -------------------------------------------------


def _compositions(m, k):
    return [c for c in itertools.product(range(m + 1), repeat=k) if sum(c) == m]


def _multinomial_pmf(c, q):
    m = sum(c)
    out = math.factorial(m)
    for ci, qi in zip(c, q):
        out *= qi**ci / math.factorial(ci)
    return out


def _brute_force(p, m, generations):
    states = _compositions(m, len(p))
    law = np.array([_multinomial_pmf(c, p) for c in states])  # generation 1
    step = np.array([[_multinomial_pmf(d, [ci / m for ci in c]) for d in states] for c in states])
    arr = np.array(states, dtype=float)
    freq = arr / m
    out = {k: [] for k in KEYS}
    lost = []
    for n in generations:
        if n == 0:
            out["surviving_mean"].append(float(np.sum(np.asarray(p) > 0)))
            out["tail_mass_lost_mean"].append(0.0)
            out["gini_simpson_mean"].append(1 - float(np.sum(np.asarray(p) ** 2)))
            out["collapse_probability"].append(float(np.max(p) == 1))
            lost.append(np.zeros(len(p)))
            continue
        v = law.copy()
        for _ in range(n - 1):
            v = v @ step
        present = arr > 0
        out["surviving_mean"].append(float(v @ present.sum(1)))
        out["tail_mass_lost_mean"].append(float(v @ ((~present) @ np.asarray(p))))
        out["gini_simpson_mean"].append(float(v @ (1 - (freq**2).sum(1))))
        out["collapse_probability"].append(float(v @ (arr == m).any(1)))
        lost.append(v @ (~present))
    return {k: np.array(x) for k, x in out.items()}, np.array(lost).T


@pytest.mark.parametrize(
    "p, m",
    [
        ([0.3, 0.7], 3),
        ([0.1, 0.9], 5),
        ([0.2, 0.3, 0.5], 3),
        ([0.05, 0.25, 0.7], 4),
        ([0.1, 0.1, 0.8], 5),  # equal probabilities grouped
        ([1 / 3, 1 / 3, 1 / 3], 5),
    ],
)
def test_against_brute_force_enumeration(p, m):
    gens = [0, 1, 2, 3, 6]
    exact = discrete_exact_values(p, m, gens)
    brute, brute_lost = _brute_force(p, m, gens)
    assert exact["entropy_mean"] is None and "entropy_mean" in exact["notes"]
    np.testing.assert_array_equal(exact["generations"], gens)
    for key in KEYS:
        assert exact[key].dtype == np.float64
        np.testing.assert_allclose(exact[key], brute[key], rtol=1e-12, atol=1e-14, err_msg=key)
    per = category_exact(p, m, gens)
    index = np.searchsorted(per.probabilities, np.asarray(p, dtype=float) / np.sum(p))
    np.testing.assert_allclose(per.lost[index], brute_lost, rtol=1e-12, atol=1e-14)


def test_grouped_input_matches_the_vector():
    p = np.array([0.1, 0.1, 0.1, 0.3, 0.4])
    a = category_exact(p, 20, [3, 9])
    b = category_exact([0.1, 0.3, 0.4], 20, [3, 9], multiplicities=[3, 1, 1])
    np.testing.assert_allclose(a.lost, b.lost, rtol=1e-13)
    np.testing.assert_array_equal(a.multiplicities, b.multiplicities)


def test_band_rows_sum_to_one_and_match_the_dense_binomial():
    m = 300
    band = transition_band(m)
    np.testing.assert_allclose(np.asarray(band.sum(axis=1)).ravel(), 1.0, rtol=1e-13)
    dense = binom.pmf(np.arange(m + 1)[None, :], m, np.arange(m + 1)[:, None] / m)
    dropped = np.abs(band.toarray() - dense)
    assert dropped.max() <= 1e-300


def test_backward_equation_matches_forward_propagation_of_the_dense_chain():
    """An independent route at a larger M: the law of c_n pushed forward through the dense binomial matrix."""
    m, p = 400, np.array([0.0025, 0.01, 0.1, 0.8875])
    gens = [1, 2, 10, 50]
    r = category_exact(p, m, gens)
    dense = binom.pmf(np.arange(m + 1)[None, :], m, np.arange(m + 1)[:, None] / m)
    state = binom.pmf(np.arange(m + 1)[None, :], m, r.probabilities[:, None])
    freq = np.arange(m + 1) / m
    for n in range(1, max(gens) + 1):
        if n > 1:
            state = state @ dense
        if n in gens:
            j = gens.index(n)
            np.testing.assert_allclose(r.lost[:, j], state[:, 0], rtol=1e-11, atol=1e-300)
            np.testing.assert_allclose(r.fixed[:, j], state[:, m], rtol=1e-11, atol=1e-300)
            np.testing.assert_allclose(r.heterozygosity[:, j], state @ (freq * (1 - freq)), rtol=1e-11)


def test_loss_time_distribution():
    p = [0.02, 0.18, 0.8]
    distinct, _, pmf = loss_time_distribution(p, 30, 40)
    r = category_exact(p, 30, [40])
    assert np.all(pmf >= -1e-16)
    np.testing.assert_allclose(pmf.sum(1), r.lost[:, 0], rtol=1e-12)
    # first step: P(tau = 1) = (1 - p)^M
    np.testing.assert_allclose(pmf[:, 0], (1 - distinct) ** 30, rtol=1e-12)


def test_loss_is_absorbing_and_monotone():
    r = category_exact([0.001, 0.01, 0.989], 200, list(range(60)))
    assert np.all(np.diff(r.lost, axis=1) >= -1e-15)
    assert np.all(np.diff(r.fixed, axis=1) >= -1e-15)


def test_bad_input():
    with pytest.raises(ParameterError, match=rf"^sample_size: .*{MAX_SAMPLE_SIZE}"):
        discrete_exact_values([0.5, 0.5], MAX_SAMPLE_SIZE + 1, [1])
    with pytest.raises(ParameterError, match="^sample_size"):
        discrete_exact_values([0.5, 0.5], 0, [1])
    with pytest.raises(ParameterError, match="^probabilities"):
        discrete_exact_values([0.5, -0.1, 0.6], 10, [1])
    with pytest.raises(ParameterError, match="^probabilities"):
        discrete_exact_values([1.0], 10, [1])
    with pytest.raises(ParameterError, match="^probabilities"):
        discrete_exact_values([0.0, 0.0], 10, [1])
    with pytest.raises(ParameterError, match="^probabilities"):
        discrete_exact_values([0.5, float("nan")], 10, [1])
    with pytest.raises(ParameterError, match="^generations"):
        discrete_exact_values([0.5, 0.5], 10, [-1])


# --- Monte Carlo of literal multinomial resampling -------------------------------------------------------------

# False-failure budget: 1e-4 for the whole test, split by Bonferroni over every check it makes. Means of bounded
# continuous quantities use a z-test on the sample standard error (R = 20000 chains); probabilities of an event
# (a category lost, complete collapse) use the exact two-sided binomial test against the exact probability, since
# many are so small (a few expected occurrences, or none) that a normal approximation would not hold.
BUDGET = 1e-4


def _binomial_pvalue(successes, trials, probability):
    if probability <= 0:
        return 1.0 if successes == 0 else 0.0
    if probability >= 1:
        return 1.0 if successes == trials else 0.0
    return min(1.0, 2 * min(binom.cdf(successes, trials, probability), binom.sf(successes - 1, trials, probability)))


def test_against_multinomial_monte_carlo_zipf():
    k, m, chains = 20, 50, 20_000
    p = 1.0 / np.arange(1, k + 1)
    p /= p.sum()
    gens = [1, 5, 20]
    rng = np.random.default_rng(20261122)
    counts = rng.multinomial(m, p, size=chains)
    snapshots = {1: counts}
    for n in range(2, max(gens) + 1):
        counts = rng.multinomial(m, counts / m)
        snapshots[n] = counts

    exact = discrete_exact_values(p, m, gens)
    per = category_exact(p, m, gens)
    index = np.searchsorted(per.probabilities, p)
    lost_exact = per.lost[index]  # (K, gens)
    het_exact = per.heterozygosity[index]

    checks = []  # (name, p-value)
    for j, n in enumerate(gens):
        c = snapshots[n]
        freq = c / m
        lost = c == 0
        continuous = {
            "surviving_mean": (c > 0).sum(1),
            "tail_mass_lost_mean": lost @ p,
            "gini_simpson_mean": 1 - (freq**2).sum(1),
        }
        for key, sample in continuous.items():
            se = sample.std(ddof=1) / math.sqrt(chains)
            z = (sample.mean() - exact[key][j]) / se
            checks.append((f"{key} n={n} z={z:.2f}", 2 * norm.sf(abs(z))))
        collapsed = int((c == m).any(1).sum())
        checks.append((f"collapse n={n}", _binomial_pvalue(collapsed, chains, exact["collapse_probability"][j])))
        for cat in range(k):
            checks.append((f"lost k={cat} n={n}", _binomial_pvalue(int(lost[:, cat].sum()), chains, lost_exact[cat, j])))
            h = freq[:, cat] * (1 - freq[:, cat])
            se = h.std(ddof=1) / math.sqrt(chains)
            if se > 0:
                z = (h.mean() - het_exact[cat, j]) / se
                checks.append((f"E p(1-p) k={cat} n={n} z={z:.2f}", 2 * norm.sf(abs(z))))
    alpha = BUDGET / len(checks)
    failed = [name for name, pvalue in checks if pvalue < alpha]
    assert not failed, (alpha, failed)
    # the checks have power: the exact loss probabilities are far from trivial here
    assert 0.05 < exact["tail_mass_lost_mean"][-1] < 0.95
