"""The JAX EM of the GMM chain (theory/montecarlo/_gmm.py): closed-form L2 distance, sampling, EM, the chain.

Statistical checks assert on z-scores with a false-failure budget of 1e-4 per test (two-sided normal bound,
Bonferroni over the comparisons in the test); deterministic checks (quadrature, monotonicity) on floating-point
tolerances.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from theory.chain._gmm import GMMChain, GMMLearner, parse_gmm_source
from theory.montecarlo._gmm import (
    GMM,
    _padded,
    _plan,
    _rule,
    _run_chains,
    drawn_points,
    fit_em,
    gmm_of_source,
    l2_distance_squared,
    log_density,
    sample,
    simulate_gmm,
    split_init,
    total_covariance,
)


def real_distribution(name):
    return gmm_of_source(parse_gmm_source(name))


def numpy_sample(gmm, n, seed):
    """``n`` points of the mixture drawn by NumPy (the EM tests need data, not the JAX sampler: no compilation)."""
    rng = np.random.default_rng(seed)
    w, m, c = (np.asarray(a, dtype=float) for a in gmm)
    counts = rng.multinomial(n, w / w.sum())
    return jnp.asarray(np.concatenate([rng.multivariate_normal(m[k], c[k], size=counts[k])
                                       for k in range(len(w))]))

BUDGET = 1e-4


def z_bound(comparisons: int) -> float:
    return float(norm.isf(BUDGET / (2 * comparisons)))


pytestmark = pytest.mark.usefixtures("x64")


def _mixtures():
    p = GMM(jnp.array([0.3, 0.7]), jnp.array([[-0.5, 0.2], [0.8, -0.4]]),
            jnp.array([[[0.5, 0.2], [0.2, 0.4]], [[0.3, -0.1], [-0.1, 0.6]]]))
    q = GMM(jnp.array([0.55, 0.45]), jnp.array([[0.1, 0.9], [-1.0, -0.7]]),
            jnp.array([[[0.9, 0.0], [0.0, 0.2]], [[0.25, 0.05], [0.05, 0.35]]]))
    return p, q


def _grid(half_width=9.0, points=721):
    t = np.linspace(-half_width, half_width, points)
    xx, yy = np.meshgrid(t, t, indexing="ij")
    return t[1] - t[0], jnp.asarray(np.stack([xx.ravel(), yy.ravel()], -1))


def test_l2_closed_form_matches_numerical_integration():
    p, q = _mixtures()
    h, pts = _grid()
    dp, dq = np.exp(np.asarray(log_density(p, pts))), np.exp(np.asarray(log_density(q, pts)))
    numeric = float(np.sum((dp - dq) ** 2) * h * h)  # trapezoid = Riemann sum for functions ~0 at the edge
    closed = float(l2_distance_squared(p, q))
    assert closed == pytest.approx(numeric, rel=1e-9)
    assert float(l2_distance_squared(p, p)) == pytest.approx(0.0, abs=1e-12)
    assert closed == pytest.approx(float(l2_distance_squared(q, p)), rel=1e-12)


def test_density_integrates_to_one():
    p, _ = _mixtures()
    h, pts = _grid()
    assert float(np.sum(np.exp(np.asarray(log_density(p, pts)))) * h * h) == pytest.approx(1.0, rel=1e-9)


def test_sample_moments_match_the_mixture():
    p, _ = _mixtures()
    n = 200_000
    x = np.asarray(sample(jax.random.key(3), p, n))
    w, m, c = (np.asarray(a) for a in p)
    mean = w @ m
    second = np.einsum("k,kij->ij", w, c + m[:, :, None] * m[:, None, :])
    cov = second - np.outer(mean, mean)
    z_mean = (x.mean(axis=0) - mean) / np.sqrt(np.diag(cov) / n)
    xc = x - mean
    prods = np.stack([xc[:, 0] ** 2, xc[:, 0] * xc[:, 1], xc[:, 1] ** 2], -1)
    target = np.array([cov[0, 0], cov[0, 1], cov[1, 1]])
    z_cov = (prods.mean(axis=0) - target) / (prods.std(axis=0, ddof=1) / math.sqrt(n))
    assert np.all(np.abs(np.concatenate([z_mean, z_cov])) < z_bound(5))


def test_em_log_likelihood_never_decreases_and_stops_at_tol():
    real = real_distribution("two_gaussians")
    x = numpy_sample(real, 2000, 5)
    init = split_init(x)
    values, fitted = [], init
    for _ in range(30):  # one EM iteration at a time
        fitted, _ = fit_em(x, fitted, max_iter=1)
        values.append(float(jnp.mean(log_density(fitted, x))))
    assert np.all(np.diff(values) >= -1e-12)  # EM's monotonicity
    fitted, used = fit_em(x, init, tol=1e-5)
    again, _ = fit_em(x, fitted, max_iter=1)
    change = float(jnp.mean(log_density(again, x)) - jnp.mean(log_density(fitted, x)))
    assert 0 <= change < 1e-5 and 1 <= int(used) < 2000


def test_em_recovers_well_separated_components():
    real = GMM(jnp.array([0.4, 0.6]), jnp.array([[-2.0, 0.0], [2.0, 0.5]]),
               jnp.array([[[0.3, 0.1], [0.1, 0.2]], [[0.25, -0.05], [-0.05, 0.4]]]))
    n = 20_000
    x = numpy_sample(real, n, 11)
    fitted, _ = fit_em(x, split_init(x))
    order = np.argsort(np.asarray(fitted.means)[:, 0])
    means = np.asarray(fitted.means)[order]
    weights = np.asarray(fitted.weights)[order]
    w, m, c = (np.asarray(a) for a in real)
    # separation of 4+ standard deviations: the MLE is the per-cluster mean up to ~1e-6 misassignment
    z_means = (means - m) / np.sqrt(np.diagonal(c, axis1=1, axis2=2) / (n * w[:, None]))
    z_weights = (weights - w) / np.sqrt(w * (1 - w) / n)
    assert np.all(np.abs(np.concatenate([z_means.ravel(), z_weights])) < z_bound(6))


def test_chain_is_reproducible_and_its_draws_can_be_redrawn():
    # the run of tests/test_gmm_chain.py's trace test (one compiled program for both in a full run)
    chain = GMMChain(GMMLearner(2), 30, source="blob")
    a = simulate_gmm(jax.random.key(7), chain, generations=13, chains=400)
    b = simulate_gmm(jax.random.key(7), chain, generations=13, chains=400)
    assert all(np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(a.models, b.models))
    assert np.allclose(np.asarray(a.models.weights).sum(axis=-1), 1.0)
    # generation 0 is the fit to D_0, started from the principal-axis split (EM from there, same rule)
    d0 = drawn_points(a, chain, 1, 0)
    first, used = fit_em(d0, split_init(d0, 2))
    assert int(used) == int(a.iterations[1, 0])
    assert np.allclose(np.asarray(first.means), np.asarray(a.models.means[1, 0]), rtol=0, atol=1e-12)
    # generation n's points are drawn from G_{n-1}: they are redrawn after the run
    x3 = np.asarray(drawn_points(a, chain, 0, 3))
    assert x3.shape == (30, 2)
    g3, _ = fit_em(x3, jax.tree.map(lambda t: t[0, 2], a.models))
    assert np.allclose(np.asarray(g3.covariances), np.asarray(a.models.covariances[0, 3]), rtol=0, atol=1e-12)
    # EM's M-step makes the mixture's total covariance the ML covariance of the training set plus reg_covar I
    # (the identity behind the Gaussian theory's exact E tr Sigma(G_n) for any K)
    for r, n in ((0, 0), (1, 5), (2, 12)):
        x = np.asarray(drawn_points(a, chain, r, n))
        total = np.asarray(total_covariance(jax.tree.map(lambda t, r=r, n=n: t[r, n], a.models)))
        assert np.allclose(total, np.cov(x.T, bias=True) + 1e-6 * np.eye(2), rtol=0, atol=1e-13)


@pytest.mark.slow
def test_vmapped_runs_equal_runs_one_by_one():
    # three runs in one vectorised call equal each run alone (same run keys)
    chain = GMMChain(GMMLearner(2), 300, source="blob")
    a = simulate_gmm(jax.random.key(0), chain, generations=6, chains=3)
    source, plan = _padded(gmm_of_source(chain.source)), _plan(chain, 6)
    for r in range(3):
        alone, iterations = _run_chains(a.keys[r:r + 1], source, _rule(chain), None, plan)
        assert np.array_equal(np.asarray(iterations[0]), np.asarray(a.iterations[r]))
        for u, v in zip(alone, a.models):
            assert np.allclose(np.asarray(u[0]), np.asarray(v[r]), rtol=1e-12, atol=1e-14)


def _reference_em(x, gmm, iterations, reg_covar=1e-6, weights=None):
    """Textbook EM (scikit-learn's order and M-step: centred covariances), in NumPy, for comparison; with
    ``weights`` (summing to 1) every point's responsibilities are weighted."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    w, m, c = (np.array(a, dtype=float) for a in gmm)
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    for _ in range(iterations):
        logs = np.stack([np.log(w[k]) + multivariate_normal(m[k], c[k]).logpdf(x) for k in range(len(w))])
        resp = np.exp(logs - logsumexp(logs, axis=0))
        if weights is not None:
            resp = resp * weights
        nk = resp.sum(axis=1) + 10 * np.finfo(float).eps
        m = resp @ x / nk[:, None]
        c = np.stack([(resp[k][:, None] * (x - m[k])).T @ (x - m[k]) / nk[k] + reg_covar * np.eye(d)
                      for k in range(len(w))])
        w = nk / (n if weights is None else 1.0)
    return w, m, c


def test_one_pass_em_matches_textbook_em():
    # the fitted parameters after a few iterations agree with a direct implementation to rounding error
    real = real_distribution("two_gaussians")
    x = numpy_sample(real, 3000, 21)
    init = split_init(x)
    fitted, used = fit_em(x, init, tol=0.0, max_iter=7)
    assert int(used) == 7
    w, m, c = _reference_em(x, init, 7)
    assert np.allclose(np.asarray(fitted.weights), w, rtol=0, atol=1e-11)
    assert np.allclose(np.asarray(fitted.means), m, rtol=0, atol=1e-11)
    assert np.allclose(np.asarray(fitted.covariances), c, rtol=0, atol=1e-11)


def test_em_matches_textbook_em_in_three_dimensions_with_three_components_and_weights():
    # any K and d, and the weighted fit (mix with a real weight): the same numbers as the direct implementation
    real = GMM(jnp.array([0.2, 0.5, 0.3]), jnp.array([[-1.0, 0.0, 0.5], [1.0, 0.5, -0.5], [0.0, -1.5, 0.0]]),
               jnp.stack([jnp.eye(3) * 0.5, jnp.array([[0.4, 0.1, 0.0], [0.1, 0.3, 0.05], [0.0, 0.05, 0.6]]),
                          jnp.eye(3) * 0.3]))
    x = numpy_sample(real, 1500, 8)
    init = split_init(x, 3)
    fitted, used = fit_em(x, init, tol=0.0, max_iter=6)
    assert int(used) == 6
    for got, want in zip(fitted, _reference_em(x, init, 6)):
        assert np.allclose(np.asarray(got), want, rtol=0, atol=1e-10)
    weights = np.where(np.arange(1500) < 300, 0.5 / 300, 0.5 / 1200)
    fitted, _ = fit_em(x, init, tol=0.0, max_iter=4, weights=jnp.asarray(weights))
    for got, want in zip(fitted, _reference_em(x, init, 4, weights=weights)):
        assert np.allclose(np.asarray(got), want, rtol=0, atol=1e-10)
