"""Suresh et al.'s survival bounds (and the sharper ones derived in theory.numeric._categorical_bounds): the
iterates' bounds (C), the survival bounds (A), (B) against the exact chain, and verdicts computed at run time."""

import math

import numpy as np
import pytest
import sympy as sp

from theory import ParameterError
from theory.chain import DiscreteChain, DiscreteLearner
from theory.numeric._categorical_bounds import (
    LOWER_BOUNDS,
    UPPER_BOUNDS,
    bound_verdicts,
    iterates,
    survival_bounds,
)
from theory.numeric._categorical_joint import joint_exact_values

GENERATIONS = [1, 2, 5, 10, 100]


# --- (C) the iterates q_{t+1} = 1 - exp(-q_t) -------------------------------------------------------------------


def test_iterates_between_their_bounds():
    q = iterates(100_000)
    t = np.arange(q.size)
    assert np.all(q <= 2 / (t + 2) + 1e-15)
    assert np.all(q >= 1 / (1 + t / (math.e - 1)) - 1e-15)
    assert np.all(q >= 1 / (t + 1))
    # q_t ~ 2/t: the next order is -(2/3) log(t)/t^2, so t q_t is within 1e-3 of 2 at t = 1e5
    assert abs(t[-1] * q[-1] - 2) < 1e-3
    # the lower bound's constant is sharp at t = 1: q_1 = 1 - 1/e = 1/(1 + 1/(e - 1))
    assert q[1] == pytest.approx(1 / (1 + 1 / (math.e - 1)), rel=1e-15)


def test_lower_constant_is_the_langevin_maximum():
    """The step of the lower bound needs c >= h(y) = 1/g(y) - 1/y on (0, 1]; h = 1/2 + L(y/2)/2 with L the
    (increasing) Langevin function, so its maximum is h(1) = 1/(e - 1)."""
    y, z = sp.symbols("y z", positive=True)
    h = 1 / (1 - sp.exp(-y)) - 1 / y
    langevin = sp.coth(z) - 1 / z
    assert sp.simplify((h - (sp.Rational(1, 2) + langevin.subs(z, y / 2) / 2)).rewrite(sp.exp)) == 0
    assert sp.simplify(h.subs(y, 1) - 1 / (sp.E - 1)) == 0
    # L' = 1/z^2 - 1/sinh(z)^2 > 0 since sinh z > z; checked on a grid as well
    grid = np.linspace(1e-3, 1, 2001)
    values = 1 / (-np.expm1(-grid)) - 1 / grid
    assert np.all(np.diff(values) > 0) and values[-1] == pytest.approx(1 / (math.e - 1), rel=1e-12)


def test_upper_step_polynomial_inequality():
    """g(y) <= y - y^2/2 + y^3/6 at y = 2/u is <= 2/(u + 1) exactly when u >= 2."""
    u = sp.symbols("u", positive=True)
    y = 2 / u
    gap = sp.factor(sp.together(2 / (u + 1) - (y - y**2 / 2 + y**3 / 6)))
    assert gap == sp.factor(sp.Rational(2, 3) * (u - 2) / (u**3 * (u + 1)))


# --- (A), (B) against exact chains --------------------------------------------------------------------------------


def _assert_all_hold(rows):
    bad = [r["text"] for r in rows if r["verdict"] != "bound holds"]
    assert not bad, bad
    assert rows, "no verdict computed"


@pytest.mark.parametrize("spec", ["zipf:1:1000", "words:en:1000"])
@pytest.mark.parametrize("m", [100, 1000])
def test_bounds_hold_against_the_exact_chain(spec, m):
    chain = DiscreteChain(spec, m)
    rows = bound_verdicts(chain, GENERATIONS)
    assert len(rows) == 2 * (len(LOWER_BOUNDS) + len(UPPER_BOUNDS)) * len(GENERATIONS)
    _assert_all_hold(rows)
    by = {(r["quantity"], r["bound"], r["generation"]): r for r in rows}
    # n = 1: the iterate lower bound and the poisson upper bound are the exact value, 1 - (1 - p)^M summed
    for quantity in ("surviving_mean", "tail_mass_lost_mean"):
        for name in ("iterate", "poisson"):
            r = by[(quantity, name, 1)]
            assert r["value"] == pytest.approx(r["exact"], rel=1e-9, abs=1e-12)
    # the ordering the proofs give: iterate >= exponential >= published; combined <= poisson, heterozygosity
    for n in GENERATIONS:
        s = [by[("surviving_mean", name, n)]["value"] for name in LOWER_BOUNDS]
        assert s[0] >= s[1] >= s[2]
        c, p, h = (by[("surviving_mean", name, n)]["value"] for name in UPPER_BOUNDS)
        assert c <= min(p, h) + 1e-9


