"""The kernel-density-estimate chain: exact moments (theory.numeric._kde_exact) against the literal Monte Carlo
(theory.montecarlo._kde) under every workflow, a power test, bad input.

False-failure budget: 1e-4 per z-test function, split (Bonferroni) over the assertions it makes: each |z| must stay
below ``norm.isf(1e-4 / (2 * count))``.
"""

import math

import jax
import pytest
from scipy.stats import norm

from theory import ParameterError
from theory.chain import Workflow
from theory.chain._kde import (
    KDEChain,
    KDELearner,
    NormalSource,
    parse_kde_learner,
    parse_kde_source,
)
from theory.montecarlo._kde import simulate_kde
from theory.numeric._kde_exact import KDE_QUANTITIES, kde_exact_values

pytestmark = pytest.mark.usefixtures("x64")

BUDGET = 1e-4


def _z_scores(mc, exact, quantities):
    out = []
    for q in quantities:
        for g, value, se, want in zip(mc["generations"], mc[q], mc[q + "_se"], exact[q]):
            if g == 0 or want is None:
                continue
            assert se > 0, (q, g)
            out.append(((q, g), (value - want) / se))
    return out


def _assert_z(zs):
    bound = norm.isf(BUDGET / (2 * len(zs)))
    worst = max(zs, key=lambda item: abs(item[1]))
    assert abs(worst[1]) < bound, f"{worst[0]}: z = {worst[1]:.2f} (bound {bound:.2f} over {len(zs)} z-tests)"


# ------------------------------------------------------------------------------------------------ exact vs MC

GENERATIONS = [0, 1, 3, 8]
WORKFLOWS = ["replace", "accumulate", "mix:0.25", "mix-fixed:0.25", "accumulate-subsample:12",
             Workflow.parse("mix:0.25", real_weight=0.6), Workflow.parse("mix-fixed:0.25", real_weight=0.6)]


def test_exact_moments_match_monte_carlo_under_every_workflow():
    """E m_n, E (m_n - mu)^2, E V_n under seven workflows (Var V_n under replace, where it is exact) at n = 1, 3,
    8 with M = 16, h = 0.4, D_0 = N(1, 2): one Bonferroni family."""
    zs = []
    for i, wf in enumerate(WORKFLOWS):
        chain = KDEChain(KDELearner(0.4), 16, wf, "normal:1,2")
        mc = simulate_kde(jax.random.fold_in(jax.random.key(13), i), chain, generations=GENERATIONS, chains=6000)
        exact = kde_exact_values(chain, GENERATIONS)
        quantities = KDE_QUANTITIES if chain.workflow.kind == "replace" else KDE_QUANTITIES[:3]
        zs += [((str(wf), *name), z) for name, z in _z_scores(mc, exact, quantities)]
    assert len(zs) == 3 * (4 + 3 * 6)
    _assert_z(zs)


def test_a_wrong_recursion_is_rejected():
    """Power: the Monte Carlo that accepts the exact E V_n rejects E V_n without the kernel's h^2 (the MLE Gaussian
    chain's (1 - 1/M)^n sigma^2) and with 1/(M - 1) in place of 1/M, each far beyond the bound."""
    M, h, gens = 3, 0.4, [0, 10, 30]  # M = 3: the 1/(M - 1) error is a third of M h^2 (expected |z| about 25)
    chain = KDEChain(h, M)
    mc = simulate_kde(jax.random.key(7), chain, generations=gens, chains=6000)
    right = kde_exact_values(chain, gens)["variance_mean"]
    no_kernel = [(1 - 1 / M) ** g for g in gens]
    off_by_one = [(M - 1) * h * h + (1 - 1 / (M - 1)) ** g * (1 - (M - 1) * h * h) for g in gens]
    bound = norm.isf(BUDGET / (2 * 2 * 3))  # 2 generations x (the right one and two wrong ones)

    def z(values):
        return [(v - e) / s for v, e, s in zip(mc["variance_mean"][1:], values[1:], mc["variance_mean_se"][1:])]

    assert max(abs(x) for x in z(right)) < bound
    assert abs(z(no_kernel)[-1]) > 10 * bound
    assert abs(z(off_by_one)[-1]) > bound


# ------------------------------------------------------------------------------------------------ exact values


