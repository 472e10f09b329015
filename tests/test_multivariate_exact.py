"""The multivariate chain's exact moments (theory.numeric._multivariate_exact) against

* the 1-D chain's exact values for d = 1 (both learners, A != 1, n up to 1000: relative 1e-12);
* the Wishart identities they rest on, derived symbolically from the Bartlett decomposition for d = 1, 2 (3 slow)
  (moments of the chi-squares and normals from sympy.stats), and the closed form of the trace recursion proved by
  induction;
* a literal NumPy Monte Carlo of the process (draw M points of N(mu_n, Sigma_n), fit) for d in {2, 5} (d = 20 slow),
  both learners, A != 1, anisotropic covariances: z-tests from standard errors.

Monte Carlo budget: each Monte Carlo test function has a false-failure probability of at most 1e-4, split
(Bonferroni) over its assertions: every |z| must stay below norm.isf(1e-4 / (2 * #assertions)) (about 4.9 for ~40).
Standard errors: sample standard deviation / sqrt(N) for means; sqrt((m4 - v^2) / N) (fourth central moment) for
the trace variance and of a marginal variance; these z-scores rest on an estimated fourth moment, which heavy tails
bias low: measured over 60 seeds (d = 2, M = 6 and d = 5, M = 9) their standard deviation is 0.9 to 1.16 at n <= 2
but 1.25 at n = 4 (d = 2), so they are asserted at n <= 2 only (P(|z| > 4.9) ~ 2.4e-5 each at sd 1.16: with four of
them a test function's realised false-failure probability is about 2e-4, not 1e-4); log det Sigma_n's variance
(light tails: sd 0.98) at every n. E det Sigma_n is heavy-tailed (a product of n d chi-squares): its z uses the exact
Var det Sigma_n and is asserted only at generations where Var det / (E det)^2 <= 5, where the mean of 20000 chains
is close to normal; the volume's collapse itself is tested through log det (light tails) at every generation. The
Monte Carlo W2^2 (Bures-Wasserstein, eigendecompositions in float64) is tested one-sided against the exact lower and
upper bounds on E W2^2 (each one-sided assertion takes the same Bonferroni share as a two-sided one).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import sympy.stats as ss
from scipy.stats import norm

from theory import GaussianChain, ParameterError
from theory.chain import Workflow
from theory.chain._multivariate import MultivariateGaussianChain, parse_covariance
from theory.numeric import exact_values
from theory.numeric._multivariate_exact import (
    log_det_drift,
    marginal_chain,
    multivariate_exact_values,
    w2_sq_bounds,
)

BUDGET = 1e-4  # false-failure probability per Monte Carlo test function
VARIANCE_GENERATIONS = 2  # variances of the trace and of a marginal are asserted at n <= 2 only (module doc)


def _rotated(eigenvalues, seed):
    """A fixed anisotropic covariance: Q diag(eigenvalues) Q^T with Q a seeded random rotation."""
    d = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    sigma = q @ np.diag(eigenvalues) @ q.T
    return 0.5 * (sigma + sigma.T)


# ----------------------------------------------------------------------------------------------- d = 1 is the 1-D chain
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("scale", [1.0, 1.3, 0.7])
@pytest.mark.parametrize("sample_size", [2, 7, 1000])
def test_dimension_one_is_the_1d_chain(learner, scale, sample_size):
    gens = [0, 1, 2, 10, 1000]
    sigma2 = 2.5
    multi = multivariate_exact_values(
        MultivariateGaussianChain(sample_size, [[sigma2]], mean=[0.3], learner=learner, variance_scale=scale), gens)
    one = exact_values(GaussianChain(sample_size, learner=learner, variance_scale=scale, sigma=math.sqrt(sigma2)),
                       gens)
    for ours, theirs in [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"),
                         ("trace_var", "variance_var"), ("log_det_mean", "log_variance_mean")]:
        np.testing.assert_allclose(multi[ours], one[theirs], rtol=1e-12, atol=0, err_msg=ours)
    np.testing.assert_allclose(multi["det_mean"], one["variance_mean"], rtol=1e-12)
    np.testing.assert_allclose(multi["covariance_mean"][:, 0, 0], one["variance_mean"], rtol=1e-12)
    assert multi["w2_sq_mean"] is None
    lower, upper = multi["bounds"]["w2_sq_mean"]  # for d = 1 both bounds are the 1-D chain's exact E W2^2
    np.testing.assert_allclose(lower, one["w2_sq_mean"], rtol=1e-12)
    np.testing.assert_allclose(upper, one["w2_sq_mean"], rtol=1e-12)


def test_exact_values_shapes_and_generation_zero():
    sigma = _rotated([3.0, 1.0, 0.2], 1)
    v = multivariate_exact_values(MultivariateGaussianChain(6, sigma, learner="mle"), [0, 3, 1])
    assert v["generations"] == [0, 3, 1]
    assert v["covariance_mean"].shape == (3, 3, 3)
    np.testing.assert_allclose(v["covariance_mean"][0], sigma, rtol=1e-15)
    assert v["trace_var"][0] == v["mean_sq_error"][0] == v["log_det_mean"][0] == 0.0
    np.testing.assert_allclose(v["det_mean"][0], np.linalg.det(sigma), rtol=1e-12)
    # the mle learner keeps the total: E||mu_n - mu||^2 + E tr Sigma_n = tr Sigma (as in 1-D)
    np.testing.assert_allclose(v["mean_sq_error"] + v["trace_mean"], np.trace(sigma), rtol=1e-14)
    # huge n: finite or inf/0, never nan (E Sigma_n's zero entries stay 0 when r^n overflows)
    for scale in (1.5, 0.5):
        huge = multivariate_exact_values(MultivariateGaussianChain(6, np.diag([2.0, 1.0]), variance_scale=scale),
                                         [10**4])["covariance_mean"][0]
        assert huge[0, 1] == huge[1, 0] == 0.0 and huge[0, 0] == (np.inf if scale > 1 else 0.0)
    moderate = multivariate_exact_values(MultivariateGaussianChain(6, sigma * 1e-300, variance_scale=1.1), [7000])
    np.testing.assert_allclose(moderate["covariance_mean"][0], sigma * 1e-300 * 1.1**7000, rtol=1e-10)
    big = multivariate_exact_values(MultivariateGaussianChain(6, sigma, variance_scale=1.5), [10**6])
    assert all(np.isfinite(big[key][0]) or big[key][0] == np.inf for key in ("trace_var", "det_mean", "trace_mean"))
    assert big["log_det_mean"][0] == pytest.approx(10**6 * log_det_drift(
        MultivariateGaussianChain(6, sigma, variance_scale=1.5)), rel=1e-14)


def test_volume_collapses_while_trace_is_kept():
    """Unbiased, A = 1: E tr Sigma_n = tr Sigma for every n, but the log-volume drifts down at a rate close to
    -d(d+1)/(2(M-1)) (and E det Sigma_n -> 0)."""
    for d, m in [(2, 50), (10, 200), (100, 2000)]:
        chain = MultivariateGaussianChain(m, np.eye(d))
        v = multivariate_exact_values(chain, [100])
        assert v["trace_mean"][0] == pytest.approx(d, rel=1e-14)
        drift = log_det_drift(chain)
        assert drift < 0
        assert drift == pytest.approx(-d * (d + 1) / (2 * (m - 1)), rel=0.05)
        assert v["det_mean"][0] < 1


def test_paper_lower_bound_holds_for_unbiased_fails_for_mle():
    """The paper's E W2^2 >= tr Sigma sum 1/M_i: exact for the unbiased learner (A = 1) at every n; for the MLE the
    exact upper bound falls below it once n is a few M (E W2^2 <= 2 tr Sigma), while it holds at n = 1."""
    gens = [1, 2, 5, 10, 30, 100, 1000, 10**5]
    for covariance in (np.eye(2), np.diag([4.0, 1.0, 0.1]), _rotated([3.0, 1.0, 0.5, 0.2, 0.01], 3)):
        unbiased = w2_sq_bounds(MultivariateGaussianChain(20, covariance), gens)
        assert unbiased["paper_bound_holds"] == [True] * len(gens)
        assert np.all(unbiased["lower"] <= unbiased["upper"] * (1 + 1e-12))
        mle = w2_sq_bounds(MultivariateGaussianChain(20, covariance, learner="mle"), gens)
        assert mle["paper_bound_holds"][0] is True
        assert mle["paper_bound_holds"][-3:] == [False] * 3  # n >= 5M = 100 (n = 1.5M: the bounds may not decide)
        assert np.all(mle["upper"] <= 2 * np.trace(covariance) * (1 + 1e-12))


# ------------------------------------------------------------------------------- the Wishart identities, symbolically
def _bartlett_expectation(expression, normals, chis):
    """E[expression] for a polynomial in Bartlett factors: ``normals`` i.i.d. N(0, 1), ``chis`` a dict
    symbol -> degrees of freedom with symbol**2 ~ chi^2_nu; moments from sympy.stats."""
    z = ss.Normal("z", 0, 1)
    normal_moment = {p: sp.simplify(ss.E(z**p)) for p in range(9)}
    chi_moment = {}
    gens = list(normals) + list(chis)
    poly = sp.Poly(sp.expand(expression), *gens)
    total = 0
    for powers, coefficient in poly.terms():
        factor = coefficient
        for symbol, p in zip(gens, powers):
            if symbol in chis:
                if p % 2:
                    odd_normal = any(q % 2 for s2, q in zip(gens, powers) if s2 in normals)
                    assert odd_normal, "an odd chi power must come with an odd normal power (zero mean)"
                    factor = 0
                    break
                key = (chis[symbol], p)
                if key not in chi_moment:
                    x = ss.ChiSquared("x", chis[symbol])
                    chi_moment[key] = sp.simplify(sp.gammasimp(ss.E(x ** (p // 2))))
                factor *= chi_moment[key]
            else:
                factor *= normal_moment[p]
        total += factor
    return sp.expand(sp.simplify(total))


@pytest.mark.parametrize("d", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_wishart_trace_identities_from_bartlett(d):
    """(d = 2 is also checked every default run when proofs/multivariate.md is re-rendered by its staleness test.)"""
    k = sp.Symbol("k", positive=True, integer=True)
    lower = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"l{i}{j}") if i >= j else 0)
    normals = [sp.Symbol(f"z{i}{j}") for i in range(d) for j in range(i)]
    chis = {sp.Symbol(f"c{i}"): k - i for i in range(d)}  # c_i^2 ~ chi^2_{k-i} (i = 0..d-1)
    bartlett = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"c{i}") if i == j else (sp.Symbol(f"z{i}{j}") if i > j else 0))
    scatter = lower * bartlett * bartlett.T * lower.T
    v = lower * lower.T
    tr_v, tr_v2 = v.trace(), (v * v).trace()
    e_tr_sq = _bartlett_expectation(scatter.trace() ** 2, normals, chis)
    e_tr_s2 = _bartlett_expectation((scatter * scatter).trace(), normals, chis)
    assert sp.expand(e_tr_sq - (k**2 * tr_v**2 + 2 * k * tr_v2)) == 0
    assert sp.expand(e_tr_s2 - (k * (k + 1) * tr_v2 + k * tr_v**2)) == 0
    # the mean E S = k V, and E det S = det V prod (k - i), E det S^2 = det V^2 prod (k - i)(k - i + 2)
    e_s = scatter.applyfunc(lambda entry: _bartlett_expectation(entry, normals, chis))
    assert (e_s - k * v).applyfunc(sp.expand) == sp.zeros(d, d)
    det_s = sp.expand(scatter.det())
    prod1 = sp.prod([k - i for i in range(d)])
    prod2 = sp.prod([(k - i) * (k - i + 2) for i in range(d)])
    assert sp.expand(_bartlett_expectation(det_s, normals, chis) - v.det() * prod1) == 0
    if d <= 2:  # degree 4d in the factors: d = 3 is slow
        assert sp.expand(_bartlett_expectation(det_s**2, normals, chis) - v.det() ** 2 * prod2) == 0


def test_trace_recursion_closed_form_by_induction():
    """(a, b)_{n+1} = c^2 [[k^2, 2k], [k, k(k+1)]] (a, b)_n, (a, b)_0 = (t^2, s): the module's closed form for
    a_n and the matching b_n satisfy the base case and the inductive step."""
    n = sp.Symbol("n", integer=True, nonnegative=True)
    k, c, t, s = sp.symbols("k c t s", positive=True)
    alpha, beta = (t**2 + 2 * s) / 3, (t**2 - s) / 3
    lam1, lam2 = k * (k + 2), k * (k - 1)
    a = c ** (2 * n) * (alpha * lam1**n + 2 * beta * lam2**n)
    b = c ** (2 * n) * (alpha * lam1**n - beta * lam2**n)
    assert sp.simplify(a.subs(n, 0) - t**2) == 0 and sp.simplify(b.subs(n, 0) - s) == 0
    step = sp.Matrix([[k**2, 2 * k], [k, k * (k + 1)]]) * c**2 * sp.Matrix([a, b])
    assert sp.simplify(sp.expand(step[0] - a.subs(n, n + 1), power_base=True)) == 0
    assert sp.simplify(sp.expand(step[1] - b.subs(n, n + 1), power_base=True)) == 0
    # Var tr Sigma_n = a_n - (c k)^{2n} t^2 is the module's bracket
    r = c * k
    bracket = alpha * ((1 + 2 / k) ** n - 1) + 2 * beta * ((1 - 1 / k) ** n - 1)
    for value in (0, 1, 2, 5):
        assert sp.simplify((a - r ** (2 * n) * t**2 - r ** (2 * n) * bracket).subs(n, value)) == 0


# ------------------------------------------------------------------------------ literal Monte Carlo of the process
def _literal_chain(chain, generations, chains, seed):
    """Run the process itself under ``chain.workflow``: at each step draw the training set's points per chain (M of
    model i; under mix R real and M - R of model i; under accumulate M more of model i into the pool) and fit (plain
    or weighted mean and scatter; accumulate-subsample: K points of the pool drawn without replacement). Returns
    {generation: (mu, Sigma)} for the requested generations (arrays over chains)."""
    rng = np.random.default_rng(seed)
    workflow, kind = chain.workflow, chain.workflow.kind
    d, m = chain.dimension, chain.sample_size
    source_mu = np.broadcast_to(chain.mean, (chains, d))
    source_lower = np.broadcast_to(np.linalg.cholesky(chain.covariance), (chains, d, d))
    mu, lower = source_mu.copy(), source_lower.copy()

    def draw(mean, low, count):
        return mean[:, None, :] + np.einsum("cij,cmj->cmi", low, rng.standard_normal((chains, count, d)))

    def fit(points, weights=None):
        if weights is None:
            mean = points.mean(axis=1)
            centred = points - mean[:, None, :]
            divisor = points.shape[1] - (1 if chain.learner == "unbiased" else 0)
            return mean, chain.variance_scale * np.einsum("cmi,cmj->cij", centred, centred) / divisor
        mean = np.einsum("m,cmi->ci", weights, points)
        centred = points - mean[:, None, :]
        cov = chain.variance_scale * np.einsum("m,cmi,cmj->cij", weights, centred, centred)
        return mean, cov / (1 - np.sum(weights**2)) if chain.learner == "unbiased" else cov

    r = workflow.real_count(m)
    weights = None
    if workflow.real_weight is not None:
        w = workflow.real_weight
        weights = np.concatenate([np.full(r, w / r), np.full(m - r, (1 - w) / (m - r))])
    fixed = draw(source_mu, source_lower, r) if kind == "mix-fixed" else None
    pool = np.zeros((chains, 0, d))
    out = {}
    for step in range(1, max(generations) + 1):
        if kind == "replace":
            mu, sigma = fit(draw(mu, lower, m))
        elif kind in ("mix", "mix-fixed"):
            real = fixed if kind == "mix-fixed" else draw(source_mu, source_lower, r)
            mu, sigma = fit(np.concatenate([real, draw(mu, lower, m - r)], axis=1), weights)
        else:
            pool = np.concatenate([pool, draw(mu, lower, m)], axis=1)
            if kind == "accumulate-subsample":
                keep = np.argsort(rng.random(pool.shape[:2]), axis=1)[:, : workflow.subsample]
                mu, sigma = fit(np.take_along_axis(pool, keep[:, :, None], axis=1))
            else:
                mu, sigma = fit(pool)
        sigma = 0.5 * (sigma + np.swapaxes(sigma, 1, 2))
        lower = np.linalg.cholesky(sigma)
        if step in generations:
            out[step] = (mu, sigma)
    return out


def _mean_z(samples, exact, se=None):
    n = samples.shape[0]
    if se is None:
        se = samples.std(ddof=1) / math.sqrt(n)
    return (samples.mean() - exact) / se


def _var_z(samples, exact):
    n = samples.shape[0]
    centred = samples - samples.mean()
    v = centred.var(ddof=1)
    m4 = np.mean(centred**4)
    return (v - exact) / math.sqrt((m4 - v * v) / n)


def _literal_generations(chain, generations, chains, seed):
    """The literal process's fitted models at each of ``generations``, with the per-chain values the checks test:
    yields ``(j, n, draws)`` with ``draws`` holding ``sigma``, ``err`` (||mu_n - mu||^2), ``trace``, ``sign``,
    ``logdet``, ``log_det`` (minus log det Sigma) and ``w2`` (Bures-Wasserstein to p_0)."""
    simulated = _literal_chain(chain, generations, chains, seed)
    _sign0, logdet0 = np.linalg.slogdet(chain.covariance)
    values, vectors = np.linalg.eigh(chain.covariance)
    root = (vectors * np.sqrt(values)) @ vectors.T
    for j, n in enumerate(generations):
        mu, sigma = simulated[n]
        err = np.sum((mu - chain.mean) ** 2, axis=1)
        trace = np.trace(sigma, axis1=1, axis2=2)
        sign, logdet = np.linalg.slogdet(sigma)
        w2 = err + trace + np.trace(chain.covariance) - 2 * _fidelity(root, sigma)
        yield j, n, {"sigma": sigma, "err": err, "trace": trace, "sign": sign, "logdet": logdet,
                     "log_det": logdet - logdet0, "w2": w2}


def _covariance_z(zs, n, chain, sigma, exact_row):
    d = chain.dimension
    for a in range(d):
        for b in range(a, d):
            if d <= 5 or a == b or b == a + 1:
                zs[n, f"covariance_mean[{a},{b}]"] = _mean_z(sigma[:, a, b], exact_row[a, b])


def _assert_z(chain, zs, one_sided):
    """Bonferroni over every two-sided and one-sided z (budget BUDGET; the one-sided ones use half their share)."""
    bound = norm.isf(BUDGET / (2 * (len(zs) + len(one_sided))))
    worst = max(zs, key=lambda key: abs(zs[key]))
    assert abs(zs[worst]) < bound, (f"{chain}: |z| = {abs(zs[worst]):.2f} at {worst} over the bound {bound:.2f} "
                                    f"({len(zs)} assertions)")
    lowest = min(one_sided, key=one_sided.get)
    assert one_sided[lowest] > -bound, f"{chain}: z = {one_sided[lowest]:.2f} at {lowest} (bound -{bound:.2f})"


def _check_against_literal(chain, generations, chains, seed):
    exact = multivariate_exact_values(chain, generations)
    marginal = exact_values(marginal_chain(chain, 0), generations)
    zs, one_sided = {}, {}
    for j, n, x in _literal_generations(chain, generations, chains, seed):
        sigma, err, trace, logdet, w2 = x["sigma"], x["err"], x["trace"], x["logdet"], x["w2"]
        assert np.all(x["sign"] > 0)
        zs[n, "mean_sq_error"] = _mean_z(err, exact["mean_sq_error"][j])
        zs[n, "trace_mean"] = _mean_z(trace, exact["trace_mean"][j])
        zs[n, "log_det_mean"] = _mean_z(x["log_det"], exact["log_det_mean"][j])
        zs[n, "log_det_var"] = _var_z(logdet, exact["log_det_var"][j])
        if n <= VARIANCE_GENERATIONS:
            zs[n, "trace_var"] = _var_z(trace, exact["trace_var"][j])
            zs[n, "marginal variance_var"] = _var_z(sigma[:, 0, 0], marginal["variance_var"][j])
        if exact["det_var"][j] <= 5 * exact["det_mean"][j] ** 2:
            zs[n, "det_mean"] = _mean_z(np.exp(logdet), exact["det_mean"][j],
                                        math.sqrt(exact["det_var"][j] / chains))
        lower, upper = exact["bounds"]["w2_sq_mean"]
        se = w2.std(ddof=1) / math.sqrt(chains)
        one_sided[n, "w2_sq_mean >= lower"] = (w2.mean() - lower[j]) / se
        one_sided[n, "w2_sq_mean <= upper"] = (upper[j] - w2.mean()) / se
        _covariance_z(zs, n, chain, sigma, exact["covariance_mean"][j])
    _assert_z(chain, zs, one_sided)
    return {**zs, **one_sided}


def _fidelity(root, sigma):
    """tr (Sigma^{1/2} Sigma_n Sigma^{1/2})^{1/2} per chain (symmetric eigendecompositions, float64)."""
    product = root[None] @ sigma @ root[None]
    product = 0.5 * (product + np.swapaxes(product, 1, 2))
    return np.sqrt(np.clip(np.linalg.eigvalsh(product), 0, None)).sum(axis=1)


MC_CASES = [
    (2, 6, "unbiased", 1.0),
    (2, 6, "mle", 1.0),
    (2, 6, "unbiased", 1.15),
    (5, 9, "unbiased", 1.0),
    (5, 9, "mle", 0.9),
]


@pytest.mark.parametrize(("d", "sample_size", "learner", "scale"), MC_CASES)
def test_exact_against_literal_monte_carlo(d, sample_size, learner, scale):
    covariance = [[2.0, 0.9], [0.9, 0.6]] if d == 2 else _rotated([4.0, 2.0, 1.0, 0.5, 0.1], 5)
    chain = MultivariateGaussianChain(sample_size, covariance, mean=np.arange(d) * 0.5, learner=learner,
                                      variance_scale=scale)
    _check_against_literal(chain, [1, 2, 4], chains=20000, seed=11 + d)


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_exact_against_literal_monte_carlo_d20(learner):
    chain = MultivariateGaussianChain(25, _rotated(np.geomspace(5.0, 0.05, 20), 20), learner=learner)
    _check_against_literal(chain, [1, 3], chains=20000, seed=20)


# ----------------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"sample_size": 5, "covariance": [[1.0, 0.5], [0.0, 1.0]]}, "covariance"),  # not symmetric
    ({"sample_size": 5, "covariance": [[1.0, 2.0], [2.0, 1.0]]}, "covariance"),  # not positive definite
    ({"sample_size": 5, "covariance": [[0.0, 0.0], [0.0, 1.0]]}, "covariance"),  # singular
    ({"sample_size": 5, "covariance": np.ones(3)}, "covariance"),  # not a matrix
    ({"sample_size": 5, "covariance": np.ones((2, 3))}, "covariance"),  # not square
    ({"sample_size": 5, "covariance": np.zeros((0, 0))}, "covariance"),  # d < 1
    ({"sample_size": 5, "covariance": [[1.0, np.nan], [np.nan, 1.0]]}, "covariance"),
    ({"sample_size": 5, "covariance": np.eye(2), "mean": [0.0, 0.0, 0.0]}, "mean"),  # dimension mismatch
    ({"sample_size": 5, "covariance": np.eye(2), "mean": [0.0, np.inf]}, "mean"),
    ({"sample_size": 3, "covariance": np.eye(3)}, "sample_size"),  # M <= d
    ({"sample_size": 3, "covariance": np.eye(3), "learner": "mle"}, "sample_size"),
    ({"sample_size": 2.5, "covariance": np.eye(1)}, "sample_size"),
    ({"sample_size": 5, "covariance": np.eye(2), "learner": "map"}, "learner"),
    ({"sample_size": 5, "covariance": np.eye(2), "variance_scale": 0.0}, "variance_scale"),
])
def test_bad_input(kwargs, parameter):
    with pytest.raises(ParameterError, match=f"^{parameter}:") as info:
        MultivariateGaussianChain(**kwargs)
    assert info.value.parameter == parameter


def test_smallest_sample_size_is_d_plus_one():
    for d in (1, 3, 8):
        chain = MultivariateGaussianChain(d + 1, np.eye(d), learner="mle")
        v = multivariate_exact_values(chain, [1, 5])
        assert np.all(np.isfinite(v["log_det_mean"])) and np.all(v["trace_var"] >= 0)


def test_exact_values_bad_input():
    with pytest.raises(ParameterError, match="^chain:"):
        multivariate_exact_values(GaussianChain(10), [1])
    with pytest.raises(ParameterError, match="^generations:"):
        multivariate_exact_values(MultivariateGaussianChain(5, np.eye(2)), [-1])
    with pytest.raises(ParameterError, match="^direction:"):
        marginal_chain(MultivariateGaussianChain(5, np.eye(2)), 2)
    with pytest.raises(ParameterError, match="^direction:"):
        marginal_chain(MultivariateGaussianChain(5, np.eye(2)), [0.0, 0.0])


def test_parse_covariance(tmp_path):
    np.testing.assert_array_equal(parse_covariance("iso", 3), np.eye(3))
    np.testing.assert_array_equal(parse_covariance("iso:0.5", 2), 0.5 * np.eye(2))
    np.testing.assert_array_equal(parse_covariance("diag:1,2,3"), np.diag([1.0, 2.0, 3.0]))
    path = tmp_path / "sigma.txt"
    path.write_text("# a covariance\n2, 0.5\n0.5 1\n")
    np.testing.assert_array_equal(parse_covariance(f"file:{path}", 2), [[2.0, 0.5], [0.5, 1.0]])
    for spec, d, parameter in [("iso", None, "dimension"), ("iso:-1", 2, "covariance"), ("diag:1,-2", None,
                               "covariance"), ("diag:", None, "covariance"), ("diag:1,2", 3, "covariance"),
                               ("file:/nonexistent", 2, "covariance"), ("eye", 2, "covariance"),
                               ("iso", 0, "dimension")]:
        with pytest.raises(ParameterError, match=f"^{parameter}:"):
            parse_covariance(spec, d)
    path.write_text("1 2\n3\n")
    with pytest.raises(ParameterError, match="^covariance:"):
        parse_covariance(f"file:{path}")
    path.write_text("1 2\n0 1\n")
    with pytest.raises(ParameterError, match="^covariance:.*symmetric"):
        parse_covariance(f"file:{path}")


def test_marginal_chain_matches_projection():
    chain = MultivariateGaussianChain(7, [[4.0, 1.0], [1.0, 2.0]], mean=[1.0, -1.0], learner="mle",
                                      variance_scale=1.1)
    projected = marginal_chain(chain, [1.0, 1.0])
    assert projected.sigma == pytest.approx(math.sqrt(8.0))
    assert projected.mu == pytest.approx(0.0)
    assert (projected.sample_size, projected.learner, projected.variance_scale) == (7, "mle", 1.1)


# ------------------------------------------------------------------------------------------------------ workflows
def _mix(text, weight=None):
    return Workflow.parse(text, real_weight=weight)


D1_WORKFLOWS = ["mix:0", "mix:1", "mix-fixed:1", "mix:0.3", "mix-fixed:0.3", ("mix:0.4", 0.7), ("mix-fixed:0.5", 0.3),
                "accumulate", "accumulate-subsample:4"]
D1_PAIRS = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"), ("trace_var", "variance_var"),
            ("det_mean", "variance_mean"), ("det_var", "variance_var"), ("log_det_mean", "log_variance_mean")]


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("workflow", D1_WORKFLOWS, ids=str)
def test_dimension_one_is_the_1d_chain_every_workflow(workflow, learner):
    """d = 1: every value that is not None equals the 1-D chain's exact value (same workflow), the W2 lower bound is
    the 1-D one, and under accumulate the W2 upper bound (Hoelder) is the 1-D one too."""
    workflow = _mix(*workflow) if isinstance(workflow, tuple) else Workflow.parse(workflow)
    gens = [0, 1, 2, 5, 30]
    sigma2 = 1.7
    multi = multivariate_exact_values(MultivariateGaussianChain(7, [[sigma2]], learner=learner, variance_scale=1.2,
                                                                workflow=workflow), gens)
    one = exact_values(GaussianChain(7, learner=learner, variance_scale=1.2, sigma=math.sqrt(sigma2),
                                     workflow=workflow), gens)
    compared = 0
    for ours, theirs in D1_PAIRS:
        if multi[ours] is None:
            assert ours in multi["notes"], ours
            continue
        np.testing.assert_allclose(multi[ours], one[theirs], rtol=1e-14, atol=0, err_msg=ours)
        compared += 1
    np.testing.assert_allclose(multi["covariance_mean"][:, 0, 0], one["variance_mean"], rtol=1e-14)
    assert compared >= 2
    if workflow.is_replace or (workflow.kind.startswith("mix") and workflow.real_fraction in (0.0, 1.0)):
        assert compared == len(D1_PAIRS)  # a replace chain: everything exact
        return
    assert multi["trace_mean"] is not None and multi["w2_sq_mean"] is None
    lower, upper = multi["bounds"]["w2_sq_mean"]
    np.testing.assert_allclose(lower[2:], one["bounds"]["w2_sq_mean"][0][2:], rtol=1e-14)
    # d = 1: Sigma_n = sigma_n^2, so the trace and determinant moments are the 1-D chain's under every workflow
    assert multi["trace_var"] is not None and multi["det_mean"] is not None and multi["det_var"] is not None
    np.testing.assert_allclose(multi["det_var"], one["variance_var"], rtol=1e-14)
    if workflow.kind == "accumulate":
        np.testing.assert_allclose(upper[2:], one["bounds"]["w2_sq_mean"][1][2:], rtol=1e-10)


def test_workflow_keys_and_notes():
    """The contract: under each workflow exactly the guaranteed quantities are arrays, the others None with a note;
    generation 0 is the source, generation 1 (plain fit) is replace's generation 1 inside the bounds."""
    sigma = _rotated([3.0, 1.0, 0.2], 2)
    replace = multivariate_exact_values(MultivariateGaussianChain(8, sigma), [1])
    for workflow, exact in [("accumulate", {"trace_var", "det_mean"}), ("mix:0.5", {"trace_var"}),
                            ("mix-fixed:0.25", set()),
                            ("accumulate-subsample:5", set())]:
        v = multivariate_exact_values(MultivariateGaussianChain(8, sigma, workflow=workflow), [0, 1, 3])
        arrays = {key for key in ("trace_var", "det_mean", "log_det_mean", "det_var", "log_det_var") if
                  v[key] is not None}
        assert arrays == exact, workflow
        for key in ("trace_var", "det_mean", "log_det_mean", "det_var", "log_det_var", "w2_sq_mean"):
            assert (v[key] is None) == (key in v["notes"] and key not in exact), (workflow, key)
        assert v["w2_sq_mean"] is None
        np.testing.assert_array_equal(v["covariance_mean"][0], sigma)
        assert v["mean_sq_error"][0] == 0.0 and v["trace_mean"][0] == pytest.approx(np.trace(sigma), rel=1e-15)
        for key in ("w2_sq_mean", "log_det_mean"):
            lower, upper = v["bounds"][key]
            assert lower[0] == upper[0] == 0.0 and np.all(lower <= upper)
        if workflow != "accumulate-subsample:5":
            log_lower, log_upper = v["bounds"]["log_det_mean"]
            assert log_lower[1] == log_upper[1] == replace["log_det_mean"][0]
            np.testing.assert_allclose(v["trace_mean"][1], replace["trace_mean"][0], rtol=1e-15)


