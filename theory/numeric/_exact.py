"""Exact numeric values of the chain's moments, for any ``n``, ``M`` (constant or a schedule), learner and ``A``.

The state recursion derived in :mod:`theory.symbolic._recursion` is linear: ``s_{n+1} = T(M_n) s_n`` with
``s = (m1, m2, m3, m4, L, q, u1, u2, w, 1)``. Its coefficients are lambdified from the derived SymPy expressions
(so the numbers cannot drift from the proof; the expressions are cached across processes, see
:mod:`theory.symbolic._cache`) and evaluated in :mod:`mpmath` at a working precision chosen from the largest ``M``.
The schedule is walked as runs of equal ``M`` (:meth:`~theory.chain.GaussianChain.sample_size_runs`) and each run
is crossed with binary powers of its ``T``: constant ``M`` costs O(log n) matrix products and O(1) memory in ``n``,
a schedule O(#runs log n).

Two evaluations:

* **float64 with a proved bound** (the default path). ``T(M)`` is evaluated in mpmath and rounded once to float64
  (each entry within ``u = 2**-53`` relative). The walk is then done in float64, each matrix or state ``P^``
  carrying an entrywise bound ``B_P >= |P^ - P|``: a product obeys ``|PQ - fl(P^Q^)| <= B_P |Q^| + |P^| B_Q +
  B_P B_Q + gamma_k |P^||Q^|`` (``gamma_k = k u/(1 - k u)``, ``k`` the terms of each inner product), computed
  alongside (the bound's own rounding is covered by a factor ``1 + 40u``). A state is only used if nothing that is
  non-zero in exact arithmetic fell below ``2**-900`` (no underflow) and nothing overflowed. The walk is done twice:
  in the state ``E X^a V^b`` and in the shifted state ``E Y^a V^b``, ``Y = X - 1`` (its recursion derived the same
  way, :func:`_derive_shifted_rows`), because the outputs cancel in the first while ``X ~ 1`` (``Var sigma_n^2 =
  m4 - m2^2`` loses ``log10(M/n)`` digits) and in the second once ``X`` has collapsed. Each output is a polynomial
  ``sum_i c_i prod_j s_j^e_ij`` in the state; with ``|s^_j - s_j| <= b_j`` its error is at most
  ``sum_i |t_i| (sum_j e_j b_j/|s^_j| (1 + 1e-3) + (deg_i + 1) u) + (#terms) u sum_i |t_i|`` (first order, valid as
  every ``b_j/|s^_j| <= 1e-4`` is required), times 1.01, plus ``2 (p + 1) u`` for the factor ``sigma^p``. A value
  is taken from whichever basis proves it within ``tolerance`` (relative, default ``1e-12``); the bound grows
  about ``6u`` per generation, so generations beyond ``tolerance/(16u)`` (about 560 at the default, 5.6e5 at
  ``tolerance=1e-9``) go straight to mpmath, as does every value no basis proves.
* **mpmath** at ``40 + 2 log10(M)`` digits: cancellation costs about ``2 log10(M/n)`` digits, so the result is
  correctly rounded to float64 (relative error ~1e-16) whenever it is representable, for ``n`` up to 1e6 and
  ``M`` up to 1e9 and beyond (``tolerance=0`` uses it for every value).

``tests/test_exact.py`` compares the two over a grid of ``M``, ``n``, learners and ``A``.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from .._errors import ParameterError
from ..chain import REPLACE, GaussianChain, check_chain, check_generations
from ..quantities import EXTRA_QUANTITIES as EXTRA_QUANTITIES
from ..symbolic._recursion import SIGMA_POWER, STATE, STATE_SYMBOLS
from ._walk import walk as _walk

QUANTITIES: tuple[str, ...] = tuple(SIGMA_POWER)
"""The reported quantities, in the CLI's order and under its JSON keys."""


_ORDER = STATE + ("one",)
_DIM = len(_ORDER)
_U = 2.0**-53
_TINY = 2.0**-900  # below this an entry is treated as at risk of underflow: the float64 path is not used
DEFAULT_TOLERANCE = 1e-12
MAX_SECONDS = 600.0
"""Requests whose estimated run time exceeds this are refused with the estimate."""


