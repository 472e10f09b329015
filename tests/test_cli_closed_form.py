"""Smoke and contract tests of `collapse-theory closed-form`."""

import json

import numpy as np
import pytest

from theory import GaussianChain, exact_values
from theory.cli import main
from theory.numeric import QUANTITIES


def test_json_matches_exact_values(capsys):
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
    assert r"\mathbb{E}(\mu_n-\mu)^2 = \frac{n \sigma^{2}}{M}" in latex


@pytest.mark.parametrize(
    "argv,parameter",
    [(["-M", "1", "-n", "1"], "sample_size"), (["-M", "2.5", "-n", "1"], "sample_size"),
     (["-M", "10", "-n", "-1"], "generations"), (["-M", "10", "-n", "1", "--sigma", "0"], "sigma"),
     (["-M", "10", "-n", "1", "-A", "-2"], "variance_scale"), (["-M", "10", "-n", "1", "-A", "nan"], "variance_scale"),
     (["-M", "inf", "-n", "1"], "sample_size")],
)
def test_bad_input_one_line_exit_2(argv, parameter, capsys):
    assert main(["closed-form", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"error: {parameter}:" in err