@pytest.mark.parametrize("top", [1000, pytest.param(10**4, marks=pytest.mark.slow)])
def test_workflows_large_n_fast_and_finite(top):
    """accumulate at large n, d = 10: seconds (n = 10^4: about 5 s on this machine, the 1-D walk dominates), finite
    values, bounds ordered."""
    import time

    start = time.perf_counter()
    v = multivariate_exact_values(MultivariateGaussianChain(11, np.eye(10), workflow="accumulate"), [1, 100, top])
    assert time.perf_counter() - start < 3e-3 * top + 5
    for key in ("mean_sq_error", "trace_mean", "trace_var", "det_mean"):
        assert np.all(np.isfinite(v[key])) and np.all(v[key] > 0), key
    lower, upper = v["bounds"]["log_det_mean"]
    assert np.all(lower <= upper) and np.all(np.isfinite(lower))
    # unbiased accumulate keeps E tr Sigma_n bounded and its variance converges (a random limit)
    assert v["trace_var"][2] == pytest.approx(v["trace_var"][1], rel=0.1)


def test_drift_and_marginal_under_workflows():
    chain = MultivariateGaussianChain(7, [[4.0, 1.0], [1.0, 2.0]], workflow="mix:0.3")
    with pytest.raises(ParameterError, match="^workflow:"):
        log_det_drift(chain)
    assert marginal_chain(chain, 1).workflow == chain.workflow
    b = w2_sq_bounds(MultivariateGaussianChain(10, np.eye(3), learner="mle", workflow="accumulate"), [1, 100])
    assert b["paper_bound_holds"] == [True, False]


