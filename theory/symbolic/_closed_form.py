"""Closed forms of the chain's moments for constant ``M``, solved from the recursion and proved by induction.

Every state variable ``x`` obeys a first-order linear recursion ``x(n+1) = a x(n) + b(n)`` whose
inhomogeneity ``b`` involves only variables solved before it (the recursion is triangular). Its solution is
``x(n) = a^n x(0) + sum_{j<n} a^(n-1-j) b(j)``, summed by :func:`sympy.summation`. Each solution is then
*proved*: the base case ``x(0)`` and the inductive step ``x(n+1) - a x(n) - b(n) = 0`` are simplified to zero
symbolically (:class:`Proof`), so a closed form is only returned once it has been checked.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import sympy as sp

from ._one_step import OneStep, one_step
from ._recursion import INITIAL, SIGMA_POWER, STATE, STATE_SYMBOLS, outputs, transition
from ._symbols import M, j, n


class ProofError(AssertionError):
    """A step of a machine-checked derivation did not simplify to zero."""


def is_zero(expr: sp.Expr) -> bool:
    """Decide ``expr == 0`` symbolically, branch by branch for piecewise expressions.

    In a branch guarded by an equation (``Eq(lhs, rhs)``) the equation is solved for one of its symbols and
    substituted before simplifying, so that degenerate cases (e.g. a geometric ratio equal to 1) are proved
    under their own condition.
    """
    expr = sp.piecewise_fold(_drop_impossible_branches(sp.sympify(expr)))
    if isinstance(expr, sp.Piecewise):
        for value, cond in expr.args:
            if cond is sp.false:
                continue
            if cond is sp.true:
                if not is_zero(value):
                    return False
                continue
            equations = [c for c in (cond.args if isinstance(cond, sp.And) else (cond,)) if isinstance(c, sp.Eq)]
            if not equations:  # an inequality guard: the generic expression must vanish identically
                if not is_zero(value):
                    return False
                continue
            unknowns = sorted(set().union(*(e.free_symbols for e in equations)) - {M, n}, key=str) or [M]
            solutions = sp.solve(equations, unknowns[: len(equations)], dict=True)
            if not all(is_zero(value.subs(sol)) for sol in solutions):
                return False
        return True
    for simplifier in (sp.expand, _split_powers, sp.simplify, lambda e: sp.simplify(sp.gammasimp(_split_powers(e)))):
        expr = simplifier(expr)
        if expr == 0:
            return True
    return False


_M_MINUS_TWO = sp.Symbol("t", integer=True, nonnegative=True)


def _drop_impossible_branches(expr: sp.Expr) -> sp.Expr:
    """Remove piecewise branches that need ``M < 2`` (e.g. ``Eq(M, 1)``) by writing ``M = t + 2``, ``t >= 0``."""
    if not expr.has(M):
        return expr
    return sp.piecewise_fold(expr.subs(M, _M_MINUS_TWO + 2)).subs(_M_MINUS_TWO, M - 2)


def _generic_branch(expr: sp.Expr) -> sp.Expr:
    """Keep the generic branch of every geometric sum: ``sum_j r^j = (r^n - 1)/(r - 1)``, dropping the
    ``r = 1`` branch. A ratio that is identically 1 (e.g. ``r_2`` for the unbiased learner with ``A = 1``) is
    summed as such by SymPy and never reaches here; a ratio that equals 1 only at isolated parameter values
    (``A (M + 1)/(M - 1) = 1``) gives a result that holds there as the limit of the generic one, by continuity
    of every moment in ``A``."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1][0])


