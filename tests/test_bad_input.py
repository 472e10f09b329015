"""Every input has its one-line error: a matrix of bad inputs over every command and the public API.

Command line: each case runs ``theory.cli.main(argv)`` in-process and must return 2 with exactly one line on
stderr that names the parameter, and no traceback (a few cases also run as a real subprocess). Python API: each
case must raise :class:`theory.ParameterError` whose ``parameter`` is the expected one and whose message is one
line. Cases cover each parameter at its boundaries, non-numbers, non-finite and huge values, wrong types,
malformed specs and files, unwritable outputs, and requests whose estimated cost is absurd (refused with the
estimate, before any work).
"""

from __future__ import annotations

import math
import subprocess
import sys

import jax
import numpy as np
import pytest

import theory
from theory import ParameterError
from theory.cli import main

# ----------------------------------------------------------------------------------------------- input files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_input")
    paths = {}

    def text(name, content):
        paths[name] = d / name
        paths[name].write_text(content)

    text("empty.csv", "")
    text("comments.csv", "# only a comment\n\n")
    text("three.csv", "1.0\n2.0\n3.5\n")
    text("words.csv", "1.0\nabc\n" + "\n".join(str(i) for i in range(30)))
    text("nan.csv", "\n".join(str(i) for i in range(30)) + "\nnan\n")
    text("constant.csv", "\n".join("2.5" for _ in range(30)))
    text("ragged.csv", "a,b\n" + "\n".join(f"{i},{i * i}" for i in range(30)) + "\n7\n")
    text("twocol.csv", "a,b\n" + "\n".join(f"{i},{(i * 7) % 11 + 0.5}" for i in range(30)))
    text("header_only.csv", "height\n")
    text("huge.csv", "\n".join(str(v) for v in np.r_[np.linspace(-1, 1, 30), 1e300, -1e300]))
    text("a_file", "not a folder")
    np.save(d / "complex.npy", np.arange(30) + 1j)
    np.save(d / "strings.npy", np.array(["a", "b"] * 20))
    np.save(d / "object.npy", np.array([{"a": 1}] * 30, dtype=object), allow_pickle=True)
    np.save(d / "cube.npy", np.zeros((4, 5, 6)) + np.arange(6))
    np.save(d / "empty.npy", np.array([]))
    np.save(d / "inf.npy", np.r_[np.arange(30.0), np.inf])
    (d / "junk.npy").write_bytes(bytes(range(256)) * 4)
    (d / "binary.csv").write_bytes(b"\x00\xff\xfe\x80" * 100)
    for name in ("complex.npy", "strings.npy", "object.npy", "cube.npy", "empty.npy", "inf.npy", "junk.npy",
                 "binary.csv"):
        paths[name] = d / name
    # covariance matrices (the multivariate chain's --covariance file:PATH)
    text("nonsymmetric.txt", "1 0.5\n0 1\n")
    text("not_pd.txt", "1 2\n2 1\n")
    text("not_square.txt", "1 0 0\n0 1 0\n")
    text("ragged_matrix.txt", "1 0\n0\n")
    text("nan_matrix.txt", "1 nan\nnan 1\n")
    text("cov3.txt", "2 0.5 0\n0.5 1 0.2\n0 0.2 0.5\n")
    paths["missing"] = d / "no_such_file.csv"
    paths["under_a_file"] = d / "a_file" / "figures"
    return paths


# ----------------------------------------------------------------------------------------------- command line
# (argv, the parameter the one error line must name); "{name}" is replaced by the path of a file above

