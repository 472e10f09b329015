"""The published claims about the workflows (issue 9, point 5): each verdict is computed at call time from the exact
theory; these tests assert the computed verdicts and the numbers behind them, and cross-check the limits they use
against the exact finite-n moments."""

import math

import pytest
import sympy as sp

from theory import GaussianChain, exact_values
from theory.numeric import _workflow_claims as claims
from theory.numeric import workflow_limits
from theory.numeric._workflow_limits import pool_limit_expressions, pool_limits_numeric

PI2_6 = math.pi**2 / 6


def test_gerstgrasser_bound_holds_at_a_equal_one_and_breaks_above():
    c = claims.gerstgrasser(sample_sizes=(2, 10, 100), breaking=())
    assert c["verdict"] == "bound_holds"
    for row in c["numbers"]["rows"]:
        assert row["ratio"] < PI2_6
    # the bound is approached as M grows (E sigma_k^2 -> sigma^2)
    unbiased = [r["tightness"] for r in c["numbers"]["rows"] if r["learner"] == "unbiased"]
    assert unbiased == sorted(unbiased) and unbiased[-1] > 0.998


@pytest.mark.slow
def test_gerstgrasser_breaking_scale():
    c = claims.gerstgrasser(sample_sizes=(10,), breaking=(10, 100))
    for learner, by_m in c["numbers"]["breaking_A"].items():
        for m, a_star in by_m.items():
            assert 1 < a_star < 1.2
            assert claims._accumulate_ratio(learner, m, a_star + 1e-4) > PI2_6 > \
                claims._accumulate_ratio(learner, m, a_star - 1e-4)


def test_dey_donoho_efficiency_bound_holds():
    c = claims.dey_donoho(sample_sizes=(2, 10, 1000))
    assert c["verdict"] == "bound_holds"
    assert min(r["efficiency"] for r in c["numbers"]["rows"]) >= 6 / math.pi**2


def test_fresh_data_fixed_point_holds_for_mle_only():
    c = claims.fresh_data_fixed_point(sample_sizes=(10, 100), fractions=(0.1, 0.5))
    assert c["verdict"] == "holds_for_learner" and c["learners"] == ["mle"]
    from theory.symbolic._workflow_moments import M, R

    d_mle = c["numbers"]["expressions"]["mle"]["D"]
    assert sp.simplify(d_mle - (M - (M - R) * (M - R - 1) / M)) == 0  # D = (M^2 - S(S - 1))/M, S = M - R
    for row in c["numbers"]["rows"]:
        limit = workflow_limits(GaussianChain(row["M"], learner=row["learner"], workflow=f"mix:{row['lambda']}"))
        assert limit["variance_mean"] == pytest.approx(row["variance"], rel=1e-14)
        assert (row["variance"] < 1) == (row["learner"] == "mle")


def test_he_xu_cheng_optimal_weight_tends_to_the_golden_ratio():
    c = claims.he_xu_cheng(sample_sizes=(4, 20, 100, 1000))
    assert c["verdict"] == "holds_to_leading_order"
    target = (5**0.5 - 1) / 2
    assert c["numbers"]["target"] == pytest.approx(target)
    gaps = [abs(r["relative_gap"]) for r in c["numbers"]["rows"] if r["learner"] == "unbiased"]
    assert gaps[0] > 0.01 and gaps[-1] < 1e-3


# ---------------------------------------------------------------------------------------------- the limits used
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_pool_limits_agree_with_exact_values_at_large_n(learner):
    chain = GaussianChain(10, learner=learner, workflow="accumulate")
    limit = workflow_limits(chain)
    far = exact_values(chain, [4000])
    # E x_n - E x_inf = O(1/n): within 1e-3 relative at n = 4000, and approached monotonically
    assert far["variance_mean"][0] == pytest.approx(limit["variance_mean"], rel=1e-3)
    assert far["mean_sq_error"][0] == pytest.approx(limit["mean_sq_error"], rel=1e-3)
    assert far["variance_var"][0] == pytest.approx(limit["variance_var"], rel=1e-3)
    assert far["mean_sq_error"][0] < limit["mean_sq_error"]


def test_accumulate_closed_forms():
    m = 7
    mle = pool_limit_expressions("accumulate", "mle", 1, None, m)["variance_mean"]
    x = 1 / math.sqrt(m)
    assert float(mle) == pytest.approx(math.sin(math.pi * x) / (math.pi * x), rel=1e-13)  # prod (1 - 1/(k^2 M))
    unbiased = pool_limit_expressions("accumulate", "unbiased", 1, None, m)["variance_mean"]
    assert float(unbiased) == pytest.approx(math.prod(1 - 1 / (j * (j * m - 1)) for j in range(2, 200000)), rel=1e-5)
    # the fast numeric path agrees with the symbolic Gamma/hypergeometric forms
    for learner in ("unbiased", "mle"):
        sym = pool_limit_expressions("accumulate", learner, 1, None, m)
        num = pool_limits_numeric("accumulate", learner, m, 1.0)
        assert float(num["mean_sq_error"]) == pytest.approx(float(sp.N(sym["mean_sq_error"])), rel=1e-12)


def test_mle_accumulate_keeps_the_total_variance():
    limit = workflow_limits(GaussianChain(6, learner="mle", workflow="accumulate"))
    assert limit["mean_sq_error"] + limit["variance_mean"] == pytest.approx(1.0, rel=1e-13)


def test_subsample_mle_has_a_finite_limit():
    sub_mle = workflow_limits(GaussianChain(10, learner="mle", workflow="accumulate-subsample:5"))
    assert 0 < sub_mle["variance_mean"] < 1
    far = exact_values(GaussianChain(10, learner="mle", workflow="accumulate-subsample:5"), [3000])
    assert far["variance_mean"][0] == pytest.approx(sub_mle["variance_mean"], rel=2e-3)


@pytest.mark.slow
def test_variance_multiplier_and_subsample_divergence():
    grow = workflow_limits(GaussianChain(10, variance_scale=1.2, workflow="accumulate"))
    assert grow["variance_mean"] == math.inf and "c = 1/5" in grow["notes"]["variance_mean"]
    shrink = workflow_limits(GaussianChain(10, variance_scale=0.8, workflow="accumulate"))
    assert shrink["variance_mean"] == 0.0 and math.isfinite(shrink["mean_sq_error"])
    sub = workflow_limits(GaussianChain(10, workflow="accumulate-subsample:5"))
    assert sub["variance_mean"] == math.inf and "c = 1/5" in sub["notes"]["variance_mean"]
    # the exact moments grow like n^(1/K): the log-log slope between n = 1000 and 4000
    far = exact_values(GaussianChain(10, workflow="accumulate-subsample:5"), [1000, 4000])["variance_mean"]
    assert math.log(far[1] / far[0]) / math.log(4) == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize("workflow", ["mix:0.5", "mix-fixed:0.3", "mix:0.2"])
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_mix_fixed_points_are_reached(workflow, learner):
    chain = GaussianChain(10, learner=learner, workflow=workflow)
    limit = workflow_limits(chain)
    n = math.ceil(math.log(1e-15) / math.log(max(limit["rate"], limit.get("rate_fourth_order", 0))))
    far = exact_values(chain, [n + 50])
    for q in ("mean_sq_error", "variance_mean", "variance_var"):
        assert far[q][0] == pytest.approx(limit[q], rel=1e-12, abs=1e-300)
