"""Smoke and contract tests of `collapse-theory collapse-time`."""

import json

import pytest

from theory import GaussianChain, collapse_time, median_sd_ratio




def test_epsilon_json_matches_api(run_cli):
    status, out, _ = run_cli(["collapse-time", "-M", "50", "--learner", "mle", "-A", "0.99", "--epsilon", "0.5", "0.1",
                           "--json"])
    assert status == 0
    data = json.loads(out)
    chain = GaussianChain(50, learner="mle", variance_scale=0.99)
    assert data["collapse_time"] == [collapse_time(chain, 0.5), collapse_time(chain, 0.1)]
    for eps, n, before, at in zip(data["epsilon"], data["collapse_time"], data["median_before"], data["median_at"]):
        assert before >= eps > at  # the crossing, from the reported medians
        assert at == median_sd_ratio(chain, n)


def test_median_table_and_none(run_cli):
    status, out, _ = run_cli(["collapse-time", "-M", "100", "--median", "0", "138"])
    assert status == 0 and "median sigma_n/sigma" in out
    rows = [line.split() for line in out.splitlines() if not line.startswith("#") and line.split()[0].isdigit()]
    assert [float(r[1]) for r in rows] == pytest.approx([1.0, median_sd_ratio(GaussianChain(100), 138)], rel=1e-12)
    status, out, _ = run_cli(["collapse-time", "-M", "100", "-A", "1.1", "--epsilon", "0.5", "--max-generations", "1000",
                           "--json"])
    data = json.loads(out)
    assert status == 0 and data["collapse_time"] == [None] and "note" in data


@pytest.mark.parametrize(
    "argv,parameter",
    [(["-M", "1", "--epsilon", "0.5"], "sample_size"), (["-M", "100", "--epsilon", "0"], "epsilon"),
     (["-M", "100", "--epsilon", "1.5"], "epsilon"), (["-M", "100", "--epsilon", "nan"], "epsilon"),
     (["-M", "100", "--median", "-1"], "generations"), (["-M", "100", "--median", "x"], "generations"),
     (["-M", "100", "--epsilon", "0.5", "--max-generations", "0"], "max_generations"),
     (["-M", "100", "-A", "-1", "--epsilon", "0.5"], "variance_scale")],
)
def test_bad_input_one_line_exit_2(argv, parameter, run_cli):
    status, _, err = run_cli(["collapse-time", *argv])
    assert status == 2
    assert err.count("\n") == 1 and f"{parameter}: must be" in err and "Traceback" not in err


def test_needs_epsilon_or_median(run_cli):
    status, _, err = run_cli(["collapse-time", "-M", "100"])
    assert status == 2 and err.count("\n") == 1
    status, _, err = run_cli(["collapse-time", "-M", "100", "--epsilon", "0.5", "--median", "3"])
    assert status == 2 and err.count("\n") == 1


def test_median_beyond_float64_is_reported_not_crashing(run_cli):
    """At n = 1e40 (M = 100) log(sigma_n^2) ~ -1e38: the median underflows; with A > 1 it overflows. Both are
    named, never printed as a number (and the CF inversion, which breaks down there, is not attempted)."""
    assert median_sd_ratio(GaussianChain(100), 10**40) == 0.0
    assert median_sd_ratio(GaussianChain(100, variance_scale=1.0102), 10**16) == float("inf")
    status, out, err = run_cli(["collapse-time", "-M", "100", "--median", "1e40", "1", "--json"])
    data = json.loads(out)
    assert status == 0 and err == "" and data["median_sd_ratio"][0] is None and "underflow" in data["note"]
    assert 0 < data["median_sd_ratio"][1] < 1
    status, out, _ = run_cli(["collapse-time", "-M", "100", "-A", "1.0102", "--median", "1e16"])
    assert status == 0 and "overflow" in out.splitlines()[-1]
