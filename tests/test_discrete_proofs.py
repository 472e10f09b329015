"""proofs/discrete.md is rendered from machine-checked derivations (theory.numeric._discrete_proofs): it must be
current, each SymPy check must be able to fail, and the rendered recursion must reproduce the toolkit's numbers."""

import itertools
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory.numeric import _discrete_proofs as dp

PROOFS = pathlib.Path(__file__).resolve().parents[1] / "proofs"


@pytest.fixture(scope="module")
def rendered():
    return dp.render()  # raises ProofError if any stated identity or inequality fails


def test_discrete_proofs_are_current(rendered):
    path = PROOFS / dp.NAME
    assert path.exists(), "proofs/discrete.md is missing: run python -m theory.numeric._discrete_proofs"
    assert path.read_text(encoding="utf-8") == rendered, (
        "proofs/discrete.md is stale: run python -m theory.numeric._discrete_proofs")


def test_rendered_verdicts(rendered):
    assert "**Verdict (computed when rendering): holds**" in rendered
    assert "**Verdict (computed when rendering): every bound holds**" in rendered
    assert "lie inside the bracket: **yes**" in rendered


# ---------------------------------------------------------------------------------------------- the checkers


def test_zero_check_rejects_a_wrong_identity():
    dp._check_zero((1 - 1 / dp.M) ** (dp.n + 1) - (dp.M - 1) ** (dp.n + 1) / dp.M ** (dp.n + 1), "true")
    with pytest.raises(dp.ProofError):
        dp._check_zero((1 - 1 / dp.M) ** dp.n - (dp.M - 1) ** dp.n / dp.M ** (dp.n + 1), "off by one power")
    with pytest.raises(dp.ProofError):
        dp._check_zero(sp.coth(dp.z) - 1 / dp.z - sp.tanh(dp.z), "coth is not tanh")


def test_nonnegative_check_can_fail():
    v = sp.Symbol("v", nonnegative=True)
    dp._check_nonnegative(v**2 * (v + 1), "true")
    with pytest.raises(dp.ProofError):
        dp._check_nonnegative(v - 1, "not decided: v - 1 < 0 at v = 0")
    with pytest.raises(dp.ProofError):  # a witness that is not equal to the expression
        dp._check_nonnegative(1 - sp.exp(-dp.y), "wrong witness", sp.exp(-dp.y) * sp.sinh(dp.y))


def test_iterate_upper_bound_needs_u_at_least_2():
    _, gap = dp.iterate_upper()
    assert sp.simplify(gap - 2 * (dp.u - 2) / (3 * dp.u**3 * (dp.u + 1))) == 0
    v = sp.Symbol("v", nonnegative=True)
    with pytest.raises(dp.ProofError):  # for u >= 1 only, the step fails (gap < 0 at u = 1)
        dp._check_nonnegative(gap.subs(dp.u, 1 + v), "u >= 1")


def test_iterate_lower_constant():
    h, h1 = dp.iterate_lower()
    assert float(h1) == pytest.approx(1 / (math.e - 1), rel=1e-15)
    with pytest.raises(dp.ProofError):
        dp._check_zero(h1 - sp.Rational(1, 2), "h(1) = 1/2")
    # h is increasing on (0, 1]: sampled, and 1/(e - 1) is its maximum there
    values = [float(h.subs(dp.y, sp.Rational(k, 20))) for k in range(1, 21)]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert max(values) == pytest.approx(1 / (math.e - 1), rel=1e-14)


def test_a_wrong_binomial_second_moment_fails(monkeypatch):
    def poisson_like(trials, prob):  # E X^2 of a Poisson(M x): a plausible slip
        return trials * prob, trials * prob * (trials * prob + 1)

    monkeypatch.setattr(dp, "binomial_moments", poisson_like)
    with pytest.raises(dp.ProofError):
        dp.wright_fisher_step()  # no longer proportional to x(1 - x)
    with pytest.raises(dp.ProofError):
        dp.check_against_sympy_stats()


def test_sympy_stats_cross_check():
    dp.check_against_sympy_stats(4)


# ---------------------------------------------------------------------------------------------- the results