@pytest.mark.parametrize("p0, m", [("0.6,0.3,0.1", 5), ("0.9,0.05,0.05", 8), ("1,1,1,1", 3), ("0.97,0.03", 40)])
def test_bounds_hold_against_the_joint_chain(p0, m):
    """Small chains checked against the exact chain on compositions (an independent route), every generation to
    60, so the late regime (heterozygosity bound, collapse) is covered."""
    chain = DiscreteChain(p0, m)
    gens = list(range(61))
    rows = bound_verdicts(chain, gens, exact=joint_exact_values(chain, gens))
    _assert_all_hold(rows)


def test_a_violated_bound_is_reported():
    """The verdict is computed: with an 'exact' value moved past a bound, the row says violated, with numbers."""
    chain = DiscreteChain("zipf:1:50", 100)
    gens = [1, 5]
    bounds = survival_bounds(chain, gens)
    fake = {
        "surviving_mean": bounds["surviving_mean"]["lower"]["published"] - 0.5,
        "tail_mass_lost_mean": bounds["tail_mass_lost_mean"]["lower"]["combined"] - 0.01,
        "bounds": {},
    }
    rows = bound_verdicts(chain, gens, exact=fake)
    bad = {(r["quantity"], r["bound"]) for r in rows if r["verdict"] == "violated"}
    assert ("surviving_mean", "published") in bad and ("tail_mass_lost_mean", "combined") in bad
    row = next(r for r in rows if r["bound"] == "published" and r["quantity"] == "surviving_mean")
    assert row["gap"] == pytest.approx(-0.5) and "violated" in row["text"]


def test_generation_zero_and_contract():
    b = survival_bounds(DiscreteChain("0.5,0.5,0", 10), [0, 3])
    for side in ("lower", "upper"):
        for values in b["surviving_mean"][side].values():
            assert values[0] == 2.0
        for values in b["tail_mass_lost_mean"][side].values():
            assert values[0] == 0.0
    assert math.isnan(b["q"][0]) and b["q"][1] == pytest.approx(iterates(2)[2])
    assert set(b["statements"]) == set(LOWER_BOUNDS) | set(UPPER_BOUNDS)


def test_large_sample_size_stays_finite():
    b = survival_bounds(DiscreteChain("zipf:1:100000", 10**7), [1, 10, 1000, 100_000])
    for quantity in ("surviving_mean", "tail_mass_lost_mean"):
        for side in ("lower", "upper"):
            for values in b[quantity][side].values():
                assert np.all(np.isfinite(values))
    s = b["surviving_mean"]
    assert np.all(s["lower"]["iterate"] <= s["upper"]["combined"] + 1e-6)


def test_refusals():
    with pytest.raises(ParameterError, match="^workflow"):
        survival_bounds(DiscreteChain("zipf:1:10", 10, workflow="mix:0.2"), [1])
    with pytest.raises(ParameterError, match="^learner"):
        survival_bounds(DiscreteChain("zipf:1:10", 10, DiscreteLearner(temperature=0.5)), [1])
    with pytest.raises(ParameterError, match="^generations"):
        survival_bounds(DiscreteChain("zipf:1:10", 10), [-1])
    with pytest.raises(ParameterError, match="^chain"):
        survival_bounds("zipf:1:10", [1])


def test_the_summary_form_needs_k_equal_to_n():
    """Read with k = n - 1 (only the model-drawn training sets counted), 1 - exp(-M p / k) is NOT a lower bound:
    at n = 2 it is sum_k 1 - exp(-M p_k) = E surviving of one step of Poisson thinning, above the exact value."""
    chain = DiscreteChain("words:en:1000", 100)
    from theory.numeric._categorical_exact import discrete_exact_values

    gens = [2, 3, 5, 10]
    values = discrete_exact_values(chain, gens)["surviving_mean"]
    p = chain.probabilities
    shifted = np.array([np.sum(-np.expm1(-chain.sample_size * p / (n - 1))) for n in gens])
    assert shifted[0] > values[0] + 10  # violated by more than 10 categories at n = 2 (68.5 vs 47.5)
    assert shifted[-1] < values[-1]  # and it holds again once q_{n-1} ~ 2/(n-1) has room: the bound is false early
    proved = survival_bounds(chain, gens)["surviving_mean"]["lower"]["published"]
    assert np.all(proved <= values)


@pytest.mark.slow
@pytest.mark.parametrize("m", [10_000, 100_000])
def test_readme_table_real_vocabulary(m):
    """The README's table: words:en:10000 at n = 1, 10, 100 (about 26 s at M = 1e4 on the full route, 6 s at
    M = 1e5 on the truncated one)."""
    rows = bound_verdicts(DiscreteChain("words:en:10000", m), [1, 10, 100])
    _assert_all_hold(rows)
    by = {(r["quantity"], r["bound"], r["generation"]): r for r in rows}
    # the iterate bound is within 0.1% of the exact E surviving at n = 10 and 100 (measured 0.9998 and 0.998+)
    for n in (10, 100):
        assert by[("surviving_mean", "iterate", n)]["ratio"] > 0.995
