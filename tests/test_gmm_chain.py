"""The GMM chain as a chain of the chain model (theory/chain/_gmm.py, theory/montecarlo/_gmm.py,
theory/decomposition/_gmm.py, theory/cli/_learned_gmm.py).

Statistical checks assert on z-scores with a false-failure budget of 1e-4 per test (two-sided normal bound,
Bonferroni over the comparisons in the test). The exact value checked is the Gaussian theory's ``E tr Sigma(G_n)``
of the mixture's total covariance, exact for every ``K`` (EM's M-step returns the training set's ML covariance as
the total covariance: theory/decomposition/_gmm.py).
"""

from __future__ import annotations

import argparse
import json

import jax
import numpy as np
import pytest
from scipy.stats import norm

from theory import ParameterError
from theory.chain import Workflow
from theory.chain._gmm import GMMChain, GMMLearner, parse_gmm_learner, parse_gmm_source
from theory.decomposition._gmm import gaussian_trace_prediction
from theory.montecarlo._gmm import (
    GMM,
    fit_em,
    simulate_gmm,
    split_init,
    summarise,
    training_set,
    w2_bracket,
)

pytestmark = pytest.mark.usefixtures("x64")

BUDGET = 1e-4


def z_bound(comparisons: int) -> float:
    return float(norm.isf(BUDGET / (2 * comparisons)))


# ------------------------------------------------------------------------------------------------ chain layer
@pytest.mark.parametrize("make, parameter", [
    (lambda: GMMLearner(0), "components"),
    (lambda: GMMLearner(1.5), "components"),
    (lambda: GMMLearner(2, tol=0), "tol"),
    (lambda: GMMLearner(2, tol=float("nan")), "tol"),
    (lambda: GMMLearner(2, max_iter=0), "max_iter"),
    (lambda: GMMLearner(2, reg_covar=-1e-6), "reg_covar"),
    (lambda: GMMLearner(2, reg_covar=0), "reg_covar"),  # K > 1 needs the regularisation
    (lambda: GMMLearner(2, reg_covar=1e300), "reg_covar"),  # printed nan for every quantity before
    (lambda: GMMChain(GMMLearner(2), 10), "sample_size"),  # 11 free parameters for K = 2, d = 2
    (lambda: GMMChain(GMMLearner(1), 4, source="normal:3"), "sample_size"),  # 9 for K = 1, d = 3
    (lambda: GMMChain(GMMLearner(2), 100, workflow="accumulate-subsample:10"), "workflow"),
    (lambda: GMMChain(GMMLearner(2), 100, source="three_gaussians"), "source"),
    (lambda: GMMChain(GMMLearner(2), 100, source="normal:0"), "source"),
    (lambda: GMMChain("gmm:2", 100), "learner"),
    (lambda: GMMChain(GMMLearner(2), 100, workflow="mix:0.001"), "workflow"),  # no real point
    (lambda: parse_gmm_learner("x"), "learner"),
    (lambda: parse_gmm_learner("0"), "learner"),
    (lambda: parse_gmm_learner("2,foo=1"), "learner"),
    (lambda: parse_gmm_learner("2,tol=-1"), "learner"),
])
def test_bad_input_names_the_parameter(make, parameter):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.parameter == parameter
    assert str(info.value).startswith(parameter + ":")


def test_chain_fields_and_spellings():
    chain = GMMChain(parse_gmm_learner("3,tol=1e-6,max_iter=50,reg_covar=1e-5"), 200, workflow="mix:0.25",
                     source="normal:2")
    assert (chain.learner, chain.sample_size, str(chain.workflow), chain.source.name) == (
        GMMLearner(3, tol=1e-6, max_iter=50, reg_covar=1e-5), 200, "mix:0.25", "normal:2")
    assert GMMLearner(1, reg_covar=0).reg_covar == 0.0
    assert isinstance(chain.workflow, Workflow)
    assert parse_gmm_learner(None) == GMMLearner(2)
    assert GMMChain(GMMLearner(2), 11).sample_size == 11  # exactly the free parameters
    two = parse_gmm_source("two_gaussians")
    assert np.allclose(two.mean, [-0.1, -0.05])
    # total covariance: mean of the component covariances plus the spread of the means
    spread = 0.25 * np.outer([-2.2, 1.7], [-2.2, 1.7])
    assert np.allclose(two.covariance, 0.5 * (two.covariances[0] + two.covariances[1]) + spread)
    assert [chain.training_size(n) for n in (0, 3)] == [200, 200]
    assert GMMChain(GMMLearner(1), 20, workflow="accumulate").training_size(3) == 80