def _accumulate_reference(chain, generations, beta=None, det_beta=True):
    """An independent evaluation of the accumulate recursion (module doc) in float64: (E tr, Var tr, E det) of
    Sigma_n. ``beta`` overrides N_(i-1)/N_i and ``det_beta=False`` drops beta from E det G (deliberate errors)."""
    d, m, k = chain.dimension, chain.sample_size, chain.sample_size - 1
    t, s = np.trace(chain.covariance), np.trace(chain.covariance @ chain.covariance)
    mean, var, second = k * t, 2 * k * s, k * t * t + k * (k + 1) * s
    det = np.linalg.det(chain.covariance) * math.prod(k - j for j in range(d))
    out = {}
    for i in range(1, max(generations) + 1):
        if i > 1:
            pool = (i - 1) * m
            c = chain.variance_scale / (pool - 1 if chain.learner == "unbiased" else pool)
            b = (i - 1) / i if beta is None else beta
            g1, q = 1 + c * (k + b), c * c * (k + b * b)
            mean, var, second = g1 * mean, g1 * g1 * var + 2 * q * second, q * (var + mean**2) + (g1 * g1 + q) * second
            det *= sum(c**j * math.perm(d, j) * (math.comb(k, j) + (b * math.comb(k, j - 1) if j and det_beta else 0))
                       for j in range(d + 1))
        pool = i * m
        c = chain.variance_scale / (pool - 1 if chain.learner == "unbiased" else pool)
        out[i] = (c * mean, c * c * var, c**d * det)
    return [out[n] for n in generations]


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_accumulate_reference_agrees(learner):
    chain = MultivariateGaussianChain(6, _rotated([2.0, 1.0, 0.3], 4), learner=learner, variance_scale=1.1,
                                      workflow="accumulate")
    gens = [1, 2, 3, 8, 40]
    v = multivariate_exact_values(chain, gens)
    reference = np.array(_accumulate_reference(chain, gens))
    np.testing.assert_allclose(v["trace_mean"], reference[:, 0], rtol=1e-12)
    np.testing.assert_allclose(v["trace_var"], reference[:, 1], rtol=1e-12)
    np.testing.assert_allclose(v["det_mean"], reference[:, 2], rtol=1e-12)


