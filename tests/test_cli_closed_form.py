"""Smoke and contract tests of `collapse-theory closed-form`."""

import json

import numpy as np
import pytest

from theory import GaussianChain, exact_values
from theory.cli import main
from theory.numeric import QUANTITIES


def test_json_matches_exact_values(capsys, run_cli):
    assert main(["closed-form", "--sample-size", "20", "--generations", "0", "1", "7", "--learner", "mle",
                 "--variance-scale", "1.1", "--sigma", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["generations"] == [0, 1, 7]
    expected = exact_values(GaussianChain(20, learner="mle", variance_scale=1.1, sigma=2.0), [0, 1, 7])
    for q in QUANTITIES:
        np.testing.assert_allclose(out[q], expected[q], rtol=1e-15)


def test_table_and_latex(capsys):
    assert main(["closed-form", "-M", "1e3", "-n", "1", "10"]) == 0
    text = capsys.readouterr().out
    assert "Nature SI" in text and "arXiv v2" in text
    assert main(["closed-form", "-M", "10", "-n", "1", "--latex"]) == 0
    latex = capsys.readouterr().out
    assert r"\mathbb{E}\left[(\mu_n-\mu)^2\right] &= \frac{n \sigma^{2}}{M}" in latex




@pytest.mark.parametrize(
    "argv,parameter",
    [(["-M", "1", "-n", "1"], "sample_size"), (["-M", "2.5", "-n", "1"], "sample_size"),
     (["-M", "10", "-n", "-1"], "generations"), (["-M", "10", "-n", "1", "--sigma", "0"], "sigma"),
     (["-M", "10", "-n", "1", "-A", "-2"], "variance_scale"), (["-M", "10", "-n", "1", "-A", "nan"], "variance_scale"),
     (["-M", "inf", "-n", "1"], "sample_size"), (["-M", "ten", "-n", "1"], "sample_size"),
     (["-M", "10", "-n", "1.5"], "generations"), (["-M", "10", "-n", "1e400"], "generations"),
     (["-M", "10", "-n", "1", "--sigma", "inf"], "sigma"), (["-M", "10", "-n", "1", "--sigma=-1e100"], "sigma"),
     (["-M", "10", "-n", "1", "-A", "0"], "variance_scale"), (["-M", "1e400", "-n", "1"], "sample_size")],
)
def test_bad_input_one_line_exit_2(argv, parameter, run_cli):
    status, _, err = run_cli(["closed-form", *argv])
    assert status == 2
    assert err.count("\n") == 1 and f"{parameter}: must be" in err and "Traceback" not in err


def test_extreme_inputs(run_cli):
    """M = 1e20 and n = 1e9 are answered (O(log n) for constant M); values whose true result overflows float64
    are null in JSON with a note and 'overflow' in the table; never a traceback."""
    status, out, _ = run_cli(["closed-form", "-M", "1e20", "-n", "1", "1e9", "--json"])
    assert status == 0
    data = json.loads(out)
    assert data["sample_size"] == 10**20 and data["generations"] == [1, 10**9]
    assert data["mean_sq_error"] == pytest.approx([1e-20, 1e-11], rel=1e-14) and "overflow" not in data
    status, out, _ = run_cli(["closed-form", "-M", "100", "-n", "1", "--sigma", "1e100", "--json"])
    data = json.loads(out)
    assert status == 0 and data["variance_var"] == [None] and data["w2_sq_var"] == [None]
    assert data["overflow"] == {"variance_var": [1], "w2_sq_var": [1]} and "float64" in data["overflow_note"]
    assert data["variance_mean"] == pytest.approx([1e200], rel=1e-15)
    status, out, _ = run_cli(["closed-form", "-M", "100", "-n", "1", "1e9", "--sigma", "1e100"])
    assert status == 0 and "overflow" in out
