"""Monte Carlo of the multivariate Gaussian chain (theory.montecarlo._multivariate) against exact values.

Exact values used here are derived in the tests from the Wishart one-step law (not transcribed from the exact
module, which is checked against this Monte Carlo elsewhere): given generation ``i``, ``Sigma_{i+1} = c L W L^T``
with ``c = A / divisor``, ``W ~ Wishart_d(M - 1, I)`` and, by the Bartlett decomposition, ``det W`` a product of
independent ``chi2_{M-1-k}`` (``k = 0..d-1``). Hence

* ``E Sigma_{i+1} | Sigma_i = c (M - 1) Sigma_i``, so ``E tr Sigma_n = (c (M - 1))**n tr Sigma``;
* ``mu_{i+1} - mu_i ~ N(0, Sigma_i / M)``, increments uncorrelated, so ``E||mu_n - mu||**2 = sum_{i<n} E tr Sigma_i / M``;
* ``E log det Sigma_{i+1} - log det Sigma_i = d log c + sum_k (log 2 + digamma((M-1-k)/2))`` (a constant);
* ``E det Sigma_{i+1} | Sigma_i = c**d prod_k (M - 1 - k) det Sigma_i``.

False-failure budget: 1e-4 per test function, split (Bonferroni) over its assertions: ``|z| < norm.isf(1e-4/(2k))``.
``det`` and the variance of the trace are heavy-tailed (their standard errors come from sample moments that are
unreliable when the tails are heavy), so they are z-tested only at early generations, where the tails are light.
"""

import math

import jax
import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import norm

import theory
from theory.chain._multivariate import MultivariateGaussianChain
from theory.montecarlo._multivariate import KEYS, MODES, simulate_multivariate
from theory.numeric._multivariate_exact import multivariate_exact_values

pytestmark = pytest.mark.usefixtures("x64")

BUDGET = 1e-4

SIGMA3 = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])


def _bound(assertions: int) -> float:
    return float(norm.isf(BUDGET / (2 * assertions)))


def _exact(chain, n):
    """The exact values of the module doc at generation ``n`` (``n`` an integer)."""
    d, m = chain.dimension, chain.sample_size
    c = chain.variance_scale / chain.divisor
    sigma = np.asarray(chain.covariance)
    growth = c * (m - 1)
    log_det_step = d * math.log(c) + sum(math.log(2.0) + digamma((m - 1 - k) / 2) for k in range(d))
    det_step = c**d * math.prod(m - 1 - k for k in range(d))
    return {
        "trace_mean": growth**n * np.trace(sigma),
        "mean_sq_error": sum(growth**i for i in range(n)) * np.trace(sigma) / m,
        "log_det_mean": n * log_det_step,
        "det_mean": det_step**n * np.linalg.det(sigma),
    }


#: One chain, both modes, shared by the tests below (each compile of a sufficient-mode run costs seconds).
CHAIN = MultivariateGaussianChain(6, SIGMA3, learner="mle", variance_scale=1.2)
GENERATIONS = [0, 1, 2, 5]
CHAINS = 20_000


@pytest.fixture(scope="module")
def runs():
    # float64: simulate_multivariate switches x64 on for its own run
    return {mode: simulate_multivariate(CHAIN, GENERATIONS, chains=CHAINS, seed=seed, mode=mode,
                                        max_block_elements=2**20)  # several blocks, the last partly masked
            for seed, mode in enumerate(("sufficient", "samples"))}


def test_modes_agree_in_distribution(runs):
    a, b = runs["sufficient"], runs["samples"]
    reported = range(1, len(GENERATIONS))
    checks = [(key, i) for key in ("mean_sq_error", "trace_mean", "log_det_mean", "w2_sq_mean") for i in reported]
    checks += [("det_mean", 1), ("trace_var", 1)]  # heavy tails later on (module doc)
    eig = [(g, k) for g in reported for k in range(CHAIN.dimension)]
    bound = _bound(len(checks) + len(eig))
    for key, i in checks:
        z = (a.mean[key][i] - b.mean[key][i]) / math.hypot(a.se[key][i], b.se[key][i])
        assert abs(z) < bound, (key, GENERATIONS[i], z)
    for g, k in eig:
        z = (a.eigenvalues[g, k] - b.eigenvalues[g, k]) / math.hypot(a.eigenvalues_se[g, k], b.eigenvalues_se[g, k])
        assert abs(z) < bound, ("eigenvalue", GENERATIONS[g], k, z)