def _split_powers(expr: sp.Expr) -> sp.Expr:
    """Rewrite every power with ``n`` in its exponent over irreducible bases, ``f^(a n + b) -> G_f^(2a) f^b``
    with ``G_f`` a fresh symbol standing for ``f^(n/2)``, and cancel.

    Treating the ``G_f`` as independent symbols makes the zero test stronger, not weaker: an identity that
    holds for independent ``G_f`` holds for their actual values. Splitting the bases is valid because every
    base in these results is positive (``M >= 2``, ``A > 0``).
    """
    generators: dict = {}

    def split(power: sp.Pow) -> sp.Expr:
        numer, denom = sp.fraction(sp.together(power.base))
        pieces = []
        for part, sign in ((numer, 1), (denom, -1)):
            coeff, factors = sp.factor_list(part)
            if coeff.is_Integer:
                pieces += [(sp.Integer(b), sign * e) for b, e in sp.factorint(coeff).items()]
            else:
                pieces.append((coeff, sign))
            pieces += [(b, sign * e) for b, e in factors]
        out = sp.S.One
        for base, mult in pieces:
            exponent = sp.expand(mult * power.exp)
            slope = exponent.coeff(n)
            rest = sp.expand(exponent - slope * n)
            if rest.has(n) or not (2 * slope).is_Integer:
                return power
            gen = generators.setdefault(base, sp.Dummy(f"G_{base}", positive=True))
            out *= gen ** (2 * slope) * base**rest
        return out

    expr = sp.sympify(expr).replace(lambda e: e.is_Pow and e.exp.has(n), split)
    return sp.cancel(sp.expand(expr))


@dataclasses.dataclass(frozen=True)
class Step:
    """One solved state variable with its proof obligations."""

    name: str
    recursion: sp.Expr  # x(n+1) in terms of the state at n
    coefficient: sp.Expr  # a
    inhomogeneity: sp.Expr  # b(n), closed forms of earlier variables substituted
    closed_form: sp.Expr  # x(n)
    base_case: sp.Expr  # x(0) - initial, proved 0
    inductive_step: sp.Expr  # x(n+1) - a x(n) - b(n), proved 0


@dataclasses.dataclass(frozen=True, eq=False)
class Derivation:
    """All closed forms for one chain (constant ``M``), each proved by induction."""

    one_step: OneStep  # with placeholder moments r_p when the derivation is generic
    steps: dict  # name -> Step
    outputs: dict  # quantity -> closed form in n (sigma restored)
    sigma: sp.Expr


def _solve(name: str, recursion: sp.Expr, solved: dict) -> Step:
    x = STATE_SYMBOLS[name]
    expanded = sp.expand(recursion)
    a = expanded.coeff(x)
    b_state = sp.expand(expanded - a * x)
    if b_state.has(x) or a.free_symbols & set(STATE_SYMBOLS.values()):
        raise ProofError(f"recursion for {name} is not first-order linear: {recursion}")
    b = b_state.subs({STATE_SYMBOLS[k]: v for k, v in solved.items()})
    closed = a**n * INITIAL[name] + sp.summation(a ** (n - 1 - j) * b.subs(n, j), (j, 0, n - 1))
    closed = sp.simplify(_generic_branch(_drop_impossible_branches(closed)))
    base = closed.subs(n, 0) - INITIAL[name]
    inductive = closed.subs(n, n + 1) - a * closed - b
    for label, obligation in (("base case", base), ("inductive step", inductive)):
        if not is_zero(obligation):
            raise ProofError(f"{name}: {label} does not simplify to zero: {obligation}")
    return Step(name, recursion, a, b, closed, base, inductive)


def ratio_symbols() -> dict:
    """Placeholders ``r_p = E[R^p]`` and ``ell = E[log R^2]`` for the generic derivation."""
    return {**{p: sp.Symbol(f"r_{p}", positive=True) for p in (1, 2, 3, 4)}, "log": sp.Symbol("ell", real=True)}


