"""Publication-ready LaTeX for the closed forms of the 1-D chain (``closed-form --latex``, the proofs' results).

The derived closed forms (:func:`theory.symbolic.derive`) are correct but set badly by :func:`sympy.latex`:
``M^{5} M^{-2n}``, ``(M^{5} - M^{3})^{n} M^{-5n}``, ``\\operatorname{polygamma}(0, ...)``. Every exponential in
them is a power of a one-step moment ``r_p = E R^p`` (``R = sigma_{i+1}/sigma_i``), so each result is rewritten as
a sum ``sum_k C_k(n, M) rho_k^n`` over products ``rho_k`` of the **named constants**

* ``c = E R = r_1`` (``E sigma_n = sigma c^n``),
* ``a = E R^2 = r_2`` (``E sigma_n^2 = sigma^2 a^n``),
* ``b = E R^4 = r_4`` (``E sigma_n^4 = sigma^4 b^n``),
* ``g = E R^3 = r_3`` (only where it is not a product of the others),

each with its value for the learner and ``A`` printed as a definition (e.g. MLE, ``A = 1``: ``a = (M-1)/M``,
``b = (M^2-1)/M^2``, ``c = c_M sqrt((M-1)/M)``), a constant equal to 1 or to a product of earlier ones dropped. The
rewriting is exact: every power ``f^{s n + t}`` is split over the irreducible factors of ``f`` into fresh symbols
``G_f = f^{n/2}``, the expression is expanded into monomials in the ``G_f``, each monomial's exponent vector is
solved (linear algebra over the rationals) as a combination of the constants' vectors, and the coefficient of each
monomial is factored. The digamma is set as ``\\psi``. :func:`closed_forms` returns the forms, the constants and
the derived expressions side by side; ``tests/test_latex.py`` parses every printed formula back with SymPy's LaTeX
parser, substitutes the printed definitions and proves it equal to the derivation.

:func:`latex_report` renders all of it for a chain (``M``, learner, rational ``A``) with the exact numeric values
for the given ``M`` and generations beside each form; the caller passes those values in (from
:func:`theory.numeric.exact_values`), so this layer never imports the numeric layer above it.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ._one_step import gamma_ratio_symbol, gamma_ratio_value, one_step
from ._symbols import M, n, sigma

__all__ = ["QUANTITY_TEX", "ClosedForms", "Constant", "Form", "closed_forms", "generic_forms", "latex", "latex_report",
           "short_forms"]

QUANTITY_TEX = {
    "mean_sq_error": r"\mathbb{E}\left[(\mu_n-\mu)^2\right]",
    "variance_mean": r"\mathbb{E}\left[\sigma_n^2\right]",
    "variance_var": r"\operatorname{Var}\left[\sigma_n^2\right]",
    "sd_mean": r"\mathbb{E}\left[\sigma_n\right]",
    "log_variance_mean": r"\mathbb{E}\left[\log\sigma_n^2\right]-\log\sigma^2",
    "w2_sq_mean": r"\mathbb{E}\left[W_2^2(p_n,p_0)\right]",
    "w2_sq_var": r"\operatorname{Var}\left[W_2^2(p_n,p_0)\right]",
}
"""Left-hand sides, every expectation and variance with explicit brackets (nothing can be read as a power of it)."""

QUANTITY_TITLES = {
    "mean_sq_error": "mean squared error of the fitted mean",
    "variance_mean": "expected fitted variance",
    "variance_var": "variance of the fitted variance",
    "sd_mean": "expected fitted standard deviation",
    "log_variance_mean": "expected log-variance (the almost-sure collapse rate)",
    "w2_sq_mean": "expected squared Wasserstein-2 distance to generation 0",
    "w2_sq_var": "variance of the squared Wasserstein-2 distance",
}

_NAMES = (("c", 1), ("a", 2), ("b", 4), ("g", 3))
"""Preferred names of the one-step moments ``r_p``, in the order they are tried."""

C_M = gamma_ratio_symbol()
C_M_TEX = r"\sqrt{\frac{2}{M-1}}\,\frac{\Gamma\left(\frac{M}{2}\right)}{\Gamma\left(\frac{M-1}{2}\right)}"
"""``c_M``'s definition as printed (checked against :func:`gamma_ratio_value` by the tests)."""