CLI_CASES = [
    # no or unknown command, unknown option
    (["nonsense"], "invalid choice"),
    (["closed-form", "-M", "10", "-n", "1", "--bogus"], "unrecognized arguments"),
    # closed-form
    (["closed-form", "-M", "1", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "0", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "-5", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "2.5", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "ten", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "nan", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "inf", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "1e400", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "", "-n", "1"], "sample_size"),
    (["closed-form", "-M", "10", "-n", "-1"], "generations"),
    (["closed-form", "-M", "10", "-n", "1.5"], "generations"),
    (["closed-form", "-M", "10", "-n", "x"], "generations"),
    (["closed-form", "-M", "10", "-n", "nan"], "generations"),
    (["closed-form", "-M", "10", "-n", "1e400"], "generations"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "0"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "-1"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "nan"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "inf"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "1e400"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "-A", "x"], "variance_scale"),
    (["closed-form", "-M", "10", "-n", "1", "--sigma", "0"], "sigma"),
    (["closed-form", "-M", "10", "-n", "1", "--sigma", "-2"], "sigma"),
    (["closed-form", "-M", "10", "-n", "1", "--sigma", "inf"], "sigma"),
    (["closed-form", "-M", "10", "-n", "1", "--sigma", "x"], "sigma"),
    (["closed-form", "-M", "10", "-n", "1", "--learner", "ols"], "learner"),
    (["closed-form", "-n", "1"], "sample-size"),
    (["closed-form", "-M", "10"], "generations"),
    (["closed-form", "-M", "10", "-n", "1", "--json", "--latex"], "--latex"),
    # simulate
    (["simulate", "-M", "1", "-n", "1"], "sample_size"),
    (["simulate", "-M", "2.5", "-n", "1"], "sample_size"),
    (["simulate", "-M", "abc", "-n", "1"], "sample_size"),
    (["simulate", "-M", "1e400", "-n", "1"], "sample_size"),
    (["simulate", "-M", "10", "-n", "-3"], "generations"),
    (["simulate", "-M", "10", "-n", "x"], "generations"),
    (["simulate", "-M", "10", "-n", "1", "--chains", "0"], "chains"),
    (["simulate", "-M", "10", "-n", "1", "--chains", "1"], "chains"),
    (["simulate", "-M", "10", "-n", "1", "--chains", "1.5"], "chains"),
    (["simulate", "-M", "10", "-n", "1", "--chains", "many"], "chains"),
    (["simulate", "-M", "10", "-n", "1", "--chains", "1e15", "--no-exact"], "chains"),
    (["simulate", "-M", "10", "-n", "1e12", "--no-exact"], "generations"),
    (["simulate", "-M", "1e7", "-n", "1000", "--chains", "1e6", "--mode", "samples", "--no-exact"], "chains"),
    (["simulate", "-M", "3e9", "-n", "1", "--chains", "2", "--mode", "samples", "--no-exact"], "sample_size"),
    (["simulate", "-M", "10", "-n", "1", "--seed", "-1"], "seed"),
    (["simulate", "-M", "10", "-n", "1", "--seed", "18446744073709551616"], "seed"),
    (["simulate", "-M", "10", "-n", "1", "--seed", "1.5"], "seed"),
    (["simulate", "-M", "10", "-n", "1", "--seed", "x"], "seed"),
    (["simulate", "-M", "10", "-n", "1", "-A", "0"], "variance_scale"),
    (["simulate", "-M", "10", "-n", "1", "-A", "nan"], "variance_scale"),
    (["simulate", "-M", "10", "-n", "1", "--sigma", "0"], "sigma"),
    (["simulate", "-M", "10", "-n", "1", "--sigma", "inf"], "sigma"),
    (["simulate", "-M", "10", "-n", "1", "--sigma", "1e-30", "--dtype", "float32"], "sigma"),  # sigma**2 underflows
    (["simulate", "-M", "10", "-n", "1", "--sigma", "1e200"], "sigma"),  # sigma**2 overflows float64
    (["simulate", "-M", "10", "-n", "1", "--mu", "nan"], "mu"),
    (["simulate", "-M", "10", "-n", "1", "--mu", "-inf"], "mu"),
    (["simulate", "-M", "10", "-n", "1", "--mu", "x"], "mu"),
    (["simulate", "-M", "10", "-n", "1", "--mode", "exact"], "mode"),
    (["simulate", "-M", "10", "-n", "1", "--learner", "ols"], "learner"),
    (["simulate", "-M", "10", "-n", "1", "--device", "tpu"], "device"),
    (["simulate", "-M", "10", "-n", "1", "--dtype", "int32"], "dtype"),
    # verify
    (["verify", "--chains", "0"], "chains"),
    (["verify", "--chains", "2"], "chains"),
    (["verify", "--chains", "99"], "chains"),
    (["verify", "--chains", "x"], "chains"),
    (["verify", "--chains", "1e15", "-M", "10", "-n", "1", "--learner", "mle", "-A", "1"], "chains"),
    (["verify", "--budget", "0"], "budget"),
    (["verify", "--budget", "1"], "budget"),
    (["verify", "--budget", "-0.1"], "budget"),
    (["verify", "--budget", "nan"], "budget"),
    (["verify", "--budget", "x"], "budget"),
    (["verify", "--seed", "-1"], "seed"),
    (["verify", "-M", "1"], "sample_size"),
    (["verify", "-n", "0"], "generations"),
    (["verify", "-A", "0"], "variance_scale"),
    (["verify", "--learner", "ols"], "learner"),
    (["verify", "--device", "tpu", "--chains", "100", "-M", "10", "-n", "1"], "device"),
    # bench
    (["bench", "-M", "1"], "sample"),
    (["bench", "-M", "x"], "sample"),
    (["bench", "--device", "quantum"], "device"),
    (["bench", "--seed", "-1"], "seed"),
    (["bench", "--repeats", "0"], "repeats"),
    (["bench", "--repeats", "x"], "repeats"),
    # decompose: specs
    (["decompose", "--d0", "gamma:2", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "mixture:", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "mixture:1,0", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "mixture:1,0,1;x,1,1", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "mixture:0,0,1;0,1,1", "-M", "10", "-n", "1"], "mixture weights"),
    (["decompose", "--d0", "mixture:1,0,1;-2,1,1", "-M", "10", "-n", "1"], "mixture weight 2"),
    (["decompose", "--d0", "mixture:1,0,1;inf,1,1", "-M", "10", "-n", "1"], "mixture weight 2"),
    (["decompose", "--d0", "mixture:1,0,0", "-M", "10", "-n", "1"], "mixture sd 1"),
    (["decompose", "--d0", "mixture:1,nan,1", "-M", "10", "-n", "1"], "mixture mean 1"),
    (["decompose", "--d0", "mixture:1,1e200,1;1,-1e200,1", "-M", "10", "-n", "1"], "mixture"),
    (["decompose", "--d0", "student-t:2", "-M", "10", "-n", "1"], "student-t nu"),
    (["decompose", "--d0", "student-t:nan", "-M", "10", "-n", "1"], "student-t nu"),
    (["decompose", "--d0", "student-t", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "normal:0,-1", "-M", "10", "-n", "1"], "normal sd"),
    (["decompose", "--d0", "normal:0,1e200", "-M", "10", "-n", "1"], "normal sd"),
    (["decompose", "--d0", "normal:inf,1", "-M", "10", "-n", "1"], "normal mean"),
    (["decompose", "--d0", "normal:0", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "uniform:1,1", "-M", "10", "-n", "1"], "uniform high"),
    (["decompose", "--d0", "uniform:-1e300,1e300", "-M", "10", "-n", "1"], "uniform high"),
    (["decompose", "--d0", "laplace:0,0", "-M", "10", "-n", "1"], "laplace scale"),
    (["decompose", "--d0", "laplace:1e300,1", "-M", "10", "-n", "1"], "laplace scale"),
    # decompose: data files
    (["decompose", "--d0", "data:", "-M", "10", "-n", "1"], "d0"),
    (["decompose", "--d0", "data:{missing}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{empty.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{comments.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{three.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{words.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{nan.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{constant.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{ragged.csv}", "--column", "a", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{header_only.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{huge.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{binary.csv}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{complex.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{strings.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{object.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{cube.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{empty.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{inf.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{junk.npy}", "-M", "10", "-n", "1"], "data"),
    (["decompose", "--d0", "data:{twocol.csv}", "-M", "10", "-n", "1"], "column"),
    (["decompose", "--d0", "data:{twocol.csv}", "--column", "c", "-M", "10", "-n", "1"], "column"),
    (["decompose", "--d0", "data:{twocol.csv}", "--column", "5", "-M", "10", "-n", "1"], "column"),
    (["decompose", "--d0", "normal", "--column", "a", "-M", "10", "-n", "1"], "column"),
    # decompose: other options
    (["decompose", "--d0", "normal", "-M", "1", "-n", "1"], "sample_size"),
    (["decompose", "--d0", "normal", "-M", "1e400", "-n", "1"], "sample_size"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "0"], "generations"),
    (["decompose", "--d0", "normal", "-M", "10", "5", "-n", "4"], "generations"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "-A", "0"], "variance_scale"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "-A", "nan"], "variance_scale"),
    (["decompose", "--d0", "laplace", "-M", "10", "-n", "1", "--draws", "1"], "draws"),
    (["decompose", "--d0", "laplace", "-M", "10", "-n", "1", "--draws", "x"], "draws"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--seed", "-1"], "seed"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--learner", "ols"], "learner"),
    # --workflow and --real-weight: the same parsing in closed-form, simulate, verify and decompose
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:1.5"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:-0.1"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:nan"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:0.01"], "workflow"),  # round(0.1) = 0 real points
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix-fixed:0.04"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:1"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:11"], "workflow"),  # K > M_0
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:x"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate:3"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "bogus"], "workflow"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:0.5", "--real-weight", "1"], "real_weight"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:0.5", "--real-weight", "0"], "real_weight"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:0.5", "--real-weight", "nan"], "real_weight"),
    (["closed-form", "-M", "10", "-n", "1", "--real-weight", "0.5"], "real_weight"),  # without mix
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate", "--real-weight", "0.5"], "real_weight"),
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "mix:1", "--real-weight", "0.5"], "real_weight"),
    (["closed-form", "-M", "10", "-n", "1", "--limits"], "limits"),  # replace has no finite limits
    (["closed-form", "-M", "10", "-n", "1", "--workflow", "accumulate", "--latex", "-A", "1.2345678901"],
     "variance_scale"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "mix:2"], "workflow"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "mix:0.01"], "workflow"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:20"], "workflow"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "nope"], "workflow"),
    (["simulate", "-M", "10", "-n", "1", "--real-weight", "0.3"], "real_weight"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "mix:0.5", "--real-weight", "1.5"], "real_weight"),
    (["simulate", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:5", "--mode", "sufficient"], "mode"),
    (["verify", "--workflow", "bogus"], "workflow"),
    (["verify", "--workflow", "mix:1.2"], "workflow"),
    (["verify", "-M", "10", "--workflow", "accumulate-subsample:50"], "workflow"),
    (["verify", "--real-weight", "0.5"], "real_weight"),
    (["verify", "--chain", "discrete", "-M", "10"], "sample_size"),
    (["verify", "--chain", "discrete", "--workflow", "mix:0.5"], "workflow"),
    (["verify", "--chain", "poisson"], "--chain"),
    (["verify", "--workflow", "replace", "--real-weight", "0.5"], "real_weight"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--workflow", "mix:3"], "workflow"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:11"], "workflow"),
    (["decompose", "--d0", "laplace", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:5"], "workflow"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--real-weight", "0.2"], "real_weight"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--workflow", "mix:0.5", "--chains", "5"], "chains"),
    (["decompose", "--d0", "normal", "-M", "10", "-n", "1", "--chains", "500"], "chains"),
    # collapse-time
    (["collapse-time", "-M", "1", "-e", "0.5"], "sample_size"),
    (["collapse-time", "-M", "1e400", "-e", "0.5"], "sample_size"),
    (["collapse-time", "-M", "10", "-e", "0"], "epsilon"),
    (["collapse-time", "-M", "10", "-e", "1"], "epsilon"),
    (["collapse-time", "-M", "10", "-e", "nan"], "epsilon"),
    (["collapse-time", "-M", "10", "-e", "x"], "epsilon"),
    (["collapse-time", "-M", "10", "--median", "-1"], "generations"),
    (["collapse-time", "-M", "10", "--median", "1.5"], "generations"),
    (["collapse-time", "-M", "10", "--median", "1e400"], "generations"),
    (["collapse-time", "-M", "10", "-e", "0.5", "-A", "0"], "variance_scale"),
    (["collapse-time", "-M", "10", "-e", "0.5", "-A", "inf"], "variance_scale"),
    (["collapse-time", "-M", "10", "-e", "0.5", "--learner", "ols"], "learner"),
    (["collapse-time", "-M", "10", "-e", "0.5", "--max-generations", "0"], "max_generations"),
    (["collapse-time", "-M", "10"], "--epsilon"),
    # figures (bad cases are refused before anything is computed; --quick --only bounds the cost otherwise)
    (["figures", "--only", "f99_nothing"], "only"),
    (["figures", "--seed", "-1"], "seed"),
    (["figures", "--device", "tpu"], "device"),
    (["figures", "--quick", "--only", "f2_mean_error", "--out", "{a_file}"], "out"),
    (["figures", "--quick", "--only", "f2_mean_error", "--out", "{under_a_file}"], "out"),
    # discrete (issue 10: probabilities, K, T, top-p, top-k, language, K beyond the shipped list, workflow)
    (["discrete", "--source", "0.5,-0.2,0.7", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "0.5,nan,0.7", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "0.5,inf", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "0,0,0", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "1", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "uniform:1", "-M", "10", "-n", "1"], "source K"),
    (["discrete", "--source", "zipf:1:1e12", "-M", "10", "-n", "1"], "source K"),
    (["discrete", "--source", "zipf:-1:10", "-M", "10", "-n", "1"], "source A"),
    (["discrete", "--source", "zipf-mandelbrot:1:-2:10", "-M", "10", "-n", "1"], "source B"),
    (["discrete", "--source", "words:xx:100", "-M", "10", "-n", "1"], "source language"),
    (["discrete", "--source", "words:en:10000000", "-M", "10", "-n", "1"], "source K"),
    (["discrete", "--source", "file:{missing}", "-M", "10", "-n", "1"], "source file"),
    (["discrete", "--source", "file:{binary.csv}", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "gauss:1", "-M", "10", "-n", "1"], "source"),
    (["discrete", "--source", "uniform:5", "-M", "0", "-n", "1"], "sample_size"),
    (["discrete", "--source", "uniform:5", "-M", "1.5", "-n", "1"], "sample_size"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "-1"], "generations"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "-T", "0"], "temperature"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "-T", "-1"], "temperature"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "-T", "inf"], "temperature"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--top-p", "0"], "top_p"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--top-p", "1.5"], "top_p"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--top-k", "0"], "top_k"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--alpha", "-1"], "alpha"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--workflow", "accumulate-subsample:5"],
     "workflow"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--workflow", "mix:2"], "workflow"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--real-weight", "0.5"], "real_weight"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--chains", "1"], "chains"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--no-exact"], "no_exact"),
    (["discrete", "-M", "10", "-n", "1"], "--source"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--bounds", "--workflow", "mix:0.5"], "bounds"),
    (["discrete", "--source", "uniform:5", "-M", "10", "-n", "1", "--bounds", "-T", "2"], "bounds"),
]

