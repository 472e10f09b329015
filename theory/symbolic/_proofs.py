"""Render the machine-checked derivations as readable Markdown documents (``proofs/*.md``).

Every document is produced from the :class:`~theory.symbolic._closed_form.Derivation` objects, which only
exist once every base case and inductive step has been simplified to zero, so the text cannot drift from what
was checked. ``tests/test_proofs.py`` re-renders them and fails when a committed file is stale.
Run ``python -m theory.symbolic._proofs`` to rewrite ``proofs/``.
"""

from __future__ import annotations

import pathlib
import sys

import sympy as sp

from . import _latex
from ._closed_form import ProofError, derive, is_zero
from ._documents import target_directory, write_documents
from ._one_step import gamma_ratio_value
from ._recursion import INITIAL, STATE_SYMBOLS, outputs
from ._symbols import A, M, sigma

CASES = (
    ("unbiased", sp.S.One, "unbiased learner (divisor $M-1$), $A = 1$ (the paper's theory)"),
    ("mle", sp.S.One, "MLE learner (divisor $M$), $A = 1$ (the authors' notebook)"),
    ("unbiased", A, "unbiased learner, variance multiplier $A$ (generic $A$)"),
    ("mle", A, "MLE learner, variance multiplier $A$ (generic $A$)"),
)

RESULTS = {
    "mean_sq_error": ("Mean squared error of the fitted mean", r"\mathbb{E}(\mu_n-\mu)^2"),
    "variance_mean": ("Expected fitted variance", r"\mathbb{E}\,\sigma_n^2"),
    "variance_var": ("Variance of the fitted variance", r"\operatorname{Var}\sigma_n^2"),
    "sd_mean": ("Expected fitted standard deviation", r"\mathbb{E}\,\sigma_n"),
    "log_variance_mean": ("Expected log-variance (almost-sure collapse rate)", r"\mathbb{E}\log\sigma_n^2-\log\sigma^2"),
    "w2_sq_mean": ("Expected squared Wasserstein-2 drift", r"\mathbb{E}\,W_2^2(p_n,p_0)"),
    "w2_sq_var": ("Variance of the squared Wasserstein-2 drift", r"\operatorname{Var}W_2^2(p_n,p_0)"),
}

HAND_WRITTEN = {
    "decomposition.md": "the split of the collapse into statistical, expressivity and approximation error",
}
"""Proof documents in proofs/ that are not rendered from a derivation."""

RENDERED_ELSEWHERE = {
    "workflows.md": ("the training workflows (mix, mix-fixed, accumulate, accumulate-subsample): moment systems, "
                     "limits and the published claims", "python -m theory.numeric._workflow_proofs"),
    "discrete.md": ("the discrete (Wright-Fisher) chain: one-step moments and the (E c, E c^2) recursion, the "
                    "Wright-Fisher identity, Suresh et al.'s survival and iterate bounds, the claims' verdicts",
                    "python -m theory.numeric._discrete_proofs"),
    "multivariate.md": ("the multivariate Gaussian chain: Wishart one-step identities, the trace recursion, the "
                        "determinant and the volume's collapse, the workflows, the paper's multivariate lower bound",
                        "python -m theory.numeric._multivariate_proofs"),
    "kde.md": ("the kernel-density-estimate chain: one KDE draw (sympy.stats), the one-step maps of every workflow "
               "checked against the code, the replace closed forms, the mix fixed points",
               "python -m theory.numeric._kde_proofs"),
}
"""Proof documents rendered by a module of a higher layer (they need numeric evaluation): name -> (title, command)."""

_STATE_TEX = {
    "m1": r"\mathbb{E}[X_n]",
    "m2": r"\mathbb{E}[X_n^2]",
    "m3": r"\mathbb{E}[X_n^3]",
    "m4": r"\mathbb{E}[X_n^4]",
    "L": r"\mathbb{E}[\log X_n^2]",
    "q": r"\mathbb{E}[V_n]",
    "u1": r"\mathbb{E}[V_n X_n]",
    "u2": r"\mathbb{E}[V_n X_n^2]",
    "w": r"\mathbb{E}[V_n^2]",
}
"""Every expectation with explicit brackets, so that a power of one prints as ``\\left(\\mathbb{E}[V_n]\\right)^{2}``
and cannot be read as the expectation of a power (``tests/test_proofs.py`` scans every proof for that)."""