# ---------------------------------------------------------------------------------------------- printing
class _Printer(LatexPrinter):
    """SymPy's LaTeX printer with ``\\psi`` for the digamma, ``\\psi'`` for the trigamma, and a constant's power
    ``c^{n}`` never written as ``\\left(c\\right)^{n}``."""

    def _print_Mul(self, expr):
        """Products with a bracketed factor print it first: ``\\left(M - 2\\right) M``, not ``M \\left(M - 2\\right)``,
        which a reader (and SymPy's LaTeX parser) could take for a function ``M`` applied to ``M - 2``."""
        coeff, rest = expr.as_coeff_Mul()
        top, bottom = [], []
        for f in sp.Mul.make_args(rest):
            if f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                bottom.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
            else:
                top.append(f)
        if not any(_bracketed(f) for f in top + bottom):
            return super()._print_Mul(expr)
        coeff = sp.Rational(coeff)
        sign = "- " if coeff < 0 else ""
        numer = self._product(abs(coeff.p), top)
        if coeff.q == 1 and not bottom:
            return sign + numer
        return rf"{sign}\frac{{{numer}}}{{{self._product(coeff.q, bottom)}}}"

    def _product(self, coeff, factors) -> str:
        ordered = [f for f in factors if _bracketed(f)] + [f for f in factors if not _bracketed(f)]
        alone = len(ordered) == 1 and coeff == 1
        pieces = [self._print(f) if (alone or not f.is_Add) else self.parenthesize(f, 50) for f in ordered]
        if coeff != 1 or not pieces:
            pieces.insert(0, self._print(sp.Integer(coeff)))
        return " ".join(pieces)

    def _print_polygamma(self, expr, exp=None):
        order, arg = expr.args
        name = {0: r"\psi", 1: r"\psi'"}.get(int(order)) if order.is_Integer else None
        if name is None:
            return super()._print_polygamma(expr, exp)
        tex = rf"{name}\left({self._print(arg)}\right)"
        return rf"{tex}^{{{exp}}}" if exp is not None else tex


def _bracketed(factor) -> bool:
    """A factor that prints in brackets: a sum, or a power of one (not a root: ``\\sqrt{M - 1}`` has none)."""
    half = sp.Rational(1, 2)
    return factor.is_Add or (factor.is_Pow and factor.base.is_Add and factor.exp not in (-1, half, -half))


def latex(expr, **settings) -> str:
    """:func:`sympy.latex` with ``\\psi`` for the digamma (``polygamma(0, x)``) and ``\\psi'`` for the trigamma.

    >>> latex(sp.polygamma(0, (M - 1) / 2))
    '\\\\psi\\\\left(\\\\frac{M}{2} - \\\\frac{1}{2}\\\\right)'
    """
    return _Printer(settings).doprint(expr)


# ---------------------------------------------------------------------------------------------- exponentials
def _factors(expr: sp.Expr) -> dict:
    """``{irreducible base: exponent}`` with ``expr = prod base^exponent`` (positive bases: ``M >= 2``, ``A > 0``)."""
    expr = sp.sympify(expr)
    out: dict = {}

    def merge(part: dict, scale=1) -> None:
        for base, e in part.items():
            out[base] = out.get(base, 0) + scale * e

    if expr.is_Rational:
        merge({sp.Integer(p): e for p, e in sp.factorint(expr.p).items()})
        merge({sp.Integer(p): -e for p, e in sp.factorint(expr.q).items()})
    elif expr.is_Mul:
        for arg in expr.args:
            merge(_factors(arg))
    elif expr.is_Pow and expr.exp.is_Rational:
        merge(_factors(expr.base), expr.exp)
    elif expr.is_Add and not expr.free_symbols:  # an irrational number such as 1 + sqrt(2): one base
        merge({expr: 1})
    elif expr.is_Add:
        num, den = sp.fraction(sp.together(expr))
        if den != 1:
            merge(_factors(num))
            merge(_factors(den), -1)
        else:
            try:
                coeff, parts = sp.factor_list(expr)
            except sp.PolificationFailed:  # e.g. an Add that expands to a number
                simpler = sp.expand(expr)
                merge(_factors(simpler) if simpler != expr else {expr: 1})
                return {b: e for b, e in out.items() if e != 0 and b != 1}
            merge(_factors(coeff))
            for base, e in parts:
                if base.is_Add or base.is_Symbol:
                    merge({base: e})
                else:
                    merge(_factors(base), e)
    else:
        merge({expr: 1})
    return {b: e for b, e in out.items() if e != 0 and b != 1}


