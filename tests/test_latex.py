"""The exported LaTeX is what was proved: every printed formula (``theory.symbolic._latex``, ``closed-form --latex``)
is parsed back with SymPy's LaTeX parser, its named constants replaced by their printed definitions (parsed too), and
proved equal to the derivation (``theory.symbolic._closed_form.is_zero``); the report's numbers are the exact values."""

import math
import re

import mpmath
import pytest
import sympy as sp

from theory.numeric import exact_values, workflow_limits
from theory.symbolic import _latex
from theory.symbolic._closed_form import is_zero
from theory.symbolic._one_step import gamma_ratio_value, one_step
from theory.symbolic._symbols import M, n, sigma

pytest.importorskip(
    "antlr4", reason="SymPy's LaTeX parser needs antlr4-python3-runtime==4.11.* (the 'test' extra of pyproject.toml)")
from sympy.parsing.latex import parse_latex

C_M = _latex.C_M
_PSI = sp.Function("psi")
_GAMMA = sp.Function("Gamma")


def _parse(tex: str, constants=()) -> sp.Expr:
    """A printed formula as SymPy, with the package's symbols (and assumptions) and the printed constants'
    definitions substituted; ``\\psi`` is the digamma, ``\\Gamma`` the gamma function."""
    expr = parse_latex(tex)
    expr = expr.replace(_PSI, lambda x: sp.polygamma(0, x)).replace(_GAMMA, sp.gamma)
    names = {"M": M, "n": n, "sigma": sigma, "c_{M}": C_M}
    expr = expr.subs({s: names[s.name] for s in expr.free_symbols if s.name in names})
    definitions = {sp.Symbol(c.symbol.name): _parse(c.definition) for c in constants}
    return expr.subs(definitions)


def _agree_numerically(left: sp.Expr, right: sp.Expr) -> bool:
    """``left == right`` to 25 digits at 12 points (M = 4, 7, 12; n = 0, 1, 3, 8), evaluated at 30 digits."""
    for m in (4, 7, 12):
        at = {M: m, sigma: 1, C_M: gamma_ratio_value(sp.Integer(m))}
        for k in (0, 1, 3, 8):
            a, b = (sp.N(e.subs({**at, n: k}), 30) for e in (left, right))
            if abs(a - b) > 1e-25 * max(1, abs(b)):
                return False
    return True


def _proved(expr: sp.Expr) -> bool:
    """The zero test; False where it cannot run (its power splitting fails to factor a numeric base such as
    sqrt(2)/2 at A = 1/2: PolificationFailed)."""
    try:
        return is_zero(expr)
    except sp.PolificationFailed:
        return False


def _check(forms, numeric_fallback=False):
    for const in forms.constants:  # each printed definition is the one-step moment it names
        p = {"c": 1, "a": 2, "g": 3, "b": 4}[const.symbol.name]
        value = one_step(M, forms.learner, forms.variance_scale).ratio[p]
        assert _proved(_parse(const.definition) - value) or (
            numeric_fallback and _agree_numerically(_parse(const.definition), value)), const
    for form in forms.forms:
        parsed = _parse(form.rhs, forms.constants)
        assert not any(s.name in {"a", "b", "c", "g"} for s in parsed.free_symbols), form.rhs
        assert parsed.free_symbols <= {M, n, sigma, C_M}, (form.quantity, parsed.free_symbols)
        assert not parsed.atoms(sp.core.function.AppliedUndef), (form.quantity, parsed)  # e.g. n(...) as a call
        proved = _proved(sp.expand_log(parsed - form.derived, force=True))
        assert proved or (numeric_fallback and _agree_numerically(parsed, form.derived)), (form.quantity, form.rhs)
        assert "polygamma" not in form.rhs and "G_" not in form.rhs and "operatorname" not in form.rhs


@pytest.fixture(scope="module", params=["unbiased", "mle"])
def forms(request):
    return _latex.closed_forms(request.param, 1)


def test_every_printed_form_parses_back_to_the_derivation(forms):
    _check(forms)


def test_forms_are_short(forms):
    """Publication length: every form is at most a few terms (the raw SymPy Var W2^2 had a dozen and more)."""
    for form in forms.forms:
        assert len(form.rhs) < 260, (form.quantity, len(form.rhs), form.rhs)
    assert len(forms.forms[-1].rhs) < len(sp.latex(forms.forms[-1].derived)) / 2


def test_known_short_forms():
    mle = {f.quantity: f.rhs for f in _latex.closed_forms("mle", 1).forms}
    assert mle["variance_mean"] == r"\sigma^{2} a^{n}"
    assert mle["variance_var"] == r"\sigma^{4} \left(b^{n} - a^{2 n}\right)"
    assert mle["sd_mean"] == r"\sigma c^{n}"
    unbiased = {f.quantity: f.rhs for f in _latex.closed_forms("unbiased", 1).forms}
    assert unbiased["variance_var"] == r"\sigma^{4} \left(b^{n} - 1\right)"
    assert r"\psi\left(\frac{M - 1}{2}\right)" in unbiased["log_variance_mean"]


def test_gamma_ratio_definition():
    parsed = _parse(_latex.C_M_TEX)
    for m in (2, 3, 10, 101):
        assert math.isclose(float(parsed.subs(M, m)), float(gamma_ratio_value(sp.Integer(m))), rel_tol=1e-14)


