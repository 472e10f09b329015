"""Smoke tests of ``collapse-theory simulate``, ``verify`` and ``bench`` at tiny sizes."""

from __future__ import annotations

import json

import jax
import pytest

from theory.montecarlo import QUANTITIES
from theory.cli import main


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")  # the CLI's persistent cache stays out of the user's folder


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


def test_verify_constants_agree_with_the_library():
    from theory.cli import _cmd_verify
    from theory.montecarlo import _verify

    assert _cmd_verify.DEFAULT_BUDGET == _verify.DEFAULT_BUDGET and _cmd_verify.MIN_CHAINS == _verify.MIN_CHAINS


def test_verify_user_cell(capsys):
    # replace only: every workflow's kernels would compile (~100 s); test_cli_workflows covers --workflow
    code = main(["verify", "-M", "40", "-n", "3", "--learner", "mle", "-A", "1.05", "--chains", "2000", "--json",
                 "--quiet", "--workflow", "replace"])
    out = json.loads(capsys.readouterr().out)
    assert {(r["sample_size"], r["generation"], r["learner"], r["variance_scale"]) for r in out["rows"]} == {
        (40, 3, "mle", 1.05)}
    assert out["tested"] > 0 and code == (0 if out["passed"] else 1)


def test_verify_that_tests_nothing_fails(capsys, monkeypatch):
    from theory.montecarlo import _verify

    # with 100 chains only the log-variance mean (kurtosis 1) is testable; at M = 2 and n = 200 its SE is fine,
    # so make every cell untestable by asking for quantities whose kurtosis is huge: drop the log-variance one
    monkeypatch.setattr(_verify, "_POWER", {q: (p if p else 4) for q, p in _verify._POWER.items()})
    code = main(["verify", "-M", "2", "-n", "50", "--chains", "100", "--json", "--quiet", "--workflow", "replace"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["tested"] == 0 and out["passed"] is False and code == 1
    assert "nothing was z-tested" in captured.err


def test_simulate_exact_and_z(capsys):
    assert main(["simulate", "-M", "1e2", "-n", "4", "--chains", "2000", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    for q in QUANTITIES:
        assert out["exact"][q][0] is not None
        z = (out[q][0] - out["exact"][q][0]) / out[q + "_se"][0]
        assert out["z"][q][0] == pytest.approx(z)
    assert out["notes"] == {}


def test_simulate_overflow_is_null_with_a_note(capsys):
    assert main(["simulate", "-M", "3", "-n", "400", "-A", "10", "--chains", "100", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variance_mean"] == [None] and "overflow" in out["notes"]["variance_mean"]
    assert out["exact"]["variance_mean"] == [None] and "overflow" in out["notes"]["exact.variance_mean"]
    assert out["log_variance_mean"][0] is not None and out["z"]["log_variance_mean"][0] is not None


def test_imports_stay_lazy():
    """``import theory`` loads neither SymPy nor JAX, and a command without Monte Carlo never imports JAX."""
    import subprocess
    import sys

    script = (
        "import sys, theory\n"
        "assert 'sympy' not in sys.modules and 'jax' not in sys.modules, 'import theory is not lazy'\n"
        "from theory import GaussianChain, exact_values, simulate\n"
        "assert 'jax' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    script = (
        "import sys\nfrom theory.cli import main\n"
        "assert main(['closed-form', '-M', '10', '-n', '3', '--json']) == 0\n"
        "assert 'jax' not in sys.modules, 'closed-form imported JAX'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, capture_output=True)


def test_ctrl_c_exits_130_with_one_line(capsys, monkeypatch):
    from theory.cli import _cmd_simulate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_cmd_simulate, "run", interrupted)
    assert main(["simulate", "-M", "3", "-n", "1"]) == 130
    err = capsys.readouterr().err
    assert err == "collapse-theory: interrupted\n"


@pytest.mark.slow
def test_ctrl_c_during_a_long_run_acts_within_seconds():
    """SIGINT while compiled segments run: exit 130 and one line, within seconds (segments are ~1 s of work)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, COLLAPSE_THEORY_NO_CACHE="1")
    proc = subprocess.Popen([sys.executable, "-m", "theory.cli", "simulate", "-M", "1e7", "-n", "50", "--chains",
                             "1000", "--mode", "samples", "--no-exact", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(12)  # JAX start-up and compilation, then well inside the run (it needs many minutes)
    assert proc.poll() is None
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "collapse-theory: interrupted\n", err
    assert time.perf_counter() - start < 15