def _check_workflow_against_literal(chain, generations, chains, seed, exact=None):
    """z-tests of every exact quantity (and one-sided tests of the bounds) against the literal process; returns the
    z-scores. Variances (trace, a marginal's) at n <= 2 only (module doc)."""
    exact = multivariate_exact_values(chain, generations) if exact is None else exact
    marginal = exact_values(marginal_chain(chain, 0), generations)
    zs, one_sided = {}, {}
    for j, n, x in _literal_generations(chain, generations, chains, seed):
        sigma, err, trace = x["sigma"], x["err"], x["trace"]
        zs[n, "mean_sq_error"] = _mean_z(err, exact["mean_sq_error"][j])
        zs[n, "trace_mean"] = _mean_z(trace, exact["trace_mean"][j])
        if n <= VARIANCE_GENERATIONS:
            zs[n, "marginal variance_var"] = _var_z(sigma[:, 0, 0], marginal["variance_var"][j])
            if exact["trace_var"] is not None:
                zs[n, "trace_var"] = _var_z(trace, exact["trace_var"][j])
        if exact["det_mean"] is not None:
            zs[n, "det_mean"] = _mean_z(x["sign"] * np.exp(x["logdet"]), exact["det_mean"][j])
        _covariance_z(zs, n, chain, sigma, exact["covariance_mean"][j])
        for key, sample in (("w2_sq_mean", x["w2"]), ("log_det_mean", x["log_det"])):
            lower, upper = exact["bounds"].get(key, (None, None))
            se = sample.std(ddof=1) / math.sqrt(chains)
            if lower is not None and upper is not None and lower[j] == upper[j]:  # n = 1, plain fit: replace's value
                zs[n, f"{key} (exact at n = 1)"] = (sample.mean() - lower[j]) / se
                continue
            if lower is not None and np.isfinite(lower[j]):
                one_sided[n, f"{key} >= lower"] = (sample.mean() - lower[j]) / se
            if upper is not None:
                one_sided[n, f"{key} <= upper"] = (upper[j] - sample.mean()) / se
    _assert_z(chain, zs, one_sided)
    return zs


