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
    assert result.expression == sp.sympify(schedule(result.symbol))
    if limit is sp.oo:
        assert result.limit is sp.oo
    else:
        assert abs(sp.N(result.limit - limit, 40)) < 1e-30
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