def _check_exact(result, chain, generations, det_generations):
    covariance = np.asarray(chain.covariance)
    # generation 0 is p_0 itself: exact up to rounding, with zero spread
    for key in ("mean_sq_error", "log_det_mean", "w2_sq_mean"):
        assert abs(result.mean[key][0]) < 1e-12, key
    assert result.mean["trace_mean"][0] == pytest.approx(np.trace(covariance), rel=1e-12)
    assert result.mean["det_mean"][0] == pytest.approx(np.linalg.det(covariance), rel=1e-12)
    np.testing.assert_allclose(result.eigenvalues[0], np.linalg.eigvalsh(covariance), rtol=1e-12)
    checks = [(key, i) for key in ("trace_mean", "mean_sq_error", "log_det_mean") for i in range(1, len(generations))]
    checks += [("det_mean", i) for i in det_generations]
    bound = _bound(len(checks))
    for key, i in checks:
        exact = _exact(chain, generations[i])[key]
        z = (result.mean[key][i] - exact) / result.se[key][i]
        assert abs(z) < bound, (key, generations[i], result.mean[key][i], exact, z)


@pytest.mark.parametrize("mode", ["sufficient", "samples"])
def test_exact_moments(runs, mode):
    _check_exact(runs[mode], CHAIN, GENERATIONS, det_generations=(1, 2))


@pytest.mark.slow
@pytest.mark.parametrize("sample_size, covariance, chains", [
    (7, np.diag([3.0, 1.0, 0.5, 0.1]), 20_000),
    (22, np.diag(np.linspace(0.05, 2.0, 20)) + 0.02, 4_000),  # d = 20, M = d + 2
])
def test_exact_moments_unbiased(sample_size, covariance, chains):
    chain = MultivariateGaussianChain(sample_size, covariance)
    generations = [0, 1, 2, 5]
    for mode in ("sufficient", "samples"):
        result = simulate_multivariate(chain, generations, chains=chains, seed=3, mode=mode)
        _check_exact(result, chain, generations, det_generations=(1,))


def test_against_multivariate_exact_values(runs):
    # the exact module (mpmath) including Var tr Sigma_n, which the tests above do not derive; both modes
    exact = multivariate_exact_values(CHAIN, GENERATIONS)
    keys = ("mean_sq_error", "trace_mean", "log_det_mean")
    checks = [(mode, key, i) for mode in runs for key in keys for i in range(1, len(GENERATIONS))]
    checks += [(mode, key, i) for mode in runs for key in ("det_mean", "trace_var") for i in (1, 2)]
    bound = _bound(len(checks))
    for mode, key, i in checks:
        result = runs[mode]
        z = (result.mean[key][i] - exact[key][i]) / result.se[key][i]
        assert abs(z) < bound, (mode, key, GENERATIONS[i], z)


def test_dimension_one_matches_the_exact_one_dimensional_chain():
    # every key against theory.exact_values of the 1-D chain, w2_sq_mean included (exact in 1-D)
    variance = 2.0
    multi = MultivariateGaussianChain(4, [[variance]], learner="mle", variance_scale=1.1)
    single = theory.GaussianChain(sample_size=4, learner="mle", variance_scale=1.1, sigma=math.sqrt(variance))
    generations = [1, 2, 4]
    a = simulate_multivariate(multi, generations, chains=20_000, seed=5, mode="samples")
    b = theory.exact_values(single, generations)
    pairs = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"),
             ("log_det_mean", "log_variance_mean"), ("w2_sq_mean", "w2_sq_mean"), ("det_mean", "variance_mean")]
    checks = [(mine, theirs, i) for mine, theirs in pairs for i in range(len(generations))]
    checks += [("trace_var", "variance_var", 0)]
    bound = _bound(len(checks))
    for mine, theirs, i in checks:
        z = (a.mean[mine][i] - b[theirs][i]) / a.se[mine][i]
        assert abs(z) < bound, (mine, generations[i], z)