# ---------------------------------------------------------------------------------------------- derived expressions
def _affine_rows(expressions: list) -> list:
    """The matrix of the affine map ``state -> expressions`` (each linear in the state plus a constant), with the
    homogeneous row ``(0, ..., 0, 1)`` appended: row ``i`` is the coefficients of ``expressions[i]``, then its constant."""
    state = [STATE_SYMBOLS[x] for x in STATE]
    rows = []
    for expr in expressions:
        expr = sp.expand(expr)
        row = [expr.coeff(x) for x in state]
        row.append(sp.expand(expr - sum(c * x for c, x in zip(row, state))))
        rows.append(row)
    rows.append([sp.S.Zero] * len(STATE) + [sp.S.One])
    return rows


def _derive_transition_rows(learner: str) -> list:
    from ..symbolic._one_step import one_step
    from ..symbolic._recursion import transition
    from ..symbolic._symbols import A, M

    step = transition(one_step(M, learner, A))
    return _affine_rows([step[name] for name in STATE])


def _derive_outputs() -> list:
    from ..symbolic._one_step import one_step
    from ..symbolic._recursion import outputs
    from ..symbolic._symbols import A, M

    out = outputs(one_step(M, "unbiased", A))  # outputs use only the normal moments; learner-free
    s = STATE_SYMBOLS
    extra = {"sd_sq_error": s["m2"] - 2 * s["m1"] + 1}  # E(X_n - 1)^2, X_n = sigma_n/sigma
    return [out[q] for q in QUANTITIES] + [extra[q] for q in EXTRA_QUANTITIES]


def _derive_shifted_rows(learner: str) -> list:
    """``T`` in the shifted basis ``Y = X - 1``: the state ``(E Y, E Y^2, E Y^3, E Y^4, L, E V, E VY, E VY^2, E V^2)``.

    Derived like :func:`theory.symbolic._recursion.transition`: one generation maps ``Y -> (1 + Y) R - 1`` and
    ``V -> V + (1 + Y)^2/M`` with ``R`` independent of ``(Y, V)``; each monomial is expanded and its expectation
    taken factor by factor (``E[Y^a V^b R^c] = E[Y^a V^b] r_c``).
    """
    from ..symbolic._one_step import one_step
    from ..symbolic._symbols import A, M

    one = one_step(M, learner, A)
    y, v, r = sp.symbols("Y V R")
    meaning = {"m1": y, "m2": y**2, "m3": y**3, "m4": y**4, "q": v, "u1": v * y, "u2": v * y**2, "w": v**2}
    by_powers = {sp.Poly(mono, y, v).monoms()[0]: STATE_SYMBOLS[name] for name, mono in meaning.items()}
    rows = []
    for name in STATE:
        if name == "L":
            expr = STATE_SYMBOLS["L"] + one.log_ratio
        else:
            nxt = meaning[name].subs({y: (1 + y) * r - 1, v: v + (1 + y) ** 2 / M}, simultaneous=True)
            expr = sp.S.Zero
            for (a, b, c), coeff in sp.Poly(sp.expand(nxt), y, v, r).terms():
                moment = sp.S.One if (a, b) == (0, 0) else by_powers[(a, b)]
                expr += coeff * moment * (one.ratio[c] if c else sp.S.One)
        rows.append(expr)
    return _affine_rows(rows)


def _derive_shifted_outputs() -> list:
    """The outputs in the shifted basis: ``X^p = (1 + Y)^p``, ``V X = V + V Y``, ``V X^2 = V + 2 V Y + V Y^2``."""
    s = STATE_SYMBOLS
    shift = {
        s["m1"]: 1 + s["m1"],
        s["m2"]: 1 + 2 * s["m1"] + s["m2"],
        s["m3"]: 1 + 3 * s["m1"] + 3 * s["m2"] + s["m3"],
        s["m4"]: 1 + 4 * s["m1"] + 6 * s["m2"] + 4 * s["m3"] + s["m4"],
        s["u1"]: s["q"] + s["u1"],
        s["u2"]: s["q"] + 2 * s["u1"] + s["u2"],
    }
    return [sp.expand(e.subs(shift, simultaneous=True)) for e in output_expressions()]


def _allowed(expr, symbols) -> bool:
    return isinstance(expr, sp.Expr) and expr.free_symbols <= set(symbols)


