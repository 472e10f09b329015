"""Smoke tests of ``collapse-theory simulate``, ``verify`` and ``bench`` at tiny sizes."""

from __future__ import annotations

import json

import jax
import pytest

from theory.montecarlo import QUANTITIES
from theory.cli import main


@pytest.fixture(autouse=True)
def _restore_x64():
    previous = jax.config.jax_enable_x64  # the CLI switches float64 on; leave the process as it was
    yield
    jax.config.update("jax_enable_x64", previous)


def test_simulate_json(capsys):
    assert main(["simulate", "--sample-size", "5", "--generations", "0", "2", "--chains", "50", "--json",
                 "--quiet", "--mode", "samples", "--learner", "mle", "--variance-scale", "1.1", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["generations"] == [0, 2] and out["dtype"] == "float64"
    for key in QUANTITIES:
        assert len(out[key]) == 2 and len(out[key + "_se"]) == 2
    assert out["variance_mean"][0] == 1.0


def test_simulate_table(capsys):
    assert main(["simulate", "-M", "3", "-n", "1", "--chains", "20", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "w2_sq_mean" in text and "±" in text


@pytest.mark.parametrize(
    "argv, word",
    [
        (["simulate", "-M", "3", "-n", "1", "--chains", "0"], "chains"),
        (["simulate", "-M", "1", "-n", "1"], "sample_size"),
        (["simulate", "-M", "3", "-n", "-2"], "generations"),
        (["simulate", "-M", "3", "-n", "1", "--device", "tpu"], "device"),
        (["bench", "--device", "quantum"], "device"),
        (["verify", "--chains", "0"], "chains"),
    ],
)
def test_bad_input_exit_2(capsys, argv, word):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err


def test_gpu_absent(capsys):
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    assert main(["simulate", "-M", "3", "-n", "1", "--device", "gpu"]) == 2
    assert "device" in capsys.readouterr().err


def test_verify_tiny(capsys, monkeypatch):
    from theory.montecarlo import _verify

    monkeypatch.setattr(_verify, "QUICK_GRID", dict(sample_sizes=(3, 50), generations=(1, 3), variance_scales=(1.0,)))
    code = main(["verify", "--quick", "--chains", "4000", "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert out["passed"], [r for r in out["rows"] if r["tested"] and abs(r["z"]) > out["bound"]]
    assert code == 0
    assert out["budget"] == 1e-3 and out["tested"] > 0
    assert any(not r["tested"] for r in out["rows"])  # heavy-tailed cells are reported, not z-tested
    assert {r["mode"] for r in out["rows"]} == {"sufficient", "samples"}


def test_verify_help_states_budget(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    assert "false-failure budget" in capsys.readouterr().out


def test_bench_tiny_json(capsys):
    assert main(["bench", "--tiny", "--json", "--sample-size", "10"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("device", "sample_size", "rng_floor", "samples_mode", "numpy_loop", "numpy_vectorised",
                "sufficient_mode", "ratios", "targets_met"):
        assert key in out
    assert out["sample_size"] == 10 and all(out[k] > 0 for k in ("rng_floor", "samples_mode", "sufficient_mode"))
