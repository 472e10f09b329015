"""The training workflows on the command line: closed-form, simulate, verify and decompose with --workflow.

Monte Carlo assertions are z-tests at a bound of 4.5 standard errors per value (two-sided false-failure
probability 6.8e-6 each; this module makes fewer than 150 such comparisons: budget below 1e-3 for the module).
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from theory import GaussianChain, exact_values
from theory.chain import Workflow
from theory.quantities import QUANTITIES

Z = 4.5
WORKFLOWS = ["replace", "mix:0.5", "mix-fixed:0.4", "accumulate", "accumulate-subsample:4"]


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")


@pytest.fixture(autouse=True)
def _restore_x64():
    previous = jax.config.jax_enable_x64
    yield
    jax.config.update("jax_enable_x64", previous)


# ----------------------------------------------------------------------------------------------- closed-form
@pytest.mark.parametrize("workflow", WORKFLOWS + ["mix:0.5 --real-weight 0.3"])
def test_closed_form_json_is_exact_values_with_nulls_and_notes(workflow, run_cli):
    spelling, *rest = workflow.split()
    status, out, err = run_cli(["closed-form", "-M", "6", "-n", "0", "1", "5", "--learner", "mle", "-A", "1.1",
                                "--workflow", spelling, *rest, "--json"])
    assert status == 0, err
    data = json.loads(out)
    weight = float(rest[1]) if rest else None
    chain = GaussianChain(6, learner="mle", variance_scale=1.1, workflow=Workflow.parse(spelling, real_weight=weight))
    assert data["workflow"] == str(chain.workflow)
    expected = exact_values(chain, [0, 1, 5])
    for q in QUANTITIES:  # the keys of today, every one present
        if expected[q] is None:
            assert data[q] == [None, None, None] and q in data["notes"] and data["notes"][q]
        else:
            np.testing.assert_allclose(data[q], expected[q], rtol=1e-15)
    for q, (lo, hi) in (expected.get("bounds") or {}).items():
        np.testing.assert_allclose(data["bounds"][q]["lower"], lo, rtol=1e-15)
        np.testing.assert_allclose(data["bounds"][q]["upper"], hi, rtol=1e-15)
    if spelling == "replace":
        assert "notes" not in data and "bounds" not in data  # today's JSON, unchanged
    else:
        assert any(v is None for q in QUANTITIES for v in data[q])  # E sigma_n has no closed form off replace


def test_closed_form_table_dashes_notes_and_expansions_only_for_replace(run_cli):
    status, out, _ = run_cli(["closed-form", "-M", "10", "-n", "1", "10", "--workflow", "mix:0.5"])
    assert status == 0
    assert "workflow=mix:0.5" in out and "Nature SI" not in out
    rows = [line for line in out.splitlines() if line.strip().startswith(("1 ", "10 "))]
    assert rows and all(" - " in row or row.rstrip().endswith("-") for row in rows)
    assert "E sigma_n (sd_mean) '-':" in out and "exact bounds on E W2^2" in out
    status, out, _ = run_cli(["closed-form", "-M", "10", "-n", "1", "10"])
    assert status == 0 and "Nature SI" in out and "workflow=replace" in out


def test_closed_form_help_explains_the_workflows(run_cli):
    status, out, _ = run_cli(["closed-form", "--help"])
    assert status == 0
    for word in ("mix:LAMBDA", "mix-fixed:LAMBDA", "accumulate-subsample:K", "--real-weight", "--limits"):
        assert word in out


def test_closed_form_limits_are_workflow_limits(run_cli):
    from theory.numeric import workflow_limits

    status, out, err = run_cli(["closed-form", "-M", "10", "-n", "5", "--workflow", "mix:0.5", "--limits", "--json"])
    assert status == 0, err
    limits = json.loads(out)["limits"]
    expected = workflow_limits(GaussianChain(10, workflow="mix:0.5"))
    for q in ("mean_sq_error", "variance_mean", "variance_var"):
        assert limits[q] == pytest.approx(float(expected[q]), rel=1e-15)
    assert limits["sd_mean"] is None and "sd_mean" in limits["notes"] and limits["rate"] is not None
    status, out, _ = run_cli(["closed-form", "-M", "10", "-n", "5", "--workflow", "mix:0.5", "--limits"])
    assert status == 0 and "limits n -> infinity" in out and "rate of approach" in out


# ----------------------------------------------------------------------------------------------- simulate
SLOW = pytest.mark.slow  # each workflow compiles its own kernels (~10 s): the default run keeps a few


@pytest.mark.parametrize("workflow", ["replace", "mix:0.5", pytest.param("mix-fixed:0.4", marks=SLOW),
                                      pytest.param("accumulate", marks=SLOW), "accumulate-subsample:4"])
def test_simulate_z_only_where_exact(workflow, run_cli):
    status, out, err = run_cli(["simulate", "-M", "6", "-n", "1", "4", "--chains", "4000", "--workflow", workflow,
                                "--seed", "7", "--json", "--quiet"])
    assert status == 0, err
    data = json.loads(out)
    assert data["workflow"] == workflow
    assert data["mode"] == ("samples" if workflow.startswith("accumulate-subsample") else "sufficient")
    expected = exact_values(GaussianChain(6, workflow=workflow), [1, 4])
    for q in QUANTITIES:
        if expected[q] is None:
            assert data["exact"][q] == [None, None] and data["z"][q] == [None, None]
            assert f"exact.{q}" in data["notes"]
        else:
            for j in range(2):
                z = (data[q][j] - data["exact"][q][j]) / data[q + "_se"][j]
                assert data["z"][q][j] == pytest.approx(z)
                if q in ("mean_sq_error", "variance_mean", "log_variance_mean"):  # light enough tails at M = 6
                    assert abs(z) < Z, (q, j, z)
    status, out, _ = run_cli(["simulate", "-M", "6", "-n", "2", "--chains", "200", "--workflow", workflow, "--quiet"])
    assert status == 0 and f"workflow={workflow}" in out


def test_simulate_sufficient_refused_for_accumulate_subsample(run_cli):
    status, _, err = run_cli(["simulate", "-M", "6", "-n", "2", "--workflow", "accumulate-subsample:3", "--mode",
                              "sufficient", "--quiet"])
    assert status == 2 and err.count("\n") == 1 and "mode" in err


# ----------------------------------------------------------------------------------------------- verify
@pytest.mark.slow  # 70 s: every workflow's kernels compile in both modes
def test_verify_covers_every_workflow(run_cli, monkeypatch):
    from theory.montecarlo import _verify

    grid = dict(sample_sizes=(3,), generations=(1, 3), variance_scales=(1.1,), workflows=_verify.WORKFLOWS,
                workflow_sample_sizes=(4,))
    monkeypatch.setattr(_verify, "QUICK_GRID", grid)
    status, out, _ = run_cli(["verify", "--quick", "--chains", "4000", "--json", "--quiet"])
    data = json.loads(out)
    assert data["passed"], [r for r in data["rows"] if r["tested"] and abs(r["z"]) > data["bound"]]
    assert status == 0
    rows = data["rows"]
    kinds = {r["workflow"].split(":")[0] for r in rows}
    assert kinds == {"replace", "mix", "mix-fixed", "accumulate", "accumulate-subsample"}
    assert {r["mode"] for r in rows if r["workflow"].startswith("accumulate-subsample")} == {"samples"}
    for kind in kinds:  # every workflow has z-tested cells
        assert any(r["tested"] for r in rows if r["workflow"].split(":")[0] == kind), kind
    skipped = [r for r in rows if r["exact"] is None and r["lower"] is None]
    assert skipped and all(not r["tested"] and r["note"].startswith("no exact value") for r in skipped)
    bounded = [r for r in rows if r["exact"] is None and r["lower"] is not None]
    assert bounded and any(r["tested"] for r in bounded)  # Monte Carlo within the exact bounds is a test


def test_verify_skips_what_has_no_exact_value_and_tests_the_bounds():
    """The default run's verify check off replace: one workflow, sufficient mode (the CLI runs are slow tests)."""
    from theory.montecarlo import _verify

    grid = dict(sample_sizes=(4,), generations=(2,), variance_scales=(1.1,), learners=("mle",),
                workflows=("mix:0.5",))
    report = _verify.verify(jax.random.key(4), chains=4000, grid=grid, modes=("sufficient",))
    assert report.passed, report.format_table()
    rows = {r["quantity"]: r for r in report.rows}
    assert rows["mean_sq_error"]["tested"] and rows["variance_mean"]["tested"]
    assert rows["sd_mean"]["exact"] is None and rows["sd_mean"]["lower"] is not None and rows["sd_mean"]["tested"]
    assert not rows["log_variance_mean"]["tested"] and rows["log_variance_mean"]["note"].startswith("no exact value")
    assert "mix:0.5" in report.format_table()