def test_replace_variance_tends_to_m_h_squared():
    M, h = 10, 0.2
    out = kde_exact_values(KDEChain(h, M), [0, 1, 50, 10**6])
    v = out["variance_mean"]
    assert v[0] == 1.0 and math.isclose(v[1], 0.9 * 1.0 + h * h)
    assert math.isclose(v[-1], M * h * h, rel_tol=1e-12)
    assert math.isclose(out["limits"]["variance_mean"], M * h * h)
    # Silverman's bandwidth spreads the chain: M h^2 > sigma^2
    from theory.chain._kde import silverman_bandwidth

    hs = silverman_bandwidth(100)
    assert kde_exact_values(KDEChain(hs, 100), [10**4])["variance_mean"][0] > 17


def test_lambda_zero_is_replace_and_lambda_one_is_the_real_kde():
    gens = [0, 1, 5, 30]
    base = kde_exact_values(KDEChain(0.3, 20), gens)
    for wf in ("mix:0", "mix-fixed:0"):
        other = kde_exact_values(KDEChain(0.3, 20, wf), gens)
        assert other["variance_mean"] == base["variance_mean"]
    for wf in ("mix:1", "mix-fixed:1"):
        out = kde_exact_values(KDEChain(0.3, 20, wf), gens)
        assert out["variance_mean"][1:] == pytest.approx([0.95 + 0.09] * 3, rel=1e-14)
        assert out["mean_sq_error"][1:] == pytest.approx([1 / 20] * 3, rel=1e-14)


def test_pooling_variance_grows_like_h2_log_n():
    """Accumulate: E V_n gains h^2 log(100) from n = 1e3 to 1e5 and the mean error settles; subsample:K: the gain
    is (1 - 1/K) h^2 log(100) and the mean error keeps growing, by (h^2/K) log(100) (to 1 %: the log n rates are
    asymptotic)."""
    h, K = 0.3, 10
    out = kde_exact_values(KDEChain(h, 50, "accumulate"), [1000, 100_000])
    growth = out["variance_mean"][1] - out["variance_mean"][0]
    assert growth == pytest.approx(h * h * math.log(100), rel=0.01)
    assert out["mean_sq_error"][1] - out["mean_sq_error"][0] < 1e-3 * out["mean_sq_error"][0]
    assert out["limits"]["variance_mean"] == math.inf and out["limits"]["mean_sq_error"] is None
    out = kde_exact_values(KDEChain(h, 50, f"accumulate-subsample:{K}"), [1000, 100_000])
    growth = out["variance_mean"][1] - out["variance_mean"][0]
    assert growth == pytest.approx((1 - 1 / K) * h * h * math.log(100), rel=0.01)
    mean_growth = out["mean_sq_error"][1] - out["mean_sq_error"][0]
    assert mean_growth == pytest.approx(h * h / K * math.log(100), rel=0.01)
    assert out["limits"]["mean_sq_error"] == math.inf


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("h", [0, -1.0, float("nan"), float("inf"), True, "0.5", 1e200, 1e-200])
def test_bad_bandwidth(h):
    with pytest.raises(ParameterError, match="^bandwidth"):
        KDELearner(h)


@pytest.mark.parametrize("text", [None, "", "x", "0", "-0.1", "nan", "inf"])
def test_bad_learner_spelling(text):
    with pytest.raises(ParameterError, match="^learner"):
        parse_kde_learner(text)


@pytest.mark.parametrize("text", ["uniform", "normal:1", "normal:1,0", "normal:1,-2", "normal:a,b", "normal:1,2,3",
                                  "normal:nan,1"])
def test_bad_source(text):
    with pytest.raises(ParameterError, match="^source"):
        parse_kde_source(text)


def test_good_spellings():
    assert parse_kde_learner(" 0.5") == KDELearner(0.5)
    assert parse_kde_source("normal:-1,0.5") == NormalSource(-1.0, 0.5)
    assert KDEChain(0.5, 4, "mix:0.5", "normal").source == NormalSource()


def test_bad_chain():
    with pytest.raises(ParameterError, match="^sample_size"):
        KDEChain(0.5, 1)
    with pytest.raises(ParameterError, match="^workflow"):
        KDEChain(0.5, 10, "accumulate-subsample:11")
    with pytest.raises(ParameterError, match="^workflow"):
        KDEChain(0.5, 10, "mix:0.01")  # LAMBDA M < 1/2: no real point
    with pytest.raises(ParameterError, match="^learner"):
        KDEChain("kde", 10)