def test_bures_wasserstein_and_spectrum_of_one_state():
    # the per-chain values against scipy's matrix square root, for one random state (no randomness in the check)
    import jax.numpy as jnp
    from scipy.linalg import sqrtm

    from theory.montecarlo._multivariate import _block_values

    rng = np.random.default_rng(0)
    d = 4
    sigma = np.cov(rng.normal(size=(d, 3 * d)))
    chol_n = np.tril(rng.normal(size=(d, d)))
    np.fill_diagonal(chol_n, np.abs(np.diag(chol_n)) + 0.1)
    sigma_n = chol_n @ chol_n.T
    error = rng.normal(size=d)
    root = np.real(sqrtm(sigma))
    top = np.abs(chol_n).max()
    values = np.asarray(_block_values(jnp.asarray(error[None]), jnp.asarray(chol_n[None] / top),
                                      jnp.asarray([math.log(top)]), jnp.asarray(np.log(np.diag(chol_n))[None]),
                                      float(np.linalg.slogdet(sigma)[1]), float(np.trace(sigma)), jnp.asarray(root)))[0]
    w2 = error @ error + np.trace(sigma_n) + np.trace(sigma) - 2 * np.trace(np.real(sqrtm(root @ sigma_n @ root)))
    eig = np.linalg.eigvalsh(sigma_n)
    share = eig / eig.sum()
    effective_rank = np.exp(-np.sum(share * np.log(share)))
    expected = [error @ error, np.trace(sigma_n), np.linalg.det(sigma_n),
                np.linalg.slogdet(sigma_n)[1] - np.linalg.slogdet(sigma)[1], w2, effective_rank, *eig]
    np.testing.assert_allclose(values, expected, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["samples", "sufficient"])
def test_dimension_one_matches_the_one_dimensional_chain(mode):
    variance = 2.0
    multi = MultivariateGaussianChain(4, [[variance]], learner="mle", variance_scale=1.1)
    single = theory.GaussianChain(sample_size=4, learner="mle", variance_scale=1.1, sigma=math.sqrt(variance))
    generations = [1, 2, 4]
    a = simulate_multivariate(multi, generations, chains=20_000, seed=5, mode=mode)
    b = theory.simulate(jax.random.key(11), single, chains=20_000, generations=generations)
    pairs = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"),
             ("log_det_mean", "log_variance_mean"), ("w2_sq_mean", "w2_sq_mean")]
    checks = [(mine, theirs, i) for mine, theirs in pairs for i in range(len(generations))]
    checks += [("trace_var", "variance_var", 0), ("det_mean", "variance_mean", 0)]  # det = trace = sigma**2
    bound = _bound(len(checks) + 1)
    for mine, theirs, i in checks:
        z = (a.mean[mine][i] - b[theirs][i]) / math.hypot(a.se[mine][i], b[theirs + "_se"][i])
        assert abs(z) < bound, (mine, generations[i], z)
    # d = 1: det = trace = the one eigenvalue, chain by chain
    np.testing.assert_allclose(a.mean["det_mean"], a.mean["trace_mean"], rtol=1e-12)
    np.testing.assert_allclose(a.eigenvalues[:, 0], a.mean["trace_mean"], rtol=1e-12)


@pytest.mark.parametrize("mode", ["samples", "sufficient"])
def test_volume_collapse_does_not_underflow(mode):
    # M = d + 1: log det falls by about 2.5 per generation, so det Sigma_n of a typical chain underflows float64
    # (log < -745) near n = 290, yet log det stays exact (kept as a sum of logs of the Cholesky diagonal)
    chain = MultivariateGaussianChain(3, np.diag([1.0, 0.25]))
    generations = [400]
    result = simulate_multivariate(chain, generations, chains=400, seed=1, mode=mode)
    bound = _bound(1)
    for i, n in enumerate(generations):
        exact = _exact(chain, n)["log_det_mean"]
        assert exact < -800
        z = (result.mean["log_det_mean"][i] - exact) / result.se["log_det_mean"][i]
        assert abs(z) < bound, (n, z)
    assert np.all(np.isfinite(result.eigenvalues)) and np.all(result.eigenvalues >= 0)
    assert np.all(np.isfinite(result.mean["w2_sq_mean"]))