# the multivariate chain (issue 11): --dimension/--covariance in closed-form, simulate and verify; the same cases for
# each command (a covariance that is not symmetric positive definite, d < 1, M <= d, a dimension mismatch, a
# missing or non-square file, a malformed spelling, 1-D options beside the multivariate ones)
_MULTIVARIATE_COMMON = [
    (["--covariance", "diag:1,-1"], "covariance"),
    (["--covariance", "diag:1,0"], "covariance"),
    (["--covariance", "diag:"], "covariance"),
    (["--covariance", "diag:1,x"], "covariance"),
    (["--covariance", "iso:-1", "--dimension", "2"], "covariance"),
    (["--covariance", "iso:nan", "--dimension", "2"], "covariance"),
    (["--covariance", "file:{nonsymmetric.txt}"], "covariance"),
    (["--covariance", "file:{not_pd.txt}"], "covariance"),
    (["--covariance", "file:{not_square.txt}"], "covariance"),
    (["--covariance", "file:{ragged_matrix.txt}"], "covariance"),
    (["--covariance", "file:{nan_matrix.txt}"], "covariance"),
    (["--covariance", "file:{binary.csv}"], "covariance"),
    (["--covariance", "file:{missing}"], "covariance"),
    (["--covariance", "file:"], "covariance"),
    (["--covariance", "gauss"], "covariance"),
    (["--dimension", "0"], "dimension"),
    (["--dimension", "-1"], "dimension"),
    (["--dimension", "2.5"], "dimension"),
    (["--dimension", "x"], "dimension"),
    (["--dimension", "3", "--covariance", "diag:1,2"], "covariance"),  # mismatch
    (["--dimension", "2", "--covariance", "file:{cov3.txt}"], "covariance"),
    (["--dimension", "6"], "sample_size"),  # M = 6 <= d
    (["--covariance", "diag:1,1,1,1,1,1,1"], "sample_size"),
    (["--dimension", "2", "--workflow", "accumulate-subsample:2"], "workflow"),  # K <= d
]
for _command in ("closed-form", "simulate", "verify"):
    _base = [_command, "-M", "6", "-n", "1"] + (["--no-exact"] if _command == "simulate" else [])
    CLI_CASES += [(_base + extra, word) for extra, word in _MULTIVARIATE_COMMON]