class _Printer(_latex._Printer):
    """The closed forms' printer (``\\psi`` for the digamma, bracketed factors first), and a power of an
    expectation in brackets: ``\\left(\\mathbb{E}[V_n]\\right)^{2}``, never ``\\mathbb{E}[V_n]^{2}``."""

    def _print_Pow(self, expr):
        base = expr.base
        if base.is_Symbol and base.name.startswith(r"\mathbb{E}"):
            return rf"\left({base.name}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)


_PREAMBLE = r"""
**Model.** Generation 0 is $N(\mu,\sigma^2)$. Generation $i+1$ is fitted to $M$ samples of generation $i$:
$\mu_{i+1}$ is the sample mean and $\sigma_{i+1}^2 = A\,S/d$ with $S$ the sum of squared deviations, $d = M-1$
(unbiased) or $d = M$ (MLE). For a Gaussian sample, $S/\sigma_i^2 \sim \chi^2_{M-1}$ and the sample mean are
independent, so with $X \sim \chi^2_{M-1}$ and $Z \sim N(0,1)$ independent of each other and of the past,
$$\sigma_{i+1} = \sigma_i R,\quad R = \sqrt{A X/d},\qquad \mu_{i+1} = \mu_i + \sigma_i Z/\sqrt{M}.$$
Write $X_n = \sigma_n/\sigma$ and $V_n = \sum_{i<n} X_i^2/M$. Given all fitted standard deviations,
$(\mu_n-\mu)/\sigma \sim N(0, V_n)$, so $W_2^2(p_n,p_0)/\sigma^2 = V_n Z^2 + (X_n-1)^2$ in distribution, using
$W_2^2(N(m,s^2),N(\mu,\sigma^2)) = (m-\mu)^2+(s-\sigma)^2$.
"""


def _tex(expr) -> str:
    return _Printer().doprint(expr)


def _needed_state(expr: sp.Expr, derivation) -> list[str]:
    """State variables an output needs, closed under the recursion's dependencies, in solving order."""
    names = {name for name, sym in STATE_SYMBOLS.items() if expr.has(sym)}
    changed = True
    while changed:
        changed = False
        for name in list(names):
            for other, sym in STATE_SYMBOLS.items():
                if other not in names and derivation.steps[name].recursion.has(sym):
                    names.add(other)
                    changed = True
    return [name for name in STATE_SYMBOLS if name in names]