def test_same_seed_same_numbers(runs):
    first = runs["samples"]
    again = simulate_multivariate(CHAIN, GENERATIONS[::-1], chains=CHAINS, seed=1, mode="samples",
                                  max_block_elements=2**20)
    other = simulate_multivariate(CHAIN, GENERATIONS, chains=CHAINS, seed=2, mode="samples",
                                  max_block_elements=2**20)
    for key in KEYS:
        np.testing.assert_array_equal(first.mean[key], again.mean[key])
        np.testing.assert_array_equal(first.se[key], again.se[key])
        assert not np.array_equal(first.mean[key][1:], other.mean[key][1:]), key
    np.testing.assert_array_equal(first.eigenvalues, again.eigenvalues)
    data = first.to_dict()
    assert data["generations"] == GENERATIONS and len(data["eigenvalues"]) == len(GENERATIONS)
    assert "trace_var_se" in data and data["notes"] == {}


@pytest.mark.parametrize("mode", ["samples", pytest.param("sufficient", marks=pytest.mark.slow)])
def test_float32_runs(mode):
    single = simulate_multivariate(CHAIN, [2, 3], chains=64, seed=7, mode=mode, dtype="float32")
    assert single.dtype == "float32" and not single.notes
    assert all(np.all(np.isfinite(single.mean[key])) for key in KEYS)


@pytest.mark.parametrize(
    "change, parameter",
    [
        ({"chain": theory.GaussianChain(sample_size=4)}, "chain"),
        ({"chains": 1}, "chains"),
        ({"chains": 2.5}, "chains"),
        ({"generations": -1}, "generations"),
        ({"generations": []}, "generations"),
        ({"seed": -1}, "seed"),
        ({"mode": "exact"}, "mode"),
        ({"dtype": "int32"}, "dtype"),
        ({"dtype": "float16"}, "dtype"),
        ({"max_block_elements": 0}, "max_block_elements"),
        ({"mode": "samples", "max_block_elements": 40}, "mode"),  # M * d draws of one chain exceed the budget
    ],
)
def test_bad_input(change, parameter):
    arguments = {"chain": MultivariateGaussianChain(4, np.eye(2)), "generations": [1], "chains": 10}
    arguments.update(change)
    chain = arguments.pop("chain")
    generations = arguments.pop("generations")
    with pytest.raises(theory.ParameterError) as error:
        simulate_multivariate(chain, generations, **arguments)
    assert error.value.parameter == parameter
    assert str(error.value).startswith(parameter + ":")


# ---------------------------------------------------------------------------------------------------- workflows
# Exact first moments under every workflow come from the 1-D chain: the projection of the chain on a coordinate
# axis is the 1-D chain with the same workflow and sigma**2 = Sigma_kk (chain/_multivariate's module doc), so
# E||mu_n - mu||**2 = tr Sigma * (1-D E(mu_n - mu)**2 at sigma = 1) and E tr Sigma_n = tr Sigma * (1-D E sigma_n**2
# at sigma = 1), with the 1-D values from theory.exact_values.

WORKFLOW_SIGMA = np.array([[2.0, 0.5], [0.5, 1.0]])
WORKFLOW_GENERATIONS = [0, 1, 2, 6]
#: Workflows of the default run's fixture and their modes: each (workflow, mode) compiles a program of a few
#: seconds, so mix-fixed and accumulate-subsample at d = 2, the weighted fits and d = 5 are slow tests (the default
#: run has mix-fixed in the collapse test and accumulate-subsample at d = 1).
WORKFLOW_CASES = {"mix:0.4": ("sufficient", "samples"), "accumulate": ("sufficient", "samples")}
SLOW_WORKFLOW_CASES = {"mix-fixed:0.4": ("sufficient", "samples"), "accumulate-subsample:4": ("samples",)}
LEARNERS = ("mle", "unbiased")