ACCUMULATE_CASES = [(2, 6, "unbiased", 1.0), (2, 6, "mle", 1.15), (5, 9, "unbiased", 1.0), (5, 9, "mle", 0.9)]


@pytest.mark.parametrize(("d", "sample_size", "learner", "scale"), ACCUMULATE_CASES)
def test_accumulate_against_literal_monte_carlo(d, sample_size, learner, scale):
    """Accumulate (the pool of every point so far, refitted): E||mu_n - mu||^2, E tr, Var tr (n <= 2), E det with
    its sample standard error (calibrated over 30 seeds: sd of z 0.70-0.99), E Sigma_n's entries; the W2 and log det
    bounds one-sided. Trace-variance z-scores have sd up to 1.29 at d = 2, M = 6 (30 seeds; heavy tails), so their
    realised false-failure probability is about 1.5e-4 each, not the nominal share."""
    covariance = [[2.0, 0.9], [0.9, 0.6]] if d == 2 else _rotated([4.0, 2.0, 1.0, 0.5, 0.1], 5)
    chain = MultivariateGaussianChain(sample_size, covariance, mean=np.arange(d) * 0.5, learner=learner,
                                      variance_scale=scale, workflow="accumulate")
    _check_workflow_against_literal(chain, [1, 2, 4], chains=20000, seed=31 + d)


