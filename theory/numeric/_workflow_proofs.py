"""Render ``proofs/workflows.md``: the moment systems of the non-replace workflows as derived, their limits, and the
published claims with the verdicts computed when rendering.

Every equation is printed from the SymPy objects the code uses (:mod:`theory.symbolic._workflow_moments`,
:mod:`theory.symbolic._workflow_limits`) and every stated identity is checked before it is written (a fixed point
is substituted back into its system; a Gamma form is checked against its product by the ratio of consecutive
partial products and its value at 0), so the text cannot drift from the code. ``tests/test_proofs.py`` re-renders
it and fails when the committed file is stale. Run ``python -m theory.numeric._workflow_proofs`` to rewrite it.
"""

from __future__ import annotations

import pathlib
import sys

import sympy as sp

from ..symbolic import _workflow_limits as wl
from ..symbolic import _workflow_moments as wm
from ..symbolic._documents import target_directory, write_documents
from . import _workflow_claims as claims

NAME = "workflows.md"
LEARNERS = ("unbiased", "mle")


class ProofError(AssertionError):
    """A stated identity did not simplify to zero."""


def _tex(expr) -> str:
    return sp.latex(expr)


def _check_zero(expr, what: str) -> None:
    if sp.simplify(sp.factor(sp.cancel(sp.together(expr)))) != 0:
        raise ProofError(f"{what}: {expr} is not 0")


def _system_lines(kind: str, learner: str, orders=None) -> list[str]:
    system = wm.workflow_system(kind, learner)
    basis = system["basis"]
    shape = wm.SHAPES[kind][0]
    rows, constants = system[shape]
    lines = [f"Basis closed from the targets ({len(basis)} monomials): "
             + ", ".join(f"${_tex(b)}$" for b in basis) + ".", ""]
    for i, mono in enumerate(basis):
        if orders is not None and mono not in orders:
            continue
        rhs = sum((c * sp.Symbol(rf"\mathbb{{E}}[{_tex(b)}]") for c, b in zip(rows[i], basis) if c != 0), sp.S.Zero)
        rhs += constants[i]
        lines.append(rf"- $\mathbb{{E}}[{_tex(mono)}]_{{+}} = {_tex(rhs)}$, start ${_tex(system['initial'][i])}$")
    lines.append("")
    return lines


def _mix_section(kind: str) -> list[str]:
    lines = [f"## `{kind}`", ""]
    if kind == "mix":
        lines += ["State $(d, v)$; step parameters $M, R, w, A$ (shape $0 < R < M$; the shapes $R = M$ and $R = 0$ "
                  "are derived the same way on the same basis).", ""]
    else:
        lines += ["State $(d, v, e, s)$: $e$, $s$ the mean and scatter of the $R$ real points, drawn once "
                  "($e \\sim N(0, 1/R)$, $s \\sim \\chi^2_{R-1}$) and conserved. Only the second-order rows are "
                  "printed.", ""]
    for learner in LEARNERS:
        second = None if kind == "mix" else [m for m in wm.workflow_system(kind, learner)["basis"]
                                             if sum({wm.d: 1, wm.e: 1, wm.v: 2, wm.s: 2}[b] * p
                                                    for b, p in m.as_powers_dict().items()) == 2]
        lines += [f"### {learner}", ""] + _system_lines(kind, learner, second)
        fp = wl.mix_fixed_point_expressions(kind, learner)
        system = wm.workflow_system(kind, learner)
        basis = system["basis"]
        rows, constants = system["both"]
        for mono, value in fp["fixed_point"].items():  # substitute back: x* = T x* + c on the block
            i = basis.index(mono)
            image = sum((rows[i][j] * fp["fixed_point"].get(b, sp.nan) for j, b in enumerate(basis)
                         if rows[i][j] != 0), sp.S.Zero) + constants[i]
            _check_zero(image - value, f"{kind}/{learner} fixed point of {mono}")
        lines += ["Fixed point of the second-order block (checked: substituted back into the system):", ""]
        for mono in (wm.d**2, wm.v):
            lines.append(rf"- $\mathbb{{E}}[{_tex(mono)}]_\infty = {_tex(fp['fixed_point'][mono])}$")
        plain = {wm.w: wm.R / wm.M, wm.A: 1}
        lines.append(rf"- plain fit ($w = R/M$), $A = 1$: $\mathbb{{E}}[\sigma_\infty^2]/\sigma^2 = "
                     rf"{_tex(sp.factor(sp.simplify(fp['fixed_point'][wm.v].subs(plain))))}$, "
                     rf"$\mathbb{{E}}[(\mu_\infty-\mu)^2]/\sigma^2 = "
                     rf"{_tex(sp.factor(sp.simplify(fp['fixed_point'][wm.d**2].subs(plain))))}$")
        lines.append("- eigenvalues of the block's homogeneous part (the rate of approach is the largest modulus): "
                     + ", ".join(f"${_tex(e)}$" for e in fp["eigenvalues"]))
        lines.append("")
    return lines