class _Exponentials:
    """Fresh symbols ``G_f = f^{n/2}`` for the irreducible bases ``f`` of the powers with ``n`` in the exponent."""

    def __init__(self):
        self.symbols: dict = {}

    def generator(self, base) -> sp.Symbol:
        if base not in self.symbols:
            self.symbols[base] = sp.Dummy(f"G_{base}", positive=True)
        return self.symbols[base]

    def power(self, base, exponent) -> sp.Expr:
        """``base**exponent`` with the ``n`` part of the exponent moved into generators."""
        exponent = sp.expand(exponent)
        slope = exponent.coeff(n)
        rest = sp.expand(exponent - slope * n)
        if rest.has(n):
            raise ValueError(f"exponent not linear in n: {exponent}")
        out = sp.S.One
        for f, e in _factors(base).items():
            out *= self.generator(f) ** (2 * slope * e) * f ** (rest * e)
        return out

    def split(self, expr: sp.Expr) -> sp.Expr:
        return sp.sympify(expr).replace(lambda e: e.is_Pow and e.exp.has(n), lambda e: self.power(e.base, e.exp))

    def vector(self, monomial: sp.Expr) -> dict:
        """``{generator: exponent}`` of a product of powers of the generators (and of anything else): the exponent
        of ``G`` is ``G d/dG log(monomial)``, whatever the shape of the product."""
        out = {}
        for g in self.symbols.values():
            if monomial.has(g):
                e = sp.cancel(g * sp.diff(monomial, g) / monomial)
                if e.free_symbols:
                    raise ValueError(f"not a monomial in {g}: {monomial}")
                if e != 0:
                    out[g] = e
        return out


@dataclasses.dataclass(frozen=True)
class Constant:
    """A named constant: its symbol, its value (in ``M``, ``c_M``, ``A``), and its LaTeX name and definition."""

    symbol: sp.Symbol
    value: sp.Expr
    meaning: str  # e.g. r"\mathbb{E}\left[R^2\right]"

    @property
    def tex(self) -> str:
        return latex(self.symbol)

    @property
    def definition(self) -> str:
        return latex(self.value)


def _rate_constants(learner: str, variance_scale) -> list:
    """The nontrivial one-step moments ``r_p`` as named constants, in the order of :data:`_NAMES`."""
    ratio = one_step(M, learner, sp.sympify(variance_scale)).ratio
    out = []
    for name, p in _NAMES:
        value = sp.factor(ratio[p])
        if value == 1:
            continue
        meaning = r"\mathbb{E}\left[R\right]" if p == 1 else rf"\mathbb{{E}}\left[R^{{{p}}}\right]"
        out.append(Constant(sp.Symbol(name, positive=True), _tidy_constant(value), meaning))
    return out


def _tidy_constant(value: sp.Expr) -> sp.Expr:
    """A constant's value as it reads best: ``c_M sqrt((M-1)/M)`` rather than ``c_M sqrt(M-1)/sqrt(M)``."""
    num, den = sp.fraction(value)
    rational = sp.Mul(*[f for f in sp.Mul.make_args(num) if not (f.is_Pow and f.exp == sp.Rational(1, 2))])
    root_num = sp.Mul(*[f.base for f in sp.Mul.make_args(num) if f.is_Pow and f.exp == sp.Rational(1, 2)])
    root_den = sp.Mul(*[f.base for f in sp.Mul.make_args(den) if f.is_Pow and f.exp == sp.Rational(1, 2)])
    plain_den = sp.Mul(*[f for f in sp.Mul.make_args(den) if not (f.is_Pow and f.exp == sp.Rational(1, 2))])
    if root_num == 1 and root_den == 1:
        return value
    inside = sp.factor(root_num / root_den)
    return sp.Mul(rational / plain_den, sp.Pow(inside, sp.Rational(1, 2), evaluate=False), evaluate=False)


