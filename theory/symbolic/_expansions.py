"""Leading-order expansions in ``1/M``, derived from the exact recursion, and the published claims beside them.

With ``A = 1`` a step with ``M = infinity`` is the identity (``R = 1``, ``V`` unchanged), so the exact results
are smooth functions of ``eps_i = 1/M_i`` vanishing at ``eps = 0``. Taylor's theorem in the ``eps_i`` then
gives, for any schedule,

* ``E W2^2 = sigma^2 a Sum_i eps_i + O(eps^2)``, where ``a`` is the first-order coefficient of one step;
* ``Var W2^2 = sigma^4 (b Sum_i eps_i^2 + c Sum_{i<j} eps_i eps_j) + O(eps^3)`` (``Var W2^2`` has no first-order
  term), where ``b`` comes from one step and ``c`` from two steps with distinct sample sizes.

The coefficients are obtained by running the derived recursion symbolically for one and two generations with
sample sizes ``1/(t e_0)``, ``1/(t e_1)``, expanding the gamma-function ratio ``c_M`` with its Stirling series
(derived by :func:`sympy.series` of ``log Gamma``) and reading off powers of ``t``.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ._one_step import OneStep, gamma_ratio_symbol, one_step
from ._recursion import INITIAL, STATE, STATE_SYMBOLS, outputs, transition
from ._symbols import M

_t, _e0, _e1, _x = sp.symbols("t e_0 e_1 x", positive=True)
ORDER = 3  # terms of the Stirling series kept; enough for second order in 1/M


@lru_cache(maxsize=None)
def _log_gamma_ratio_series() -> sp.Expr:
    """``log(Gamma(x + 1/2) / (Gamma(x) sqrt(x)))`` as a polynomial in ``1/x`` (asymptotic series at infinity)."""
    s = sp.series(sp.loggamma(_x + sp.S.Half) - sp.loggamma(_x) - sp.log(_x) / 2, _x, sp.oo, 2 * ORDER + 2)
    return sp.simplify(s.removeO())


def _c_series(eps: sp.Expr) -> sp.Expr:
    """``c_M`` with ``M = 1/eps``: ``c_M = exp(f((M-1)/2))``, ``f`` the series above."""
    x = (1 / eps - 1) / 2
    return sp.exp(_log_gamma_ratio_series().subs(_x, x))


def _step_values(learner: str, eps: sp.Expr) -> OneStep:
    m = 1 / eps
    actual = one_step(M, learner, sp.S.One)
    # Each ratio is expanded on its own to O(t^3) (cheap), so the runs below are polynomial arithmetic; the
    # coefficients of t and t^2 read off later are exact because nothing of order t^3 can reach them.
    ratio = {
        p: sp.series(actual.ratio[p].subs(gamma_ratio_symbol(), _c_series(eps)).subs(M, m), _t, 0, 3).removeO()
        for p in (1, 2, 3, 4)
    }
    log_ratio = actual.log_ratio.subs(M, m)
    return OneStep(m, learner, sp.S.One, ratio, log_ratio, actual.normal, actual.chi_square_moments)


def _run(steps: list[OneStep]) -> dict:
    state = {STATE_SYMBOLS[k]: sp.sympify(v) for k, v in INITIAL.items()}
    for one in steps:
        rec = transition(one)
        state = {STATE_SYMBOLS[k]: rec[k].subs(state, simultaneous=True) for k in STATE}
    return {q: e.subs(state, simultaneous=True) for q, e in outputs(steps[0]).items()}


def _coefficient(expr: sp.Expr, power: int) -> sp.Expr:
    return sp.simplify(sp.expand(expr).coeff(_t, power))


@lru_cache(maxsize=None)
def coefficients(learner: str = "unbiased") -> dict:
    """``{"w2_sq_mean": a, "w2_sq_var": (b, c)}`` as exact numbers (see module docstring).

    Derived once per machine and then read from the cross-process cache (:mod:`theory.symbolic._cache`).

    >>> coefficients("unbiased")["w2_sq_mean"]
    3/2
    """
    from ._cache import cached

    if learner not in ("unbiased", "mle"):
        raise ValueError(f"learner: must be 'unbiased' or 'mle', got {learner!r}")
    a, b, c = cached(
        f"expansion_coefficients_{learner}",
        lambda: _derive_coefficients(learner),
        lambda v: isinstance(v, tuple) and len(v) == 3 and all(isinstance(x, sp.Rational) for x in v),
    )
    return {"w2_sq_mean": a, "w2_sq_var": (b, c)}


def _derive_coefficients(learner: str) -> tuple:
    """The derivation behind :func:`coefficients`, as a tuple ``(a, b, c)``."""
    one = _run([_step_values(learner, _t * _e0)])
    two = _run([_step_values(learner, _t * _e0), _step_values(learner, _t * _e1)])
    a = _coefficient(one["w2_sq_mean"], 1) / _e0
    if _coefficient(one["w2_sq_var"], 1) != 0:
        raise AssertionError("Var W2^2 has a first-order term; the expansion below would be wrong")
    b = sp.simplify(_coefficient(one["w2_sq_var"], 2) / _e0**2)
    second = sp.expand(_coefficient(two["w2_sq_var"], 2))
    c = sp.simplify(second.coeff(_e0, 1).coeff(_e1, 1))
    if sp.simplify(second - b * (_e0**2 + _e1**2) - c * _e0 * _e1) != 0:
        raise AssertionError(f"second-order term is not of the form b(e0^2+e1^2) + c e0 e1: {second}")
    return sp.nsimplify(a), sp.nsimplify(b), sp.nsimplify(c)