def render(quantity: str) -> str:
    """The Markdown proof of one result, for every case in :data:`CASES`."""
    title, _ = RESULTS[quantity]
    symbol = _latex.QUANTITY_TEX[quantity]
    lines = [f"# {title}: ${symbol}$", "", "<!-- Generated by `python -m theory.symbolic._proofs`; do not edit. -->", ""]
    lines += [
        "Every equation below was produced by SymPy and every proof obligation (base case and inductive step) "
        "was simplified to zero by `theory.symbolic.derive`; `tests/test_proofs.py` repeats the checks and "
        "fails if this file is stale.",
        _PREAMBLE,
    ]
    derivations = [(label, derive(M, learner, a, sigma)) for learner, a, label in CASES]
    lines += ["## Result", "",
              "In the named one-step moments $c = \\mathbb{E}[R]$, $a = \\mathbb{E}[R^2]$, $g = \\mathbb{E}[R^3]$, "
              "$b = \\mathbb{E}[R^4]$ of the ratio $R = \\sigma_{i+1}/\\sigma_i$ (Step 1), with their values "
              "for each case (the exact rewriting of the derived form, `theory.symbolic._latex`, checked equal to it "
              "when rendering: by the zero test for $A = 1$; for generic $A$ the proved form in $r_p$ is grouped "
              "and checked in exact rational arithmetic at 12 points):", ""]
    for (learner, a, _), (label, d) in zip(CASES, derivations):
        forms = _result_forms(d, learner, a)
        form = next(f for f in forms.forms if f.quantity == quantity)
        used = [c for c in forms.constants if form.short.has(c.symbol)]
        lines += [f"- {label}:", f"  $$ {symbol} = {form.rhs} $$"]
        if used:
            lines.append("  with " + ", ".join(f"${c.tex} = {c.definition}$" for c in used) + ".")
    lines += [
        "",
        f"where $c_M = {_tex(gamma_ratio_value(M))} = \\mathbb{{E}}\\left[\\sqrt{{X/(M-1)}}\\right]$ and $n \\ge 0$, "
        "$M \\ge 2$.",
        "",
        "## Step 1: one-step moments (sympy.stats)",
        "",
        "With $X \\sim \\chi^2_{M-1}$ (`sympy.stats.ChiSquared`) and $Z \\sim N(0,1)$ (`sympy.stats.Normal`):",
        "",
    ]
    base = derivations[0][1].one_step
    for p in (1, 2, 3, 4):
        lines.append(f"- $\\mathbb{{E}}[X^{{{sp.latex(sp.Rational(p, 2))}}}] = {_tex(base.chi_square_moments[p])}$")
    lines.append(f"- $\\mathbb{{E}}[\\log X] = {_tex(base.chi_square_moments['log'])}$")
    lines.append(f"- $\\mathbb{{E}}[Z^2] = {_tex(base.normal[2])}$, $\\mathbb{{E}}[Z^4] = {_tex(base.normal[4])}$, odd "
                 "moments 0.")
    lines += ["", "Hence $r_p = \\mathbb{E}[R^p] = (A/d)^{p/2}\\,\\mathbb{E}[X^{p/2}]$ and "
              "$\\ell = \\mathbb{E}[\\log R^2]$ ($c, a, g, b$ above are $r_1, r_2, r_3, r_4$):", ""]
    for learner, a, label in CASES[2:]:
        one = derive(M, learner, a, sigma)
        actual = {p: sp.simplify(v) for p, v in _actual_ratios(learner).items()}
        body = ", ".join(f"r_{p} = {_tex(actual[p])}" for p in (1, 2, 3, 4))
        lines.append(f"- {learner}: ${body}$, $\\ell = {_tex(_actual_ratios(learner)['log'])}$")
        del one
    one = derivations[0][1].one_step
    out_expr = outputs(one)[quantity]
    lines += [
        "",
        "## Step 2: the output in terms of moments of $(X_n, V_n)$",
        "",
        "Expanding the definition and taking expectations factor by factor (independence of $Z$):",
        f"$$ {symbol} = {_sigma_tex(quantity)}\\left({_tex(_state_tex_expr(out_expr))}\\right) $$",
        "",
        "## Step 3: the moment recursion",
        "",
        "One generation maps $X \\to XR$ and $V \\to V + X^2/M$ with $R$ independent of $(X,V)$. "
        "Expanding each monomial and taking expectations gives, for the moments this result needs "
        "(generic form, $r_p$ and $\\ell$ as above):",
        "",
    ]
    generic = derivations[2][1]
    needed = _needed_state(out_expr, generic)
    for name in needed:
        step = generic.steps[name]
        lines.append(
            f"- ${_STATE_TEX[name]}\\big|_{{n+1}} = {_tex(_state_tex_expr(step.recursion))}$, "
            f"initial value ${INITIAL[name]}$"
        )
    lines += ["", "## Step 4: solutions, each proved by induction", ""]
    for label, d in derivations:
        lines += [f"### {label}", ""]
        if d is generic or label == CASES[3][2]:
            lines.append("Solved with the one-step moments as free symbols $r_p$, $\\ell$ (generic case):")
            lines.append("")
        for name in needed:
            step = d.steps[name]
            lines.append(f"- ${_STATE_TEX[name]} = {_tex(step.closed_form)}$")
            lines.append(
                f"  - base case: value at $n=0$ minus ${INITIAL[name]}$ simplifies to $0$; inductive step: "
                f"$x(n+1) - ({_tex(step.coefficient)})\\,x(n) - b(n)$ simplifies to $0$, with "
                f"$b(n) = {_tex(step.inhomogeneity)}$."
            )
        lines.append("")
    lines += [
        "Substituting the solutions into Step 2 gives the result above. $\\blacksquare$",
        "",
        "The generic-$A$ forms hold for every $A > 0$ at which no two of the rates $r_p$ coincide, and at the "
        "remaining isolated values of $A$ by continuity (take the limit).",
        "",
    ]
    return "\n".join(lines)