CLI_CASES += [
    (["closed-form", "-M", "6", "-n", "1", "--covariance", "iso"], "dimension"),  # the identity needs its size
    (["simulate", "-M", "6", "-n", "1", "--covariance", "iso:2"], "dimension"),  # (verify: the grid's d)
    (["closed-form", "-M", "6", "-n", "1", "--dimension", "2", "--sigma", "2"], "sigma"),
    (["closed-form", "-M", "6", "-n", "1", "--covariance", "diag:1,2", "--latex", "--workflow", "accumulate"],
     "workflow"),
    (["closed-form", "-M", "6", "-n", "1", "--dimension", "2", "--workflow", "accumulate", "--limits"], "limits"),
    (["simulate", "-M", "6", "-n", "1", "--dimension", "2", "--sigma", "2"], "sigma"),
    (["simulate", "-M", "6", "-n", "1", "--dimension", "2", "--mu", "1"], "mu"),
    (["simulate", "-M", "6", "-n", "1", "--dimension", "2", "--chains", "1e15", "--no-exact"], "chains"),
    (["simulate", "-M", "6", "-n", "1e9", "--dimension", "2", "--no-exact"], "generations"),
    (["simulate", "-M", "6", "-n", "1", "--dimension", "2", "--mode", "sufficient", "--workflow",
      "accumulate-subsample:4"], "mode"),
    (["simulate", "-M", "6", "-n", "1", "--dimension", "2", "--device", "tpu"], "device"),
    (["verify", "--chain", "discrete", "--dimension", "2"], "chain"),
    (["verify", "--chain", "gaussian", "--covariance", "diag:1,2"], "chain"),
    (["verify", "--chain", "multivariate", "-M", "2"], "sample_size"),  # the grid's d = 2 needs M >= 3
    (["verify", "--dimension", "2", "--chains", "99"], "chains"),
    (["verify", "--dimension", "2", "--real-weight", "0.5"], "real_weight"),
]
# the learned chains (issue 13 point 4): k < 1, h <= 0, a VAE that cannot train, too few samples, wrong flags
CLI_CASES += [
    (["simulate", "-M", "100", "-n", "1", "--learner", "svm"], "learner"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "gmm:0"], "learner"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "gmm:2.5"], "learner"),
    (["simulate", "-M", "5", "-n", "1", "--learner", "gmm:2"], "sample_size"),  # 11 free parameters in 2-D
    (["simulate", "-M", "100", "-n", "1", "--learner", "gmm:2", "--source", "uniform"], "source"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "gmm:2", "--sigma", "2"], "sigma"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "kde:0"], "bandwidth"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "kde:-0.5"], "bandwidth"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "kde:nan"], "bandwidth"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "kde:1e200"], "bandwidth"),
    (["simulate", "-M", "10", "-n", "1", "--learner", "kde:0.1", "--workflow", "accumulate-subsample:20"],
     "subsample"),
    (["simulate", "-M", "100", "-n", "1", "--learner", "vae:0"], "latent"),
    (["simulate", "-M", "10", "-n", "1", "--learner", "vae"], "sample_size"),  # a minibatch of 64 from 10 images
    (["simulate", "-M", "1797", "-n", "1", "--learner", "vae", "--source", "mnist"], "source"),
    (["simulate", "-M", "1797", "-n", "1", "--learner", "vae", "--workflow", "mix:0.5", "--real-weight", "0.3"],
     "real_weight"),
    (["simulate", "-M", "100", "-n", "1", "--source", "blob"], "source"),  # the Gaussian chain has no --source
    (["simulate", "-M", "100", "-n", "1", "--decompose"], "decompose"),
]


