r"""Publication-ready LaTeX for the closed forms of the multivariate Gaussian chain under ``replace``.

The forms are those of :mod:`theory.numeric._multivariate_exact` (its module doc), **derived here** as SymPy
expressions, not transcribed: with ``Sigma_n = V``, the scatter matrix ``S ~ Wishart_d(k, V)`` (``k = M - 1``) and
``Sigma_{n+1} = c S`` (``c = A / divisor``):

* ``E ||mu_n - mu||^2``: the recursion ``e_{n+1} = e_n + r^n t / M`` (``E tr Sigma_n / M`` added per step) solved
  by :func:`sympy.rsolve` (``r = c k``; separately for ``r = 1``);
* ``E Sigma_n``, ``E tr Sigma_n``: the recursion ``E Sigma_{n+1} = c k E Sigma_n`` (``E S = k V``) solved;
* ``Var tr Sigma_n``: the Wishart second moments ``E (tr S)^2 = k^2 (tr V)^2 + 2 k tr V^2``,
  ``E tr S^2 = k (tr V)^2 + k (k + 1) tr V^2`` (checked from the Bartlett decomposition and by Monte Carlo in
  ``tests/test_multivariate_exact.py``) close ``(a, b)_{n+1} = c^2 T (a, b)_n``; ``T^n`` is computed by
  diagonalising ``T`` in SymPy, and the printed two-term form (eigenvalue ratios ``(1 + 2/k)``, ``(1 - 1/k)``, the
  coefficients from the eigenvectors) is checked equal to ``a_n - (E tr Sigma_n)^2``;
* the determinant: Bartlett, ``det Sigma_{n+1} = det Sigma_n c^d prod_{i=1}^d X_i`` with ``X_i ~ chi^2_{k-i+1}``
  independent of each other and of the past; the moments of ``X ~ chi^2_v`` come from ``E X^s`` (integrated by
  SymPy: ``2^s Gamma(v/2 + s) / Gamma(v/2)``): ``E X = v``, ``E log X = d/ds E X^s |_0 = psi(v/2) + log 2``,
  ``Var log X = d^2/ds^2 log E X^s |_0 = psi'(v/2)``; ``log det Sigma_n`` is then a random walk with i.i.d. steps.

Every form is rewritten in **named constants** ``k, c, r, t = tr Sigma, s = tr Sigma^2, delta`` (the log-det drift),
whose definitions are printed; :func:`multivariate_forms` returns them with the derived expressions side by side
(a form differing from its derivation raises :class:`~theory.symbolic._closed_form.ProofError` when built), and
``tests/test_latex_multivariate.py`` parses every printed formula back with SymPy's LaTeX parser and checks it equal
to the derivation. :func:`latex_multivariate_report` renders them for a chain with the exact values beside each form
(``values`` from :func:`theory.numeric.multivariate_exact_values`, passed in: this layer does not import the numeric
one).
"""

from __future__ import annotations

import dataclasses
from functools import cache

import mpmath
import sympy as sp

from ._latex import _number, latex
from ._symbols import M, n

__all__ = ["MultivariateForm", "MultivariateForms", "NamedConstant", "latex_multivariate_report",
           "multivariate_forms"]