WORKFLOW_CASES = [(2, "mix:0.5", None, "unbiased"), (2, "mix-fixed:0.5", None, "mle"), (2, "mix:0.5", 0.7, "mle"),
                  (2, "mix-fixed:0.5", 0.3, "unbiased"), (2, "accumulate-subsample:4", None, "unbiased"),
                  (5, "mix-fixed:0.75", None, "unbiased"), (5, "mix:0.5", None, "mle")]


@pytest.mark.parametrize(("d", "workflow", "weight", "learner"), WORKFLOW_CASES)
def test_workflow_marginals_against_literal_monte_carlo(d, workflow, weight, learner):
    """mix, mix-fixed (plain and weighted) and accumulate-subsample: the exact marginal quantities (E||mu_n - mu||^2,
    E tr, E Sigma_n, a marginal's Var sigma_n^2 at n <= 2) and the bounds (W2 both ends, log det both ends where
    derived) against the literal process."""
    covariance = [[2.0, 0.9], [0.9, 0.6]] if d == 2 else _rotated([4.0, 2.0, 1.0, 0.5, 0.1], 5)
    sample_size = 8 if d == 2 else 12
    chain = MultivariateGaussianChain(sample_size, covariance, mean=np.arange(d) * 0.5, learner=learner,
                                      variance_scale=1.05, workflow=_mix(workflow, weight))
    _check_workflow_against_literal(chain, [1, 2, 4], chains=20000, seed=41 + d)