def _in_constants(expr: sp.Expr, constants: list) -> sp.Expr:
    """``expr`` rewritten as ``sum_k C_k prod_i constant_i^(e_ik n)`` (exact; see the module doc)."""
    gens = _Exponentials()
    split = gens.split(expr)
    vectors = []
    for const in constants:
        vectors.append(gens.vector(gens.power(const.value, n)))
    expanded = sp.expand(split)
    groups: dict = {}
    for term in sp.Add.make_args(expanded):
        vec = gens.vector(term)
        key = tuple(sorted(((g, e) for g, e in vec.items() if e != 0), key=lambda t: str(t[0])))
        monomial = sp.Mul(*[g**e for g, e in key])
        groups[key] = groups.get(key, 0) + term / monomial
    basis = sorted(gens.symbols.values(), key=str)
    chosen: list = []  # independent constants, in preference order
    rank = 0
    for const, vec in zip(constants, vectors):
        trial = chosen + [(const, vec)]
        matrix = sp.Matrix([[v.get(g, 0) for _, v in trial] for g in basis]) if basis else sp.zeros(0, len(trial))
        if basis and matrix.rank() > rank:
            chosen, rank = trial, rank + 1
    terms = []
    for key, coeff in groups.items():
        coeff = _tidy_coefficient(coeff)
        if coeff == 0:
            continue
        target = sp.Matrix([dict(key).get(g, 0) for g in basis]) if basis else sp.zeros(0, 1)
        rate = _solve_rate(target, chosen, basis)
        if rate is None:  # not a product of the named constants: keep the powers of its own bases
            rate = sp.Mul(*[base ** (dict(key).get(gen, 0) * n / 2) for base, gen in gens.symbols.items()])
        terms.append((coeff, rate))
    order = {c.symbol: i for i, c in enumerate(constants)}

    def rank(term):
        rate = term[1]
        if rate == 1:
            return (0,)
        powers = sorted((order.get(b, len(order)), sp.degree(e, n) if e.has(n) else 0, str(e))
                        for b, e in (p.as_base_exp() for p in sp.Mul.make_args(rate)))
        return (1, len(powers), powers)

    terms.sort(key=rank)
    return terms


def _tidy_coefficient(coeff: sp.Expr) -> sp.Expr:
    """A coefficient (rational in ``n``, ``M``, ``c_M``), factored."""
    return sp.factor(sp.cancel(sp.together(coeff)))


def _signed(coeff: sp.Expr):
    """``(sign, numerator, denominator)`` with ``coeff = sign * numerator/denominator`` and the numerator led by
    a positive term (``-(M^2 - 6n)/(2M^2)``, never ``(-M^2 + 6n)/(2M^2)``)."""
    num, den = sp.fraction(coeff)
    sign = 1
    if num.could_extract_minus_sign():
        sign, num = -1, -num
    if num.is_Add and num.free_symbols:
        poly = sp.Poly(num, *sorted(num.free_symbols, key=str))
        if poly.LC() < 0:
            sign, num = -sign, sp.factor(-num)
    return sign, num, den


def _terms_tex(terms: list) -> str:
    """``sum_k C_k rho_k`` as LaTeX, in the given order (the first positive term moved to the front), each
    coefficient in front of its exponential."""
    pieces = []
    for coeff, rate in terms:
        sign, num, den = _signed(coeff)
        top = latex(num)
        content, primitive = num.primitive() if num.is_Add else (1, num)
        if content != 1:
            top = rf"{latex(content)} \left({latex(primitive)}\right)"
        magnitude = top if den == 1 else rf"\frac{{{top}}}{{{latex(den)}}}"
        if rate == 1:
            body = magnitude
        elif num == 1 and den == 1:
            body = latex(rate)
        elif num.is_Add and den == 1 and content == 1:
            body = rf"\left({magnitude}\right) {latex(rate)}"
        else:
            body = f"{magnitude} {latex(rate)}"
        pieces.append((sign, body))
    first = next((i for i, (sign, _) in enumerate(pieces) if sign > 0), 0)
    pieces.insert(0, pieces.pop(first))
    text = ("- " if pieces[0][0] < 0 else "") + pieces[0][1]
    for sign, body in pieces[1:]:
        text += (" - " if sign < 0 else " + ") + body
    return text