def _check_gamma_product(rho_v, value_over_u0) -> None:
    """``P(n) = prod_{k<n} rho_v(k)`` in Gamma form: ``P(n+1)/P(n) = rho_v(n)`` and ``P(0) = 1``."""
    k, n = wl._k, sp.Symbol("n", integer=True, nonnegative=True)
    _, _, _, alphas, betas, exact = wl._split(rho_v, k)
    if not exact:
        raise ProofError("the roots of the variance ratio are not symbolic")
    partial = (sp.Mul(*[sp.gamma(n - a) for a in alphas]) * sp.Mul(*[sp.gamma(-b) for b in betas])
               / (sp.Mul(*[sp.gamma(-a) for a in alphas]) * sp.Mul(*[sp.gamma(n - b) for b in betas])))
    _check_zero(sp.gammasimp(partial.subs(n, n + 1) / partial) - rho_v.subs(k, n), "partial product ratio")
    _check_zero(partial.subs(n, 0) - 1, "partial product at 0")
    limit = sp.Mul(*[sp.gamma(-b) for b in betas]) / sp.Mul(*[sp.gamma(-a) for a in alphas])
    _check_zero(sp.gammasimp(limit - value_over_u0), "Gamma form of the infinite product")


def _pool_section(kind: str) -> list[str]:
    lines = [f"## `{kind}`", ""]
    if kind == "accumulate":
        lines += ["State $(a, S)$ (pool mean and scatter, $N$ points; the model is the fit to the pool, "
                  "$d = a$, $v = A S/\\mathrm{div}(N)$), step parameters $N, M, A$; the walk starts at generation 1 "
                  "from the first pool of $M_0$ real points.", ""]
    else:
        lines += ["State $(a, S, d, v)$, parameters $N, M, A, K$; the subsample of $K$ from the merged pool of "
                  "$N' = N + M$ points has (inclusion probabilities of a uniform $K$-subset) conditional mean $a'$, "
                  f"variance $c_1 S'$ and scatter $c_2 S'$ with $c_1 = {_tex(wm.subsample_moments()[0])}$, "
                  f"$c_2 = {_tex(wm.subsample_moments()[1])}$ at $N$ (pool size). This second-order system gives "
                  "the limits below. The fourth moments (`exact_values`' $\\operatorname{Var}\\sigma_n^2$) come from "
                  "a system over the pool's power sums $P_1..P_4$ and the model "
                  f"({len(wm.subsample_fourth_system('unbiased')['basis'])} monomials: "
                  + ", ".join(f"${_tex(b)}$" for b in wm.subsample_fourth_system("unbiased")["basis"])
                  + "), the subsample's conditional moments taken over set partitions of the inclusion "
                  "indicators ($\\phi_r = (K)_r/(N')_r$) with Moebius inversion to power sums.", ""]
    k_value = None if kind == "accumulate" else wm.K
    for learner in LEARNERS:
        lines += [f"### {learner}", ""] + _system_lines(kind, learner)
        rec = wl.pool_recursion(kind, learner)
        lines += ["Reduced to the pool ($\\mathbb{E}[S'] = \\rho(N)\\,\\mathbb{E}[S]$, "
                  "$\\mathbb{E}[a'^2] = \\mathbb{E}[a^2] + \\tau(N)\\,\\mathbb{E}[S]$, "
                  "$\\mathbb{E}[v] = \\kappa(N)\\,\\mathbb{E}[S]$):",
                  f"$\\rho = {_tex(rec['rho'])}$, $\\tau = {_tex(rec['tau'])}$, $\\kappa = {_tex(rec['kappa'])}$.", ""]
        expr = wl.pool_limit_expressions(kind, learner, 1, k_value)
        general = wl.pool_limit_expressions(kind, learner, wm.A, k_value)
        lines.append(f"- $A = 1$: $\\mathbb{{E}}[\\sigma_{{k+2}}^2]/\\mathbb{{E}}[\\sigma_{{k+1}}^2] = \\rho_v(k) = "
                     f"{_tex(expr['rho_v'])}$; growth exponent of general $A$: "
                     f"$\\mathbb{{E}}[\\sigma_n^2] \\sim C n^{{{_tex(general['exponent'])}}}$")
        if expr["variance_mean"] is not None:
            _check_gamma_product(expr["rho_v"], expr["variance_mean"] / expr["u0"])
            lines.append(f"- $\\mathbb{{E}}[\\sigma_\\infty^2]/\\sigma^2 = {_tex(expr['variance_mean'])}$ (Gamma form "
                         "checked: ratio of consecutive partial products and value at 0)")
        else:
            lines.append(f"- $\\mathbb{{E}}[\\sigma_n^2] \\to \\infty$ at $A = 1$ (exponent ${_tex(expr['exponent'])}$)")
        if expr["mean_sq_error"] is not None:
            lines.append(f"- $\\mathbb{{E}}[(\\mu_\\infty-\\mu)^2]/\\sigma^2 = {_tex(expr['mean_sq_error'])}$ "
                         f"(series with $t_0 = {_tex(expr['t_0'])}$, $t_{{k+1}}/t_k = {_tex(expr['ratio_t'])}$)")
        lines.append("")
    if kind == "accumulate":
        x = sp.Symbol("x", positive=True)
        mle = wl.pool_limit_expressions(kind, "mle", 1, None)["variance_mean"]
        _check_zero(sp.gammasimp(mle.subs(wm.M, 1 / x**2) - sp.sin(sp.pi * x) / (sp.pi * x)).rewrite(sp.gamma),
                    "mle limit as sin(pi/sqrt M)/(pi/sqrt M)")
        lines += ["For the MLE this is $\\prod_{k\\ge1}(1 - 1/(k^2 M)) = \\sin(\\pi/\\sqrt M)/(\\pi/\\sqrt M)$ "
                  "(checked), and $\\mathbb{E}[(\\mu_\\infty-\\mu)^2] + \\mathbb{E}[\\sigma_\\infty^2] = \\sigma^2$.", ""]
    return lines