# ---------------------------------------------------------------------------------------------- symbols
d = sp.Symbol("d", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", positive=True)
c = sp.Symbol("c", positive=True)
r = sp.Symbol("r", positive=True)
t = sp.Symbol("t", positive=True)
s = sp.Symbol("s", positive=True)
delta = sp.Symbol("delta")
Sigma = sp.Symbol("Sigma", positive=True)  # stands for the matrix in E Sigma_n = r^n Sigma (a scalar multiple of it)
det_sigma = sp.Symbol("det_Sigma", positive=True)
A = sp.Symbol("A", positive=True)

_SYMBOL_NAMES = {det_sigma: r"\det\Sigma"}

QUANTITY_TEX = {
    "mean_sq_error": r"\mathbb{E}\left[\lVert\mu_n-\mu\rVert^2\right]",
    "covariance_mean": r"\mathbb{E}\left[\Sigma_n\right]",
    "trace_mean": r"\mathbb{E}\left[\operatorname{tr}\Sigma_n\right]",
    "trace_var": r"\operatorname{Var}\left[\operatorname{tr}\Sigma_n\right]",
    "det_mean": r"\mathbb{E}\left[\det\Sigma_n\right]",
    "log_det_mean": r"\mathbb{E}\left[\log\det\Sigma_n\right]-\log\det\Sigma",
    "log_det_var": r"\operatorname{Var}\left[\log\det\Sigma_n\right]",
}
"""Left-hand sides, every expectation and variance bracketed."""

QUANTITY_TITLES = {
    "mean_sq_error": "mean squared error of the fitted mean",
    "covariance_mean": "expected fitted covariance (a matrix)",
    "trace_mean": "expected trace of the fitted covariance",
    "trace_var": "variance of the trace",
    "det_mean": "expected determinant (the volume)",
    "log_det_mean": "expected log-determinant: the drift delta is the almost-sure rate of log det Sigma_n / n",
    "log_det_var": "variance of the log-determinant (a random walk with i.i.d. steps)",
}


def _tex(expr) -> str:
    """The package's LaTeX (``\\psi``, ``\\psi'``) with ``\\det\\Sigma`` for its symbol."""
    return latex(expr, symbol_names=_SYMBOL_NAMES)


# ---------------------------------------------------------------------------------------------- derivations
@cache
def chi_square_moments() -> dict:
    """``{"mean", "log_mean", "log_var"}`` of ``X ~ chi^2_v`` as expressions in ``v`` (the symbol returned under
    ``"v"``), from ``E X^s`` integrated by SymPy."""
    x, p, v = sp.symbols("x p v", positive=True)
    density = x ** (v / 2 - 1) * sp.exp(-x / 2) / (2 ** (v / 2) * sp.gamma(v / 2))
    moment = sp.gammasimp(sp.integrate(x**p * density, (x, 0, sp.oo), conds="none"))  # E X^p
    return {
        "v": v,
        "mean": sp.gammasimp(moment.subs(p, 1)),
        "log_mean": sp.expand_log(sp.simplify(sp.diff(moment, p).subs(p, 0)), force=True),
        "log_var": sp.simplify(sp.diff(sp.log(moment), p, 2).subs(p, 0)),
    }


@cache
def _derived() -> dict:
    """The closed forms derived from the one-step laws (module doc), in ``k, c, r, t, s, det Sigma, d, M, n``."""
    e = sp.Function("e")
    out = {}
    mean_error = sp.rsolve(e(n + 1) - e(n) - t * r**n / M, e(n), {e(0): 0})
    out["mean_sq_error"] = sp.simplify(mean_error)
    out["mean_sq_error_r1"] = sp.rsolve(e(n + 1) - e(n) - t / M, e(n), {e(0): 0})
    out["covariance_mean"] = sp.rsolve(e(n + 1) - c * k * e(n), e(n), {e(0): Sigma}).subs(c, r / k)
    out["trace_mean"] = out["covariance_mean"].subs(Sigma, t)
    # (E (tr Sigma_n)^2, E tr Sigma_n^2)_{n+1} = c^2 T (...)_n, started at (t^2, s)
    wishart = sp.Matrix([[k**2, 2 * k], [k, k * (k + 1)]])
    vectors, eigen = wishart.diagonalize()
    power = vectors * sp.diag(*[eigen[j, j] ** n for j in range(2)]) * vectors.inv()
    second = (c ** (2 * n) * power * sp.Matrix([t**2, s]))[0]
    out["trace_var"] = sp.expand(second - out["trace_mean"].subs(r, c * k) ** 2).subs(c, r / k)
    out["wishart_eigen"] = [(eigen[j, j], vectors[:, j]) for j in range(2)]
    chi = chi_square_moments()
    v = chi["v"]
    dof = k - i + 1  # Bartlett: B_ii^2 ~ chi^2_{k-i+1}
    step_det = c**d * sp.Product(chi["mean"].subs(v, dof), (i, 1, d))
    out["det_mean"] = sp.rsolve(e(n + 1) - step_det * e(n), e(n), {e(0): det_sigma})
    step_log = d * sp.log(c) + sp.Sum(chi["log_mean"].subs(v, dof), (i, 1, d))  # E log(c^d prod X_i)
    out["drift"] = step_log
    out["log_det_mean"] = sp.rsolve(e(n + 1) - e(n) - delta, e(n), {e(0): 0})
    out["log_det_var"] = sp.rsolve(e(n + 1) - e(n) - sp.Sum(chi["log_var"].subs(v, dof), (i, 1, d)), e(n),
                                   {e(0): 0})
    return out


# ---------------------------------------------------------------------------------------------- the forms
@dataclasses.dataclass(frozen=True)
class NamedConstant:
    """A named constant: its symbol, its definition (in ``M``, ``A``'s value and earlier constants; ``None`` for
    the data ``t``, ``s``) and its LaTeX, with what it means."""

    symbol: sp.Symbol
    definition: sp.Expr | None
    meaning: str  # LaTeX, e.g. r"\operatorname{tr}\Sigma"

    @property
    def tex(self) -> str:
        return _tex(self.symbol)

    @property
    def definition_tex(self) -> str:
        if self.definition is None:
            return self.meaning
        if self.symbol != delta:
            return _tex(self.definition)
        # a thin space: "d \log" reads (to SymPy's parser) as a differential d applied to log
        return latex(self.definition, order="none").replace(r"d \log", r"d \, \log")


@dataclasses.dataclass(frozen=True)
class MultivariateForm:
    """One printed row: the quantity, its left side, the form in the named constants, its LaTeX, the derived
    expression it was checked against, and the condition (``r \\neq 1``) under which it holds, if any."""

    quantity: str
    lhs: str
    short: sp.Expr
    rhs: str
    derived: sp.Expr
    condition: str = ""


@dataclasses.dataclass(frozen=True)
class MultivariateForms:
    """Every closed form of the multivariate replace chain for one learner and rational ``A``."""

    learner: str
    variance_scale: sp.Expr
    constants: tuple  # of NamedConstant
    forms: tuple  # of MultivariateForm

    def substitute(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every defined constant replaced by its definition, repeatedly (``r = c k`` then
        ``c``, ``k`` in ``M``): an expression in ``d, M, n, t, s, det Sigma``."""
        for _ in range(len(self.constants)):
            expr = expr.subs({cn.symbol: cn.definition for cn in self.constants if cn.definition is not None})
        return expr


def _var_trace_form(derived: dict):
    """``Var tr Sigma_n = r^{2n} [alpha ((lambda_1/k^2)^n - 1) + beta ((lambda_2/k^2)^n - 1)]`` from the
    eigen-decomposition of ``T`` (``alpha``, ``beta`` the start's coordinates on the eigenvectors), as
    ``(expression, LaTeX)``; the larger eigenvalue first."""
    eig = sorted(derived["wishart_eigen"], key=lambda ev: -(ev[0] - k**2).subs(k, 5))
    basis = sp.Matrix.hstack(*[vec for _, vec in eig])
    coords = basis.solve(sp.Matrix([t**2, s]))  # (t^2, s) = alpha u_1 + beta u_2; the first entry of each is the trace
    terms, texs = [], []
    for (value, vec), coord in zip(eig, coords):
        weight = sp.factor(coord * vec[0])
        ratio = sp.expand(value / k**2)  # 1 + 2/k, 1 - 1/k
        terms.append(weight * (ratio**n - 1))
        texs.append((*_weight_tex(weight), rf"\left[{_tex(ratio ** n)} - 1\right]"))
    short = r ** (2 * n) * sp.Add(*terms)
    body = " ".join(texs[0][1:]) if texs[0][0] > 0 else "- " + " ".join(texs[0][1:])
    body += "".join(f" {'+' if sign > 0 else '-'} {w} {b}" for sign, w, b in texs[1:])
    return short, rf"r^{{2 n}} \left[{body}\right]"


def _weight_tex(weight: sp.Expr):
    """``(sign, LaTeX of |weight|)`` for a coefficient rational in ``t, s``, its numerator led by ``t^2`` with a
    positive sign and its content outside (``2 (t^2 - s) / 3``, not ``-2 (s - t^2)/3``)."""
    num, den = sp.fraction(sp.factor(weight))
    num = sp.expand(num)
    poly = sp.Poly(num, t, s)
    sign = 1 if poly.LC(order="grlex") > 0 else -1
    content, primitive = sp.Poly(sign * num, t, s).primitive()
    inner = latex(primitive.as_expr(), order="grlex")
    top = inner if content == 1 else rf"{latex(content)} \left({inner}\right)"
    return sign, (top if den == 1 else rf"\frac{{{top}}}{{{latex(den)}}}")


def _constants(learner: str, scale: sp.Expr) -> tuple:
    divisor = M - 1 if learner == "unbiased" else M
    return (
        NamedConstant(k, M - 1, r"\text{degrees of freedom of the scatter matrix}"),
        NamedConstant(c, scale / divisor,
                      rf"\frac{{A}}{{{'M - 1' if learner == 'unbiased' else 'M'}}},\ A = {_tex(scale)}"),
        NamedConstant(r, c * k, r"\text{one-step growth of } \mathbb{E}\left[\Sigma_n\right]"),
        NamedConstant(t, None, r"\operatorname{tr}\Sigma"),
        NamedConstant(s, None, r"\operatorname{tr}\Sigma^{2}"),
        NamedConstant(delta, drift_expression(), r"\text{drift of } \log\det\Sigma_n"),
    )


def _canonical_zero(expr: sp.Expr) -> bool:
    diff = sp.factor_terms(sp.expand(expr)).rewrite(sp.exp)
    diff = sp.powsimp(sp.expand_power_base(diff, force=True), force=True)
    return sp.simplify(sp.expand(diff)) == 0


def _check(name: str, short: sp.Expr, derived: sp.Expr) -> None:
    """``short == derived``: symbolically in ``k, r, c, t, s, M, n``; where a sum or product over ``i = 1..d``
    remains, at each ``d = 1..5`` after evaluating it (both sides)."""
    from ._closed_form import ProofError

    if not short.has(d) and not derived.has(d):
        ok = _canonical_zero(short - derived)
    else:
        ok = all(_canonical_zero(sp.gammasimp((short - derived).subs(d, dim).doit())) for dim in range(1, 6))
    if not ok:
        raise ProofError(f"{name}: the printed form differs from the derived one")


def _dof():
    """``k - i + 1`` kept in this order for printing (the degrees of freedom of ``B_ii^2``)."""
    return sp.Add(k, -i, 1, evaluate=False)


def _half_dof():
    return sp.Mul(sp.Rational(1, 2), _dof(), evaluate=False)


def _tex_sum(expr) -> str:
    """LaTeX of an expression built unevaluated (its terms in the order given)."""
    return latex(expr, order="none", symbol_names=_SYMBOL_NAMES)


def drift_expression() -> sp.Expr:
    """``delta = d log c + sum_{i=1}^d (psi((k - i + 1)/2) + log 2)`` as printed (checked against the
    derivation ``E log(c^d prod X_i)`` by :func:`multivariate_forms`)."""
    return d * sp.log(c) + sp.Sum(sp.Add(sp.polygamma(0, _half_dof(), evaluate=False), sp.log(2), evaluate=False),
                                  (i, 1, d))


@cache
def multivariate_forms(learner: str = "unbiased", variance_scale=1) -> MultivariateForms:
    r"""The closed forms of the multivariate replace chain for ``learner`` and a rational ``variance_scale``
    ``A``, in the named constants, each checked equal to its derivation (module doc).

    >>> forms = multivariate_forms("mle", 1)
    >>> [(cn.tex, cn.definition_tex) for cn in forms.constants][:3]
    [('k', 'M - 1'), ('c', '\\frac{1}{M}'), ('r', 'c k')]
    >>> [f.rhs for f in forms.forms if f.quantity == "trace_mean"]
    ['r^{n} t']
    """
    scale = sp.nsimplify(variance_scale, rational=True)
    der = _derived()
    forms = []

    def add(quantity, short, derived, tex=None, condition=""):
        _check(quantity, short, derived)
        forms.append(MultivariateForm(quantity, QUANTITY_TEX[quantity], short, tex or _tex(short), derived,
                                      condition))

    geometric = t / M * (r**n - 1) / (r - 1)
    add("mean_sq_error", geometric, der["mean_sq_error"],
        r"\frac{t}{M} \, \frac{r^{n} - 1}{r - 1}", r"r \neq 1")
    add("mean_sq_error", n * t / M, der["mean_sq_error_r1"], r"\frac{n t}{M}", "r = 1")
    add("covariance_mean", r**n * Sigma, der["covariance_mean"], r"r^{n} \Sigma")
    add("trace_mean", r**n * t, der["trace_mean"])
    var_short, var_tex = _var_trace_form(der)
    add("trace_var", var_short, der["trace_var"], var_tex)
    product = sp.Product(_dof(), (i, 1, d))
    det_short = det_sigma * (c**d * product) ** n
    add("det_mean", det_short, der["det_mean"], rf"\left({_tex_sum(c**d * product)}\right)^{{n}} \det\Sigma")
    _check("delta", drift_expression(), der["drift"])
    add("log_det_mean", n * delta, der["log_det_mean"], r"\delta n")
    trigamma = sp.Sum(sp.polygamma(1, _half_dof(), evaluate=False), (i, 1, d))
    add("log_det_var", n * trigamma, der["log_det_var"], rf"{_tex_sum(trigamma)} \, n")
    return MultivariateForms(learner, scale, _constants(learner, scale), tuple(forms))


# ---------------------------------------------------------------------------------------------- the report
def _constant_values(chain, scale: sp.Expr) -> dict:
    """``{symbol: mpmath value}`` of the named constants (and ``det Sigma``) for ``chain``, at 30 digits."""
    dim, m = chain.dimension, chain.sample_size
    cov = [[mpmath.mpf(float(x)) for x in row] for row in chain.covariance]
    kk = mpmath.mpf(m - 1)
    cc = mpmath.mpf(scale.p) / scale.q / (m - 1 if chain.learner == "unbiased" else m)
    drift = dim * mpmath.log(cc) + mpmath.fsum(mpmath.digamma((kk - j + 1) / 2) + mpmath.log(2)
                                               for j in range(1, dim + 1))
    return {k: kk, c: cc, r: cc * kk, t: mpmath.fsum(cov[j][j] for j in range(dim)),
            s: mpmath.fsum(x * x for row in cov for x in row), delta: drift, det_sigma: mpmath.det(mpmath.matrix(cov))}


def _matrix_tex(matrix) -> str:
    rows = [" & ".join(_number(x) for x in row) for row in matrix]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"


def latex_multivariate_report(chain, generations, values: dict) -> str:
    r"""Publication-ready LaTeX for the closed forms of a multivariate chain under ``replace`` (a rational ``A``):
    the named constants with their definitions and values for ``chain``, then each form with its exact value at each
    of ``generations`` beside it. ``values`` is ``theory.numeric.multivariate_exact_values(chain, generations)``
    (passed in, so that this symbolic layer does not import the numeric one). ``E Sigma_n`` is printed as a matrix
    for ``d <= 3`` and by its ``(1, 1)`` entry beyond.

    The output is an ``align*`` environment (``amsmath``; ``\mathbb`` needs ``amssymb``) after comment lines naming
    the chain. Any other workflow raises :class:`~theory.ParameterError` on ``workflow``.
    """
    from .._errors import ParameterError

    workflow = getattr(chain, "workflow", None)
    if workflow is not None and not workflow.is_replace:
        raise ParameterError("workflow", "replace for the multivariate closed forms (the other workflows' exact "
                             "values: closed-form without --latex)", str(workflow))
    scale = sp.nsimplify(chain.variance_scale, rational=True)
    if scale.q > 10**6:
        raise ParameterError("variance_scale", "a simple rational number for the closed forms", chain.variance_scale)
    gens = [int(g) for g in generations]
    dim, m = chain.dimension, chain.sample_size
    forms = multivariate_forms(chain.learner, scale)
    numbers = _constant_values(chain, scale)
    lines = [
        (f"% collapse-theory closed forms: multivariate Gaussian chain, d={dim}, learner={chain.learner} "
         f"(divisor {'M-1' if chain.learner == 'unbiased' else 'M'}), A={scale}, replace workflow."),
        ("% Derived in theory/symbolic/_latex_multivariate.py (Wishart moments, Bartlett decomposition); "
         "numeric route: theory.numeric._multivariate_exact."),
        f"% Values: d={dim}, M={m}, n in {gens}; det Sigma = {_number(numbers[det_sigma])}.",
        r"\begin{align*}",
    ]
    for cn in forms.constants:
        exact = ""
        if cn.symbol in (k, c, r):
            value = forms.substitute(cn.symbol).subs({A: scale, M: m})
            exact = "" if sp.sympify(value).is_Integer else f" = {_tex(sp.nsimplify(value))}"
        lines.append(rf"{cn.tex} &= {cn.definition_tex} && = {_number(numbers[cn.symbol])}{exact}"
                     + ("" if cn.definition is None else rf" \quad {cn.meaning}") + r" \\")
    r_is_one = scale * (m - 1) / (m - 1 if chain.learner == "unbiased" else m) == 1
    rows = []
    for form in forms.forms:
        series = values[form.quantity]
        applies = not form.condition or (form.condition == "r = 1") == r_is_one
        if form.quantity == "covariance_mean":
            cells = [_matrix_tex(x) if dim <= 3 else r"\left[\cdot\right]_{11} = " + _number(x[0][0])
                     for x in series]
        else:
            cells = [_number(x) for x in series]
        beside = ",\\ ".join(f"n={g}: {x}" for g, x in zip(gens, cells)) if applies else ""
        condition = rf"\left({form.condition}\right)" + (r"\ " if beside else "") if form.condition else ""
        title = f"% {QUANTITY_TITLES[form.quantity]}" + (f" ({form.condition})" if form.condition else "")
        rows.append((title, rf"{form.lhs} &= {form.rhs} && {condition}{beside}".rstrip()))
    for j, (title, row) in enumerate(rows):
        lines.append(title)
        lines.append(row + (r" \\" if j + 1 < len(rows) else ""))
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"
