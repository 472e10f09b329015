"""Symbolic limits ``n -> infinity`` of the workflows' moment systems (constant ``M``): the fixed points of
``mix``/``mix-fixed`` and the pools' scalar recursions, infinite products (Gamma functions) and series
(hypergeometric functions). Used by :mod:`theory.numeric._workflow_limits` (which evaluates them) and by the proof
document ``proofs/workflows.md``; see that module for the derivation.
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

_k = sp.Symbol("k", integer=True, nonnegative=True)


# ---------------------------------------------------------------------------------------------- products and sums
def _roots(poly: sp.Poly):
    """Roots with multiplicity: symbolic (``sp.roots``) when complete, else mpmath's ``polyroots``."""
    found = sp.roots(poly)
    if sum(found.values()) == poly.degree():
        return [r for r, mult in found.items() for _ in range(mult)], True
    coeffs = [complex(c) if not c.is_real else float(c) for c in poly.all_coeffs()]
    return list(mpmath.polyroots(coeffs, maxsteps=200, extraprec=200)), False


def _split(ratio: sp.Expr, var: sp.Symbol):
    num, den = sp.fraction(sp.factor(sp.together(ratio)))
    pn, pd = sp.Poly(num, var), sp.Poly(den, var)
    lead = sp.simplify(pn.LC() / pd.LC())
    alphas, exact_a = _roots(pn)
    betas, exact_b = _roots(pd)
    return lead, pn.degree(), pd.degree(), alphas, betas, exact_a and exact_b