def _argv(argv, files):
    out = []
    for a in argv:
        for name, path in files.items():
            a = a.replace("{" + name + "}", str(path))
        out.append(a)
    return out


def _case_id(case):
    argv, word = case
    return " ".join(argv)[:80]


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")  # no writes into the user's cache from tests


@pytest.mark.parametrize("argv, word", CLI_CASES, ids=[_case_id(c) for c in CLI_CASES])
def test_cli_bad_input_one_line_exit_2(argv, word, files, capsys):
    code = main(_argv(argv, files))
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert word in err, err


# the same contract end to end, as a user sees it (exit status and stderr of the process)
SUBPROCESS_CASES = [
    ["simulate", "--seed", "18446744073709551616", "-M", "10", "-n", "1"],
    ["simulate", "-M", "10", "-n", "1", "--chains", "1e15", "--no-exact"],
    ["decompose", "--d0", "mixture:1,1e200,1;1,-1e200,1", "-M", "10", "-n", "1"],
    ["closed-form", "-M", "nan", "-n", "1"],
]


@pytest.mark.parametrize("argv", SUBPROCESS_CASES, ids=[" ".join(a)[:60] for a in SUBPROCESS_CASES])
def test_cli_bad_input_in_a_process(argv):
    proc = subprocess.run([sys.executable, "-m", "theory.cli", *argv], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "COLLAPSE_THEORY_NO_CACHE": "1"})
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""


# ----------------------------------------------------------------------------------------------- Python API


def _binary_file() -> str:
    """A file that is not UTF-8 text (parse_covariance must refuse it by name, not raise UnicodeDecodeError)."""
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as handle:
        handle.write(bytes([0x80, 0x81, 0xFF, 0x00]))
    return handle.name


def _chain(*args, **kwargs):
    return theory.GaussianChain(*args, **kwargs)


KEY = jax.random.key(0)


def _simulate(**kwargs):
    base = dict(key=KEY, chain=_chain(10), chains=10, generations=[1])
    base.update(kwargs)
    key, chain = base.pop("key"), base.pop("chain")
    return theory.simulate(key, chain, **base)


def _decompose(**kwargs):
    base = dict(d0="normal", generations=1, sample_size=10)
    base.update(kwargs)
    d0, generations = base.pop("d0"), base.pop("generations")
    return theory.decompose(d0, generations, **base)


