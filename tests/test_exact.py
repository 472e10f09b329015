"""Exact values: closed forms vs the high-precision recursion vs independent quadrature."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from theory import GaussianChain, ParameterError, exact_values, step_moments
from theory.numeric import QUANTITIES
from theory.symbolic import derive
from theory.symbolic._one_step import gamma_ratio_symbol, gamma_ratio_value
from theory.symbolic._symbols import A, M, n, sigma


def closed_form_value(learner, a, m, gen, sig, quantity, dps=60):
    """Evaluate the symbolic closed form at a point, lambdified to mpmath with `dps` digits."""
    a_sym = A if a != 1 else 1
    expr = derive(M, learner, a_sym, sigma).outputs[quantity]
    fn = sp.lambdify((M, n, sigma, A, gamma_ratio_symbol()), expr, modules="mpmath")
    c_expr = sp.lambdify(M, gamma_ratio_value(M), modules="mpmath")
    with mpmath.workdps(dps):
        m_ = mpmath.mpf(m)
        return float(fn(m_, mpmath.mpf(gen), mpmath.mpf(sig), mpmath.mpf(sp.Rational(a).p) / sp.Rational(a).q,
                        c_expr(m_)))


@pytest.mark.parametrize(
    "learner,a,m,sig",
    [("unbiased", 1, 2, 1.0), ("unbiased", 1, 7, 2.5), ("mle", 1, 3, 1.0), ("mle", 1, 50, 0.5),
     ("unbiased", sp.Rational(3, 2), 5, 1.0), ("mle", sp.Rational(4, 5), 10, 1.3)],
)
def test_closed_forms_match_recursion(learner, a, m, sig):
    gens = [0, 1, 2, 3, 7, 20]
    chain = GaussianChain(m, learner=learner, variance_scale=float(a), sigma=sig)
    values = exact_values(chain, gens)
    for q in QUANTITIES:
        for i, g in enumerate(gens):
            expected = closed_form_value(learner, a, m, g, sig, q)
            # abs: the closed form is evaluated with 60 digits from terms of order 1, so an exact 0 (n = 0)
            # comes out as ~1e-60; 1e-40 is far below any value the chain produces here.
            assert values[q][i] == pytest.approx(expected, rel=1e-12, abs=1e-40), (q, g)


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_accuracy_at_extreme_sizes(learner):
    """n up to 1e6, M up to 1e9: float64 results within 1e-9 of a 100-digit evaluation of the closed forms."""
    for m in (10**9, 10**5):
        gens = [1, 1000, 10**6]
        values = exact_values(GaussianChain(m, learner=learner), gens)
        for q in QUANTITIES:
            for i, g in enumerate(gens):
                got = values[q][i]
                assert math.isfinite(got)
                expected = closed_form_value(learner, 1, m, g, 1, q, dps=100)
                assert got == pytest.approx(expected, rel=1e-9), (m, q, g)


def _fit_moments(m, learner, a):
    """One step by quadrature over the chi-square density (independent of sympy and of the recursion)."""
    k, d = m - 1, (m - 1 if learner == "unbiased" else m)
    dist = stats.chi2(k)
    return {p: dist.expect(lambda x: (a * x / d) ** (p / 2)) for p in (1, 2, 3, 4)}, dist, k, d


@pytest.mark.parametrize("m,learner,a", [(2, "unbiased", 1.0), (5, "mle", 1.0), (4, "unbiased", 1.7)])
def test_step_moments_by_quadrature(m, learner, a):
    mom, dist, k, d = _fit_moments(m, learner, a)
    got = step_moments(m, learner, a)
    for p in (1, 2, 3, 4):
        assert got[p] == pytest.approx(mom[p], rel=1e-9)
    log_mean = dist.expect(lambda x: math.log(a * x / d))
    assert got["log"] == pytest.approx(log_mean, rel=1e-8)


@pytest.mark.parametrize(
    "sizes,learner,a",
    # ~25 s each: slow; the default run checks the same values against the recursion and scipy's chi-square moments
    [pytest.param((3, 5), "unbiased", 1.0, marks=pytest.mark.slow), pytest.param((5, 3), "mle", 1.3, marks=pytest.mark.slow)],
)
def test_two_generations_by_quadrature(sizes, learner, a):
    """E W2^2 and Var W2^2 at n = 2 with a schedule, by a double integral over both chi-square draws.

    Given X_1 = sigma_1/sigma and X_2 = sigma_2/sigma, (mu_2 - mu)/sigma ~ N(0, 1/M_0 + X_1^2/M_1), so
    E[W2^2 | X] = V + (X_2 - 1)^2 and E[W2^4 | X] = 3 V^2 + 2 V (X_2 - 1)^2 + (X_2 - 1)^4.
    """
    m0, m1 = sizes
    d = [m - 1 if learner == "unbiased" else m for m in sizes]
    f0, f1 = stats.chi2(m0 - 1).pdf, stats.chi2(m1 - 1).pdf

    def moment(power):
        def integrand(y, x):
            x1 = math.sqrt(a * x / d[0])
            x2 = x1 * math.sqrt(a * y / d[1])
            v = 1 / m0 + x1**2 / m1
            t = (x2 - 1) ** 2
            value = v + t if power == 1 else 3 * v * v + 2 * v * t + t * t
            return value * f0(x) * f1(y)

        return integrate.dblquad(integrand, 0, np.inf, 0, np.inf, epsabs=1e-12, epsrel=1e-10)[0]

    first, second = moment(1), moment(2)
    values = exact_values(GaussianChain(sizes, learner=learner, variance_scale=a), [2])
    assert values["w2_sq_mean"][0] == pytest.approx(first, rel=1e-8)
    assert values["w2_sq_var"][0] == pytest.approx(second - first**2, rel=1e-7)


def test_special_values():
    v = exact_values(GaussianChain(2), [1])
    assert v["sd_mean"][0] == pytest.approx(math.sqrt(2 / math.pi), rel=1e-15)
    assert v["variance_var"][0] == pytest.approx(2.0, rel=1e-15)  # Var chi^2_1 = 2
    # E log chi^2_1 = psi(1/2) + log 2
    assert v["log_variance_mean"][0] == pytest.approx(float(mpmath.digamma(0.5) + mpmath.log(2)), rel=1e-14)
    mle = exact_values(GaussianChain(9, learner="mle", sigma=3.0), [1, 5, 40])
    np.testing.assert_allclose(mle["mean_sq_error"] + mle["variance_mean"], 9.0, rtol=1e-14)


def test_stepwise_equals_binary_powers():
    """Crossing a run of equal M one generation at a time (targets 0..6) and by binary powers (4 + 2) multiplies
    the matrices in different orders; in mpmath (tolerance=0) both must agree to 1e-14. Also for a function
    schedule and a tuple (both walked as runs)."""
    for chain in (GaussianChain(17, learner="mle"), GaussianChain([17] * 6, learner="mle"),
                  GaussianChain(lambda i: 17, learner="mle")):
        stepwise = exact_values(chain, list(range(7)), tolerance=0)
        powers = exact_values(chain, [6], tolerance=0)
        for q in QUANTITIES:
            assert powers[q][0] == pytest.approx(stepwise[q][6], rel=1e-14), q


GRID = [(m, learner, a) for m in (2, 3, 10, 100, 10**4, 10**7, 10**9) for learner in ("unbiased", "mle")
        for a in (1.0, 0.9, 1.2)]


@pytest.mark.parametrize("m,learner,a", GRID)
def test_float64_path_within_its_bound(m, learner, a):
    """The float64 path against mpmath (tolerance=0, correctly rounded) over a grid: within the stated 1e-12."""
    gens = [0, 1, 2, 5, 20, 100, 500, 1000, 5000]
    chain = GaussianChain(m, learner=learner, variance_scale=a, sigma=1.7)
    fast = exact_values(chain, gens)
    exact = exact_values(chain, gens, tolerance=0)
    for q in (*QUANTITIES, "sd_sq_error"):
        for i, g in enumerate(gens):
            if exact[q][i] == 0 or not math.isfinite(exact[q][i]):
                assert fast[q][i] == exact[q][i], (q, g)
            else:
                assert abs(fast[q][i] / exact[q][i] - 1) <= 1e-12, (q, g, fast[q][i], exact[q][i])


def test_float64_path_is_used_and_looser_tolerance(monkeypatch):
    """Not vacuous: at small n every value comes from the float64 path (mpmath is not called); with
    tolerance=1e-9 it reaches n = 1e5 and stays within 1e-9 of mpmath."""
    from theory.numeric import _exact

    chain = GaussianChain(1000, learner="mle")
    reference = exact_values(chain, [1, 10, 100, 10**5], tolerance=0)

    def refuse(*args, **kwargs):
        raise AssertionError("mpmath path called")

    monkeypatch.setattr(_exact, "_states_mpmath", refuse)
    fast = exact_values(chain, [1, 10, 100])
    loose = exact_values(chain, [1, 10, 100, 10**5], tolerance=1e-9)
    for q in QUANTITIES:
        np.testing.assert_allclose(fast[q], reference[q][:3], rtol=1e-12)
        np.testing.assert_allclose(loose[q], reference[q], rtol=1e-9)


def test_sd_sq_error_without_cancellation():
    """E(sigma_n - sigma)^2 at M = 1e7, n = 1: 1 - 2 c_M + 1 in 60 digits, where float64 E sigma_n^2 - 2 E sigma_n + 1
    keeps only ~9 digits."""
    m = 10**7
    with mpmath.workdps(60):
        c = mpmath.sqrt(mpmath.mpf(2) / (m - 1)) * mpmath.exp(mpmath.loggamma(mpmath.mpf(m) / 2)
                                                             - mpmath.loggamma(mpmath.mpf(m - 1) / 2))
        expected = float(2 - 2 * c)
    v = exact_values(GaussianChain(m), [1])
    assert v["sd_sq_error"][0] == pytest.approx(expected, rel=1e-13)


def test_extreme_inputs():
    # M beyond float64's integers, n = 1e9: O(log n), and the leading order holds (n/M = 1e-11)
    v = exact_values(GaussianChain(10**20), [1, 10**9])
    assert v["mean_sq_error"].tolist() == pytest.approx([1e-20, 1e-11], rel=1e-14)
    assert v["w2_sq_mean"][1] == pytest.approx(1.5e-11, rel=1e-9)
    # sigma = 1e100: sigma^4 Var sigma_n^2 overflows float64 (inf), the sigma^2 quantities do not
    big = exact_values(GaussianChain(100, sigma=1e100), [1])
    assert math.isinf(big["variance_var"][0]) and math.isinf(big["w2_sq_var"][0])
    assert big["variance_mean"][0] == pytest.approx(1e200, rel=1e-15)
    # Var W2^2 ~ ((M+1)/(M-1))^n overflows at n = 1e9: inf, not an error
    assert math.isinf(exact_values(GaussianChain(100), [10**9])["w2_sq_var"][0])


def test_constant_m_memory_is_independent_of_n():
    import tracemalloc

    tracemalloc.start()
    exact_values(GaussianChain(100), [10**12])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20  # bytes; an n-long array would be 8 TB


def test_runs_of_a_long_schedule_cost_like_constant():
    """A tuple of 10^5 equal entries is one run (O(log n) products, not 10^5 steps): the same values as constant M."""
    assert GaussianChain((100,) * 10**5).sample_size_runs(10**5) == [(100, 10**5)]
    sched = exact_values(GaussianChain((100,) * 10**5), [10**5])
    const = exact_values(GaussianChain(100), [10**5])
    for q in QUANTITIES:
        assert sched[q][0] == const[q][0]


def test_absurd_request_is_refused_with_estimate():
    with pytest.raises(ParameterError, match=r"^generations: .*refused.* s\b") as err:
        exact_values(GaussianChain(lambda i: 3), [10**13])
    assert "calls" in str(err.value)
    with pytest.raises(ParameterError, match="^generations: .*runs of distinct sample sizes"):
        exact_values(GaussianChain(lambda i: 2 + i), [10**5], max_seconds=1.0)


@pytest.mark.parametrize(
    "kwargs,generations,parameter",
    [({"sample_size": 1}, [1], "sample_size"), ({"sample_size": 2.5}, [1], "sample_size"),
     ({"sample_size": 10, "sigma": 0.0}, [1], "sigma"), ({"sample_size": 10, "variance_scale": -1}, [1], "variance_scale"),
     ({"sample_size": 10, "variance_scale": math.nan}, [1], "variance_scale"), ({"sample_size": 10}, [-1], "generations"),
     ({"sample_size": 10}, [1.5], "generations"), ({"sample_size": 10, "learner": "ols"}, [1], "learner"),
     ({"sample_size": [5, 5]}, [3], "generations"), ({"sample_size": math.inf}, [1], "sample_size")],
)
def test_bad_input_names_the_parameter(kwargs, generations, parameter):
    with pytest.raises(ParameterError) as err:
        exact_values(GaussianChain(**kwargs), generations)
    assert err.value.parameter == parameter
    assert str(err.value).startswith(parameter)


@pytest.mark.parametrize("sizes,learner,a", [((4, 9, 2, 30, 5), "unbiased", 1.0), ((3, 3, 50, 7), "mle", 0.9)])
def test_chi_square_product_moments(sizes, learner, a):
    """E sigma_n^p = prod_i E[(A X_i/d_i)^(p/2)] with E X^q = 2^q Gamma(k/2 + q)/Gamma(k/2), computed directly with
    scipy.special (not via sympy or the recursion); E log sigma_n^2 with digamma; E(mu_n - mu)^2 = sum E sigma_i^2/M_i."""
    from scipy.special import digamma, gammaln

    def ratio(m, p):
        k, d = m - 1, (m - 1 if learner == "unbiased" else m)
        q = p / 2
        return math.exp(q * math.log(2 * a / d) + gammaln(k / 2 + q) - gammaln(k / 2))

    n_max = len(sizes)
    values = exact_values(GaussianChain(sizes, learner=learner, variance_scale=a), list(range(n_max + 1)))
    for n_ in range(n_max + 1):
        prod = {p: math.prod(ratio(m, p) for m in sizes[:n_]) for p in (1, 2, 4)}
        log_mean = sum(digamma((m - 1) / 2) + math.log(2 * a / (m - 1 if learner == "unbiased" else m)) for m in sizes[:n_])
        mse = sum(math.prod(ratio(m, 2) for m in sizes[:i]) / sizes[i] for i in range(n_))
        assert values["sd_mean"][n_] == pytest.approx(prod[1], rel=1e-12)
        assert values["variance_mean"][n_] == pytest.approx(prod[2], rel=1e-12)
        assert values["variance_var"][n_] == pytest.approx(prod[4] - prod[2] ** 2, rel=1e-10)
        assert values["log_variance_mean"][n_] == pytest.approx(log_mean, rel=1e-12)
        assert values["mean_sq_error"][n_] == pytest.approx(mse, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_float64_path_on_random_schedules(seed):
    """Schedules mixing sizes 2..1e6 (with A > 1 the per-step E log R^2 changes sign between sizes, so the L entry
    sums terms of both signs): float64 path within 1e-12 of mpmath."""
    import random

    rng = random.Random(seed)
    sizes = tuple(m for m in (rng.choice([2, 3, 5, 10, 100, 1000, 10**6]) for _ in range(rng.randint(2, 30)))
                  for _ in range(rng.randint(1, 20)))
    chain = GaussianChain(sizes, learner=rng.choice(["unbiased", "mle"]), variance_scale=rng.choice([1.0, 0.8, 1.5]),
                          sigma=rng.choice([1.0, 0.3, 7.0]))
    gens = sorted({rng.randint(0, len(sizes)) for _ in range(6)} | {len(sizes)})
    fast, exact = exact_values(chain, gens), exact_values(chain, gens, tolerance=0)
    for q in (*QUANTITIES, "sd_sq_error"):
        for x, y in zip(fast[q], exact[q]):
            assert x == y if (y == 0 or not math.isfinite(y)) else abs(x / y - 1) <= 1e-12, (q, x, y)