def test_mle_replace_recursion():
    A, b = dp.recursion("replace")
    A0, b0 = A.subs(dp.alpha, 0), b.subs(dp.alpha, 0)
    assert sp.simplify(A0 - sp.Matrix([[1, 0], [1, 1 - 1 / dp.M]])) == sp.zeros(2, 2)
    assert b0 == sp.zeros(2, 1)


def test_wright_fisher_step_and_identity():
    step, ratio, _H = dp.wright_fisher_identity()
    assert sp.simplify(ratio - (dp.M - 1) / dp.M) == 0
    assert sp.simplify(step - dp.x * (1 - dp.x) * (dp.M - 1) / dp.M) == 0


def test_recursion_reproduces_categorical_exact():
    rows = dp.moment_check()
    assert len(rows) == len(dp.MOMENT_CASES)
    for row in rows:
        assert row["max_rel_diff"] < 1e-12, row


def test_recursion_check_can_fail():
    # the exact recursion with the wrong smoothing is far from the toolkit's alpha = 1/2 values
    from theory.chain import DiscreteChain, DiscreteLearner
    from theory.numeric._categorical_exact import _groups, _moments

    chain = DiscreteChain("zipf:1:5", 20, DiscreteLearner(alpha=0.5))
    p0, _ = _groups(chain)
    _mean, het = _moments(chain, p0, np.array([5]))
    wrong = dp.iterate_recursion("replace", {"M": 20, "K": 5, "alpha": Fraction(1, 4),
                                             "p": Fraction(float(p0[0]))}, [5])
    assert abs(float(wrong[5][1]) - het[0, 0]) / het[0, 0] > 1e-4


def test_mix_fixed_point_matches_toolkit_and_gaussian_chain():
    _slope, _const, fixed = dp.mix_fixed_point()
    ratio = sp.factor(fixed / (dp.p * (1 - dp.p)))
    assert sp.simplify(ratio - dp.R * (2 * dp.M - dp.R - 1) / (2 * dp.M * dp.R + dp.M - dp.R**2 - dp.R)) == 0
    assert dp.mix_fixed_numeric()["max_rel_diff"] < 1e-12
    # at R = 0 (replace) the "fixed point" is 0: all diversity is lost
    assert sp.simplify(fixed.subs(dp.R, 0)) == 0


def test_identity_claim_and_its_power_to_fail():
    claim = dp.identity_claim()
    assert claim["verdict"] == "holds" and claim["max_rel_diff"] < 1e-9
    routes = {r["route"] for r in claim["rows"]}
    assert routes == {"count chain law", "discrete_exact_values", "chain on compositions"}
    # a wrong rate (1 - 1/(M + 1)) would be told apart by the count chain law at n = 100
    from theory.chain import DiscreteChain

    chain = DiscreteChain("words:en:1000", 100)
    law = dp._count_chain_gini_simpson("words:en:1000", 100, [100])
    wrong = (1 - float(np.sum(chain.probabilities**2))) * (1 - 1 / 101) ** 100
    assert abs(law[0] - wrong) / law[0] > 1e-3


def test_bounds_claim():
    claim = dp.bound_claim()
    assert claim["violated"] == 0
    assert claim["misread"] > claim["exact_n2"] + 10  # the k = n - 1 reading is false by about 21 categories
    it = dp.iterate_numeric(10_000)
    assert it["below_lower"] == 0 and it["above_upper"] == 0
    assert dp.truncation_check()["inside"]


def test_truncation_bracket_at_a_low_cut():
    # a cut far too low (C = 10 at M = 400) makes the bracket wide, and it must still hold the full route's values
    res = dp.truncation_check(cut=10, generations=(1, 5))
    assert res["inside"] and res["width"] > res["lower_gap"] >= 0


def test_per_category_survival_bound(monkeypatch):
    check = dp.per_category_bound_check()
    assert check["violated"] == 0 and check["pairs"] > 0
    assert check["worst_ratio_later"] < 1.0
    # with the iterates one step behind (q_{n-2} for q_{n-1}: a larger q, a smaller bound) the check fails
    from theory.numeric import _categorical_bounds

    real = _categorical_bounds.iterates
    monkeypatch.setattr(_categorical_bounds, "iterates", lambda steps: np.concatenate([[1.0], real(steps)[:-1]]))
    assert dp.per_category_bound_check()["violated"] > 0
