"""The multivariate chain's exported LaTeX is what was derived: every formula printed by
``theory.symbolic._latex_multivariate.latex_multivariate_report`` is parsed back with SymPy's LaTeX parser (the
named constants' printed definitions parsed and substituted too) and proved equal to the derivation; the printed
numbers are ``multivariate_exact_values``; the SymPy forms evaluated in mpmath are those exact values.

``\\psi`` and ``\\psi'`` parse as undefined functions ``psi``/``psi'`` (mapped to the digamma and trigamma here);
``\\det\\Sigma`` parses as the product ``det * Sigma`` (mapped to the symbol for the determinant); ``\\sum`` and
``\\prod`` parse as they are."""

import re

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory import ParameterError
from theory.chain._multivariate import MultivariateGaussianChain
from theory.numeric import multivariate_exact_values
from theory.symbolic import _latex_multivariate as lm
from theory.symbolic._closed_form import ProofError

pytest.importorskip(
    "antlr4", reason="SymPy's LaTeX parser needs antlr4-python3-runtime==4.11.* (the 'test' extra of pyproject.toml)")
from sympy.parsing.latex import parse_latex

_NAMES = {"k": lm.k, "c": lm.c, "r": lm.r, "t": lm.t, "s": lm.s, "d": lm.d, "M": lm.M, "n": lm.n, "i": lm.i,
          "delta": lm.delta, "Sigma": lm.Sigma, "A": lm.A}
_COVARIANCES = {2: [[2.0, 0.5], [0.5, 1.0]], 3: [[1.5, 0.3, -0.2], [0.3, 1.0, 0.1], [-0.2, 0.1, 0.7]]}
CASES = [(d, learner, a) for d in (2, 3) for learner in ("unbiased", "mle") for a in (1, 1.5)]


def _parse(tex: str) -> sp.Expr:
    """A printed formula as SymPy in the module's symbols (bound summation indices included)."""
    expr = parse_latex(tex)
    expr = expr.replace(sp.Function("psi"), lambda x: sp.polygamma(0, x))
    expr = expr.replace(sp.Function("psi'"), lambda x: sp.polygamma(1, x))
    names = {s: _NAMES[s.name] for s in expr.atoms(sp.Symbol) if s.name in _NAMES}
    if sp.Symbol("det") in expr.free_symbols:  # \det\Sigma parses as det * Sigma
        expr = expr.xreplace({sp.Symbol("det"): sp.S.One, sp.Symbol("Sigma"): lm.det_sigma})
        names.pop(sp.Symbol("Sigma"), None)
    unknown = {s.name for s in expr.atoms(sp.Symbol)} - set(_NAMES) - {"det_Sigma"}
    assert not unknown, f"unexpected symbols {unknown} in {tex}"
    return expr.xreplace(names)


def _rows(report: str) -> tuple[dict, list]:
    """``({constant name: (definition tex, number text)}, [(lhs, rhs, beside)])`` from a report."""
    constants, forms = {}, []
    for line in report.splitlines():
        if line.startswith("%") or "&=" not in line:
            continue
        left, rest = line.split("&=", 1)
        rhs, beside = rest.split("&&", 1)
        beside = beside.removesuffix(r" \\").strip()
        if "{" not in left and "\\left" not in left or left.strip() == r"\delta":
            constants[left.strip()] = (rhs.strip(), beside)
        else:
            forms.append((left.strip(), rhs.strip(), beside))
    return constants, forms


def _chain(d, learner, a, m=7):
    return MultivariateGaussianChain(m, _COVARIANCES[d], learner=learner, variance_scale=a)


def _forms_equal_derivation(report: str, forms) -> None:
    """Every printed constant definition and form parses back to its derivation (raises ProofError otherwise)."""
    constants, rows = _rows(report)
    definitions = {lm.k: _parse(constants["k"][0]), lm.c: _parse(constants["c"][0]), lm.r: _parse(constants["r"][0])}
    lm._check("k", definitions[lm.k], lm.M - 1)
    lm._check("c", definitions[lm.c], forms.substitute(lm.c))
    lm._check("r", definitions[lm.r], lm.c * lm.k)
    lm._check("delta", _parse(constants[r"\delta"][0]), lm._derived()["drift"])
    assert [lhs for lhs, _, _ in rows] == [f.lhs for f in forms.forms]
    for (lhs, rhs, _), form in zip(rows, forms.forms):
        lm._check(form.quantity, _parse(rhs), form.derived)