def _workflow_chain(workflow, learner, sample_size=5, covariance=WORKFLOW_SIGMA):
    return MultivariateGaussianChain(sample_size, covariance, learner=learner, variance_scale=1.1,
                                     workflow=workflow)


_ONE_DIMENSIONAL = {}


def _one_dimensional(chain, generations):
    """theory.exact_values of the 1-D chain with the chain's M, learner, A and workflow (cached: the workflows'
    exact route takes about a second)."""
    key = (chain.sample_size, chain.learner, chain.variance_scale, chain.workflow, tuple(generations))
    if key not in _ONE_DIMENSIONAL:
        single = theory.GaussianChain(sample_size=chain.sample_size, learner=chain.learner,
                                      variance_scale=chain.variance_scale, workflow=chain.workflow)
        _ONE_DIMENSIONAL[key] = theory.exact_values(single, generations)
    return _ONE_DIMENSIONAL[key]


def _workflow_runs(cases, seed):
    # a distinct seed per run, so that the modes' runs are independent; the learner changes only runtime
    # constants, so each (workflow, mode) compiles once
    runs = {}
    for workflow, modes in cases.items():
        for mode in modes:
            for learner in LEARNERS:
                seed += 1
                runs[workflow, mode, learner] = simulate_multivariate(
                    _workflow_chain(workflow, learner), WORKFLOW_GENERATIONS, chains=10_000, seed=seed,
                    mode=None if workflow.startswith("accumulate-subsample") else mode)  # None: its default
    return runs


@pytest.fixture(scope="module")
def workflow_runs():
    return _workflow_runs(WORKFLOW_CASES, 100)


def _check_first_moments(runs, generations, reported):
    """z-tests of E||mu_n - mu||**2 and E tr Sigma_n against tr Sigma times the 1-D exact values, at the reported
    generations (indices into ``generations``), Bonferroni over all of them."""
    checks = []
    for (chain, mode), result in runs.items():
        exact = _one_dimensional(chain, generations)
        trace = float(np.trace(chain.covariance))
        for i in reported:
            checks.append((chain, mode, "mean_sq_error", i, result, trace * exact["mean_sq_error"][i]))
            checks.append((chain, mode, "trace_mean", i, result, trace * exact["variance_mean"][i]))
    bound = _bound(len(checks))
    for chain, mode, key, i, result, exact in checks:
        z = (result.mean[key][i] - exact) / result.se[key][i]
        assert abs(z) < bound, (str(chain.workflow), chain.learner, mode, key, generations[i], z)


def test_workflows_first_moments_match_the_one_dimensional_chain(workflow_runs):
    runs = {(_workflow_chain(w, learner), mode): result for (w, mode, learner), result in workflow_runs.items()}
    _check_first_moments(runs, WORKFLOW_GENERATIONS, range(1, len(WORKFLOW_GENERATIONS)))


@pytest.mark.slow
def test_workflows_first_moments_match_the_one_dimensional_chain_slow():
    workflow_runs = _workflow_runs(SLOW_WORKFLOW_CASES, 150)
    assert workflow_runs["accumulate-subsample:4", "samples", "mle"].mode == "samples"  # run with mode=None
    runs = {(_workflow_chain(w, learner), mode): result for (w, mode, learner), result in workflow_runs.items()}
    _check_first_moments(runs, WORKFLOW_GENERATIONS, range(1, len(WORKFLOW_GENERATIONS)))
    test_workflow_modes_agree_in_distribution(workflow_runs, "mix-fixed:0.4")


