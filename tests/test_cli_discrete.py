"""``collapse-theory discrete``: the table, the JSON keys the issue fixes, Monte Carlo columns, and agreement of the
printed numbers with the library (the numbers themselves are tested in test_categorical_exact.py and
test_discrete_mc.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import theory
from theory.quantities import DISCRETE_QUANTITIES

KEYS = ("surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean", "collapse_probability", "entropy_mean")


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")


def test_the_registry_has_the_issues_keys():
    assert DISCRETE_QUANTITIES == KEYS


def test_json_exact_matches_the_library(run_cli):
    status, out, err = run_cli(["discrete", "--source", "zipf:1:200", "-M", "50", "-n", "0", "1", "10", "--json"])
    assert status == 0, err
    data = json.loads(out)
    assert data["generations"] == [0, 1, 10]
    for key in KEYS:
        assert key in data
    chain = theory.DiscreteChain("zipf:1:200", 50)
    exact = theory.discrete_exact_values(chain, [0, 1, 10])
    for key in KEYS:
        if exact[key] is None:
            assert data[key] is None and key in data["notes"]
        else:
            assert np.allclose(data[key], exact[key], rtol=0, atol=0)
    assert data["surviving_mean"][0] == 200 and data["tail_mass_lost_mean"][0] == 0
    assert not any(k.endswith("_mc") for k in data)


def test_table_prints_every_generation(run_cli):
    status, out, err = run_cli(["discrete", "--source", "uniform:20", "-M", "30", "-n", "1", "5", "--alpha", "0.5"])
    assert status == 0, err
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert lines[0].split()[0] == "n" and [line.split()[0] for line in lines[1:]] == ["1", "5"]
    assert "add-0.5 smoothing" in out


def test_chains_add_mc_and_se_keys(run_cli):
    argv = ["discrete", "--source", "zipf:1.1:30", "-M", "20", "-n", "1", "3", "--chains", "400", "--seed", "3",
            "--json", "--workflow", "mix:0.2"]
    status, out, err = run_cli(argv)
    assert status == 0, err
    data = json.loads(out)
    for key in KEYS:
        assert len(data[key + "_mc"]) == 2 and len(data[key + "_se"]) == 2
    assert data["workflow"] == "mix:0.2" and data["chains"] == 400
    # the same seed gives the same numbers
    status2, out2, _ = run_cli(argv)
    assert status2 == 0 and json.loads(out2) == data


def test_coupled_learner_without_exact_route_says_monte_carlo(run_cli):
    status, out, err = run_cli(["discrete", "--source", "words:en:500", "-M", "100", "-n", "1", "-T", "0.7",
                                "--json"])
    assert status == 0, err
    data = json.loads(out)
    assert data["surviving_mean"] is None and "surviving_mean" in data["notes"]


def test_bounds_beside_the_exact_value(run_cli):
    status, out, err = run_cli(["discrete", "--source", "zipf:1:300", "-M", "200", "-n", "1", "20", "--bounds",
                                "--json"])
    assert status == 0, err
    rows = json.loads(out)["survival_bounds"]
    assert {r["bound"] for r in rows} >= {"iterate", "exponential", "published", "poisson"}
    for r in rows:  # the verdict is computed, and it must agree with the numbers printed beside it
        slack = 1e-12 * abs(r["exact"]) + 1e-15
        holds = r["value"] <= r["exact"] + slack if r["side"] == "lower" else r["value"] >= r["exact"] - slack
        assert (r["verdict"] == "bound holds") == holds, r


def test_verify_discrete_chain(run_cli, monkeypatch):
    """The issue's "Done when" in the default run: the exact per-category and whole-distribution results against
    Monte Carlo of literal multinomial resampling, for a Zipf source and the real vocabulary, under replace and
    mix (z-tests; family-wise false-failure budget 1e-4, Bonferroni over the rows)."""
    from theory.montecarlo import _verify_discrete

    setups = (("zipf:1:40", 20, "replace"), ("words:en:100", 30, "mix:0.2"))
    monkeypatch.setattr(_verify_discrete, "DISCRETE_SETUPS", setups)
    status, out, err = run_cli(["verify", "--chain", "discrete", "--quick", "--chains", "2000", "--budget", "1e-4",
                                "--json"])
    data = json.loads(out)
    assert data["chain"] == "discrete" and data["tested"] == len(data["rows"]) > 0
    assert {r["setup"] for r in data["rows"]} == {"zipf:1:40, M = 20, replace", "words:en:100, M = 30, mix:0.2"}
    quantities = {r["quantity"].split("[")[0] for r in data["rows"]}
    assert {"surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean", "mean", "heterozygosity", "lost"} <= quantities
    assert data["passed"], [r for r in data["rows"] if not r["passed"]]
    assert status == 0
    monkeypatch.setattr(_verify_discrete, "DISCRETE_SETUPS", (("zipf:1:20", 10, "mix:0.2"),))
    status, out, _ = run_cli(["verify", "--chain", "discrete", "--quick", "--chains", "500"])
    assert "zipf:1:20, M = 10, mix:0.2" in out and "surviving_mean" in out
