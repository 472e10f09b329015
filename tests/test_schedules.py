"""Drift partial sums and the bounded-drift decision for sample-size schedules."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory import GaussianChain, ParameterError
from theory.numeric._schedules import BoundedDrift, bounded_drift, drift_partial_sums


def test_partial_sums_schedule_exact():
    sizes = (2, 3, 5, 7, 11)
    d = drift_partial_sums(GaussianChain(sizes), [0, 2, 5])
    assert d["generations"] == [0, 2, 5]
    for key, power in (("inverse_sample_size_sum", 1), ("inverse_sample_size_sq_sum", 2)):
        expected = [float(sum(Fraction(1, m**power) for m in sizes[:n])) for n in (0, 2, 5)]
        np.testing.assert_allclose(d[key], expected, rtol=1e-15)
        assert d[key].dtype == np.float64


def test_partial_sums_constant_and_callable():
    d = drift_partial_sums(GaussianChain(100), [10**7, 1])
    np.testing.assert_array_equal(d["inverse_sample_size_sum"], [1e5, 0.01])
    np.testing.assert_array_equal(d["inverse_sample_size_sq_sum"], [1e3, 1e-4])
    d = drift_partial_sums(GaussianChain(lambda i: 10 * 2**i), [30])
    assert d["inverse_sample_size_sum"][0] == pytest.approx(0.2 * (1 - 2.0**-30), rel=1e-14)


def test_partial_sums_bad_input():
    with pytest.raises(ParameterError, match="^generations"):
        drift_partial_sums(GaussianChain((3, 4)), [3])
    with pytest.raises(ParameterError, match="^generations"):
        drift_partial_sums(GaussianChain(3), [-1])
    with pytest.raises(ParameterError, match="^chain"):
        drift_partial_sums(GaussianChain(sp.Symbol("M")), [1])


@pytest.mark.parametrize(
    "schedule, converges, limit",
    [
        (lambda i: 10 * 2**i, True, sp.Rational(1, 5)),
        (lambda i: (i + 2) ** 2, True, sp.pi**2 / 6 - 1),
        (lambda i: (i + 2) ** sp.Rational(3, 2), True, sp.zeta(sp.Rational(3, 2)) - 1),
        (lambda i: 100 + i, False, sp.oo),
        (lambda i: 2 * i + 2, False, sp.oo),
        (lambda i: 50, False, sp.oo),
    ],
)
def test_bounded_drift_callable(schedule, converges, limit):
    result = bounded_drift(schedule)
    assert isinstance(result, BoundedDrift)
    assert result.converges is converges
    if limit is sp.oo:
        assert result.limit is sp.oo
    else:
        assert abs(sp.N(result.limit - limit, 40)) < 1e-30
        if not sp.sympify(schedule(sp.Integer(3))).is_Integer:
            return  # a real growth law (i + 2)^(3/2): its rounding to integers changes the sum
        # independently of SymPy: the numeric partial sum to 10^4 terms is below the limit by at most the tail,
        # sum_{i >= N} 1/M_i <= int_{N-1}^oo di / M(i) for these decreasing 1/M_i (<= 2/sqrt(N - 1) here)
        partial = drift_partial_sums(GaussianChain(lambda i: int(schedule(i))), [10**4])["inverse_sample_size_sum"][0]
        assert 0 <= float(limit) - partial <= 2 / math.sqrt(10**4 - 1)
    assert ("converges" if converges else "diverges") in result.reason or "constant M" in result.reason


def test_bounded_drift_expression_and_chain():
    i, j, c = sp.symbols("i j c", positive=True)
    geometric = bounded_drift(2 * 3**i)
    assert geometric.converges is True and geometric.limit == sp.Rational(3, 4) and geometric.symbol == i
    assert bounded_drift(j + 2).converges is False
    undecided = bounded_drift(c * j**2 + 2, symbol=j)  # SymPy does not handle a second symbol: honest None
    assert undecided.converges is None and undecided.limit is None and "could not decide" in undecided.reason
    cubic = bounded_drift(5 * j**3 + 2, symbol=j)  # convergent, no closed form from SymPy
    assert cubic.converges is True and cubic.limit is None
    with pytest.raises(ParameterError, match="^symbol"):
        bounded_drift(c * j**2 + 2)
    assert bounded_drift(GaussianChain(lambda i: 2 + i * i)).converges is True


def test_bounded_drift_constant_and_finite():
    for m in (100, np.int64(7), sp.Symbol("M")):
        result = bounded_drift(m)
        assert result.converges is False and result.limit is sp.oo
        assert "linear drift" in result.reason
    result = bounded_drift((2, 3, 6))
    assert result.converges is True and result.limit == 1
    assert "finite schedule of 3" in result.reason
    assert math.isclose(
        float(bounded_drift(GaussianChain((4, 4))).limit),
        drift_partial_sums(GaussianChain((4, 4)), [2])["inverse_sample_size_sum"][0],
    )


@pytest.mark.parametrize(
    "schedule",
    [lambda i: int(10 * 2**i), lambda i: math.exp(i) + 2, lambda i: np.exp(i) + 2, lambda i: [i]],
)
def test_bounded_drift_rejects_non_symbolic_callables(schedule):
    with pytest.raises(ParameterError, match="SymPy-compatible operations"):
        bounded_drift(schedule)


def test_bounded_drift_bad_values():
    with pytest.raises(ParameterError, match=r"^sample_size\(0\)"):
        bounded_drift(lambda i: i)  # M_0 = 0
    with pytest.raises(ParameterError, match="^sample_size"):
        bounded_drift(1)
    with pytest.raises(ParameterError, match="^sample_size"):
        bounded_drift(())
    with pytest.raises(ParameterError, match="^sample_size"):
        bounded_drift("100")


def test_fast_growing_schedule_to_n_1000():
    """The README's schedule 10 * 2**i passes int64 at i ~ 60 and float64 at i ~ 1020: sample sizes stay exact
    Python ints, and every function works to n = 1000 (drift sum 0.2 (1 - 2^-n) exactly, E(mu_n - mu)^2 = sigma^2
    times it for the unbiased learner, where E sigma_i^2 = sigma^2)."""
    from theory import exact_values, leading_order, published_expansions

    chain = GaussianChain(lambda i: 10 * 2**i)
    sizes = chain.sample_sizes(1000)
    assert sizes.dtype == object and sizes[999] == 10 * 2**999
    assert chain.sample_sizes(10).dtype == np.int64
    gens = [1, 70, 1000]
    d = drift_partial_sums(chain, gens)
    expected = [float(Fraction(1, 5) * (1 - Fraction(1, 2**g))) for g in gens]
    np.testing.assert_allclose(d["inverse_sample_size_sum"], expected, rtol=1e-15)
    np.testing.assert_allclose(d["inverse_sample_size_sq_sum"],
                               [float(Fraction(1, 75) * (1 - Fraction(1, 4**g))) for g in gens], rtol=1e-15)
    exact = exact_values(chain, gens)
    np.testing.assert_allclose(exact["mean_sq_error"], expected, rtol=1e-12)
    np.testing.assert_allclose(exact["variance_mean"], 1.0, rtol=1e-12)
    lead = leading_order(chain, gens)
    np.testing.assert_allclose(lead["w2_sq_mean"], 1.5 * np.array(expected), rtol=1e-15)
    assert np.all(np.isfinite(published_expansions(chain, gens)["w2_sq_mean_arxiv_v2"]))


def test_runs_and_constant_cost():
    assert GaussianChain((4, 4, 9, 4)).sample_size_runs(4) == [(4, 2), (9, 1), (4, 1)]
    assert GaussianChain(7).sample_size_runs(10**15) == [(7, 10**15)]
    d = drift_partial_sums(GaussianChain(100), [10**15])  # O(1): no array of 10^15 entries
    assert d["inverse_sample_size_sum"][0] == 1e13
    with pytest.raises(ParameterError, match="^generations: .*refused"):
        GaussianChain(100).sample_sizes(10**12)  # an n-long array is refused with its size
    with pytest.raises(ParameterError, match="^generations: .*refused"):
        drift_partial_sums(GaussianChain(lambda i: 3), [10**13])  # ~10^13 calls: refused with the estimate