@lru_cache(maxsize=None)
def transition_rows(learner: str, shifted: bool = False) -> list:
    """``T`` as a list of rows of SymPy expressions in ``(M, A, c_M)``, derived (or read from the cache);
    ``shifted=True``: in the basis ``Y = X - 1`` (:func:`_derive_shifted_rows`)."""
    from ..symbolic._cache import cached
    from ..symbolic._one_step import gamma_ratio_symbol
    from ..symbolic._symbols import A, M

    free = (M, A, gamma_ratio_symbol())
    return cached(
        f"transition_{'shifted_' if shifted else ''}{learner}",
        lambda: (_derive_shifted_rows if shifted else _derive_transition_rows)(learner),
        lambda v: isinstance(v, list) and len(v) == _DIM
        and all(isinstance(r, list) and len(r) == _DIM and all(_allowed(e, free) for e in r) for r in v),
    )


@lru_cache(maxsize=None)
def output_expressions(shifted: bool = False) -> list:
    """The reported quantities (:data:`QUANTITIES`, then :data:`EXTRA_QUANTITIES`) as polynomials in the state;
    with ``shifted``, in the shifted basis ``Y = X - 1`` (no cancellation of the 1s while ``X ~ 1``)."""
    from ..symbolic._cache import cached

    state = [STATE_SYMBOLS[s] for s in STATE]
    return cached(
        "outputs_shifted" if shifted else "outputs",
        _derive_shifted_outputs if shifted else _derive_outputs,
        lambda v: isinstance(v, list) and len(v) == len(QUANTITIES) + len(EXTRA_QUANTITIES)
        and all(_allowed(e, state) for e in v),
    )


@lru_cache(maxsize=None)
def _numeric_transition(learner: str, shifted: bool = False):
    """``(M, A, c_M) -> list of rows`` of ``T`` as mpmath numbers."""
    from ..symbolic._one_step import gamma_ratio_symbol
    from ..symbolic._symbols import A, M

    return sp.lambdify((M, A, gamma_ratio_symbol()), transition_rows(learner, shifted), modules="mpmath")


@lru_cache(maxsize=None)
def _numeric_outputs():
    return sp.lambdify([STATE_SYMBOLS[s] for s in STATE], output_expressions(), modules="mpmath")


@lru_cache(maxsize=None)
def _output_terms(shifted: bool = False):
    """Each output as ``(coefficients, exponents)``: ``value = sum_i c_i prod_j s_j^{e_ij}``."""
    state = [STATE_SYMBOLS[s] for s in STATE]
    terms = []
    for expr in output_expressions(shifted):
        poly = sp.Poly(sp.expand(expr), *state)
        exps, coefs = zip(*poly.terms()) if not poly.is_zero else (((0,) * len(state),), (0,))
        terms.append((np.array([float(c) for c in coefs]), np.array(exps, dtype=np.int64)))
    return terms


def _gamma_ratio(m) -> mpmath.mpf:
    """``c_M = sqrt(2/(M-1)) Gamma(M/2)/Gamma((M-1)/2)`` in the working precision (log-gamma: no overflow)."""
    m = mpmath.mpf(m)
    return mpmath.sqrt(2 / (m - 1)) * mpmath.exp(mpmath.loggamma(m / 2) - mpmath.loggamma((m - 1) / 2))


def _matrix(learner: str, m: int, a, shifted: bool = False) -> mpmath.matrix:
    return mpmath.matrix(_numeric_transition(learner, shifted)(mpmath.mpf(m), a, _gamma_ratio(m)))


def working_precision(max_sample_size: int) -> int:
    """Decimal digits: cancellation in the fourth moments costs about ``2 log10(M/n)`` digits."""
    digits = len(str(int(max_sample_size)))  # no float conversion: M may exceed float64
    return 40 + 2 * max(digits, 2)


def _states_mpmath(learner, runs, a, targets):
    init = {"m1": 1, "m2": 1, "m3": 1, "m4": 1, "one": 1}
    return _walk(
        runs, targets,
        lambda m: _matrix(learner, m, a),
        lambda p, q: p * q,
        lambda p, s: p * s,
        mpmath.matrix([init.get(s, 0) for s in _ORDER]),
    )