def _result_forms(derivation, learner: str, variance_scale) -> _latex.ClosedForms:
    """The derived results in the named constants, each checked equal to the derivation by the zero test."""
    if sp.sympify(variance_scale).free_symbols:
        return _latex.generic_forms(derivation, learner)  # grouped from the proved form in r_p, checked there
    forms = _latex.short_forms(derivation.outputs, learner, variance_scale)
    for form in forms.forms:
        if not is_zero(sp.expand_log(forms.substitute(form.short) - form.derived, force=True)):
            raise ProofError(f"{form.quantity}: the form in named constants differs from the derivation")
    return forms


def _actual_ratios(learner: str) -> dict:
    from ._one_step import one_step

    one = one_step(M, learner, A)
    return {**one.ratio, "log": one.log_ratio}


def _sigma_tex(quantity: str) -> str:
    from ._recursion import SIGMA_POWER

    power = SIGMA_POWER[quantity]
    return {0: "", 1: r"\sigma", 2: r"\sigma^2", 4: r"\sigma^4"}[power]


def _state_tex_expr(expr: sp.Expr) -> sp.Expr:
    """Rename state symbols to their meaning for display."""
    names = {STATE_SYMBOLS[k]: sp.Symbol(_STATE_TEX[k]) for k in STATE_SYMBOLS}
    return expr.subs(names)


def render_mean() -> str:
    """The one result that needs no recursion: the fitted mean is a martingale."""
    from sympy.stats import E, Normal

    Z = Normal("Z", 0, 1)
    ez = E(Z)
    return "\n".join(
        [
            r"# Expected fitted mean: $\mathbb{E}[\mu_n] = \mu$",
            "",
            "<!-- Generated by `python -m theory.symbolic._proofs`; do not edit. -->",
            "",
            _PREAMBLE,
            "## Proof",
            "",
            f"`sympy.stats` gives $\\mathbb{{E}}[Z] = {sp.latex(ez)}$. Since $Z$ is independent of $\\sigma_i$, "
            r"$\mathbb{E}[\mu_{i+1}\mid \mu_i,\sigma_i] = \mu_i + \sigma_i\,\mathbb{E}[Z]/\sqrt{M} = \mu_i$, "
            r"so $(\mu_n)$ is a martingale and $\mathbb{E}[\mu_n] = \mu_0 = \mu$ by induction, for every learner, "
            r"every $A$ and every schedule $M_i$. $\blacksquare$",
            "",
        ]
    )


def documents() -> dict:
    """``{file name: Markdown}`` for every proof document."""
    docs = {"mean.md": render_mean()}
    for quantity in RESULTS:
        docs[f"{quantity}.md"] = render(quantity)
    index = ["# Proofs", "", "<!-- Generated by `python -m theory.symbolic._proofs`; do not edit. -->", ""]
    index.append("One document per exact result of the 1-D Gaussian chain, rendered from the machine-checked derivation:")
    index.append("")
    index.append(r"- [mean.md](mean.md): $\mathbb{E}[\mu_n] = \mu$")
    for quantity, (title, _) in RESULTS.items():
        index.append(f"- [{quantity}.md]({quantity}.md): {title}, ${_latex.QUANTITY_TEX[quantity]}$")
    index += ["", "Rendered from derivations evaluated numerically, with the claims' verdicts computed when rendering:",
              ""]
    index += [f"- [{name}]({name}): {title} (`{command}`)" for name, (title, command) in RENDERED_ELSEWHERE.items()]
    index += ["", "Written by hand (not generated), checked by the tests named inside:", ""]
    index += [f"- [{name}]({name}): {title}" for name, title in HAND_WRITTEN.items()]
    index.append("")
    docs["README.md"] = "\n".join(index)
    return docs


def write(directory: pathlib.Path) -> list[pathlib.Path]:
    return write_documents(directory, documents())


if __name__ == "__main__":  # pragma: no cover
    for p in write(target_directory(sys.argv)):
        print(p)