def test_the_check_can_fail():
    """A plausible typo in a printed form (a coefficient, an exponent) is caught by the parse-and-prove check."""
    forms = _latex.closed_forms("mle", 1)
    form = forms.forms[-1]
    for typo in (form.rhs.replace("6 M b", "5 M b"), form.rhs.replace("c^{2 n}", "c^{n}")):
        assert typo != form.rhs
        assert not is_zero(_parse(typo, forms.constants) - form.derived)
    with pytest.raises(AssertionError):
        bad = _latex.ClosedForms(forms.learner, forms.variance_scale, forms.constants,
                                 (_latex.Form(form.quantity, form.lhs, form.short, form.rhs.replace("8 a", "7 a"),
                                              form.derived),))
        _check(bad)


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_report_numbers_are_the_exact_values(learner):
    """The report prints the constants' values and exact_values beside each form; the parsed forms evaluated in
    mpmath at that M give the same numbers (an independent route: the closed form, not the recursion)."""
    from theory.chain import GaussianChain

    chain = GaussianChain(7, learner=learner, sigma=1.5)
    gens = [0, 1, 3, 40]
    text = _latex.latex_report(chain, gens, exact_values(chain, gens))
    forms = _latex.closed_forms(learner, 1)
    assert text.count(r"\\") == len(forms.constants) + len(forms.forms)  # one row each, the last without \\
    for form in forms.forms:
        assert form.lhs in text and form.rhs in text
        row = next(line for line in text.splitlines() if line.startswith(form.lhs + " &"))
        parsed = _parse(form.rhs, forms.constants)
        for g in gens:
            with mpmath.workdps(40):
                value = sp.N(parsed.subs({M: 7, n: g, sigma: sp.Rational(3, 2), C_M: gamma_ratio_value(7)}), 30)
            printed = re.search(rf"n={g}: ([-0-9.e]+)(?:\\times 10\^{{(-?[0-9]+)}})?", row)
            printed = float(printed.group(1)) * 10 ** int(printed.group(2) or 0)
            assert math.isclose(float(printed), float(value), rel_tol=1e-9, abs_tol=1e-300), (form.quantity, g)
    assert "polygamma" not in text and r"\psi" in text


def test_report_refuses_what_has_no_closed_form():
    from theory import ParameterError
    from theory.chain import GaussianChain

    with pytest.raises(ParameterError) as err:
        _latex.latex_report(GaussianChain(5, workflow="accumulate"), [1], {})
    assert err.value.parameter == "workflow"
    with pytest.raises(ParameterError) as err:
        _latex.latex_report(GaussianChain(5, variance_scale=math.pi), [1], {})
    assert err.value.parameter == "variance_scale"


@pytest.mark.slow
@pytest.mark.parametrize("learner,scale", [("unbiased", sp.Rational(1, 2)), ("mle", sp.Rational(1, 2))])
def test_rational_variance_scale_parses_back(learner, scale):
    """At a rational A the rates carry irrational numbers (sqrt(2) c_M / 2 at A = 1/2) that the zero test cannot
    always split (it fails to decide the unbiased Var W2^2 at A = 1/2), so a form it cannot prove is compared at
    12 points to 25 digits instead (measured: equal to 0.0 at 30 digits at every point)."""
    _check(_latex.closed_forms(learner, scale), numeric_fallback=True)


# ---------------------------------------------------------------------------------------------- other workflows' limits
@pytest.mark.parametrize("workflow", ["mix:0.5", "mix-fixed:0.3"])
@pytest.mark.parametrize("learner", [pytest.param("unbiased", marks=pytest.mark.slow), "mle"])
def test_mix_limit_forms_parse_back_to_the_exact_fixed_point(workflow, learner):
    """The printed fixed point (in M and R), parsed back at the chain's M and R, is exactly the rational fixed
    point that theory.numeric.workflow_limits solves from the numeric transition matrix."""
    from theory.chain import GaussianChain

    chain = GaussianChain(10, learner=learner, workflow=workflow)
    text = _latex.latex_limits(chain, workflow_limits(chain))
    exact = workflow_limits(chain)["exact"]
    r = chain.workflow.real_count(10)
    assert f"R &= {r} &&" in text
    for q in ("mean_sq_error", "variance_mean"):
        row = next(line for line in text.splitlines() if line.startswith(_latex._LIMIT_TEX[q]))
        rhs = row.split(" &= ")[1].split(" && ")[0]
        parsed = parse_latex(rhs)
        value = parsed.subs({s: {"M": 10, "R": r, "sigma": 1}[s.name] for s in parsed.free_symbols})
        assert sp.nsimplify(value) == sp.nsimplify(exact[q]), (q, rhs, value, exact[q])


@pytest.mark.slow
def test_accumulate_limit_forms_match_the_numbers():
    """accumulate: the printed Gamma form of lim E sigma_n^2 (parsed back) and the hypergeometric form of
    lim E(mu_n - mu)^2 (SymPy's, which the parser cannot read) equal workflow_limits' values."""
    from theory.chain import GaussianChain

    for learner in ("unbiased", "mle"):
        chain = GaussianChain(10, learner=learner, workflow="accumulate")
        values = workflow_limits(chain)
        forms = _latex.limit_forms(chain)
        text = _latex.latex_limits(chain, values)
        row = next(line for line in text.splitlines() if line.startswith(_latex._LIMIT_TEX["variance_mean"]))
        parsed = _parse(row.split(" &= ")[1].split(" && ")[0])
        assert math.isclose(float(sp.N(parsed.subs({M: 10, sigma: 1}), 30)), values["variance_mean"], rel_tol=1e-12)
        msq = forms["mean_sq_error"].subs({M: 10, sigma: 1})
        assert math.isclose(float(sp.N(msq, 30)), values["mean_sq_error"], rel_tol=1e-12)


def test_limits_refuse_replace():
    from theory import ParameterError
    from theory.chain import GaussianChain

    with pytest.raises(ParameterError) as err:
        _latex.latex_limits(GaussianChain(5), {})
    assert err.value.parameter == "workflow"