class _Float:
    """A float64 matrix or vector with an entrywise bound ``bound >= |value - exact|`` and the exact support."""

    __slots__ = ("value", "bound", "support", "safe", "absolute")

    def __init__(self, value, bound, support, safe):
        self.value, self.bound, self.safe = value, bound, safe
        self.support = support.astype(np.float64)  # 1.0 where the exact entry is non-zero
        self.absolute = np.abs(value)

    def times(self, other: "_Float") -> "_Float":
        """``self @ other`` with ``|PQ - P^Q^| <= B_P |Q^| + |P^| B_Q + B_P B_Q`` (the inputs' errors) plus
        ``gamma_k |P^| |Q^|`` (rounding of the product, ``k`` terms per inner product)."""
        with np.errstate(all="ignore"):
            value = self.value @ other.value
            overlap = self.support @ other.support
            support = overlap > 0
            safe = self.safe and other.safe and _entries_safe(value, support)
            bound = value
            if safe:
                k = float(overlap.max(initial=1.0))
                gamma = k * _U / (1 - k * _U)
                a, b = self.absolute, other.absolute
                bound = (self.bound @ (b + other.bound) + a @ other.bound + gamma * (a @ b)) * (1 + 4 * _DIM * _U)
                safe = math.isfinite(float(bound.max()))  # the last factor: the bound's own rounding
        return _Float(value, bound, support, safe)


def _entries_safe(value: np.ndarray, support: np.ndarray) -> bool:
    """Finite, and no entry that is non-zero in exact arithmetic below ``2**-900`` (underflow risk)."""
    smallest = float(np.min(np.abs(value), where=support, initial=np.inf))
    return smallest >= _TINY and math.isfinite(float(np.max(np.abs(value), initial=0.0)))


def _float_matrix(learner: str, m: int, a, shifted: bool) -> _Float:
    t = _matrix(learner, m, a, shifted)
    support = np.array([[t[i, j] != 0 for j in range(_DIM)] for i in range(_DIM)])
    value = np.array([[float(t[i, j]) for j in range(_DIM)] for i in range(_DIM)])
    # correctly rounded from the working precision (>= 40 digits): within u/2 (relative), u to be safe
    return _Float(value, _U * np.abs(value), support, _entries_safe(value, support))


def _states_float(learner, runs, a, targets, shifted: bool):
    ones = ("one",) if shifted else ("m1", "m2", "m3", "m4", "one")  # Y_0 = 0, X_0 = 1
    init = np.array([1.0 if s in ones else 0.0 for s in _ORDER])
    return _walk(
        runs, targets,
        lambda m: _float_matrix(learner, m, a, shifted),
        lambda p, q: p.times(q),
        lambda p, s: p.times(s),
        _Float(init, np.zeros(_DIM), init != 0, True),
    )


# ---------------------------------------------------------------------------------------------- public functions
def _runs(chain: GaussianChain, top: int, max_seconds: float):
    check_chain(chain)
    if chain.is_symbolic:
        raise ParameterError("chain", "numeric (no SymPy symbols) for numeric evaluation", chain)
    runs = chain.sample_size_runs(top, max_seconds=max_seconds)
    # cost measured on a 2-core machine: building T for a run ~0.5 ms, each squaring of a run's T ~1 ms
    estimate = 1e-3 * sum(0.5 + 1.0 * (int(count).bit_length() - 1) for _, count in runs)
    if estimate > max_seconds:
        raise ParameterError(
            "generations",
            f"a request estimated under {max_seconds:g} s (refused: {len(runs)} runs of distinct sample sizes "
            f"up to generation {top} need about {estimate:.3g} s)",
            top,
        )
    return runs


def _scale(chain: GaussianChain, dps: int):
    if isinstance(chain.variance_scale, sp.Basic):
        return mpmath.mpf(str(sp.N(chain.variance_scale, dps)))
    return mpmath.mpf(float(chain.variance_scale))


def exact_state(chain: GaussianChain, generations) -> dict:
    """The raw normalised state (``m1..w``) at each generation, as mpmath numbers (for tests and experts)."""
    gens = check_generations(generations)
    runs = _runs(chain, max(gens), MAX_SECONDS)
    dps = working_precision(max((m for m, _ in runs), default=2))
    with mpmath.workdps(dps):
        states = _states_mpmath(chain.learner, runs, _scale(chain, dps), gens)
    return {g: dict(zip(_ORDER, states[g])) for g in gens}