def _solve_rate(target: sp.Matrix, chosen: list, basis: list):
    if not target.rows or all(x == 0 for x in target):
        return sp.S.One
    if not chosen:
        return None
    matrix = sp.Matrix([[v.get(g, 0) for _, v in chosen] for g in basis])
    try:
        solution, params = matrix.gauss_jordan_solve(target)
    except ValueError:  # inconsistent: not in the span
        return None
    if params.shape[0]:
        return None
    return sp.Mul(*[const.symbol ** (k * n) for (const, _), k in zip(chosen, solution) if k != 0])


# ---------------------------------------------------------------------------------------------- the forms
@dataclasses.dataclass(frozen=True)
class Form:
    """One quantity: its LaTeX left side, the short form (in the named constants) and the derived expression."""

    quantity: str
    lhs: str
    short: sp.Expr  # in the named constants
    rhs: str  # its LaTeX
    derived: sp.Expr  # as derive() gives it


@dataclasses.dataclass(frozen=True)
class ClosedForms:
    """Every closed form of one chain (learner, ``A``), in named constants, with the constants' definitions."""

    learner: str
    variance_scale: sp.Expr
    constants: tuple  # of Constant
    forms: tuple  # of Form

    def substitute(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every named constant replaced by its value (the inverse of the rewriting)."""
        return expr.subs({c.symbol: c.value for c in self.constants})


def _short(quantity: str, expr: sp.Expr, constants: list, power: int):
    """``(short form, its LaTeX)`` of one derived closed form, in the named ``constants``."""
    if quantity == "log_variance_mean":  # n (psi((M-1)/2) + log(2 A/d)): one digamma, one logarithm
        inner = sp.expand(expr / n)
        digamma = sp.Add(*[t for t in sp.Add.make_args(inner) if t.has(sp.polygamma)])
        logs = sp.factor(sp.simplify(sp.exp(inner - digamma)))
        half = sp.Mul(sp.Rational(1, 2), M - 1, evaluate=False)
        digamma = digamma.replace(lambda e: isinstance(e, sp.polygamma), lambda e: sp.polygamma(0, half))
        short = n * (digamma + sp.log(logs))
        # n after the bracket: "n \left(" would read as a function n applied to it (SymPy's parser reads it so)
        return short, rf"\left({latex(digamma)} + {latex(sp.log(logs))}\right) n"
    inner = sp.expand(expr / sigma**power)
    return _render(_in_constants(inner, constants), power)


def _render(terms: list, power: int):
    """``(sigma^power * sum of terms, its LaTeX)``."""
    short = sp.Add(*[coeff * rate for coeff, rate in terms])
    scale = sp.S.One if not power else sigma**power
    if not terms:
        return sp.S.Zero, "0"
    if len(terms) == 1 and terms[0][1] == 1:
        return scale * short, latex(scale * short)
    body = _terms_tex(terms)
    if not power:
        return short, body
    if len(terms) > 1:
        body = rf"\left({body}\right)"
    return scale * short, f"{latex(scale)} {body}"


def short_forms(outputs: dict, learner: str, variance_scale) -> ClosedForms:
    """``outputs`` (``{quantity: derived closed form}``, as :attr:`Derivation.outputs`) for ``learner`` and a
    numeric ``variance_scale``, rewritten in the named constants (an exact rewriting; see the module doc)."""
    from ..quantities import SIGMA_POWER

    constants = _rate_constants(learner, variance_scale)
    forms = []
    for quantity, lhs in QUANTITY_TEX.items():
        expr = outputs[quantity]
        short, tex = _short(quantity, expr, constants, SIGMA_POWER[quantity])
        forms.append(Form(quantity, lhs, short, tex, expr))
    used = set().union(*(f.short.free_symbols for f in forms))
    return ClosedForms(learner, sp.sympify(variance_scale), tuple(c for c in constants if c.symbol in used),
                       tuple(forms))


def generic_forms(derivation, learner: str) -> ClosedForms:
    """The forms of a generic derivation (symbolic ``A``: solved with the one-step moments as free symbols
    ``r_p``, :func:`theory.symbolic.derive`) in the named constants ``c, a, g, b = r_1, r_2, r_3, r_4``: the
    proved form itself, its terms grouped by exponential and their coefficients factored (checked equal to it in
    exact rational arithmetic at 12 points: the zero test takes minutes on Var W2^2). ``Form.derived`` is the
    output with the moments substituted. Valid where no two rates coincide (the generic case, as the proof)."""
    from ..quantities import SIGMA_POWER
    from ._closed_form import ProofError, ratio_symbols
    from ._recursion import STATE_SYMBOLS
    from ._recursion import outputs as output_expressions

    r = ratio_symbols()
    actual = one_step(M, learner, derivation.one_step.variance_scale)
    names = dict(_NAMES)
    constants = [Constant(sp.Symbol(name, positive=True), _tidy_constant(sp.factor(actual.ratio[p])),
                          r"\mathbb{E}\left[R\right]" if p == 1 else rf"\mathbb{{E}}\left[R^{{{p}}}\right]")
                 for name, p in names.items()]
    placeholders = [Constant(c.symbol, r[names[c.symbol.name]], c.meaning) for c in constants]
    rename = {r[names[c.symbol.name]]: c.symbol for c in constants}
    solved = {STATE_SYMBOLS[k]: step.closed_form for k, step in derivation.steps.items()}
    forms = []
    for quantity, expr in output_expressions(derivation.one_step).items():
        if quantity not in QUANTITY_TEX:
            continue
        power = SIGMA_POWER[quantity]
        if quantity == "log_variance_mean":
            short, tex = _short(quantity, derivation.outputs[quantity], constants, power)
        else:
            in_r = expr.subs(solved)
            terms = [(coeff.subs(rename), rate.subs(rename)) for coeff, rate in _in_constants(sp.expand(in_r),
                                                                                               placeholders)]
            grouped = sp.Add(*[c * t for c, t in terms]).subs({v: k for k, v in rename.items()})
            if not _agree_at_rational_points(grouped, in_r, [r[p] for p in (1, 2, 3, 4)]):
                raise ProofError(f"{quantity}: the grouped form differs from the proved one")
            short, tex = _render(terms, power)
        forms.append(Form(quantity, QUANTITY_TEX[quantity], short, tex, derivation.outputs[quantity]))
    forms.sort(key=lambda f: list(QUANTITY_TEX).index(f.quantity))
    used = set().union(*(f.short.free_symbols for f in forms))
    return ClosedForms(learner, derivation.one_step.variance_scale,
                       tuple(c for c in constants if c.symbol in used), tuple(forms))


def _agree_at_rational_points(left: sp.Expr, right: sp.Expr, rates: list) -> bool:
    """``left == right`` in exact rational arithmetic at 12 points (distinct rates ``r_p``, ``M``, ``n``): a
    cheap check of the grouping (SymPy's exact expand/collect/factor), where the zero test takes minutes."""
    primes = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53)
    for i in range(12):
        values = {rate: sp.Rational(primes[(i + k) % 16], primes[(3 * i + 2 * k + 1) % 16] + 1)
                  for k, rate in enumerate(rates)}
        values.update({M: 3 + i % 5, n: i % 7})
        if sp.nsimplify(left.subs(values) - right.subs(values)) != 0:
            return False
    return True


@cache
def closed_forms(learner: str = "unbiased", variance_scale=1) -> ClosedForms:
    r"""The closed forms of every quantity for ``learner`` and a rational ``variance_scale`` ``A``, rewritten in
    the named constants ``a, b, c (, g)``; the derivation (and its proof) runs once per case and is cached on
    disk (:mod:`theory.symbolic._cache`) as the CLI's ``--latex`` always did.

    >>> forms = closed_forms("mle", 1)
    >>> [(c.tex, c.definition) for c in forms.constants][:2]
    [('c', 'c_{M} \\sqrt{\\frac{M - 1}{M}}'), ('a', '\\frac{M - 1}{M}')]
    >>> forms.forms[1].rhs
    '\\sigma^{2} a^{n}'
    """
    from ._cache import cached
    from ._closed_form import derive

    a = sp.nsimplify(variance_scale, rational=True) if not isinstance(variance_scale, sp.Basic) else variance_scale
    key = f"latex_{learner}_{a.p}_{a.q}" if a.is_Rational else f"latex_{learner}_{a}"
    derived = cached(
        key,
        lambda: [derive(M, learner, a, sigma).outputs[q] for q in QUANTITY_TEX],
        lambda v: isinstance(v, list) and len(v) == len(QUANTITY_TEX) and all(isinstance(e, sp.Expr) for e in v),
    )
    return short_forms(dict(zip(QUANTITY_TEX, derived)), learner, a)


# ---------------------------------------------------------------------------------------------- the report
def _number(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return r"\text{overflow}"
    text = f"{x:.10g}"
    if "e" in text:
        mant, exp = text.split("e")
        return rf"{mant}\times 10^{{{int(exp)}}}"
    return text


def latex_report(chain, generations, values: dict) -> str:
    """Publication-ready LaTeX for every closed form of a replace chain (constant ``M``, a rational ``A``), with
    the named constants' definitions and, beside each form, its exact value for ``chain``'s ``M`` and ``sigma`` at
    each of ``generations``: ``values`` is ``theory.numeric.exact_values(chain, generations)`` (passed in, so that
    this symbolic layer does not import the numeric one); the constants' values are for that ``M``.

    The output is an ``align*`` environment (needs ``amsmath``; ``\\mathbb`` needs ``amssymb``) preceded by
    comment lines naming the chain.
    """
    from .._errors import ParameterError

    workflow = getattr(chain, "workflow", None)
    if workflow is not None and not workflow.is_replace:
        raise ParameterError("workflow", "replace for the closed forms (the other workflows' limits: "
                             "proofs/workflows.md)", str(workflow))
    if not isinstance(chain.sample_size, int):
        raise ParameterError("sample_size", "one integer sample size M for the closed forms", chain.sample_size)
    scale = sp.nsimplify(chain.variance_scale, rational=True)
    if scale.q > 10**6:
        raise ParameterError("variance_scale", "a simple rational number for the closed forms", chain.variance_scale)
    gens = [int(g) for g in generations]
    m = int(chain.sample_size)
    forms = closed_forms(chain.learner, scale)
    at_m = {M: m, C_M: gamma_ratio_value(sp.Integer(m))}
    lines = [
        (f"% collapse-theory closed forms: 1-D Gaussian chain, learner={chain.learner} "
         f"(variance divisor {'M-1' if chain.learner == 'unbiased' else 'M'}), A={scale}, replace workflow."),
        "% Derived symbolically and proved by induction (proofs/*.md). R = sigma_{i+1}/sigma_i is the one-step",
        (f"% ratio of fitted standard deviations; the constants are its moments. Values: M={m}, "
         f"sigma={chain.sigma:g}, n in {gens}."),
        r"\begin{align*}",
        rf"c_M &= {C_M_TEX} && = {_number(sp.N(at_m[C_M], 17))} \\",
    ]
    for const in forms.constants:
        lines.append(rf"{const.tex} &= {const.meaning} = {const.definition} && = "
                     rf"{_number(sp.N(const.value.subs(at_m), 17))} \\")
    for i, form in enumerate(forms.forms):
        numbers = ",\\ ".join(f"n={g}: {_number(v)}" for g, v in zip(gens, values[form.quantity]))
        end = r" \\" if i + 1 < len(forms.forms) else ""
        lines.append(f"% {QUANTITY_TITLES[form.quantity]}")
        lines.append(rf"{form.lhs} &= {form.rhs} && {numbers}{end}")
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- other workflows
def _tidy_special(expr: sp.Expr) -> sp.Expr:
    """Every argument of a Gamma function over one denominator (``\\Gamma((2M - 1)/M)``, not
    ``\\Gamma(-(1 - 2M)/M)``)."""
    def tidy(e):
        arg = e.args[0]
        return sp.gamma(sp.factor(sp.together(arg))) if not arg.has(sp.Pow) or arg.is_rational_function() else e

    return expr.replace(lambda e: isinstance(e, sp.gamma), tidy)


def limit_forms(chain) -> dict:
    """The closed forms of the limits ``n -> infinity`` (constant ``M``) under a workflow other than replace, where
    they exist, as ``{quantity: SymPy expression in sigma, M (R, K) or None}`` with ``"constants"``
    (``{symbol: value}`` for ``R``, the real points per generation, or ``K``, the subsample size), from
    :mod:`theory.symbolic._workflow_limits`: the fixed point of ``mix``/``mix-fixed`` (second-order block) and
    the pools' Gamma-function product and hypergeometric series (``proofs/workflows.md`` derives them)."""
    from . import _workflow_limits as wl
    from . import _workflow_moments as wm

    workflow = chain.workflow
    scale = sp.nsimplify(chain.variance_scale, rational=True)
    m = int(chain.sample_size)
    out: dict = {"mean_sq_error": None, "variance_mean": None, "constants": {}}
    if workflow.pools:
        k = workflow.subsample if workflow.kind == "accumulate-subsample" else None
        e = wl.pool_limit_expressions(workflow.kind, chain.learner, scale, None)
        if k is not None:
            out["constants"][wm.K] = k
        for q in ("mean_sq_error", "variance_mean"):
            out[q] = None if e[q] is None else sigma**2 * _tidy_special(e[q].subs(wm.M, M))
        return out
    r = workflow.real_count(m)
    if not 0 < r < m:
        return out  # LAMBDA = 0 or 1: the replace chain or a fixed real sample
    fixed = wl.mix_fixed_point_expressions(workflow.kind, chain.learner)["fixed_point"]
    subs = {wm.A: scale, wm.M: M,
            wm.w: wm.R / M if workflow.real_weight is None else sp.nsimplify(workflow.real_weight, rational=True)}
    out["constants"][wm.R] = r
    out["mean_sq_error"] = sigma**2 * sp.factor(fixed[wm.d**2].subs(subs))
    out["variance_mean"] = sigma**2 * sp.factor(fixed[wm.v].subs(subs))
    return out


_LIMIT_TEX = {"mean_sq_error": r"\lim_{n\to\infty}\mathbb{E}\left[(\mu_n-\mu)^2\right]",
              "variance_mean": r"\lim_{n\to\infty}\mathbb{E}\left[\sigma_n^2\right]",
              "variance_var": r"\lim_{n\to\infty}\operatorname{Var}\left[\sigma_n^2\right]"}


def latex_limits(chain, values: dict) -> str:
    """LaTeX for the limits ``n -> infinity`` of a chain under ``mix``, ``mix-fixed``, ``accumulate`` or
    ``accumulate-subsample`` (constant ``M``): the closed forms of :func:`limit_forms` with the exact value at
    ``chain``'s ``M`` beside each (``values`` is ``theory.numeric.workflow_limits(chain)``, passed in), and
    ``Var sigma_n^2``'s limit as a value (no closed form is printed for it)."""
    from .._errors import ParameterError

    if chain.workflow.is_replace:
        raise ParameterError("workflow", "a workflow other than replace for the limits (replace's closed forms: "
                             "latex_report)", str(chain.workflow))
    if not isinstance(chain.sample_size, int):
        raise ParameterError("sample_size", "one integer sample size M for the limits", chain.sample_size)
    if sp.nsimplify(chain.variance_scale, rational=True).q > 10**6:
        raise ParameterError("variance_scale", "a simple rational number for the closed forms", chain.variance_scale)
    forms = limit_forms(chain)
    m = chain.sample_size
    header = (f"% collapse-theory limits n -> infinity: 1-D Gaussian chain, learner={chain.learner}, "
              f"A={sp.nsimplify(chain.variance_scale, rational=True)}, workflow={chain.workflow}; values: M={m}, "
              f"sigma={chain.sigma:g}. Derived in proofs/workflows.md.")
    lines = [header, r"\begin{align*}"]
    for symbol, value in forms["constants"].items():
        meaning = "real points per generation" if symbol.name == "R" else "subsample size"
        lines.append(rf"{latex(symbol)} &= {value} && \text{{{meaning}}} \\")
    rows = []
    for q, lhs in _LIMIT_TEX.items():
        value = values.get(q)
        number = r"\infty" if value is not None and math.isinf(value) else _number(value)
        form = forms.get(q)
        if form is not None:
            rhs = latex(form)
        elif value is None:
            rhs = r"\text{no exact limit derived}"
        else:
            rhs = r"\infty" if number == r"\infty" else r"\text{(exact value; no closed form printed)}"
        rows.append(rf"{lhs} &= {rhs} && = {number}")
    lines += [row + (r" \\" if i + 1 < len(rows) else "") for i, row in enumerate(rows)]
    lines.append(r"\end{align*}")
    if values.get("rate") is not None:
        lines.append(f"% rate of approach: {values['rate']}")
    return "\n".join(lines) + "\n"
