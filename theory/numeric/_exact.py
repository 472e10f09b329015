"""Exact numeric values of the chain's moments, for any ``n``, ``M`` (constant or a schedule), learner and ``A``.

The state recursion derived in :mod:`theory.symbolic._recursion` is linear: ``s_{n+1} = T(M_n) s_n`` with
``s = (m1, m2, m3, m4, L, q, u1, u2, w, 1)``. Its coefficients (lambdified from the derived SymPy expressions,
so the numbers cannot drift from the proof) are evaluated in :mod:`mpmath` at a working precision chosen from the
largest ``M``; ``T^n`` is formed by repeated squaring for constant ``M`` and step by step for a schedule.
Working in high precision removes the cancellation in quantities such as ``Var W2^2 = E W2^4 - (E W2^2)^2``
when ``n/M`` is tiny, so every result is correctly rounded to float64 (relative error ~1e-16) whenever it is
representable: for ``n`` up to 1e6 and ``M`` up to 1e9 and beyond.
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from .._errors import ParameterError
from ..chain import GaussianChain, check_generations
from ..symbolic._one_step import gamma_ratio_symbol, one_step
from ..symbolic._recursion import SIGMA_POWER, STATE, STATE_SYMBOLS, outputs, transition
from ..symbolic._symbols import A, M

QUANTITIES: tuple[str, ...] = tuple(SIGMA_POWER)
"""The reported quantities, in the CLI's order and under its JSON keys."""

_ORDER = STATE + ("one",)


@lru_cache(maxsize=None)
def _numeric_transition(learner: str):
    """``(M, A, c_M) -> list of rows`` of ``T`` as mpmath numbers, lambdified from the derived recursion."""
    one = one_step(M, learner, A)
    step = transition(one)
    c_m = gamma_ratio_symbol()
    state = [STATE_SYMBOLS[s] for s in STATE]
    rows = []
    for name in STATE:
        expr = sp.expand(step[name])
        row = [expr.coeff(x) for x in state]
        row.append(sp.expand(expr - sum(c * x for c, x in zip(row, state))))
        rows.append(row)
    rows.append([sp.S.Zero] * len(STATE) + [sp.S.One])
    return sp.lambdify((M, A, c_m), rows, modules="mpmath")


@lru_cache(maxsize=None)
def _numeric_outputs():
    one = one_step(M, "unbiased", A)  # outputs use only the normal moments; learner-free
    state = [STATE_SYMBOLS[s] for s in STATE]
    exprs = [outputs(one)[q] for q in QUANTITIES]
    return sp.lambdify(state, exprs, modules="mpmath")


def _gamma_ratio(m) -> mpmath.mpf:
    """``c_M = sqrt(2/(M-1)) Gamma(M/2)/Gamma((M-1)/2)`` in the working precision (log-gamma: no overflow)."""
    m = mpmath.mpf(m)
    return mpmath.sqrt(2 / (m - 1)) * mpmath.exp(mpmath.loggamma(m / 2) - mpmath.loggamma((m - 1) / 2))


def _matrix(learner: str, m: int, a) -> mpmath.matrix:
    return mpmath.matrix(_numeric_transition(learner)(mpmath.mpf(m), a, _gamma_ratio(m)))


def working_precision(max_sample_size: int) -> int:
    """Decimal digits: cancellation in the fourth moments costs about ``2 log10(M/n)`` digits."""
    return 40 + 2 * int(math.ceil(math.log10(max(max_sample_size, 10))))


def _initial() -> mpmath.matrix:
    init = {"m1": 1, "m2": 1, "m3": 1, "m4": 1, "one": 1}
    return mpmath.matrix([init.get(s, 0) for s in _ORDER])


def _states_constant(learner: str, m: int, a, targets: list[int]) -> dict:
    """States at each target generation for constant ``M`` (binary powers, reused across targets)."""
    t = _matrix(learner, m, a)
    powers = [t]
    out = {}
    s, previous = _initial(), 0
    for g in sorted(set(targets)):  # advance from the previous target by the gap, in binary powers of T
        gap, bit = g - previous, 0
        while (1 << bit) <= gap:
            if bit >= len(powers):
                powers.append(powers[-1] * powers[-1])
            if gap >> bit & 1:
                s = powers[bit] * s
            bit += 1
        out[g], previous = s, g
    return out