def exact_values(chain: GaussianChain, generations, *, tolerance: float = DEFAULT_TOLERANCE,
                 max_seconds: float = MAX_SECONDS) -> dict:
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
    ``sd_sq_error``           ``E (sigma_n - sigma)^2`` (not in :data:`QUANTITIES`)
    ========================  ==============================================

    with ``p_n = N(mu_n, sigma_n^2)``, ``p_0 = N(mu, sigma^2)``. Values whose true result is too large for float64
    are ``inf`` (``-inf`` for a log-variance beyond ``-1.8e308``).

    For a chain whose workflow is not ``replace`` (:mod:`theory.numeric._workflow_exact`) the same keys are
    returned, but only ``mean_sq_error``, ``variance_mean`` and ``variance_var`` have exact values, computed in mpmath and correctly rounded (``tolerance`` is not
    used); the others are ``None``, ``"notes"`` says why for each, and ``"bounds"`` holds exact
    ``(lower, upper)`` arrays for ``sd_mean``, ``w2_sq_mean`` and ``sd_sq_error``. The replace result has neither
    key.

    Every value is within ``tolerance`` (relative) of the true one: the float64 path is used where its error bound
    proves it (see the module docstring), mpmath elsewhere, and ``tolerance=0`` uses mpmath for every value
    (correctly rounded). Memory is O(#runs of equal M), never O(n); a request estimated to take longer than
    ``max_seconds`` is refused with the estimate (:class:`~theory.ParameterError` naming ``generations``).

    Examples
    --------
    >>> from theory import GaussianChain
    >>> v = exact_values(GaussianChain(100), [0, 1, 10])
    >>> [round(float(x), 12) for x in v["mean_sq_error"]]
    [0.0, 0.01, 0.1]
    >>> float(v["w2_sq_mean"][1])  # 1/M + 2(1 - c_M)
    0.0150440478...
    >>> float(exact_values(GaussianChain(lambda i: 10 * 2**i), [1000])["mean_sq_error"][0])  # 1/10 + 1/20 + ...
    0.2
    """
    gens = check_generations(generations)
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < 1):
        raise ParameterError("tolerance", "a number in [0, 1)", tolerance)
    if not check_chain(chain).workflow.is_replace:
        if chain.is_symbolic:
            raise ParameterError("chain", "numeric (no SymPy symbols) for numeric evaluation", chain)
        workflow = chain.workflow
        if workflow.kind in ("mix", "mix-fixed") and workflow.real_fraction in (0.0, 1.0):
            return _no_mixing(chain, gens, tolerance, max_seconds)
        from ._workflow_exact import workflow_exact_values

        return workflow_exact_values(chain, gens, max_seconds=max_seconds)
    runs = _runs(chain, max(gens), max_seconds)
    dps = working_precision(max((m for m, _ in runs), default=2))
    keys = QUANTITIES + tuple(EXTRA_QUANTITIES)
    power = {**SIGMA_POWER, **EXTRA_QUANTITIES}
    values = {q: np.full(len(gens), np.nan) for q in keys}
    sigma = float(chain.sigma)
    with mpmath.workdps(dps):
        a = _scale(chain, dps)
        # the float64 bound grows by ~6u per generation: beyond tolerance/(16u) it cannot pass, go to mpmath
        reach = [g for g in gens if g <= tolerance / (16 * _U)]
        if reach:
            for shifted in (True, False):  # Y = X - 1 is well conditioned while X ~ 1 (n << M), X beyond
                states = _states_float(chain.learner, runs, a, reach, shifted)
                _fill_float(values, keys, power, gens, states, sigma, tolerance, _output_terms(shifted))
        todo = [i for i in range(len(gens)) if any(math.isnan(values[q][i]) for q in keys)]
        if todo:
            states = _states_mpmath(chain.learner, runs, a, [gens[i] for i in todo])
            fn = _numeric_outputs()
            sig = mpmath.mpf(sigma)
            for i in todo:
                row = fn(*list(states[gens[i]])[: len(STATE)])
                for q, v in zip(keys, row):
                    if math.isnan(values[q][i]):
                        scaled = v * sig ** power[q]  # in mpmath: no overflow before the final rounding
                        big = abs(scaled) >= mpmath.mpf("1.7976931348623157e308")
                        values[q][i] = math.copysign(math.inf, scaled) if big else float(scaled)
    return {"generations": gens, **values}


def _no_mixing(chain: GaussianChain, gens: list, tolerance: float, max_seconds: float) -> dict:
    """``mix``/``mix-fixed`` with ``LAMBDA = 0`` or ``1``, where every value is the replace chain's, exactly.

    ``LAMBDA = 0``: no real point ever, the replace chain itself. ``LAMBDA = 1``: no synthetic point, so generation
    ``n >= 1`` is a fit to ``M_{n-1}`` fresh real points (``mix``), or the same fit to the same ``M_0`` points every
    time (``mix-fixed``): in law, the replace chain's generation 1 with that sample size.
    """
    plain = dataclasses.replace(chain, workflow=REPLACE)
    if chain.workflow.real_fraction == 0.0:
        chain.check_workflow(max(gens))
        return {**exact_values(plain, gens, tolerance=tolerance, max_seconds=max_seconds), "notes": {}, "bounds": {}}
    chain.check_workflow(max(gens))
    fixed = chain.workflow.kind == "mix-fixed"
    out = {"generations": gens}
    rows = {}
    for g in sorted(set(gens)):
        m = chain.sample_size_at(0 if fixed or g == 0 else g - 1)
        rows[g] = exact_values(dataclasses.replace(plain, sample_size=m), [min(g, 1)], tolerance=tolerance,
                               max_seconds=max_seconds)
    for key in QUANTITIES + tuple(EXTRA_QUANTITIES):
        out[key] = np.array([rows[g][key][0] for g in gens])
    return {**out, "notes": {}, "bounds": {}}


def _fill_float(values, keys, power, gens, states: dict, sigma: float, tolerance: float, output_terms) -> None:
    """Set every output not yet set whose float64 error bound is below ``tolerance`` (relative).

    A term ``t = c prod_j s_j^e_j`` computed from ``s^_j`` with ``|s^_j - s_j| <= b_j`` is off by at most
    ``|t| (sum_j e_j b_j/|s^_j|) (1 + 1e-3)`` when every ``b_j/|s^_j| <= 1e-4`` (first order; the neglected terms are
    below 1e-3 of it), plus ``(deg + 1) u |t|`` of rounding; the sum of the terms adds ``(#terms) u sum |t|``.
    """
    rows = [i for i, g in enumerate(gens) if g in states and states[g].safe]
    if not rows:
        return
    s = np.array([states[gens[i]].value[: len(STATE)] for i in rows])
    b = np.array([states[gens[i]].bound[: len(STATE)] for i in rows])
    with np.errstate(all="ignore"):
        ratio = np.where(s != 0, b / np.abs(s), np.where(b == 0, 0.0, np.inf))
        for q, (coefs, exps) in zip(keys, output_terms):
            terms = coefs * np.prod(s[:, None, :] ** exps[None, :, :], axis=2)  # (targets, terms)
            used = exps > 0
            relative = np.where(used[None, :, :], exps[None, :, :] * ratio[:, None, :], 0.0)
            worst = np.where(used[None, :, :], ratio[:, None, :], 0.0).max(axis=(1, 2), initial=0.0)
            degree = exps.sum(axis=1)
            absolute = np.abs(terms)
            bound = np.sum(absolute * (relative.sum(axis=2) * (1 + 1e-3) + (degree + 1) * _U), axis=1)
            bound += len(coefs) * _U * absolute.sum(axis=1)
            total = terms.sum(axis=1)
            scale = np.float64(sigma) ** power[q]
            value = total * scale
            bound = 1.01 * (bound * abs(scale) + 2 * (power[q] + 1) * _U * np.abs(value))
            good = (np.isfinite(value) & (np.abs(value) >= _TINY) & (bound <= tolerance * np.abs(value))
                    & (worst <= 1e-4))
            zero = (total == 0) & (bound == 0) & np.isfinite(scale)  # every term exactly 0 (e.g. n = 0)
            for k, i in enumerate(rows):
                if math.isnan(values[q][i]) and (good[k] or zero[k]):
                    values[q][i] = 0.0 if zero[k] else value[k]


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