@pytest.mark.parametrize("workflow", ["mix:0.4", "accumulate"])  # mix-fixed: a slow test
def test_workflow_modes_agree_in_distribution(workflow_runs, workflow):
    # every key (det and Var tr at n <= 2: heavier tails) and the mean spectrum, both learners
    reported = range(1, len(WORKFLOW_GENERATIONS))
    keys = ("mean_sq_error", "trace_mean", "log_det_mean", "w2_sq_mean", "effective_rank_mean")
    checks = [(learner, key, i) for learner in LEARNERS for key in keys for i in reported]
    checks += [(learner, key, i) for learner in LEARNERS for key in ("det_mean", "trace_var") for i in (1, 2)]
    eig = [(learner, i, k) for learner in LEARNERS for i in reported for k in range(2)]
    bound = _bound(len(checks) + len(eig))
    for learner, key, i in checks:
        a, b = workflow_runs[workflow, "sufficient", learner], workflow_runs[workflow, "samples", learner]
        z = (a.mean[key][i] - b.mean[key][i]) / math.hypot(a.se[key][i], b.se[key][i])
        assert abs(z) < bound, (learner, key, WORKFLOW_GENERATIONS[i], z)
    for learner, i, k in eig:
        a, b = workflow_runs[workflow, "sufficient", learner], workflow_runs[workflow, "samples", learner]
        z = (a.eigenvalues[i, k] - b.eigenvalues[i, k]) / math.hypot(a.eigenvalues_se[i, k], b.eigenvalues_se[i, k])
        assert abs(z) < bound, (learner, "eigenvalue", WORKFLOW_GENERATIONS[i], k, z)


def _check_accumulate_exact(results, generations):
    """``results``: ``{(chain, mode): MultivariateSimulation}`` under accumulate, against
    multivariate_exact_values (E||mu_n - mu||**2, E tr, Var tr, E det), every reported generation n >= 1 (the pool
    averages the tails away as n grows; n = 1 is replace's first step, whose tails the replace tests z-test too)."""
    checks = []
    for (chain, mode), result in results.items():
        exact = multivariate_exact_values(chain, generations)
        for key in ("mean_sq_error", "trace_mean", "trace_var", "det_mean"):
            assert exact[key] is not None, key
            for i in range(1, len(generations)):
                checks.append((chain.learner, mode, key, i, result.mean[key][i], result.se[key][i], exact[key][i]))
    bound = _bound(len(checks))
    for learner, mode, key, i, value, se, exact in checks:
        z = (value - exact) / se
        assert abs(z) < bound, (learner, mode, key, generations[i], value, exact, z)