@pytest.mark.parametrize("d, learner, a", CASES)
def test_printed_forms_parse_back_to_the_derivation(d, learner, a):
    chain = _chain(d, learner, a)
    gens = [0, 1, 4]
    report = lm.latex_multivariate_report(chain, gens, multivariate_exact_values(chain, gens))
    _forms_equal_derivation(report, lm.multivariate_forms(learner, sp.nsimplify(a)))


def _numbers(beside: str) -> list:
    """``[(n, [numbers])]`` from a row's values (a pmatrix gives its entries)."""
    out = []
    for g, cell in re.findall(r"n=(\d+): (.*?)(?=,\\ n=|$)", beside):
        cell = cell.replace(r"\times 10^", "e").replace("{", "").replace("}", "")
        out.append((int(g), [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", cell.split("=")[-1])]))
    return out


@pytest.mark.parametrize("d, learner, a", CASES)
def test_printed_numbers_are_the_exact_values(d, learner, a):
    chain = _chain(d, learner, a)
    gens = [0, 1, 3, 20]
    values = multivariate_exact_values(chain, gens)
    constants, rows = _rows(lm.latex_multivariate_report(chain, gens, values))
    forms = lm.multivariate_forms(learner, sp.nsimplify(a))
    applies = [f for f in forms.forms if not f.condition or (f.condition == "r = 1") == (learner == "unbiased"
                                                                                         and a == 1)]
    seen = 0
    for (lhs, rhs, beside), form in zip(rows, forms.forms):
        printed = _numbers(beside)
        if form not in applies:
            assert printed == []
            continue
        assert [g for g, _ in printed] == gens
        for j, (_, numbers) in enumerate(printed):
            expected = np.ravel(values[form.quantity][j])
            np.testing.assert_allclose(numbers, expected, rtol=6e-10, atol=0)
            seen += 1
    assert seen == len(gens) * len(applies)
    cov = np.array(_COVARIANCES[d])
    number = lambda name: float(constants[name][1].split("=")[1].split()[0])
    assert number("t") == pytest.approx(np.trace(cov), rel=1e-12)
    assert number("s") == pytest.approx(np.sum(cov * cov), rel=1e-12)
    assert number(r"\delta") == pytest.approx(values["log_det_mean"][1], rel=6e-10)  # E log det step = delta
    divisor = 6 if learner == "unbiased" else 7
    assert number("c") == pytest.approx(a / divisor, rel=6e-10)
    exact = constants["c"][1].split(r" \quad")[0].split("=")[2]  # the exact fraction printed after the decimal
    assert sp.simplify(_parse(exact) - sp.nsimplify(a) / divisor) == 0


def _evaluate(expr, at: dict, dim: int):
    return sp.N(expr.xreplace({lm.d: dim}).doit().subs(at), 30)


@pytest.mark.parametrize("learner, a", [("unbiased", 1), ("mle", 1), ("unbiased", 1.5), ("mle", 1.5)])
def test_sympy_forms_evaluate_to_the_exact_values(learner, a):
    forms = lm.multivariate_forms(learner, sp.nsimplify(a))
    for dim, m, gens in ((2, 3, [0, 1, 5]), (3, 7, [2, 9]), (4, 12, [1, 30]), (1, 4, [3])):
        rng = np.random.default_rng(dim * 100 + m)
        root = rng.normal(size=(dim, dim))
        cov = root @ root.T + dim * np.eye(dim)
        chain = MultivariateGaussianChain(m, cov, learner=learner, variance_scale=a)
        values = multivariate_exact_values(chain, gens)
        entries = [[mpmath.mpf(float(x)) for x in row] for row in cov]
        at = {lm.M: m, lm.A: sp.nsimplify(a), lm.t: sp.Float(mpmath.fsum(entries[j][j] for j in range(dim)), 40),
              lm.s: sp.Float(mpmath.fsum(x * x for row in entries for x in row), 40),
              lm.det_sigma: sp.Float(mpmath.det(mpmath.matrix(entries)), 40)}
        r_is_one = sp.nsimplify(a) * (m - 1) / (m - 1 if learner == "unbiased" else m) == 1
        checked = 0
        for form in forms.forms:
            if form.condition and (form.condition == "r = 1") != r_is_one:
                continue
            expr = forms.substitute(form.short)
            for j, g in enumerate(gens):
                point = {**at, lm.n: g}
                if form.quantity == "covariance_mean":
                    got = np.array([[float(_evaluate(expr.xreplace({lm.Sigma: sp.Float(x, 30)}), point, dim))
                                     for x in row] for row in cov])
                    np.testing.assert_allclose(got, values["covariance_mean"][j], rtol=4e-16, atol=0)
                else:
                    got = float(_evaluate(expr, point, dim))
                    want = values[form.quantity][j]
                    # log det Sigma enters the numeric route through a float64 slogdet: a few ulp times cond
                    tol = 1e-13 if form.quantity == "det_mean" else 4e-16
                    assert got == pytest.approx(want, rel=tol, abs=1e-300), (form.quantity, dim, m, g)
                checked += 1
        assert checked == len(gens) * 7


MUTATIONS = [
    (r"\left(1 + \frac{2}{k}\right)", r"\left(1 + \frac{3}{k}\right)"),
    (r"\left(1 - \frac{1}{k}\right)", r"\left(1 - \frac{2}{k}\right)"),
    (r"\frac{t^{2} + 2 s}{3}", r"\frac{t^{2} + s}{3}"),
    (r"\left(k - i + 1\right)", r"\left(k - i + 2\right)"),
    (r"\psi'\left(\frac{k - i + 1}{2}\right)", r"\psi\left(\frac{k - i + 1}{2}\right)"),
    (r"r^{n} t", r"r^{n + 1} t"),
    (r"\frac{n t}{M}", r"\frac{n t}{k}"),
    (r"\log{\left(2 \right)}", r"\log{\left(3 \right)}"),  # in the drift delta's definition
    (r"c &= \frac{1}{M}", r"c &= \frac{1}{M - 1}"),  # a constant's definition (the MLE's c is 1/M)
]


@pytest.mark.parametrize("old, new", MUTATIONS)
def test_a_changed_form_or_constant_is_caught(old, new):
    chain = _chain(2, "mle", 1)
    report = lm.latex_multivariate_report(chain, [1], multivariate_exact_values(chain, [1]))
    assert old in report
    forms = lm.multivariate_forms("mle", 1)
    _forms_equal_derivation(report, forms)  # the original passes
    with pytest.raises(ProofError):
        _forms_equal_derivation(report.replace(old, new), forms)


def test_a_changed_number_is_caught():
    chain = _chain(2, "mle", 1.5)
    values = multivariate_exact_values(chain, [3])
    report = lm.latex_multivariate_report(chain, [3], values)
    _, rows = _rows(report)
    beside = rows[3][2]  # trace_mean
    printed = _numbers(beside)[0][1]
    assert printed == pytest.approx([values["trace_mean"][0]], rel=6e-10)
    text = beside.split(": ")[1]
    altered = beside.replace(text[:3], text[:2] + ("1" if text[2] == "9" else "9"))
    assert altered != beside
    changed = _numbers(altered)[0][1]
    assert changed != pytest.approx([values["trace_mean"][0]], rel=6e-10)


@pytest.mark.parametrize("workflow", ["accumulate", "mix:0.5"])
def test_other_workflows_are_refused(workflow):
    chain = MultivariateGaussianChain(7, np.eye(2), workflow=workflow)
    with pytest.raises(ParameterError) as err:
        lm.latex_multivariate_report(chain, [1], {})
    assert err.value.parameter == "workflow"