def _check_inputs(sample_size, learner, variance_scale, sigma):
    """Every input of :func:`derive`, checked (a :class:`~theory.ParameterError` names the first bad one)."""
    from .._errors import ParameterError

    if not isinstance(learner, str) or learner not in ("unbiased", "mle"):
        raise ParameterError("learner", "'unbiased' or 'mle'", learner)
    try:
        sample_size = sp.sympify(sample_size, strict=True)
    except (sp.SympifyError, TypeError, ValueError):
        raise ParameterError("sample_size", "an integer >= 2 or a SymPy symbol", sample_size) from None
    if sample_size.free_symbols:
        if sample_size.is_integer is False or sample_size.is_positive is False or not isinstance(sample_size, sp.Expr):
            raise ParameterError("sample_size", "an integer >= 2 or a SymPy symbol that may be one", sample_size)
    elif not (sample_size.is_Integer and sample_size >= 2):
        raise ParameterError("sample_size", "an integer >= 2 or a SymPy symbol", sample_size)
    checked = []
    for name, value in (("variance_scale", variance_scale), ("sigma", sigma)):
        try:
            value = sp.sympify(value, strict=True)
        except (sp.SympifyError, TypeError, ValueError):
            raise ParameterError(name, "a finite number > 0 or a positive SymPy symbol", value) from None
        if not isinstance(value, sp.Expr) or value.is_positive is not True or value.is_finite is False:
            raise ParameterError(
                name, "a finite number > 0 or a SymPy expression known to be positive (e.g. "
                f"Symbol('{name}', positive=True))", value,
            )
        checked.append(value)
    return sample_size, learner, checked[0], checked[1]


def derive(sample_size, learner: str = "unbiased", variance_scale=1, sigma=1) -> "Derivation":
    """Derive and prove every closed form for a chain with constant sample size.

    Arguments may be numbers or SymPy expressions (see :mod:`theory.symbolic._symbols`): ``sample_size`` an
    integer ``>= 2`` or a symbol (``M``, assumed an integer ``>= 2``), ``learner`` ``"unbiased"`` or ``"mle"``,
    ``variance_scale`` and ``sigma`` numbers ``> 0`` or expressions SymPy knows to be positive. Anything else is a
    :class:`~theory.ParameterError` naming the argument.

    >>> derive(M, "mle", 1, -1)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sigma: must be a finite number > 0 or ..., got -1
    """
    return _derive(*_check_inputs(sample_size, learner, variance_scale, sigma))


@lru_cache(maxsize=None)
def _derive(sample_size, learner: str = "unbiased", variance_scale=1, sigma=1) -> Derivation:
    """Derive and prove every closed form for a chain with constant sample size (inputs checked by :func:`derive`).

    With a numeric ``variance_scale`` the sums are taken with the actual one-step moments, so ratios equal to 1
    (``E sigma_{n+1}^2 = E sigma_n^2`` for the unbiased learner with ``A = 1``) are summed exactly. With a
    symbolic ``A`` the derivation is done once with the one-step moments as free symbols ``r_p`` (the generic
    case, in which no two growth rates coincide), proved in that form, and then the moments are substituted;
    it holds at the isolated values of ``A`` where rates coincide as a limit.

    >>> from theory.symbolic._symbols import M, sigma
    >>> derive(M, "mle", 1, sigma).outputs["variance_mean"]
    sigma**2*((M - 1)/M)**n
    >>> derive(M, "unbiased", 1, sigma).outputs["mean_sq_error"]
    n*sigma**2/M
    """
    actual = one_step(sample_size, learner, variance_scale)
    generic = bool(variance_scale.free_symbols)
    if generic:
        r = ratio_symbols()
        one = OneStep(sample_size, learner, variance_scale, {p: r[p] for p in (1, 2, 3, 4)}, r["log"],
                      actual.normal, actual.chi_square_moments)
        values = {**{r[p]: actual.ratio[p] for p in (1, 2, 3, 4)}, r["log"]: actual.log_ratio}
    else:
        one, values = actual, {}
    rec = transition(one)
    solved: dict = {}
    steps = {}
    for name in STATE:
        step = _solve(name, rec[name], solved)
        steps[name] = step
        solved[name] = step.closed_form
    subs = {STATE_SYMBOLS[k]: v for k, v in solved.items()}
    outs = {}
    for key, expr in outputs(one).items():
        value = sp.simplify(expr.subs(subs))
        if values:
            value = sp.powsimp(value.subs(values), force=True)
        outs[key] = value * sigma ** SIGMA_POWER[key]
    return Derivation(one, steps, outs, sigma)


derive.cache_clear = _derive.cache_clear  # type: ignore[attr-defined]