# ------------------------------------------------------------------------------------------------ decomposition

ALL_WORKFLOWS = ["replace", "mix:0.25", "mix-fixed:0.25", "accumulate", "accumulate-subsample:12",
                 Workflow.parse("mix:0.25", real_weight=0.6), Workflow.parse("mix-fixed:0.25", real_weight=0.6)]


@pytest.mark.parametrize("wf", ALL_WORKFLOWS, ids=str)
def test_decomposition_adds_up_and_h0_is_the_mle_gaussian_chain(wf):
    """The parts add up; the statistical part (h -> 0) equals the MLE Gaussian chain's exact moments
    (theory.exact_values: an independent implementation of the same recursions) under every workflow."""
    from theory.decomposition._kde import kde_decomposition

    gens = [0, 1, 2, 7, 40]
    out = kde_decomposition(KDEChain(0.3, 16, wf, "normal:1,2"), gens)
    for error in ("variance", "mean_sq_error"):
        parts = out[error]
        for j in range(len(gens)):
            added = parts["statistical"][j] + parts["approximation"][j] + parts["interaction"][j]
            assert added == pytest.approx(parts["total"][j], abs=1e-13)
    assert out["bootstrap"]["variance_mean"] == pytest.approx(out["gaussian_mle"]["variance_mean"], rel=1e-13)
    assert out["bootstrap"]["mean_sq_error"] == pytest.approx(out["gaussian_mle"]["mean_sq_error"], rel=1e-12,
                                                              abs=1e-15)


def test_replace_decomposition_closed_forms():
    M, h, gens = 16, 0.3, [0, 1, 5, 50]
    from theory.decomposition._kde import kde_decomposition

    out = kde_decomposition(KDEChain(h, M), gens)
    r = 1 - 1 / M
    assert out["variance"]["statistical"] == pytest.approx([r**n - 1 for n in gens], abs=1e-14)
    assert out["variance"]["approximation"] == pytest.approx([n * h * h for n in gens], abs=1e-14)
    assert out["variance"]["interaction"] == pytest.approx([h * h * (M * (1 - r**n) - n) for n in gens], abs=1e-13)


# ------------------------------------------------------------------------------------------------ command line


def test_cli_json_keys(run_cli):
    import json

    status, out, err = run_cli(["simulate", "--learner", "kde:0.3", "--source", "normal:1,2", "-M", "8", "-n", "0",
                                "2", "--chains", "200", "--workflow", "mix:0.25", "--decompose", "--json"])
    assert status == 0, err
    data = json.loads(out)
    for key in ("learner", "sample_size", "workflow", "source", "seed", "generations", "exact", "z", "notes",
                "decomposition", "limits", *KDE_QUANTITIES, *(q + "_se" for q in KDE_QUANTITIES)):
        assert key in data, key
    assert data["learner"] == "kde:0.3" and data["source"] == "normal:1,2" and data["workflow"] == "mix:0.25"
    assert data["exact"]["variance_var"] == [None, None] and "exact.variance_var" in data["notes"]
    assert abs(data["z"]["variance_mean"][1]) < norm.isf(BUDGET / 2)
    assert set(data["decomposition"]["variance"]) == {"total", "statistical", "approximation", "interaction"}


def test_cli_table(run_cli):
    # the sizes of test_cli_json_keys (M = 8, 2 generations, 200 chains): replace and mix share one compilation
    status, out, err = run_cli(["simulate", "--learner", "kde:0.3", "-M", "8", "-n", "2", "--chains", "200",
                                "--decompose"])
    assert status == 0, err
    assert "variance_mean" in out and "exact" in out and "expressivity: none" in out


@pytest.mark.parametrize("argv, name", [
    (["--learner", "kde:0"], "learner"),
    (["--learner", "kde:nan"], "learner"),
    (["--learner", "kde"], "learner"),
    (["--learner", "kde:1", "--source", "uniform"], "source"),
    (["--learner", "kde:1", "--workflow", "accumulate-subsample:9"], "workflow"),
    (["--learner", "kde:1", "--dimension", "2"], "dimension"),
])
def test_cli_bad_input(run_cli, argv, name):
    status, _, err = run_cli(["simulate", "-M", "8", "-n", "2", "--chains", "10", *argv])
    assert status == 2
    assert name in err and len(err.strip().splitlines()) == 1, err