def test_accumulate_monte_carlo_can_fail():
    """Power: two plausible slips in the accumulate derivation give large |z| against the same literal runs, at
    d = 2 (M = 6, unbiased): the pool's between-mean term with weight 1 instead of N_(i-1)/N_i (beta = 1), and
    E det G without the beta term."""
    chain = MultivariateGaussianChain(6, [[2.0, 0.9], [0.9, 0.6]], workflow="accumulate")
    gens = [1, 2, 4]
    right = multivariate_exact_values(chain, gens)
    wrong_beta = np.array(_accumulate_reference(chain, gens, beta=1.0))
    wrong_det = np.array(_accumulate_reference(chain, gens, det_beta=False))
    simulated = _literal_chain(chain, gens, 20000, 37)
    trace = np.trace(simulated[4][1], axis1=1, axis2=2)
    det = np.linalg.det(simulated[4][1])
    assert abs(_mean_z(trace, right["trace_mean"][2])) < 4
    assert abs(_mean_z(det, right["det_mean"][2])) < 4
    assert abs(_mean_z(trace, wrong_beta[2, 0])) > 8
    assert abs(_mean_z(det, wrong_det[2, 2])) > 8


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_accumulate_against_literal_monte_carlo_d20(learner):
    chain = MultivariateGaussianChain(25, _rotated(np.geomspace(5.0, 0.05, 20), 20), learner=learner,
                                      workflow="accumulate")
    _check_workflow_against_literal(chain, [1, 3], chains=20000, seed=21)


