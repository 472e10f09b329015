"""The exact moment recursion of the chain, derived from the one-step law.

State (all normalised by ``sigma``; ``X_n = sigma_n/sigma``, ``V_n = sum_{i<n} X_i^2 / M_i``, so that given every
fitted standard deviation, ``(mu_n - mu)/sigma ~ Normal(0, V_n)``):

=====  ======================  =====
name   meaning                 n = 0
=====  ======================  =====
m1-m4  ``E[X_n^p]``            1
L      ``E[log X_n^2]``        0
q      ``E[V_n]``              0
u1     ``E[V_n X_n]``          0
u2     ``E[V_n X_n^2]``        0
w      ``E[V_n^2]``            0
=====  ======================  =====

One generation maps ``X -> X R`` and ``V -> V + X^2/M`` with ``R`` independent of ``(X, V)``; expanding each
state monomial and taking expectations factor by factor gives the linear recursion :func:`transition`.
The output quantities (:func:`outputs`) follow from ``W2^2/sigma^2 = V Z^2 + (X - 1)^2``, ``Z ~ Normal(0, 1)``
independent of the fitted standard deviations (sample mean and sample variance of a Gaussian sample are
independent).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..quantities import SIGMA_POWER as _SIGMA_POWER
from ._one_step import OneStep

# Random quantities of one generation (plain symbols: the derivation works on polynomials in them).
X, V, R, Z, logR2 = sp.symbols("X V R Z logR2")

STATE = ("m1", "m2", "m3", "m4", "L", "q", "u1", "u2", "w")
STATE_SYMBOLS = dict(zip(STATE, sp.symbols(" ".join(STATE))))
INITIAL = {"m1": 1, "m2": 1, "m3": 1, "m4": 1, "L": 0, "q": 0, "u1": 0, "u2": 0, "w": 0}
MEANING = {
    "m1": X,
    "m2": X**2,
    "m3": X**3,
    "m4": X**4,
    "L": sp.Symbol("log X^2"),
    "q": V,
    "u1": V * X,
    "u2": V * X**2,
    "w": V**2,
}


def _expect_state_monomial(a: int, b: int) -> sp.Expr:
    """``E[X^a V^b]`` as a state symbol (``E[1] = 1``)."""
    for name, mono in MEANING.items():
        if name != "L" and sp.Poly(mono, X, V).monoms() == [(a, b)]:
            return STATE_SYMBOLS[name]
    if (a, b) == (0, 0):
        return sp.S.One
    raise KeyError(f"E[X^{a} V^{b}] is not in the state; the recursion does not close")


def expect(poly_expr: sp.Expr, one: OneStep) -> sp.Expr:
    """Expectation of a polynomial in ``X, V, R, Z`` using independence:
    ``E[X^a V^b R^c Z^e] = E[X^a V^b] r_c E[Z^e]``."""
    poly = sp.Poly(sp.expand(poly_expr), X, V, R, Z)
    total = sp.S.Zero
    for (a, b, c, e), coeff in poly.terms():
        factor_r = one.ratio[c] if c else sp.S.One
        if e % 2:
            factor_z = sp.S.Zero
        else:
            factor_z = one.normal[e] if e else sp.S.One
        total += coeff * _expect_state_monomial(a, b) * factor_r * factor_z
    return total


@lru_cache(maxsize=None)
def transition(one: OneStep) -> dict:
    """``{name: expression of the state at n}`` giving the state at ``n + 1``.

    Derived by substituting ``X -> X R``, ``V -> V + X^2/M`` into each state monomial, expanding, and
    taking expectations with :func:`expect`; ``L`` steps by ``E[log R^2]``.
    """
    m = one.sample_size
    step = {}
    for name, mono in MEANING.items():
        if name == "L":
            step[name] = STATE_SYMBOLS["L"] + one.log_ratio
            continue
        nxt = mono.subs({X: X * R, V: V + X**2 / m}, simultaneous=True)
        step[name] = sp.expand(expect(nxt, one))
    return step


@lru_cache(maxsize=None)
def outputs(one: OneStep) -> dict:
    """The reported quantities in units of ``sigma`` (``sigma^2`` or ``sigma^4`` restored by the caller).

    ``W2^2/sigma^2 = V Z^2 + (X - 1)^2`` (1-D Gaussians: ``W2^2 = (m - mu)^2 + (s - sigma)^2``).
    """
    s = STATE_SYMBOLS
    w2 = V * Z**2 + (X - 1) ** 2
    w2_mean = sp.expand(expect(w2, one))
    w2_second = sp.expand(expect(w2**2, one))
    return {
        "mean_sq_error": s["q"],
        "variance_mean": s["m2"],
        "variance_var": s["m4"] - s["m2"] ** 2,
        "sd_mean": s["m1"],
        "log_variance_mean": s["L"],
        "w2_sq_mean": w2_mean,
        "w2_sq_var": sp.expand(w2_second - w2_mean**2),
    }


#: Each output scales as ``sigma**power`` (from the one registry, :mod:`theory.quantities`).
SIGMA_POWER = _SIGMA_POWER