# ------------------------------------------------------------------------------------------------ proofs/kde.md


def test_kde_proof_document_is_current():
    """proofs/kde.md is what theory.numeric._kde_proofs renders now (rendering re-derives every step in SymPy and
    raises ProofError unless each equals the step function kde_exact_values iterates)."""
    import pathlib

    from theory.numeric import _kde_proofs as kp

    path = pathlib.Path(__file__).resolve().parents[1] / "proofs" / kp.NAME
    assert path.exists(), "proofs/kde.md is missing: run python -m theory.numeric._kde_proofs"
    assert path.read_text(encoding="utf-8") == kp.render(), (
        "proofs/kde.md is stale: run python -m theory.numeric._kde_proofs")


@pytest.mark.parametrize("name, wrong", [
    ("replace_step", lambda s, M, h2: ((s[0] + s[1] / M), (M - 1) * s[1] / M, s[2], s[3])),  # no h^2
    ("mix_step", lambda s, M, R, w, h2, s2: (s[0], h2 + (1 - w) * s[1] + w * s2)),  # no sampling terms
    ("mix_fixed_step", lambda s, M, R, w, h2, s2: (s[0] + h2, s[1], s[2])),
    ("pool_step", lambda s, M, N, K, h2: ((h2 + s[0], s[1]), (s[0], s[1]))),
])
def test_the_proof_rejects_a_wrong_step_function(monkeypatch, name, wrong):
    from theory.numeric import _kde_exact as kx
    from theory.numeric import _kde_proofs as kp

    monkeypatch.setattr(kx, name, wrong)
    with pytest.raises(kp.ProofError):
        kp.derivations.__wrapped__()


def test_power_sum_identity_against_direct_expansion():
    import sympy as sp

    from theory.numeric import _kde_proofs as kp

    raw = kp.centred_raw(kp.V, fourth=kp.Q)
    for k in (2, 3, 5):
        general = kp.power_sum_expectation((2, 1, 1), k, raw)
        direct = kp._direct_expectation(lambda x: sum(xi**2 for xi in x) * sum(x) ** 2, k, raw)
        assert sp.expand(general - direct) == 0
    assert sp.expand(kp.power_sum_expectation((1, 1), 4, raw) - 4 * kp.V) == 0


# ------------------------------------------------------------------------------------------------ figure


def test_kde_figure_data_and_plot(monkeypatch):
    """The figure at tiny sizes: exact lines and limits as derived, Monte Carlo z's within the Bonferroni bound,
    the decomposition adds up, and it plots (the full quick figure runs in tests/test_figures.py once registered)."""
    import matplotlib

    matplotlib.use("Agg")
    from theory.figures import _kde as fig_module

    for name, value in (("QUICK_GENERATIONS", 12), ("QUICK_POOL_GENERATIONS", 6), ("QUICK_CHAINS", 300),
                        ("QUICK_POOL_CHAINS", 100)):
        monkeypatch.setattr(fig_module, name, value)
    data = fig_module.compute(jax.random.key(0), quick=True)
    M = data["sample_size"]
    for row in data["workflows"]["replace"]:
        assert row["limit"] == pytest.approx(M * row["bandwidth"] ** 2)
        n = data["exact_generations"]
        r = 1 - 1 / M
        want = [M * row["bandwidth"] ** 2 + r**g * (1 - M * row["bandwidth"] ** 2) for g in n]
        assert row["exact"] == pytest.approx(want, rel=1e-12)
    assert data["max_abs_z"] < norm.isf(BUDGET / (2 * data["z_count"]))
    d = data["decomposition"]
    for j in range(len(d["total"])):
        assert d["statistical"][j] + d["approximation"][j] + d["interaction"][j] == pytest.approx(d["total"][j])
    assert "M h^2" in data["caption"]
    figure = fig_module.plot(data)
    assert len(figure.axes) == 6


def test_pool_memory_is_refused_before_allocating():
    chain = KDEChain(0.3, 1000, "accumulate")
    with pytest.raises(ParameterError, match="^chains"):
        simulate_kde(jax.random.key(0), chain, generations=[10**4], chains=1000)