def test_workflow_monte_carlo_can_fail():
    """Power of the marginal checks: the replace chain's exact values offered for a mix-fixed chain (or the mix
    chain's for mix-fixed: the real points drawn once instead of every step) fail the same z-tests."""
    covariance = [[2.0, 0.9], [0.9, 0.6]]
    chain = MultivariateGaussianChain(8, covariance, workflow="mix-fixed:0.5")
    for other in ("replace", "mix:0.5"):
        wrong = multivariate_exact_values(MultivariateGaussianChain(8, covariance, workflow=other), [1, 2, 4])
        wrong = {**wrong, "trace_var": None, "det_mean": None}  # compare the marginal quantities only
        with pytest.raises(AssertionError, match=r"\|z\| = "):
            _check_workflow_against_literal(chain, [1, 2, 4], chains=20000, seed=43, exact=wrong)


@pytest.mark.parametrize("workflow", ["accumulate", "mix:0.5", "accumulate-subsample:3"])
def test_workflows_scale_with_sigma(workflow):
    """Sigma -> a Sigma scales every value by a (a^2 for the trace variance, a^d for the determinant) and the log-det
    bounds not at all, far into float64's range (no overflow in the intermediate tr Sigma^4 or det Sigma)."""
    sigma = np.array([[2.0, 0.9], [0.9, 0.6]])
    gens = [0, 1, 3]
    base = multivariate_exact_values(MultivariateGaussianChain(6, sigma, workflow=workflow), gens)
    for a in (1e-150, 1e150):
        scaled = multivariate_exact_values(MultivariateGaussianChain(6, sigma * a, workflow=workflow), gens)
        for key, power in (("mean_sq_error", 1), ("trace_mean", 1), ("trace_var", 2), ("det_mean", 2)):
            if base[key] is not None:
                np.testing.assert_allclose(scaled[key], base[key] * a**power, rtol=1e-13, err_msg=key)
        for end in range(2):
            np.testing.assert_allclose(scaled["bounds"]["w2_sq_mean"][end], base["bounds"]["w2_sq_mean"][end] * a,
                                       rtol=1e-12)
            np.testing.assert_allclose(scaled["bounds"]["log_det_mean"][end], base["bounds"]["log_det_mean"][end],
                                       rtol=1e-12, atol=1e-13)


def test_mix_trace_variance_monte_carlo_can_fail(monkeypatch):
    """Power of the mix trace-variance check: dropping the between-group term g (xbar - ybar)(xbar - ybar)^T from
    the fit (a plausible slip) moves Var tr Sigma_n by 14-47 % and the literal Monte Carlo's z to 11-18
    (d = 2, M = 8)."""
    import theory.numeric._multivariate_exact as module

    chain = MultivariateGaussianChain(8, [[2.0, 0.9], [0.9, 0.6]], workflow="mix:0.5")
    gens = [1, 2, 4]
    right = multivariate_exact_values(chain, gens)["trace_var"]
    original = module._mix_parameters
    monkeypatch.setattr(module, "_mix_parameters", lambda c: (*original(c)[:4], 0, original(c)[5]))
    wrong = multivariate_exact_values(chain, gens)["trace_var"]
    simulated = _literal_chain(chain, gens, 20000, 43)
    for j, n in enumerate(gens):
        trace = np.trace(simulated[n][1], axis1=1, axis2=2)
        assert abs(_var_z(trace, right[j])) < 4
        assert abs(_var_z(trace, wrong[j])) > 8


@pytest.mark.slow
def test_mix_system_is_the_same_in_three_dimensions():
    """The mix step's coefficients on the invariants do not depend on the dimension used to identify them."""
    from theory.numeric._multivariate_exact import derive_mix_system

    two, three = derive_mix_system(2), derive_mix_system(3)
    assert all(sp.simplify(a - b) == 0 for row2, row3 in zip(two, three) for a, b in zip(row2, row3))