API_CASES = [
    # GaussianChain
    ("GaussianChain(1)", lambda: _chain(1), "sample_size"),
    ("GaussianChain(2.5)", lambda: _chain(2.5), "sample_size"),
    ("GaussianChain(nan)", lambda: _chain(math.nan), "sample_size"),
    ("GaussianChain(inf)", lambda: _chain(math.inf), "sample_size"),
    ("GaussianChain('ten')", lambda: _chain("ten"), "sample_size"),
    ("GaussianChain(True)", lambda: _chain(True), "sample_size"),
    ("GaussianChain([])", lambda: _chain([]), "sample_size"),
    ("GaussianChain([10, 1])", lambda: _chain([10, 1]), "sample_size"),
    ("GaussianChain(learner)", lambda: _chain(10, learner="ols"), "learner"),
    ("GaussianChain(A=0)", lambda: _chain(10, variance_scale=0), "variance_scale"),
    ("GaussianChain(A=-1)", lambda: _chain(10, variance_scale=-1), "variance_scale"),
    ("GaussianChain(A=nan)", lambda: _chain(10, variance_scale=math.nan), "variance_scale"),
    ("GaussianChain(A=inf)", lambda: _chain(10, variance_scale=math.inf), "variance_scale"),
    ("GaussianChain(A='x')", lambda: _chain(10, variance_scale="x"), "variance_scale"),
    ("GaussianChain(sigma=0)", lambda: _chain(10, sigma=0), "sigma"),
    ("GaussianChain(sigma=-1)", lambda: _chain(10, sigma=-1), "sigma"),
    ("GaussianChain(sigma=inf)", lambda: _chain(10, sigma=math.inf), "sigma"),
    ("GaussianChain(mu=nan)", lambda: _chain(10, mu=math.nan), "mu"),
    ("GaussianChain(mu='x')", lambda: _chain(10, mu="x"), "mu"),
    # exact_values and friends
    ("exact_values(n=-1)", lambda: theory.exact_values(_chain(10), [-1]), "generations"),
    ("exact_values(n=1.5)", lambda: theory.exact_values(_chain(10), [1.5]), "generations"),
    ("exact_values(n='x')", lambda: theory.exact_values(_chain(10), "x"), "generations"),
    ("exact_values(n=[])", lambda: theory.exact_values(_chain(10), []), "generations"),
    ("exact_values(n=nan)", lambda: theory.exact_values(_chain(10), [math.nan]), "generations"),
    ("exact_values(chain='x')", lambda: theory.exact_values("x", [1]), "chain"),
    ("exact_values(schedule too short)", lambda: theory.exact_values(_chain([10, 10]), [5]), "generations"),
    ("exact_state(n=-1)", lambda: theory.exact_state(_chain(10), [-1]), "generations"),
    ("leading_order(n=-1)", lambda: theory.leading_order(_chain(10), [-1]), "generations"),
    ("expansion_error(chain=None)", lambda: theory.expansion_error(None, [1]), "chain"),
    ("published_expansions(n='x')", lambda: theory.published_expansions(_chain(10), "x"), "generations"),
    ("drift_partial_sums(n=-2)", lambda: theory.drift_partial_sums(_chain(10), [-2]), "generations"),
    ("step_moments(M=1)", lambda: theory.step_moments(1), "sample_size"),
    ("step_moments(learner)", lambda: theory.step_moments(10, "ols"), "learner"),
    ("step_moments(A=0)", lambda: theory.step_moments(10, "mle", 0), "variance_scale"),
    ("accuracy_limit(tolerance=0)", lambda: theory.accuracy_limit(_chain(10), "published", tolerance=0), "tolerance"),
    # derive
    ("derive(M=1)", lambda: theory.derive(1), "sample_size"),
    ("derive(M=-3)", lambda: theory.derive(-3), "sample_size"),
    ("derive(learner)", lambda: theory.derive(10, "foo"), "learner"),
    ("derive(A=-1)", lambda: theory.derive(10, "mle", -1), "variance_scale"),
    ("derive(sigma=-1)", lambda: theory.derive(10, "mle", 1, -1), "sigma"),
    ("derive(sigma=0)", lambda: theory.derive(10, "mle", 1, 0), "sigma"),
    # collapse_time, median_sd_ratio, sd_ratio_cdf
    ("collapse_time(epsilon=0)", lambda: theory.collapse_time(_chain(10), 0), "epsilon"),
    ("collapse_time(epsilon=1)", lambda: theory.collapse_time(_chain(10), 1), "epsilon"),
    ("collapse_time(epsilon=nan)", lambda: theory.collapse_time(_chain(10), math.nan), "epsilon"),
    ("collapse_time(epsilon='x')", lambda: theory.collapse_time(_chain(10), "x"), "epsilon"),
    ("collapse_time(chain='x')", lambda: theory.collapse_time("x", 0.5), "chain"),
    ("collapse_time(max_generations=0)", lambda: theory.collapse_time(_chain(10), 0.5, max_generations=0),
     "max_generations"),
    ("median_sd_ratio(n=-1)", lambda: theory.median_sd_ratio(_chain(10), -1), ("n", "generations")),
    ("median_sd_ratio(n=1.5)", lambda: theory.median_sd_ratio(_chain(10), 1.5), ("n", "generations")),
    ("median_sd_ratio(chain=3)", lambda: theory.median_sd_ratio(3, 1), "chain"),
    ("sd_ratio_cdf(ratio=nan)", lambda: theory.sd_ratio_cdf(_chain(10), 3, math.nan), "ratio"),
    # simulate
    ("simulate(key=None)", lambda: _simulate(key=None), "key"),
    ("simulate(key=5)", lambda: _simulate(key=5), "key"),
    ("simulate(key='seed')", lambda: _simulate(key="seed"), "key"),
    ("simulate(key=float array)", lambda: _simulate(key=np.zeros(3)), "key"),
    ("simulate(key=batch)", lambda: _simulate(key=jax.random.split(KEY, 2)), "key"),
    ("simulate(chain='x')", lambda: _simulate(chain="x"), "chain"),
    ("simulate(chains=0)", lambda: _simulate(chains=0), "chains"),
    ("simulate(chains=1)", lambda: _simulate(chains=1), "chains"),
    ("simulate(chains=2.5)", lambda: _simulate(chains=2.5), "chains"),
    ("simulate(chains='x')", lambda: _simulate(chains="x"), "chains"),
    ("simulate(chains=nan)", lambda: _simulate(chains=math.nan), "chains"),
    ("simulate(chains=1e15)", lambda: _simulate(chains=10**15), "chains"),
    ("simulate(generations=[])", lambda: _simulate(generations=[]), "generations"),
    ("simulate(generations=[-1])", lambda: _simulate(generations=[-1]), "generations"),
    ("simulate(generations=1e12)", lambda: _simulate(generations=[10**12]), "generations"),
    ("simulate(mode)", lambda: _simulate(mode="exact"), "mode"),
    ("simulate(dtype=int32)", lambda: _simulate(dtype="int32"), "dtype"),
    ("simulate(dtype='x')", lambda: _simulate(dtype="x"), "dtype"),
    ("simulate(device='tpu')", lambda: _simulate(device="tpu"), "device"),
    ("simulate(devices=[])", lambda: _simulate(devices=[]), "devices"),
    ("simulate(max_chunk_elements=0)", lambda: _simulate(max_chunk_elements=0), "max_chunk_elements"),
    ("simulate(max_seconds=-1)", lambda: _simulate(max_seconds=-1), "max_seconds"),
    ("simulate(symbolic chain)", lambda: _simulate(chain=theory.GaussianChain(__import__("sympy").Symbol("M"))),
     "chain"),
    # decompose
    ("decompose(d0='gamma')", lambda: _decompose(d0="gamma:2"), "d0"),
    ("decompose(d0=3)", lambda: _decompose(d0=3), "d0"),
    ("decompose(d0=None)", lambda: _decompose(d0=None), "d0"),
    ("decompose(d0=3 points)", lambda: _decompose(d0=[0.1, 0.5, 0.7]), "data"),
    ("decompose(d0=complex)", lambda: _decompose(d0=np.arange(30) + 1j), "data"),
    ("decompose(d0=+-1e300)", lambda: _decompose(d0=np.r_[np.linspace(-1, 1, 30), 1e300, -1e300]), "data"),
    ("decompose(d0=nan)", lambda: _decompose(d0=np.r_[np.arange(30.0), np.nan]), "data"),
    ("decompose(d0=2-D)", lambda: _decompose(d0=np.ones((30, 2)) * np.arange(2)), "data"),
    ("decompose(d0=strings)", lambda: _decompose(d0=["a"] * 30), "data"),
    ("decompose(d0=[])", lambda: _decompose(d0=[]), "data"),
    ("decompose(generations=0)", lambda: _decompose(generations=0), "generations"),
    ("decompose(generations='x')", lambda: _decompose(generations="x"), "generations"),
    ("decompose(sample_size=1)", lambda: _decompose(sample_size=1), "sample_size"),
    ("decompose(sample_size=nan)", lambda: _decompose(sample_size=math.nan), "sample_size"),
    ("decompose(learner)", lambda: _decompose(learner="ols"), "learner"),
    ("decompose(A=0)", lambda: _decompose(variance_scale=0), "variance_scale"),
    ("decompose(A=inf)", lambda: _decompose(variance_scale=math.inf), "variance_scale"),
    ("decompose(key=5)", lambda: _decompose(d0="laplace", key=5), "key"),
    ("decompose(key='k')", lambda: _decompose(key="k"), "key"),
    ("decompose(workflow='mix:2')", lambda: _decompose(workflow="mix:2"), "workflow"),
    ("decompose(workflow=mix:0.01)", lambda: _decompose(workflow="mix:0.01"), "workflow"),
    ("decompose(workflow='what')", lambda: _decompose(workflow="what"), "workflow"),
    ("decompose(laplace, accumulate-subsample)", lambda: _decompose(d0="laplace", workflow="accumulate-subsample:3"),
     "workflow"),
    ("decompose(chains=1)", lambda: _decompose(workflow="mix:0.5", chains=1), "chains"),
    ("decompose(draws=1)", lambda: _decompose(d0="laplace", draws=1), "draws"),
    ("decompose(draws=2.5)", lambda: _decompose(d0="laplace", draws=2.5), "draws"),
    # the discrete chain's model
    ("DiscreteLearner(T=0)", lambda: theory.DiscreteLearner(temperature=0), "temperature"),
    ("DiscreteLearner(T=nan)", lambda: theory.DiscreteLearner(temperature=math.nan), "temperature"),
    ("DiscreteLearner(top_k=0)", lambda: theory.DiscreteLearner(top_k=0), "top_k"),
    ("DiscreteLearner(top_k=2.5)", lambda: theory.DiscreteLearner(top_k=2.5), "top_k"),
    ("DiscreteLearner(top_p=0)", lambda: theory.DiscreteLearner(top_p=0), "top_p"),
    ("DiscreteLearner(top_p=1.01)", lambda: theory.DiscreteLearner(top_p=1.01), "top_p"),
    ("DiscreteLearner(alpha=-1)", lambda: theory.DiscreteLearner(alpha=-1), "alpha"),
    ("DiscreteLearner(alpha=inf)", lambda: theory.DiscreteLearner(alpha=math.inf), "alpha"),
    ("DiscreteChain(M=0)", lambda: theory.DiscreteChain("uniform:3", 0), "sample_size"),
    ("DiscreteChain(source=[1])", lambda: theory.DiscreteChain([1.0], 10), "source"),
    ("DiscreteChain(source=[-1, 2])", lambda: theory.DiscreteChain("-1,2", 10), "source"),
    ("DiscreteChain(workflow=accumulate-subsample)",
     lambda: theory.DiscreteChain("uniform:3", 10, workflow="accumulate-subsample:4"), "workflow"),
    ("DiscreteChain(learner='mle')", lambda: theory.DiscreteChain("uniform:3", 10, learner="mle"), "learner"),
    # the multivariate chain (issue 11)
    ("MultivariateGaussianChain(M = d)", lambda: theory.MultivariateGaussianChain(3, np.eye(3)), "sample_size"),
    ("MultivariateGaussianChain(M=1.5)", lambda: theory.MultivariateGaussianChain(1.5, np.eye(1)), "sample_size"),
    ("MultivariateGaussianChain(nonsymmetric)",
     lambda: theory.MultivariateGaussianChain(5, [[1.0, 0.5], [0.0, 1.0]]), "covariance"),
    ("MultivariateGaussianChain(not PD)", lambda: theory.MultivariateGaussianChain(5, [[1.0, 2.0], [2.0, 1.0]]),
     "covariance"),
    ("MultivariateGaussianChain(not square)", lambda: theory.MultivariateGaussianChain(5, np.ones((2, 3))),
     "covariance"),
    ("MultivariateGaussianChain(nan)", lambda: theory.MultivariateGaussianChain(5, [[1.0, math.nan], [math.nan, 1]]),
     "covariance"),
    ("MultivariateGaussianChain(strings)", lambda: theory.MultivariateGaussianChain(5, [["a"]]), "covariance"),
    ("MultivariateGaussianChain(empty)", lambda: theory.MultivariateGaussianChain(5, np.zeros((0, 0))), "covariance"),
    ("MultivariateGaussianChain(mean length)", lambda: theory.MultivariateGaussianChain(5, np.eye(2), mean=[0, 0, 0]),
     "mean"),
    ("MultivariateGaussianChain(mean inf)", lambda: theory.MultivariateGaussianChain(5, np.eye(2), mean=[0, math.inf]),
     "mean"),
    ("MultivariateGaussianChain(learner)", lambda: theory.MultivariateGaussianChain(5, np.eye(2), learner="ols"),
     "learner"),
    ("MultivariateGaussianChain(A=0)", lambda: theory.MultivariateGaussianChain(5, np.eye(2), variance_scale=0),
     "variance_scale"),
    ("MultivariateGaussianChain(K <= d)",
     lambda: theory.MultivariateGaussianChain(5, np.eye(2), workflow="accumulate-subsample:2"), "workflow"),
    ("parse_covariance('iso')", lambda: theory.chain.parse_covariance("iso"), "dimension"),
    ("parse_covariance(d=0)", lambda: theory.chain.parse_covariance("iso", 0), "dimension"),
    ("parse_covariance(mismatch)", lambda: theory.chain.parse_covariance("diag:1,2", 3), "covariance"),
    ("parse_covariance(missing file)", lambda: theory.chain.parse_covariance("file:/no/such/file.txt"),
     "covariance"),
    ("parse_covariance('diag:')", lambda: theory.chain.parse_covariance("diag:"), "covariance"),
    ("parse_covariance('diag:1,,2')", lambda: theory.chain.parse_covariance("diag:1,,2"), "covariance"),
    ("parse_covariance('iso:')", lambda: theory.chain.parse_covariance("iso:", 2), "covariance"),
    ("parse_covariance(binary file)", lambda: theory.chain.parse_covariance(f"file:{_binary_file()}"), "covariance"),
    ("parse_covariance('diag:1,-1')", lambda: theory.chain.parse_covariance("diag:1,-1"), "covariance"),
    ("parse_covariance(3)", lambda: theory.chain.parse_covariance(3), "covariance"),
    ("parse_covariance('gauss')", lambda: theory.chain.parse_covariance("gauss"), "covariance"),
    ("multivariate_exact_values(n=-1)",
     lambda: theory.multivariate_exact_values(theory.MultivariateGaussianChain(5, np.eye(2)), [-1]), "generations"),
    ("multivariate_exact_values(chain=1-D)", lambda: theory.multivariate_exact_values(_chain(10), [1]), "chain"),
    ("simulate_multivariate(chains=1)",
     lambda: theory.simulate_multivariate(theory.MultivariateGaussianChain(5, np.eye(2)), [1], chains=1), "chains"),
    ("simulate_multivariate(mode)",
     lambda: theory.simulate_multivariate(theory.MultivariateGaussianChain(5, np.eye(2)), [1], chains=10,
                                          mode="exact"), "mode"),
    ("simulate_multivariate(accumulate-subsample, sufficient)",
     lambda: theory.simulate_multivariate(theory.MultivariateGaussianChain(5, np.eye(2),
                                                                           workflow="accumulate-subsample:4"),
                                          [1], chains=10, mode="sufficient"), ("mode", "workflow")),
    ("verify_multivariate(chains=50)",
     lambda: __import__("theory.montecarlo._verify_multivariate", fromlist=["x"]).verify_multivariate(chains=50),
     "chains"),
    ("verify_multivariate(M <= d)",
     lambda: __import__("theory.montecarlo._verify_multivariate", fromlist=["x"]).verify_multivariate(
         dimensions=[3], sample_sizes=[3]), "sample_size"),
    ("verify_multivariate(budget=0)",
     lambda: __import__("theory.montecarlo._verify_multivariate", fromlist=["x"]).verify_multivariate(budget=0),
     "budget"),
]


@pytest.mark.parametrize("call, parameter", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_bad_input_parameter_error(call, parameter):
    """``parameter``: the name (or names) the error may give; an element of a schedule may be ``name[i]``."""
    with pytest.raises(ParameterError) as err:
        call()
    names = (parameter,) if isinstance(parameter, str) else parameter
    got = err.value.parameter
    assert any(got == name or got.startswith(name + "[") for name in names), str(err.value)
    message = str(err.value)
    assert "\n" not in message and message.startswith(got)


def test_matrix_size():
    assert len(CLI_CASES) + len(SUBPROCESS_CASES) + len(API_CASES) >= 100
    commands = {argv[0] for argv, _ in CLI_CASES}
    assert {"closed-form", "simulate", "verify", "bench", "decompose", "figures", "collapse-time",
            "discrete"} <= commands