@pytest.mark.slow
def test_verify_user_workflows(run_cli):
    status, out, _ = run_cli(["verify", "-M", "8", "-n", "2", "--learner", "mle", "-A", "1", "--workflow",
                              "mix:0.25", "accumulate", "--chains", "2000", "--json", "--quiet"])
    data = json.loads(out)
    assert {r["workflow"] for r in data["rows"]} == {"mix:0.25", "accumulate"}
    assert data["tested"] > 0 and data["passed"] and status == 0


@pytest.mark.slow
def test_verify_quick_passes():
    """The full ``verify --quick`` (every workflow), as a user runs it, in a fresh process. (Its time, under two
    minutes on 2 cores, is measured, not tested: a timed test fails on a loaded machine.)"""
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "theory.cli", "verify", "--quick", "--quiet", "--json"],
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "COLLAPSE_THEORY_NO_CACHE": "1"})
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["passed"], proc.stderr[-2000:]
    assert {r["workflow"].split(":")[0] for r in data["rows"]} == {
        "replace", "mix", "mix-fixed", "accumulate", "accumulate-subsample"}


# ----------------------------------------------------------------------------------------------- decompose
@pytest.mark.parametrize("workflow, d0", [
    ("mix:0.5", "normal:1,2"), pytest.param("accumulate", "laplace", marks=SLOW), ("accumulate-subsample:4", "laplace"),
    pytest.param("mix-fixed:0.4", "normal:1,2", marks=SLOW), pytest.param("accumulate", "normal:1,2", marks=SLOW),
    pytest.param("accumulate-subsample:4", "normal:1,2", marks=SLOW), pytest.param("mix:0.5", "laplace", marks=SLOW),
    pytest.param("mix-fixed:0.4", "laplace", marks=SLOW)])
