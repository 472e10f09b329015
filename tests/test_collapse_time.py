"""The exact law of sigma_n/sigma (Gil-Pelaez inversion), its median, and the collapse time.

Checked against: chi-square quantiles exactly (n = 1); a one-dimensional quadrature of the convolution (n = 2);
Monte Carlo z-tests on the indicator ``1[sigma_n/sigma <= median]`` (n = 2, 3), whose standard error is exactly
binomial, ``1/(2 sqrt(N))`` at the true median. A test with ``K`` z-scores fails when one exceeds
``Phi^-1(1 - BUDGET/(2K))``, so its false-failure probability is at most ``BUDGET = 1e-4``; the generator seed is
fixed, so a run is reproducible. The collapse time is checked against a brute-force scan of the median.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from theory import GaussianChain, ParameterError
from theory.numeric._collapse_time import (
    _log_gamma_ratio_centred,
    collapse_time,
    median_sd_ratio,
    sd_ratio_cdf,
)

BUDGET = 1e-4


def _divisor(m, learner):
    return m - 1 if learner == "unbiased" else m


@pytest.mark.parametrize("x", [20.0, 137.5, 5e8])
@pytest.mark.parametrize("t", [0.1, 3.0, 1e3, 1e5])
def test_stirling_difference_against_mpmath(x, t):
    with mpmath.workdps(50):
        ref = complex(
            mpmath.loggamma(mpmath.mpf(x) + 1j * t) - mpmath.loggamma(x) - 1j * t * mpmath.digamma(x)
        )
    got = complex(_log_gamma_ratio_centred(np.array([x]), t)[0])
    assert abs(got.real - ref.real) <= 5e-15 * max(1.0, abs(ref.real))
    assert abs(got.imag - ref.imag) <= 1e-15 * max(1.0, abs(ref.imag))


@pytest.mark.parametrize("m", [2, 3, 10, 101, 10**6, 10**9])
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("scale", [1.0, 0.8])
def test_median_one_generation_is_chi_square_median(m, learner, scale):
    expected = math.sqrt(scale * stats.chi2.median(m - 1) / _divisor(m, learner))
    got = median_sd_ratio(GaussianChain(m, learner=learner, variance_scale=scale), 1)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("ratio", [0.3, 0.9, 1.0, 1.4])
def test_cdf_one_generation_is_chi_square_cdf(ratio):
    chain = GaussianChain(7, learner="mle", variance_scale=0.9)
    p, err = sd_ratio_cdf(chain, 1, ratio, return_error=True)
    assert err < 1e-12
    assert p == pytest.approx(stats.chi2.cdf(7 * ratio**2 / 0.9, 6), abs=1e-12)


def _cdf_two_by_quadrature(m0, m1, learner, scale, ratio):
    """P(A X0/d0 * A X1/d1 <= ratio^2) = E[F_{chi2_k1}(ratio^2 d0 d1 / (A^2 X0))], integrated over v = log X0."""
    k0, k1 = m0 - 1, m1 - 1
    c = ratio**2 * _divisor(m0, learner) * _divisor(m1, learner) / scale**2

    def integrand(v):
        return math.exp(stats.chi2.logpdf(math.exp(v), k0) + v) * stats.chi2.cdf(c * math.exp(-v), k1)

    value, _ = integrate.quad(integrand, -60, 10, epsabs=1e-13, epsrel=1e-12, limit=400, points=[math.log(k0)])
    return value


@pytest.mark.parametrize(
    "sizes, learner, scale, ratio",
    [((2, 2), "unbiased", 1.0, 0.5), ((2, 5), "mle", 1.0, 0.7), ((4, 30), "unbiased", 0.9, 0.95)],
)
def test_cdf_two_generations_against_convolution(sizes, learner, scale, ratio):
    chain = GaussianChain(sizes, learner=learner, variance_scale=scale)
    assert sd_ratio_cdf(chain, 2, ratio) == pytest.approx(
        _cdf_two_by_quadrature(*sizes, learner, scale, ratio), abs=1e-10
    )


MC_CASES = [
    (GaussianChain(2), 2),
    (GaussianChain(3, learner="mle"), 3),
    (GaussianChain((2, 7, 4), variance_scale=0.7), 3),
    (GaussianChain(lambda i: 5 + 10 * i), 2),
]


def test_median_against_monte_carlo():
    rng = np.random.default_rng(20240607)
    draws = 400_000
    bound = stats.norm.isf(BUDGET / (2 * len(MC_CASES)))
    for chain, n in MC_CASES:
        sizes = chain.sample_sizes(n)
        dof = (sizes - 1).astype(float)
        log_ratio_sq = np.zeros(draws)
        for m, k in zip(sizes, dof):
            step = float(chain.variance_scale) * rng.chisquare(k, size=draws) / _divisor(m, chain.learner)
            log_ratio_sq += np.log(step)
        median = median_sd_ratio(chain, n)
        fraction = np.mean(log_ratio_sq <= 2 * math.log(median))
        z = (fraction - 0.5) / (0.5 / math.sqrt(draws))
        assert abs(z) < bound, (chain, n, fraction, z)


def _brute_force(chain, epsilon, top):
    for n in range(1, top + 1):
        if median_sd_ratio(chain, n) < epsilon:
            return n
    return None


@pytest.mark.parametrize(
    "chain, epsilon",
    [
        (GaussianChain(2), 0.5),
        (GaussianChain(5, learner="mle"), 0.2),
        (GaussianChain((3, 2, 9, 9, 9, 4, 2, 50, 50, 3, 3, 3, 3, 3, 3, 3), variance_scale=0.95), 0.3),
        (GaussianChain(lambda i: 2 + i % 3), 0.1),
    ],
)
def test_collapse_time_matches_brute_force(chain, epsilon):
    expected = _brute_force(chain, epsilon, 40)
    assert expected is not None
    assert collapse_time(chain, epsilon) == expected


def test_collapse_time_crossing_at_large_m():
    chain = GaussianChain(1000)
    n = collapse_time(chain, 0.5)
    assert median_sd_ratio(chain, n - 1) >= 0.5 > median_sd_ratio(chain, n)
    # first order: median sigma_n/sigma ~ exp(-n/(2M)), so n ~ 2 M log 2
    assert abs(n - 2000 * math.log(2)) < 5


def test_collapse_time_first_generation():
    chain = GaussianChain(10)
    m1 = median_sd_ratio(chain, 1)
    assert collapse_time(chain, m1 * (1 + 1e-9)) == 1
    assert collapse_time(chain, m1 * (1 - 1e-9)) == 2


def test_no_collapse_returns_none():
    assert collapse_time(GaussianChain(100, variance_scale=1.1), 0.5) is None
    assert collapse_time(GaussianChain(100), 0.5, max_generations=100) is None
    assert collapse_time(GaussianChain((100,) * 50), 0.5) is None  # schedule shorter than the collapse time


@pytest.mark.parametrize("epsilon", [0, 1, 1.5, -0.1, float("nan"), float("inf"), "0.5", True, None])
def test_bad_epsilon(epsilon):
    with pytest.raises(ParameterError, match="^epsilon: must be a number with 0 < epsilon < 1"):
        collapse_time(GaussianChain(10), epsilon)


def test_bad_input():
    with pytest.raises(ParameterError, match="^max_generations"):
        collapse_time(GaussianChain(10), 0.5, max_generations=0)
    with pytest.raises(ParameterError, match="^chain"):
        collapse_time(GaussianChain(sp.Symbol("M")), 0.5)
    with pytest.raises(ParameterError, match="^generations"):
        median_sd_ratio(GaussianChain((3, 4)), 3)
    with pytest.raises(ParameterError, match="^generations"):
        median_sd_ratio(GaussianChain(3), -1)
    with pytest.raises(ParameterError, match="^ratio"):
        sd_ratio_cdf(GaussianChain(3), 1, 0)
    assert median_sd_ratio(GaussianChain(3), 0) == 1.0
    assert collapse_time(GaussianChain(10), np.float64(0.5)) == collapse_time(GaussianChain(10), sp.Rational(1, 2))


def test_huge_sample_sizes_are_deterministic_steps():
    # M = 1e40: sigma_n^2/sigma^2 = A^n up to 1e-40, so the median is 0.5^(n/2), below 0.4 from n = 3 on
    chain = GaussianChain(lambda i: 10**40, variance_scale=0.5)
    assert median_sd_ratio(chain, 3) == pytest.approx(0.5**1.5, rel=1e-15)
    assert collapse_time(chain, 0.4) == 3
    # 10 * 2**i passes float64 after ~1020 generations (an OverflowError in the chain's check, kept as M = inf)
    chain = GaussianChain(lambda i: 10 * 2**i, variance_scale=0.999)
    n = collapse_time(chain, 0.5, max_generations=3000)
    assert median_sd_ratio(chain, n - 1) >= 0.5 > median_sd_ratio(chain, n)
    # log median ~ n log(A)/2 - sum 1/(2 M_i) = n log(A)/2 - 0.1, to first order (skewness adds O(1/M_0^2))
    assert median_sd_ratio(chain, 2000) == pytest.approx(math.exp(1000 * math.log(0.999) - 0.1), rel=1e-2)


@pytest.mark.parametrize(
    "chain, n, ratio",
    [(GaussianChain(100), 138, 0.5), (GaussianChain(2, learner="mle", variance_scale=0.7), 1, 0.2),
     (GaussianChain(10**9), 1, 1 - 1e-9), (GaussianChain((3, 2, 9, 50)), 4, 0.6),
     (GaussianChain(lambda i: 10 * 2**i, variance_scale=0.999), 300, 0.8)],
)
def test_independent_cdf_route_agrees(chain, n, ratio):
    """The route used to check collapse_time (mpmath log-gamma, midpoint rule) against the main one (SciPy)."""
    from theory.numeric._collapse_time import _Steps

    law = _Steps(chain).law(n)
    p, err = law.cdf(2 * math.log(ratio))
    assert law.cdf_mpmath(2 * math.log(ratio)) == pytest.approx(p, abs=1e-13 + err)


def test_crossing_check_can_fail(monkeypatch):
    """A wrong CDF (off by 1e-3) moves the answer; the independent re-check at the answer must catch it."""
    from theory.numeric import _collapse_time as ct

    chain = GaussianChain(100)
    right = collapse_time(chain, 0.5)
    real = ct._LogVarianceLaw.cdf
    monkeypatch.setattr(ct._LogVarianceLaw, "cdf", lambda self, value: (real(self, value)[0] + 3e-3, 1e-15))
    with pytest.raises(RuntimeError, match="independent check"):
        collapse_time(chain, 0.5)
    monkeypatch.setattr(ct._LogVarianceLaw, "cdf", real)
    assert collapse_time(chain, 0.5) == right