def test_accumulate_against_multivariate_exact_values(workflow_runs):
    results = {(_workflow_chain("accumulate", learner), mode): workflow_runs["accumulate", mode, learner]
               for mode in MODES for learner in LEARNERS}
    _check_accumulate_exact(results, WORKFLOW_GENERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("dimension, sample_size, chains", [(5, 8, 20_000), (20, 23, 3_000)])
def test_accumulate_against_multivariate_exact_values_slow(dimension, sample_size, chains):
    covariance = np.diag(np.linspace(0.2, 2.0, dimension)) + 0.05
    results = {}
    for learner in LEARNERS:
        chain = _workflow_chain("accumulate", learner, sample_size, covariance)
        for mode in MODES:
            results[chain, mode] = simulate_multivariate(chain, WORKFLOW_GENERATIONS, chains=chains, seed=7,
                                                         mode=mode)
    _check_accumulate_exact(results, WORKFLOW_GENERATIONS)


@pytest.mark.slow
def test_workflows_first_moments_dimension_five():
    # every workflow (weighted mix and mix-fixed too), both modes where they exist, both learners, d = 5
    from theory.chain import Workflow

    covariance = np.diag([3.0, 1.0, 0.5, 0.2, 0.1]) + 0.05
    workflows = ["mix:0.3", "mix-fixed:0.3", Workflow.parse("mix:0.3", real_weight=0.6),
                 Workflow.parse("mix-fixed:0.5", real_weight=0.3), "accumulate", "accumulate-subsample:7"]
    runs, seed = {}, 200
    for workflow in workflows:
        for learner in LEARNERS:
            chain = _workflow_chain(workflow, learner, 8, covariance)
            for mode in MODES:
                if chain.workflow.kind == "accumulate-subsample" and mode == "sufficient":
                    continue
                seed += 1
                runs[chain, mode] = simulate_multivariate(chain, WORKFLOW_GENERATIONS, chains=10_000, seed=seed,
                                                          mode=mode)
    _check_first_moments(runs, WORKFLOW_GENERATIONS, range(1, len(WORKFLOW_GENERATIONS)))


@pytest.mark.parametrize("workflow", [
    "accumulate-subsample:3",
    pytest.param("accumulate", marks=pytest.mark.slow),
    pytest.param("mix:0.5", marks=pytest.mark.slow),
    pytest.param("mix-fixed:0.5", marks=pytest.mark.slow),
])
def test_dimension_one_workflows_match_the_one_dimensional_chain(workflow):
    # d = 1: E(mu_n - mu)**2, E sigma_n**2 (as trace and as det: the same number chain by chain) and Var sigma_n**2
    # against the 1-D exact values; effective rank exactly 1
    chain = _workflow_chain(workflow, "unbiased", 4, [[2.0]])
    generations = [1, 2, 5]
    exact = _one_dimensional(chain, generations)
    result = simulate_multivariate(chain, generations, chains=20_000, seed=9, mode="samples")
    pairs = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"), ("trace_var", "variance_var")]
    checks = [(mine, theirs, i) for mine, theirs in pairs for i in range(len(generations))]
    bound = _bound(len(checks))
    for mine, theirs, i in checks:
        value = 2.0 ** (2 if mine == "trace_var" else 1) * exact[theirs][i]  # sigma**2 = 2
        z = (result.mean[mine][i] - value) / result.se[mine][i]
        assert abs(z) < bound, (mine, generations[i], z)
    np.testing.assert_allclose(result.mean["det_mean"], result.mean["trace_mean"], rtol=1e-12)
    np.testing.assert_allclose(result.mean["effective_rank_mean"], 1.0, rtol=1e-12)


@pytest.mark.parametrize("mode", ["samples", pytest.param("sufficient", marks=pytest.mark.slow)])
def test_mix_fixed_collapse_onto_one_real_point(mode):
    # mix-fixed with R = round(0.25 * 3) = 1 real point: the model collapses onto it (log det -> -inf, below
    # float64's range by n = 400) while its mean converges to it; the state keeps (m_n - rbar)/scale, so the mean
    # error stays exact: E||mu_n - mu||**2 -> tr Sigma / 1 (the real point's spread), against the 1-D exact values.
    # E tr Sigma_n is not z-tested past n = 5: a few chains carry it (heavy tail), the standard error is unreliable
    chain = MultivariateGaussianChain(3, np.diag([1.0, 0.25]), workflow="mix-fixed:0.25")
    generations = [1, 5, 50, 400]
    result = simulate_multivariate(chain, generations, chains=2_000, seed=1, mode=mode)
    exact = _one_dimensional(chain, generations)
    trace = 1.25
    checks = [("mean_sq_error", i) for i in range(len(generations))] + [("trace_mean", 0), ("trace_mean", 1)]
    bound = _bound(len(checks))
    for key, i in checks:
        value = trace * exact["mean_sq_error" if key == "mean_sq_error" else "variance_mean"][i]
        z = (result.mean[key][i] - value) / result.se[key][i]
        assert abs(z) < bound, (key, generations[i], z)
    assert result.mean["log_det_mean"][-1] < -500 and np.isfinite(result.mean["log_det_mean"][-1])
    assert np.all(np.isfinite(result.eigenvalues)) and np.all(result.eigenvalues > 0)
    assert not result.notes


def test_workflow_modes_and_pool_budget():
    from theory.montecarlo._multivariate import resolve_mode

    subsample = MultivariateGaussianChain(4, np.eye(2), workflow="accumulate-subsample:3")
    # mode=None: the workflow's default (the runs themselves are checked by the tests above)
    assert resolve_mode(subsample.workflow, None) == "samples"
    assert [resolve_mode(theory.chain.Workflow.parse(w), None) for w in ("replace", "mix:0.5", "mix-fixed:0.5",
                                                                          "accumulate")] == ["sufficient"] * 4
    with pytest.raises(theory.ParameterError) as error:
        simulate_multivariate(subsample, [1], chains=4, mode="sufficient")
    assert error.value.parameter == "mode" and "accumulate-subsample" in str(error.value)
    with pytest.raises(theory.ParameterError) as error:  # the pool of n M d = 4000 * 4 * 2 numbers does not fit
        simulate_multivariate(subsample, [4000], chains=4, max_block_elements=10_000)
    assert error.value.parameter == "max_block_elements" and "pool" in str(error.value)