def test_decompose_cli_every_workflow(workflow, d0, run_cli):
    argv = ["decompose", "--d0", d0, "-M", "8", "-n", "1", "3", "-A", "1.1", "--workflow", workflow, "--chains",
            "2000", "--json"]
    status, out, err = run_cli(argv)
    if d0 == "laplace" and workflow.startswith("accumulate-subsample"):
        assert status == 2 and err.count("\n") == 1 and "workflow" in err  # refused: see decompose's docstring
        return
    assert status == 0, err
    data = json.loads(out)
    assert data["workflow"] == workflow and data["chains"] == 2000
    methods = data["methods"]
    assert methods["expressivity"] == "exact" and methods["approximation"] == "exact"
    assert methods["total"].startswith("monte carlo") and methods["statistical"].startswith("monte carlo")
    assert all(v > 0 for v in data["stderr"]["total"]) and data["stderr"]["expressivity"] == [0.0, 0.0]
    parts = np.add.reduce([np.array(data[k]) for k in ("statistical", "expressivity", "approximation",
                                                       "interaction")])
    np.testing.assert_allclose(parts, data["total"], rtol=1e-12)
    np.testing.assert_allclose(sum(np.array(v) for v in data["shapley"].values()), data["total"], rtol=1e-12)
    status, out, _ = run_cli(argv[:-1])
    assert status == 0 and f"workflow {workflow}" in out and "+-" in out and "# methods:" in out


def test_decompose_chains_only_off_replace(run_cli):
    status, _, err = run_cli(["decompose", "--d0", "normal", "-M", "8", "-n", "1", "--chains", "500"])
    assert status == 2 and "chains" in err and err.count("\n") == 1