# ------------------------------------------------------------------------------------------------ theory
def test_total_covariance_trace_matches_the_gaussian_theory():
    # K = 2 on the figures' set-up (blob, reg_covar 1e-6): E tr Sigma(G_n) = r^{n+1} tr Sigma_0 + d reg (...)
    chain = GMMChain(GMMLearner(2), 30, source="blob")
    gens = [0, 4, 12]
    run = simulate_gmm(jax.random.key(7), chain, generations=13, chains=400)
    summary = summarise(run, gens)
    exact, _ = gaussian_trace_prediction(chain, gens)
    r = 29 / 30
    assert exact[0] == pytest.approx(2 * r + 2e-6, rel=1e-12)
    z = (np.array(summary["trace"]) - exact) / np.array(summary["trace_se"])
    assert np.all(np.abs(z) < z_bound(len(gens))), z
    # the W2 bracket holds run by run (lower <= upper) and is 0 at generation 0
    assert np.all(np.array(summary["w2_sq_lower"]) <= np.array(summary["w2_sq_upper"]))
    assert summary["w2_sq_upper"][0] < 1e-12 and abs(summary["l2_squared"][0]) < 1e-12


def test_w2_bracket_brackets_the_sample_w2():
    # two well-separated 1-D mixtures: the W2^2 between them (quantile coupling of samples) lies in
    # [Gelbrich, mixture-W2]. Estimated from 20 independent pairs of samples of 20,000 points each: mean and
    # standard error over the pairs; each side asserted at |z| > 3.89 (one-sided, false-failure budget 1e-4 over
    # the two; the empirical W2^2 is biased upward by O(1/n), which only matters against the upper end)
    import jax.numpy as jnp

    from theory.montecarlo._gmm import sample

    p = GMM(jnp.array([0.3, 0.7]), jnp.array([[-2.0], [1.0]]), jnp.array([[[0.2]], [[0.5]]]))
    q = GMM(jnp.array([0.6, 0.4]), jnp.array([[-1.0], [2.5]]), jnp.array([[[0.4]], [[0.1]]]))
    lower, upper = w2_bracket(p, q)
    pairs, n = 20, 20_000
    estimates = np.empty(pairs)
    for i in range(pairs):  # one draw per sample (a draw from 20,000 points on lists its points by component)
        xp = np.sort(np.asarray(sample(jax.random.fold_in(jax.random.key(1), i), p, n))[:, 0])
        xq = np.sort(np.asarray(sample(jax.random.fold_in(jax.random.key(2), i), q, n))[:, 0])
        estimates[i] = np.mean((xp - xq) ** 2)
    w2, se = float(estimates.mean()), float(estimates.std(ddof=1) / np.sqrt(pairs))
    assert (w2 - lower) / se > 3.89 and (upper - w2) / se > 3.89, (lower, w2, se, upper)


@pytest.mark.slow
def test_every_workflow_refits_its_training_set_and_the_pools_have_the_right_size():
    # each workflow's T_n is rebuilt from the run's keys; EM on it from G_{n-1} gives G_n (same iterations), and
    # T_n holds M, (n + 1) M (accumulate) or K (accumulate-subsample) points
    for spelling in ("replace", "mix:0.3", "mix-fixed:0.3", "accumulate", "accumulate-subsample:40"):
        wf = Workflow.parse(spelling, real_weight=0.6) if spelling.startswith("mix") else spelling
        chain = GMMChain(GMMLearner(2), 50, workflow=wf, source="two_gaussians")
        run = simulate_gmm(jax.random.key(3), chain, generations=4, chains=2)
        for n in range(4):
            x, weights = training_set(run, chain, 1, n)
            assert x.shape == (chain.training_size(n), 2), spelling
            start = (split_init(x, 2) if n == 0 else
                     jax.tree.map(lambda a, n=n: a[1, n - 1], run.models))
            refit, used = fit_em(x, start, weights=weights)
            assert int(used) == int(run.iterations[1, n]), (spelling, n)
            for got, want in zip(refit, jax.tree.map(lambda a, n=n: a[1, n], run.models)):
                assert np.allclose(np.asarray(got), np.asarray(want), rtol=0, atol=1e-10), (spelling, n)