def infinite_product(ratio: sp.Expr, var: sp.Symbol = _k, start: int = 0) -> dict:
    """``prod_{var >= start} ratio(var)`` for a rational ``ratio = prod (k - alpha_i)/prod (k - beta_i)``.

    Returns ``{"value": Gamma form or None, "exponent": c}``: the partial product to ``n`` behaves like ``n^c``,
    ``c = sum beta - sum alpha``; the product converges (to the Gamma form, since
    ``prod_{k=s}^{n-1} (k - x) = Gamma(n - x)/Gamma(s - x)``) iff the leading coefficients agree and ``c = 0``.
    """
    lead, dn, dd, alphas, betas, exact = _split(ratio, var)
    if dn != dd or sp.simplify(lead - 1) != 0:
        return {"value": None, "exponent": None, "lead": lead}
    c = sp.nsimplify(sp.simplify(sum(betas) - sum(alphas))) if exact else mpmath.re(sum(betas) - sum(alphas))
    if exact and sp.simplify(c) == 0:
        value = sp.Mul(*[sp.gamma(start - b) for b in betas]) / sp.Mul(*[sp.gamma(start - a) for a in alphas])
        return {"value": value, "exponent": sp.S.Zero}
    if not exact and abs(c) < mpmath.mpf(10) ** (-mpmath.mp.dps // 2):
        value = mpmath.fprod([mpmath.gamma(start - b) for b in betas]) / mpmath.fprod(
            [mpmath.gamma(start - a) for a in alphas])
        return {"value": value, "exponent": 0}
    return {"value": None, "exponent": c}


def hypergeometric_sum(first: sp.Expr, ratio: sp.Expr, var: sp.Symbol = _k):
    """``sum_{k >= 0} t_k`` with ``t_0 = first`` and ``t_{k+1}/t_k = ratio(k) = prod (k - alpha)/prod (k - beta)``:
    ``(first * pFq([1, -alpha...], [-beta...], 1), excess)`` (a SymPy ``hyper``), which converges iff
    ``excess = sum(-beta) - sum(1, -alpha) > 0`` (``None`` when that is known to fail; the caller checks a
    symbolic ``excess`` at its numbers)."""
    lead, dn, dd, alphas, betas, exact = _split(ratio, var)
    if dn != dd or sp.simplify(lead - 1) != 0:
        return None
    excess = sum(-b for b in betas) - 1 - sum(-a for a in alphas)
    if exact:
        excess = sp.simplify(excess)
        if excess.is_positive is False or excess.is_zero:
            return None
        return first * sp.hyper([1] + [-a for a in alphas], [-b for b in betas], 1), excess
    if mpmath.re(excess) <= 0:
        return None
    return first * mpmath.hyper([1] + [-a for a in alphas], [-b for b in betas], 1), excess


# ---------------------------------------------------------------------------------------------- pooling workflows
@cache
def pool_recursion(kind: str, learner: str) -> dict:
    """``{"rho", "tau", "kappa", "c1"}`` as SymPy expressions in ``N`` (the pool's size before the step), ``M``,
    ``A`` (and ``K``): the scalar recursions of the module doc, reduced from the derived moment system."""
    from . import _workflow_moments as wm

    system = wm.workflow_system(kind, learner)
    basis = system["basis"]
    rows, _ = system["pool"]
    n, a_, k = wm.N, wm.A, wm.K
    if kind == "accumulate":
        kappa, c1 = a_ / (n - 1 if learner == "unbiased" else n), sp.S.Zero
        relation = {}
    else:
        s1, s2 = wm.subsample_moments()
        kappa = a_ * s2 / (k - 1 if learner == "unbiased" else k)
        c1 = s1
        relation = {wm.d**2: [(wm.a**2, 1), (wm.S, c1)], wm.a * wm.d: [(wm.a**2, 1)], wm.v: [(wm.S, kappa)]}

    def reduced(target):
        row = rows[basis.index(target)]
        out = {wm.a**2: sp.S.Zero, wm.S: sp.S.Zero}
        for mono, coeff in zip(basis, row):
            for base, factor in relation.get(mono, [(mono, 1)]):
                if base not in out:
                    if coeff != 0:
                        raise AssertionError(f"{kind}: {target} depends on {mono} beyond the pool's a^2 and S")
                    continue
                out[base] += coeff * factor
        return {key: sp.factor(sp.cancel(val)) for key, val in out.items()}

    a2, s = reduced(wm.a**2), reduced(wm.S)
    if sp.simplify(a2[wm.a**2] - 1) != 0 or s[wm.a**2] != 0:
        raise AssertionError(f"{kind}: the pool recursion is not triangular: {a2}, {s}")
    return {"rho": s[wm.S], "tau": a2[wm.S], "kappa": sp.factor(kappa), "c1": sp.factor(c1)}


@cache
def pool_limit_expressions(kind: str, learner: str, variance_scale=1, subsample=None, sample_size=None) -> dict:
    """Symbolic limits in ``M`` (and ``K``) at a given ``A`` (default 1): ``{"variance_mean", "mean_sq_error",
    "exponent", "rho_v", "t_0", "ratio_t"}`` (``None`` where the product or the sum diverges)."""
    from . import _workflow_moments as wm

    rec = pool_recursion(kind, learner)
    subs = {wm.A: sp.nsimplify(variance_scale)}
    if subsample is not None:
        subs[wm.K] = subsample
    if sample_size is not None:
        subs[wm.M] = sp.Integer(sample_size)
    m = wm.M if sample_size is None else sp.Integer(sample_size)
    rho, tau, kappa, c1 = (rec[x].subs(subs) for x in ("rho", "tau", "kappa", "c1"))

    def at(expr, index):  # the quantity with pool size N = (index + 1) M
        return expr.subs(wm.N, (index + 1) * m)

    u0 = sp.factor(at(kappa, 0) * (m - 1))
    rho_v = sp.factor(sp.cancel(at(kappa, _k + 1) * at(rho, _k) / at(kappa, _k)))
    prod = infinite_product(rho_v, _k, 0)
    out = {"rho_v": rho_v, "exponent": prod["exponent"], "u0": u0}
    out["variance_mean"] = None if prod["value"] is None else u0 * prod["value"]
    g = sp.factor(sp.cancel(at(tau, _k) / at(kappa, _k)))
    ratio_t = sp.factor(sp.cancel(g.subs(_k, _k + 1) / g * rho_v))
    t0 = sp.factor(g.subs(_k, 0) * u0)
    total = hypergeometric_sum(t0, ratio_t, _k)
    out["t_0"], out["ratio_t"] = t0, ratio_t
    out["series_excess"] = None if total is None else total[1]
    if total is None:
        out["mean_sq_error"] = None
    else:
        msq = 1 / m + total[0]
        if kind == "accumulate-subsample":
            if out["variance_mean"] is None:
                msq = None
            else:
                limit_c1 = sp.limit(c1 / kappa, wm.N, sp.oo)
                msq = msq + limit_c1 * out["variance_mean"]
        out["mean_sq_error"] = msq
    return out


# ---------------------------------------------------------------------------------------------- mixing workflows
@cache
def mix_fixed_point_expressions(kind: str, learner: str) -> dict:
    """:func:`derive_mix_fixed_point`, cached across processes (:mod:`theory.symbolic._cache`)."""
    from ._cache import cached

    return cached(f"fixed_point_{kind.replace('-', '_')}_{learner}", lambda: derive_mix_fixed_point(kind, learner),
                  lambda v: isinstance(v, dict) and set(v) == {"fixed_point", "eigenvalues", "block"})


def derive_mix_fixed_point(kind: str, learner: str) -> dict:
    """The fixed point of the second-order block (``E d^2``, ``E v`` and, for ``mix-fixed``, the monomials they
    need) solved symbolically in ``M, R, w, A`` (shape ``0 < R < M``), and that block's eigenvalues."""
    from . import _workflow_moments as wm

    system = wm.workflow_system(kind, "unbiased" if learner == "unbiased" else "mle")
    basis = system["basis"]
    rows, constants = system["both"]
    # the second-order block: monomials of weight 2 (means 1, variances 2) and their closure
    weight = {wm.d: 1, wm.e: 1, wm.v: 2, wm.s: 2}
    block = [i for i, mono in enumerate(basis)
             if sum(weight[b] * p for b, p in mono.as_powers_dict().items()) == 2]
    t = sp.Matrix([[rows[i][j] for j in block] for i in block])
    c = sp.Matrix([constants[i] for i in block])
    for i in block:
        if any(rows[i][j] != 0 for j in range(len(basis)) if j not in block):
            raise AssertionError("the second-order block is not closed")
    # conserved monomials (mix-fixed's real points: e' = e, s' = s) keep their initial values
    conserved = [r for r, i in enumerate(block) if _is_conserved(rows[i], constants[i], i)]
    moving = [r for r in range(len(block)) if r not in conserved]
    fixed = {r: system["initial"][block[r]] for r in conserved}
    t_m = sp.Matrix([[t[r, q] for q in moving] for r in moving])
    c_m = sp.Matrix([c[r] + sum(t[r, q] * fixed[q] for q in conserved) for r in moving])
    x = (sp.eye(len(moving)) - t_m).LUsolve(c_m)
    solution = {basis[block[r]]: sp.factor(sp.simplify(x[p])) for p, r in enumerate(moving)}
    solution.update({basis[block[r]]: fixed[r] for r in conserved})
    eig = [sp.factor(ev) for ev in t_m.eigenvals()]
    return {"fixed_point": solution, "eigenvalues": eig, "block": [basis[i] for i in block]}


def _is_conserved(row, constant, i) -> bool:
    return constant == 0 and all((x == 1) if j == i else (x == 0) for j, x in enumerate(row))


