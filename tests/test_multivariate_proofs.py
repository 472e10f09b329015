"""proofs/multivariate.md is rendered from machine-checked derivations (theory.numeric._multivariate_proofs): it must
be current, its checks must be able to fail (a wrong identity raises ProofError), and the numbers it prints must
tie the derivations to the toolkit."""

import itertools
import pathlib

import pytest
import sympy as sp

from theory.numeric import _multivariate_proofs as mp

PROOFS = pathlib.Path(__file__).resolve().parents[1] / "proofs"


@pytest.fixture(scope="module")
def rendered():
    return mp.render()  # raises ProofError if any stated identity fails


def test_multivariate_proofs_are_current(rendered):
    path = PROOFS / mp.NAME
    assert path.exists(), "proofs/multivariate.md is missing: run python -m theory.numeric._multivariate_proofs"
    assert path.read_text(encoding="utf-8") == rendered, (
        "proofs/multivariate.md is stale: run python -m theory.numeric._multivariate_proofs")


def test_rendered_verdicts(rendered):
    assert "**Drift negative in every row (computed when rendering): yes**" in rendered
    assert "unbiased, A = 1: holds at every n; MLE: fails (d = 3, M = 10 (iso): from n = 20 on" in rendered
    # expectations followed by a power carry explicit brackets
    for bad in (r"\mathbb{E}\,W_2^2", r"\mathbb{E}\,\lVert\mu_n - \mu\rVert^2", r"\mathbb{E}\,\sigma_n^2",
                r"\mathbb{E}\,z^4", r"\mathbb{E}\det^2"):
        assert bad not in rendered, bad


def test_numbers_tie_to_the_toolkit():
    for row in mp.dimension_one_check(generations=(1, 3)):
        assert row["max_rel_diff"] < 1e-13, row
    for row in mp.accumulate_numbers(cases=((3, 5, "mle"),), generations=(2, 7)):
        assert row["max_rel_diff"] < 1e-13, row
    rows = mp.paper_bound_rows(cases=((3, 10, "iso", "mle", "replace"),), generations=(1, 1000))
    assert [r["verdict"] for r in rows] == ["holds", "fails"]


# ------------------------------------------------------------------------------------------ the checks can fail
def test_zero_check_rejects_a_wrong_identity():
    mp._check_zero(mp.k * (mp.k + 2) - mp.k**2 - 2 * mp.k, "true")
    with pytest.raises(mp.ProofError):
        mp._check_zero(mp.k * (mp.k + 2) - mp.k**2, "false")


def test_wrong_wishart_identity_is_rejected():
    """E (tr S)^2 with k instead of 2k in front of tr V^2 (d = 2, Bartlett) does not simplify to 0."""
    lower = mp._lower(2)
    b, normals, chis = mp.bartlett(2)
    scatter = lower * b * b.T * lower.T
    cov = lower * lower.T
    value = mp.expect(scatter.trace() ** 2, normals, chis)
    mp._check_zero(value - (mp.k**2 * cov.trace() ** 2 + 2 * mp.k * (cov * cov).trace()), "right")
    with pytest.raises(mp.ProofError):
        mp._check_zero(value - (mp.k**2 * cov.trace() ** 2 + mp.k * (cov * cov).trace()), "wrong")


def test_wrong_step_moments_are_rejected():
    """The accumulate step tensor with q = c^2 (k + beta) (beta not squared) and E det G without the beta term are
    rejected by the same checks the document runs."""
    b, normals, chis = mp.bartlett(2)
    g = sp.Matrix(sp.symbols("g0 g1"))
    step = sp.eye(2) + mp.c * (b * b.T + mp.beta * g * g.T)
    g1 = 1 + mp.c * (mp.k + mp.beta)
    wrong_q = mp.c**2 * (mp.k + mp.beta)
    failures = 0
    for a, b_, c_, d_ in itertools.product(range(2), repeat=4):
        value = mp.expect(step[a, b_] * step[c_, d_], normals + list(g), chis)
        claim = g1**2 * mp.delta(a, b_) * mp.delta(c_, d_) + wrong_q * (
            mp.delta(a, c_) * mp.delta(b_, d_) + mp.delta(a, d_) * mp.delta(b_, c_))
        try:
            mp._check_zero(value - claim, "wrong q")
        except mp.ProofError:
            failures += 1
    assert failures > 0
    value = mp.expect(step.det(), normals + list(g), chis)
    no_beta = sum(mp.c**j * sp.ff(2, j) * sp.binomial(mp.k, j) for j in range(3))
    with pytest.raises(mp.ProofError):
        mp._check_zero(value - sp.expand_func(no_beta), "E det G without beta")


def test_odd_chi_power_is_refused():
    b, normals, chis = mp.bartlett(2)
    with pytest.raises(mp.ProofError):
        mp.expect(b[0, 0], normals, chis)
    assert mp.expect(b[1, 0] * b[0, 0], normals, chis) == 0  # an odd normal power: mean 0