def _claims_section() -> list[str]:
    lines = ["## Published claims (verdicts computed when this file was rendered)", "",
             "Printed by `python -m theory.numeric._workflow_claims` (with the breaking variance multipliers); "
             "asserted by `tests/test_workflow_claims.py`.", ""]
    found = [claims.gerstgrasser(sample_sizes=(2, 10, 100, 1000), breaking=()),
             claims.dey_donoho(sample_sizes=(2, 10, 100, 1000)),
             claims.fresh_data_fixed_point(sample_sizes=(10, 100, 1000), fractions=(0.1, 0.5)),
             claims.he_xu_cheng(sample_sizes=(4, 10, 20, 50, 100, 1000))]
    for c in found:
        lines += [f"### {c['claim']}", "", f"Source: {c['source']}.", "", f"**Verdict: {c['verdict']}.** "
                  + c["detail"].split("; the bound fails above")[0], ""]
        rows = c["numbers"]["rows"]
        keys = [k for k in rows[0] if k != "exact_variance"]
        lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        for r in rows:
            lines.append("| " + " | ".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys)
                         + " |")
        lines.append("")
    return lines


def render() -> str:
    lines = ["# Exact theory of the training workflows: mix, mix-fixed, accumulate, accumulate-subsample", "",
             "<!-- Generated by `python -m theory.numeric._workflow_proofs`; do not edit. -->", "",
             "Units $\\sigma = 1$, $\\mu = 0$: a model is $N(d, v)$, $d = (\\mu_i-\\mu)/\\sigma$, "
             "$v = \\sigma_i^2/\\sigma^2$. A training set is a union of independent Gaussian groups: a group of "
             "$m$ points from $N(d_g, v_g)$ has mean $d_g + \\sqrt{v_g/m}\\,Z$ and scatter $v_g C$, "
             "$Z \\sim N(0,1)$, $C \\sim \\chi^2_{m-1}$ (`sympy.stats`). The weighted fit has mean "
             "$\\sum_g W_g G_g$ and variance $A Q/\\mathrm{div}$, $Q = \\sum_g (W_g/m_g)\\,\\mathrm{scatter}_g + "
             "\\sum_g W_g (G_g - \\bar G)^2$, $\\mathrm{div} = 1 - \\sum_g W_g^2/m_g$ (unbiased) or 1 (MLE). "
             "Conditional expectations of state monomials are taken term by term; every monomial that appears is "
             "added to the basis until it closes (monomials odd in the means vanish by symmetry). "
             "$\\mathbb{E}[\\cdot]_{+}$ is the next generation's moment.", "",
             "$\\mathbb{E}[\\sigma_n]$, $\\mathbb{E}[\\log\\sigma_n^2]$ and hence $\\mathbb{E}[W_2^2]$ have no finite "
             "moment system under these workflows ($\\sigma_{n+1}^2$ is not a chi-square multiple of $\\sigma_n^2$); "
             "`exact_values` gives exact bounds: $\\left(\\mathbb{E}[\\sigma^2]\\right)^{3/2}/\\left(\\mathbb{E}[\\sigma^4]"
             "\\right)^{1/2} \\le \\mathbb{E}[\\sigma] \\le \\left(\\mathbb{E}[\\sigma^2]\\right)^{1/2}$ (Hoelder, Jensen).",
             ""]
    lines += _mix_section("mix") + _mix_section("mix-fixed")
    lines += _pool_section("accumulate") + _pool_section("accumulate-subsample")
    lines += _claims_section()
    return "\n".join(lines)


def write(directory: pathlib.Path) -> pathlib.Path:
    return write_documents(directory, {NAME: render()})[0]


if __name__ == "__main__":  # pragma: no cover
    print(write(target_directory(sys.argv)))
