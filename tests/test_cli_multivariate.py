"""``closed-form``, ``simulate`` and ``verify`` with ``--dimension``/``--covariance`` (the multivariate chain).

What is checked: the JSON keys and values against the library (``multivariate_exact_values``,
``simulate_multivariate``), ``d = 1`` against the 1-D commands' numbers, the z-scores of a replace run, the verify
grid (it passes, it can fail, and a run that tests nothing fails), and that the human tables print. The numbers
themselves are checked in test_multivariate_exact.py and test_multivariate_mc.py.

False-failure budget: 1e-4 per test function that asserts on Monte Carlo z-scores, split (Bonferroni) over its
assertions, ``|z| <= norm.isf(1e-4 / (2 k))``; only cells whose proved kurtosis bound
(:func:`theory.montecarlo._verify_multivariate.multivariate_log_kurtosis`) is below ``chains / 100`` are asserted.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

import theory
from theory.chain import MultivariateGaussianChain, parse_covariance
from theory.montecarlo._verify_multivariate import multivariate_log_kurtosis
from theory.numeric import MULTIVARIATE_QUANTITIES, multivariate_exact_values

BUDGET = 1e-4
SIGMA3 = "diag:2,1,0.5"

#: The 1-D key that equals each multivariate key at d = 1 (det Sigma_n = tr Sigma_n = sigma_n^2).
ONE_D = {"mean_sq_error": "mean_sq_error", "trace_mean": "variance_mean", "trace_var": "variance_var",
         "det_mean": "variance_mean", "log_det_mean": "log_variance_mean"}


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")


def _bound(assertions: int) -> float:
    return float(norm.isf(BUDGET / (2 * assertions)))


def _json(run_cli, argv):
    status, out, err = run_cli([*argv, "--json"])
    assert status == 0, err
    return json.loads(out)


@pytest.fixture
def covariance_file(tmp_path):
    path = tmp_path / "sigma.txt"
    path.write_text("# a correlated covariance\n2.0, 0.5, 0.0\n0.5 1.0 0.2\n0.0,0.2,0.5\n")
    return path


# ----------------------------------------------------------------------------------------------- closed-form


#: accumulate's exact values derive the 1-D accumulate system symbolically (tens of seconds without the disk cache,
#: which the tests turn off): slow; its d = 1 agreement is also tested through the API in test_multivariate_exact.py.
ACCUMULATE = pytest.param("accumulate", marks=pytest.mark.slow)


@pytest.mark.parametrize("workflow", ["replace", ACCUMULATE])
def test_closed_form_json_matches_the_library(run_cli, covariance_file, workflow):
    gens = [0, 1, 4, 30]
    data = _json(run_cli, ["closed-form", "-M", "8", "-n", *map(str, gens), "--covariance", f"file:{covariance_file}",
                           "--learner", "mle", "-A", "1.1", "--workflow", workflow])
    chain = MultivariateGaussianChain(8, parse_covariance(f"file:{covariance_file}"), learner="mle",
                                      variance_scale=1.1, workflow=workflow)
    exact = multivariate_exact_values(chain, gens)
    assert data["dimension"] == 3 and data["sample_size"] == 8 and data["workflow"] == workflow
    assert data["generations"] == gens
    assert np.array_equal(np.array(data["covariance"]), chain.covariance)
    for q in MULTIVARIATE_QUANTITIES:
        if exact[q] is None:
            assert data[q] == [None] * len(gens) and q in data["notes"], q
        else:
            assert data[q] == [float(x) for x in exact[q]], q  # the same float64 numbers, no rounding
    assert data["w2_sq_mean"] == [None] * len(gens)  # Monte Carlo only
    for q, (lo, hi) in exact["bounds"].items():
        if lo is not None:
            assert data["bounds"][q]["lower"] == [float(x) for x in lo]
            assert data["bounds"][q]["upper"] == [float(x) for x in hi]
    assert "w2_sq_mean" in data["bounds"]
    assert np.array_equal(np.array(data["covariance_mean"]), exact["covariance_mean"])


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("workflow", ["replace", ACCUMULATE])
def test_closed_form_dimension_1_equals_the_1d_chain(run_cli, learner, workflow):
    gens = ["0", "1", "3", "50"]
    common = ["closed-form", "-M", "7", "-n", *gens, "--learner", learner, "-A", "1.1", "--workflow", workflow]
    multi = _json(run_cli, [*common, "--dimension", "1", "--covariance", "iso:2.25"])
    one = _json(run_cli, [*common, "--sigma", "1.5"])
    compared = 0
    for q, q1 in ONE_D.items():
        if one[q1] is None or one[q1][0] is None:
            continue
        assert multi[q] is not None and None not in multi[q], (q, multi["notes"].get(q))
        np.testing.assert_allclose(multi[q], one[q1], rtol=1e-13, atol=0, err_msg=q)
        compared += 1
    assert compared >= 4
    if workflow == "replace":  # E W2^2 at d = 1 is exact: both bounds are the 1-D value
        for side in ("lower", "upper"):
            np.testing.assert_allclose(multi["bounds"]["w2_sq_mean"][side], one["w2_sq_mean"], rtol=1e-13, atol=0)


def test_closed_form_dimension_alone_is_the_identity(run_cli):
    a = _json(run_cli, ["closed-form", "-M", "6", "-n", "2", "--dimension", "4"])
    b = _json(run_cli, ["closed-form", "-M", "6", "-n", "2", "--covariance", "diag:1,1,1,1"])
    assert a["covariance"] == np.eye(4).tolist()
    for q in MULTIVARIATE_QUANTITIES:
        assert a[q] == b[q]


def test_closed_form_table_prints(run_cli):
    status, out, err = run_cli(["closed-form", "-M", "6", "-n", "0", "1", "20", "--dimension", "3"])
    assert status == 0, err
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert lines[0].split()[0] == "n" and "E||mu_n-mu||^2" in lines[0] and "E W2^2" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["0", "1", "20"]
    assert all(line.split()[-1] == "-" for line in lines[1:])  # E W2^2: no closed form
    assert "exact bounds on E W2^2" in out and "d=3" in out


# ----------------------------------------------------------------------------------------------- simulate

SIM = ["simulate", "-M", "8", "-n", "0", "1", "2", "--covariance", SIGMA3, "--chains", "20000", "--seed", "11",
       "--quiet"]


@pytest.fixture(scope="module")
def simulated():
    """The JSON of one replace run (d = 3), shared by the tests below (one compilation)."""
    import contextlib
    import io

    from theory.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main([*SIM, "--json"])
    assert status == 0
    return json.loads(buffer.getvalue())


def test_simulate_json_keys_and_exact_values(simulated):
    data = simulated
    chain = MultivariateGaussianChain(8, parse_covariance(SIGMA3))
    exact = multivariate_exact_values(chain, [0, 1, 2])
    assert data["generations"] == [0, 1, 2] and data["dimension"] == 3 and data["mode"] == "sufficient"
    for q in MULTIVARIATE_QUANTITIES:
        assert len(data[q]) == 3 and len(data[q + "_se"]) == 3, q
        if exact[q] is None:
            assert data["exact"][q] == [None] * 3 and data["z"][q] == [None] * 3
        else:
            assert data["exact"][q] == [float(x) for x in exact[q]]
            for j in (1, 2):
                assert data["z"][q][j] == pytest.approx((data[q][j] - data["exact"][q][j]) / data[q + "_se"][j],
                                                        rel=1e-12)
    assert np.asarray(data["eigenvalues"]).shape == (3, 3)
    assert np.allclose(data["eigenvalues"][0], [0.5, 1.0, 2.0])
    assert data["bounds"]["w2_sq_mean"]["lower"][1] <= data["bounds"]["w2_sq_mean"]["upper"][1]
    if "effective_rank_mean" in data:  # the Monte Carlo helper's new key
        assert len(data["effective_rank_mean"]) == 3


def test_simulate_z_scores_of_a_replace_run(simulated):
    """|z| of the exact quantities at n = 1, 2 whose kurtosis bound allows a z-test, and E W2^2 inside its exact
    bounds (one-sided z), budget 1e-4."""
    data = simulated
    checks = [(q, j) for q in ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean")
              for j in (1, 2)
              if multivariate_log_kurtosis(q, 3, 8, "unbiased", 1.0, j) <= math.log(20000 / 100)]
    assert len(checks) >= 6
    bound = _bound(len(checks) + 2)
    for q, j in checks:
        assert abs(data["z"][q][j]) <= bound, (q, j, data["z"][q][j])
    for j in (1, 2):
        lo, hi = data["bounds"]["w2_sq_mean"]["lower"][j], data["bounds"]["w2_sq_mean"]["upper"][j]
        mc, se = data["w2_sq_mean"][j], data["w2_sq_mean_se"][j]
        assert (lo - mc) / se <= bound and (mc - hi) / se <= bound, (j, lo, mc, hi, se)


def test_simulate_table_prints(run_cli):
    status, out, err = run_cli(SIM)  # the same shapes as the fixture's run: no new compilation
    assert status == 0, err
    assert "n = 0" in out and "n = 2" in out and "E log det ratio" in out and "eigenvalues" in out
    assert "bounds [" in out  # E W2^2 beside its exact bounds


@pytest.mark.slow
def test_simulate_dimension_1_agrees_with_the_1d_command(run_cli):
    """d = 1: the exact columns equal the 1-D command's, and the Monte Carlo means agree in distribution
    (two independent runs, z of the difference; budget 1e-4 over the assertions)."""
    gens = ["1", "3"]
    common = ["simulate", "-M", "5", "-n", *gens, "--chains", "40000", "--learner", "mle", "--quiet"]
    multi = _json(run_cli, [*common, "--dimension", "1", "--covariance", "iso:4", "--seed", "1"])
    one = _json(run_cli, [*common, "--sigma", "2", "--seed", "2"])
    for q, q1 in ONE_D.items():
        np.testing.assert_allclose(multi["exact"][q], one["exact"][q1], rtol=1e-13, atol=0)
    pairs = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"),
             ("log_det_mean", "log_variance_mean"), ("w2_sq_mean", "w2_sq_mean")]
    bound = _bound(len(pairs) * len(gens))
    for q, q1 in pairs:
        for j in range(len(gens)):
            z = (multi[q][j] - one[q1][j]) / math.hypot(multi[q + "_se"][j], one[q1 + "_se"][j])
            assert abs(z) <= bound, (q, j, z)


# ----------------------------------------------------------------------------------------------- verify

VERIFY = ["verify", "--dimension", "2", "-M", "6", "-n", "1", "3", "--learner", "mle", "--workflow", "replace",
          "--chains", "20000", "--quick", "--quiet"]


def test_verify_small_grid_passes(run_cli):
    status, out, err = run_cli([*VERIFY, "--json"])
    assert status == 0, err
    data = json.loads(out)
    assert data["chain"] == "multivariate" and data["passed"] and data["tested"] > 0
    assert {r["mode"] for r in data["rows"]} == {"sufficient", "samples"}
    tested = [r for r in data["rows"] if r["tested"]]
    assert all(abs(r["z"]) <= data["threshold"] for r in tested)
    assert data["threshold"] == pytest.approx(norm.isf(data["budget"] / (2 * data["tested"])))
    assert {r["quantity"] for r in tested} >= {"log_det_mean", "trace_mean", "w2_sq_mean"}


def test_verify_table_prints(run_cli):
    status, out, err = run_cli(VERIFY)
    assert status == 0, err
    assert "all tested rows pass" in out and "E log det ratio" in out and "sufficient" in out


def test_verify_fails_on_wrong_exact_values(run_cli, monkeypatch):
    """The same grid with E log det and E tr off by 5 %: the z-tests must catch it (exit 1)."""
    from theory import numeric

    real = numeric.multivariate_exact_values

    def wrong(chain, generations):
        values = dict(real(chain, generations))
        values["log_det_mean"] = np.asarray(values["log_det_mean"]) * 1.05
        values["trace_mean"] = np.asarray(values["trace_mean"]) * 1.05
        return values

    monkeypatch.setattr(numeric, "multivariate_exact_values", wrong)
    status, out, err = run_cli(VERIFY)
    assert status == 1, err
    assert "FAIL" in out


def test_verify_that_tests_nothing_fails(run_cli, monkeypatch):
    from theory import numeric

    real = numeric.multivariate_exact_values

    def nothing(chain, generations):
        values = dict(real(chain, generations))
        for q in MULTIVARIATE_QUANTITIES:
            values[q] = None
        values["bounds"] = {}
        return values

    monkeypatch.setattr(numeric, "multivariate_exact_values", nothing)
    status, out, err = run_cli(VERIFY)
    assert status == 1
    assert "nothing was z-tested" in err and "nothing was z-tested" in out


@pytest.mark.slow
def test_verify_quick_passes(run_cli):
    status, out, err = run_cli(["verify", "--chain", "multivariate", "--quick", "--json", "--quiet"])
    assert status == 0, err
    data = json.loads(out)
    assert data["passed"] and data["tested"] > 100
    assert {r["dimension"] for r in data["rows"]} == {2, 5}


def test_help_explains_the_multivariate_chain(run_cli):
    for command in ("closed-form", "simulate", "verify"):
        status, out, _err = run_cli([command, "--help"])
        assert status == 0
        assert "--dimension" in out and "--covariance" in out and "multivariate" in out, command


def test_parser_does_not_import_jax():
    import subprocess
    import sys

    code = ("import sys; from theory.cli import build_parser; build_parser(); "
            "sys.exit(1 if 'jax' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120, check=False).returncode == 0


def test_theory_exports_what_the_cli_uses():
    assert theory.MultivariateGaussianChain is MultivariateGaussianChain


def test_closed_form_latex_is_the_multivariate_report(run_cli):
    """--latex with --covariance prints theory.symbolic._latex_multivariate's report (its forms are parsed back and
    proved in tests/test_latex_multivariate.py), with the exact values of multivariate_exact_values beside them."""
    from theory.chain import MultivariateGaussianChain
    from theory.numeric import multivariate_exact_values
    from theory.symbolic._latex_multivariate import latex_multivariate_report

    status, out, err = run_cli(["closed-form", "-M", "6", "-n", "0", "1", "5", "--covariance", "diag:1,2",
                                "--learner", "mle", "--latex"])
    assert status == 0 and err == ""
    chain = MultivariateGaussianChain(6, [[1.0, 0.0], [0.0, 2.0]], learner="mle")
    assert out == latex_multivariate_report(chain, [0, 1, 5], multivariate_exact_values(chain, [0, 1, 5]))
    assert r"\det\Sigma" in out and r"\psi" in out