def _states_schedule(chain: GaussianChain, a, targets: list[int]) -> dict:
    """States at each target generation for a schedule, stepping one generation at a time."""
    wanted = set(targets)
    sizes = chain.sample_sizes(max(targets))
    cache: dict = {}
    s = _initial()
    out = {0: s} if 0 in wanted else {}
    for i, m in enumerate(sizes):
        key = int(m)
        if key not in cache:
            cache[key] = _matrix(chain.learner, key, a)
        s = cache[key] * s
        if i + 1 in wanted:
            out[i + 1] = s
    return out


def exact_state(chain: GaussianChain, generations) -> dict:
    """The raw normalised state (``m1..w``) at each generation, as mpmath numbers (for tests and experts)."""
    gens = check_generations(generations)
    states, _ = _states(chain, gens)
    return {g: dict(zip(_ORDER, states[g])) for g in gens}


def _states(chain: GaussianChain, gens: list[int]):
    if chain.is_symbolic:
        raise ParameterError("chain", "numeric (no SymPy symbols) for numeric evaluation", chain)
    top = max(gens)
    if chain.is_constant:  # no n-long array: constant M is evaluated in O(log n) matrix products
        largest = int(chain.sample_size)
    else:
        largest = int(chain.sample_sizes(top).max()) if top else 2
    dps = working_precision(largest)
    with mpmath.workdps(dps):
        a = mpmath.mpf(float(chain.variance_scale)) if not isinstance(chain.variance_scale, sp.Basic) else mpmath.mpf(
            str(sp.N(chain.variance_scale, dps))
        )
        if chain.is_constant:
            states = _states_constant(chain.learner, int(chain.sample_size), a, gens)
        else:
            states = _states_schedule(chain, a, gens)
    return states, dps


def exact_values(chain: GaussianChain, generations) -> dict:
    """Exact moments of the chain at each generation, as float64 arrays.

    Returns a dict with ``"generations"`` (the list given) and, aligned with it:

    ========================  ==============================================
    ``mean_sq_error``         ``E (mu_n - mu)^2``
    ``variance_mean``         ``E sigma_n^2``
    ``variance_var``          ``Var sigma_n^2``
    ``sd_mean``               ``E sigma_n``
    ``log_variance_mean``     ``E log sigma_n^2 - log sigma^2``
    ``w2_sq_mean``            ``E W2^2(p_n, p_0)``
    ``w2_sq_var``             ``Var W2^2(p_n, p_0)``
    ========================  ==============================================

    with ``p_n = N(mu_n, sigma_n^2)``, ``p_0 = N(mu, sigma^2)``. Values too large for float64 are ``inf``.

    Examples
    --------
    >>> from theory import GaussianChain
    >>> v = exact_values(GaussianChain(100), [0, 1, 10])
    >>> [round(float(x), 12) for x in v["mean_sq_error"]]
    [0.0, 0.01, 0.1]
    >>> float(v["w2_sq_mean"][1])  # 1/M + 2(1 - c_M)
    0.0150440478...
    """
    gens = check_generations(generations)
    states, dps = _states(chain, gens)
    values = {q: np.empty(len(gens)) for q in QUANTITIES}
    fn = _numeric_outputs()
    with mpmath.workdps(dps):
        sigma = mpmath.mpf(float(chain.sigma))
        for i, g in enumerate(gens):
            row = fn(*list(states[g])[: len(STATE)])
            for q, v in zip(QUANTITIES, row):
                scaled = v * sigma ** SIGMA_POWER[q]  # in mpmath: no overflow before the final rounding
                values[q][i] = float(scaled) if abs(scaled) < mpmath.mpf("1.8e308") else math.copysign(math.inf, scaled)
    return {"generations": gens, **values}


def step_moments(sample_size: int, learner: str = "unbiased", variance_scale: float = 1.0) -> dict:
    """Moments of one Gaussian fitting step, ``R = sigma_{i+1}/sigma_i`` from ``M`` samples, as floats.

    Returns ``{1: E R, 2: E R^2, 3: E R^3, 4: E R^4, "log": E log R^2}`` (lambdified from the derivation).

    >>> round(step_moments(2)[1], 12)  # E[sigma_1/sigma] = sqrt(2/pi) for M = 2
    0.797884560803
    """
    chain = GaussianChain(sample_size, learner=learner, variance_scale=variance_scale)
    m = int(chain.sample_size)
    with mpmath.workdps(working_precision(m)):
        t = _matrix(learner, m, mpmath.mpf(chain.variance_scale))
        idx = {s: i for i, s in enumerate(_ORDER)}
        out = {p: float(t[idx[f"m{p}"], idx[f"m{p}"]]) for p in (1, 2, 3, 4)}
        out["log"] = float(t[idx["L"], idx["one"]])
    return out