@pytest.mark.slow
def test_one_component_is_the_multivariate_mle_chain_under_accumulate():
    # K = 1, reg_covar = 0: the multivariate Gaussian chain (mle) at generation n + 1, any workflow; here
    # accumulate in 3 dimensions
    chain = GMMChain(GMMLearner(1, reg_covar=0), 12, workflow="accumulate", source="normal:3")
    gens = [0, 3, 9]
    summary = summarise(simulate_gmm(jax.random.key(5), chain, generations=10, chains=500), gens)
    exact, _ = gaussian_trace_prediction(chain, gens)
    z = (np.array(summary["trace"]) - exact) / np.array(summary["trace_se"])
    assert np.all(np.abs(z) < z_bound(len(gens))), z


# ------------------------------------------------------------------------------------------------ command line
def _args(**kw):
    base = {"sample_size": 30, "generations": [0, 4, 12], "chains": 400, "workflow": None, "real_weight": None,
            "seed": 7, "json": True, "quiet": True, "no_exact": False, "source": None, "dimension": None,
            "decompose": False}
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_json_keys(capsys):
    from theory.cli import _learned_gmm

    assert _learned_gmm.run(_args(), parse_gmm_learner("2")) == 0  # the same program as the trace test
    out = json.loads(capsys.readouterr().out)
    for key in ("learner", "sample_size", "workflow", "source", "seed", "generations", "l2_squared",
                "l2_squared_se", "w2_sq_lower", "w2_sq_lower_se", "w2_sq_upper", "w2_sq_upper_se", "trace",
                "trace_se", "exact", "z", "notes"):
        assert key in out, key
    assert out["learner"] == "gmm:2" and out["source"] == "blob" and out["generations"] == [0, 4, 12]
    assert len(out["z"]["trace"]) == 3
    with pytest.raises(ParameterError) as info:
        _learned_gmm.run(_args(dimension=3, source="blob"), parse_gmm_learner("2"))
    assert info.value.parameter == "dimension"
    with pytest.raises(ParameterError) as info:
        _learned_gmm.run(_args(workflow=Workflow.parse("accumulate"), generations=[10**6]), parse_gmm_learner("2"))
    assert info.value.parameter == "generations"
    assert isinstance(_learned_gmm.DESCRIPTION, str) and "gmm:K" in _learned_gmm.DESCRIPTION


@pytest.mark.slow
def test_decomposition_one_gaussian_fitted_to_two():
    # K = 1 cannot represent two_gaussians: the expressivity part carries most of e(0); the parts and e_none add
    # up to e_all by construction; the representable case has an expressivity part of exactly 0
    from theory.decomposition._gmm import gmm_decomposition

    chain = GMMChain(GMMLearner(1), 100, source="two_gaussians")
    result = gmm_decomposition(jax.random.key(2), chain, [0, 5], chains=20)
    parts, errors, ses = result.parts, result.errors, result.standard_errors
    for j in range(2):
        total = sum(parts[p][j] for p in ("statistical", "expressivity", "approximation", "interaction"))
        assert total + errors["none"][j] == pytest.approx(errors["all"][j], rel=1e-12)
    z = np.array(parts["expressivity"]) / np.array(ses["expressivity_part_se"])
    assert np.all(z > z_bound(2)), z  # one-sided in effect: the part is positive beyond noise
    assert parts["expressivity"][0] > 0.5 * errors["all"][0]
    representable = gmm_decomposition(jax.random.key(2), GMMChain(GMMLearner(2), 100, source="two_gaussians"),
                                      [3], chains=5)
    assert representable.parts["expressivity"] == [0.0]
