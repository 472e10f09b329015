"""Limits ``n -> infinity`` of the exact moments of the non-replace workflows, for constant ``M``.

**mix, mix-fixed** (autonomous affine systems ``x' = T x + c``, :mod:`theory.symbolic._workflow_moments`): the
limit is the fixed point ``x* = (I - T)^{-1} c`` when the spectral radius ``rho(T) < 1``, approached like
``rho(T)^n`` (the ``"rate"``); the second-order block ``(E d^2, E v)`` (``mix``) is solved symbolically in
``M, R, w, A`` (:func:`mix_fixed_point_expressions`).

**accumulate, accumulate-subsample** (non-autonomous: the step depends on the pool size ``N``): the model of
generation ``n`` is fitted to the pool ``P_{n-1}`` of ``N = nM`` points, so given the pool ``E v = kappa(N) S``,
``E d^2 = a^2 + c_1(N) S`` (``kappa = A/div(N)``, ``c_1 = 0`` for ``accumulate``; the subsample's ``c_1, c_2``
from :func:`theory.symbolic._workflow_moments.subsample_moments`). Substituting these into the derived rows of the
pool's ``a^2`` and ``S`` gives two scalar recursions (:func:`pool_recursion`)

    E S(P_k) = rho(kM) E S(P_{k-1}),     E a^2(P_k) = E a^2(P_{k-1}) + tau(kM) E S(P_{k-1}),

with ``E S(P_0) = M - 1``, ``E a^2(P_0) = 1/M``. So ``u_k = E sigma_{k+1}^2`` has a rational term ratio
``u_{k+1}/u_k = rho_v(k)`` and

* ``E sigma_inf^2 = u_0 prod_{k>=0} rho_v(k) = u_0 prod_i Gamma(-beta_i) / prod_i Gamma(-alpha_i)`` when
  ``rho_v(k) = prod_i (k - alpha_i)/prod_i (k - beta_i)`` with ``sum alpha = sum beta`` (:func:`infinite_product`);
  otherwise ``E sigma_n^2 ~ C n^c``, ``c = sum beta - sum alpha`` (0 or infinity);
* under ``accumulate`` ``E S^2`` is a scalar recursion as well (its derived row has only its own coefficient),
  so ``E sigma_inf^4`` is the same kind of product and ``Var sigma_inf^2 = E sigma_inf^4 - (E sigma_inf^2)^2``
  (numerically: the quartic numerator's roots by ``mpmath.polyroots``);
* ``E(mu_inf - mu)^2 = 1/M + sum_{k>=0} t_k`` with ``t_k = (tau/kappa)((k+1)M) u_k`` hypergeometric
  (``t_{k+1}/t_k`` rational): ``t_0 pFq(1, -alpha'; -beta'; 1)`` (:func:`hypergeometric_sum`), plus, for the
  subsample, ``lim c_1 S = div(K)/(A K (K-1)) E sigma_inf^2``.
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

from .._errors import ParameterError
from ..symbolic._workflow_limits import (
    _k,
    mix_fixed_point_expressions,
    pool_limit_expressions,
    pool_recursion,
)

__all__ = ["mix_fixed_point_expressions", "pool_limit_expressions", "pool_limits_numeric", "pool_recursion",
           "workflow_limits"]


def workflow_limits(chain, *, dps: int = 40) -> dict:
    """The ``n -> infinity`` limits of :func:`theory.exact_values`' exact keys for a constant-``M`` chain.

    Returns ``{"mean_sq_error", "variance_mean", "variance_var", "rate", "expressions", "notes"}`` and the other
    quantity keys as ``None`` (floats in sigma's units; ``inf`` for a moment that grows without bound, ``None`` with
    a note where no limit is derived). ``"rate"``: for ``mix``/``mix-fixed`` the spectral radius of the
    transition's homogeneous part (the error shrinks like ``rate^n``); for the pools a string (the approach is
    algebraic, ``O(1/n)``). ``"expressions"``: SymPy forms (``M, R, w, A`` symbols for mixing; the pool's at the
    chain's ``A`` and ``K`` in ``M``).

    >>> from theory import GaussianChain
    >>> round(workflow_limits(GaussianChain(10, learner="mle", workflow="mix:0.5"))["variance_mean"], 12)
    0.875
    """
    from ..chain import check_chain
    from ._exact import EXTRA_QUANTITIES, QUANTITIES

    check_chain(chain)
    if not isinstance(chain.sample_size, int) or chain.is_symbolic:
        raise ParameterError("sample_size", "a constant integer M for workflow_limits (a schedule has no single "
                             "limit)", chain.sample_size)
    workflow = chain.workflow
    if workflow.is_replace:
        raise ParameterError("workflow", "a non-replace workflow for workflow_limits (replace's limits are the "
                             "closed forms of theory.symbolic.derive)", str(workflow))
    chain.check_workflow(1)
    out: dict = {q: None for q in QUANTITIES + tuple(EXTRA_QUANTITIES)}
    out.update({"rate": None, "expressions": {}, "notes": {}})
    sigma = float(chain.sigma)
    with mpmath.workdps(dps):
        if workflow.pools:
            _pool_limits(chain, out)
        else:
            _mix_limits(chain, out)
        for q, p in (("mean_sq_error", 2), ("variance_mean", 2), ("variance_var", 4)):
            if out[q] is not None:
                out[q] = float(mpmath.mpf(out[q]) * mpmath.mpf(sigma) ** p) if mpmath.isfinite(out[q]) else \
                    float(out[q])
    for q in ("sd_mean", "log_variance_mean", "w2_sq_mean", "w2_sq_var", "sd_sq_error"):
        out["notes"].setdefault(q, "no exact value at any finite n (see exact_values' notes), so no exact limit")
    return out


def _exact_number(x) -> sp.Rational:
    """A float or SymPy number as an exact rational (a float is a binary fraction: exact)."""
    if isinstance(x, sp.Basic):
        return sp.nsimplify(x, rational=True) if not x.is_Rational else x
    return sp.Rational(float(x)) if not isinstance(x, int) else sp.Integer(x)


def _mix_limits(chain, out):
    from ..symbolic import _workflow_moments as wm
    from ._workflow_exact import _mix_shape

    workflow, m = chain.workflow, chain.sample_size
    kind, learner = workflow.kind, chain.learner
    r = workflow.real_count(m)
    shape = _mix_shape(r, m)
    system = wm.workflow_system(kind, learner)
    basis = system["basis"]
    w_value = _exact_number(workflow.real_weight) if workflow.real_weight is not None else sp.Rational(r, m)
    subs = {wm.M: m, wm.R: max(r, 1) if shape != "both" else r, wm.w: w_value,
            wm.A: _exact_number(chain.variance_scale)}
    rows, constants = system[shape]
    size = len(basis)
    t = sp.Matrix([[sp.sympify(x).subs(subs) for x in row] + [sp.sympify(c).subs(subs)]
                   for row, c in zip(rows, constants)])  # exact rationals
    start = [sp.sympify(x).subs(subs) for x in system["initial"]]
    weight = {wm.d: 1, wm.e: 1, wm.v: 2, wm.s: 2}
    second = [i for i, mono in enumerate(basis)
              if sum(weight[b] * p for b, p in mono.as_powers_dict().items()) == 2]
    if shape == "both":
        symbolic = mix_fixed_point_expressions(kind, learner)
        out["expressions"] = {"fixed_point": symbolic["fixed_point"], "eigenvalues": symbolic["eigenvalues"]}
    values, radius2 = _fixed_point(t, size, second, start)
    out["rate"] = float(radius2)
    if values is None:
        out["notes"]["rate"] = (f"spectral radius {float(radius2):.6g} >= 1 of the second-order block: E d^2 and "
                                "E sigma^2 have no finite fixed point" + ("; LAMBDA = 0 is the replace chain"
                                                                          if shape == "synthetic" else ""))
        return
    out["mean_sq_error"] = values[basis.index(wm.d**2)]
    out["variance_mean"] = values[basis.index(wm.v)]
    out["exact"] = {"mean_sq_error": values[basis.index(wm.d**2)], "variance_mean": values[basis.index(wm.v)]}
    full, radius4 = _fixed_point(t, size, list(range(size)), start)
    out["rate_fourth_order"] = float(radius4)
    if full is None:
        out["variance_var"] = mpmath.inf
        out["notes"]["variance_var"] = (f"the fourth-order moments diverge (spectral radius {float(radius4):.6g} "
                                        ">= 1) while the second-order ones converge")
    else:
        out["variance_var"] = full[basis.index(wm.v**2)] - full[basis.index(wm.v)] ** 2
        out["exact"]["variance_var"] = out["variance_var"]
    for key in ("mean_sq_error", "variance_mean", "variance_var"):
        if isinstance(out[key], sp.Basic):
            out[key] = mpmath.mpf(sp.N(out[key], mpmath.mp.dps))


def _fixed_point(t, size, subset, start):
    """``(exact values by basis index, spectral radius)`` of the affine map (an exact rational SymPy matrix, last
    column the constants) restricted to ``subset`` (closed under the map), with the conserved monomials (rows
    ``e_i``: the fixed real points' moments) held at their initial values; ``values`` is ``None`` when the
    radius is ``>= 1``."""
    conserved = [i for i in subset if t[i, size] == 0 and all(t[i, j] == (1 if j == i else 0) for j in range(size))]
    moving = [i for i in subset if i not in conserved]
    for i in moving:
        if any(t[i, j] != 0 for j in range(size) if j not in subset):
            raise AssertionError("the subset is not closed under the moment map")
    h = sp.Matrix([[t[i, j] for j in moving] for i in moving])
    c = sp.Matrix([t[i, size] + sum(t[i, j] * start[j] for j in conserved) for i in moving])
    numeric = mpmath.matrix([[mpmath.mpf(sp.N(x, mpmath.mp.dps)) for x in row] for row in h.tolist()])
    eigen = mpmath.eig(numeric, left=False, right=False)
    radius = max(abs(x) for x in (eigen[0] if isinstance(eigen, tuple) else eigen))
    if radius >= 1:
        return None, radius
    x = (sp.eye(len(moving)) - h).LUsolve(c)
    values = {i: sp.nsimplify(x[p]) for p, i in enumerate(moving)}
    values.update({i: start[i] for i in conserved})
    return values, radius


def _pool_limits(chain, out):
    workflow, m = chain.workflow, chain.sample_size
    kind, learner = workflow.kind, chain.learner
    a = sp.nsimplify(chain.variance_scale)
    values = pool_limits_numeric(kind, learner, m, mpmath.mpf(float(chain.variance_scale)), workflow.subsample)
    if a == 1:  # the symbolic forms in M (Gamma products, a hypergeometric series)
        expr = pool_limit_expressions(kind, learner, 1, workflow.subsample)
        out["expressions"] = {key: expr[key] for key in ("variance_mean", "mean_sq_error", "rho_v", "exponent")}
    c = values["exponent"]
    out["variance_mean"] = values["variance_mean"]
    if not mpmath.isfinite(values["variance_mean"]) or values["variance_mean"] == 0:
        shown = sp.nsimplify(float(c), rational=True, tolerance=1e-9)
        out["notes"]["variance_mean"] = (f"E sigma_n^2 ~ C n^c with c = {shown} = {float(c):.6g}: "
                                         + ("it grows without bound" if c > 0 else "it vanishes"))
    out["mean_sq_error"] = values["mean_sq_error"]
    if not mpmath.isfinite(values["mean_sq_error"]):
        out["notes"]["mean_sq_error"] = (
            "E(mu_n - mu)^2 grows without bound: " + ("the subsample mean's conditional variance is proportional to "
            "the pool's variance, which grows" if kind == "accumulate-subsample" and not
            mpmath.isfinite(values["variance_mean"]) else "the series sum_k t_k diverges"))
    if values["variance_var"] is not None:
        out["variance_var"] = values["variance_var"]
        if not mpmath.isfinite(values["variance_var"]):
            out["notes"]["variance_var"] = (f"E sigma_n^4 ~ C n^c with c = {float(values['exponent_fourth']):.6g}:"
                                            " it grows without bound")
    else:
        out["notes"]["variance_var"] = (
            "not derived: the fourth-order system of the subsample (the pool's power sums P1..P4 and the model) is "
            "not scalar, so its limit is not a single product; exact_values gives every finite n")
    if all(out[k] is not None and mpmath.isfinite(out[k]) for k in ("mean_sq_error", "variance_mean")):
        out["rate"] = "algebraic: |E x_n - E x_inf| = O(1/n) (the product's and the series' tails)"
    else:
        out["rate"] = None
        out["notes"]["rate"] = "no rate of approach: a second moment has no finite limit (see its note)"


# ---------------------------------------------------------------------------------------------- fast numeric pools
@cache
def _pool_rational_functions(kind: str, learner: str):
    """``rho_v(k)``, ``ratio_t(k)`` (numerator and denominator coefficient lists in ``k``), ``u_0``, ``t_0`` and
    ``lim c_1/kappa``, each lambdified in ``(M, A, K)``."""
    from ..symbolic import _workflow_moments as wm

    rec = pool_recursion(kind, learner)
    m = wm.M
    rho, tau, kappa, c1 = rec["rho"], rec["tau"], rec["kappa"], rec["c1"]

    def at(expr, index):
        return expr.subs(wm.N, (index + 1) * m)

    params = (wm.M, wm.A, wm.K)
    rho_v = sp.cancel(at(kappa, _k + 1) * at(rho, _k) / at(kappa, _k))
    g = sp.cancel(at(tau, _k) / at(kappa, _k))
    ratio_t = sp.cancel(g.subs(_k, _k + 1) / g * rho_v)
    out = {}
    for name, ratio in (("rho_v", rho_v), ("ratio_t", ratio_t)):
        num, den = sp.fraction(sp.together(ratio))
        out[name] = (num, den)
    u0 = at(kappa, 0) * (m - 1)
    out["u0"] = sp.lambdify(params, u0, modules="mpmath")
    out["t0"] = sp.lambdify(params, g.subs(_k, 0) * u0, modules="mpmath")
    out["c1_over_kappa"] = sp.lambdify(params, sp.limit(c1 / kappa, wm.N, sp.oo) if c1 != 0 else sp.S.Zero,
                                       modules="mpmath")
    if kind == "accumulate":  # E S^2 is a scalar recursion too (its row has only its own coefficient)
        system = wm.workflow_system(kind, learner)
        basis, (rows, _) = system["basis"], system["pool"]
        i = basis.index(wm.S**2)
        if any(c != 0 for j, c in enumerate(rows[i]) if j != i):
            raise AssertionError("E S^2 is not a scalar recursion")
        kappa2 = kappa**2
        rho_v2 = sp.cancel(at(kappa2, _k + 1) * at(rows[i][i], _k) / at(kappa2, _k))
        num, den = sp.fraction(sp.together(rho_v2))
        out["rho_v2"] = (num, den)
        out["u2_0"] = sp.lambdify(params, at(kappa2, 0) * system["initial"][i], modules="mpmath")
    return out


def pool_limits_numeric(kind: str, learner: str, sample_size: int, variance_scale=1.0, subsample=None) -> dict:
    """``{"variance_mean", "mean_sq_error", "exponent"}`` (sigma units, mpmath) of the pools' limits by the
    formulas of the module doc evaluated numerically (roots by ``mpmath.polyroots``, ``mpmath.hyper``): the fast
    path of :func:`pool_limit_expressions` (``inf`` where a limit is infinite, ``0`` where it vanishes)."""
    funcs = _pool_rational_functions(kind, learner)
    args = (mpmath.mpf(sample_size), mpmath.mpf(variance_scale), mpmath.mpf(subsample or 2))

    from ..symbolic import _workflow_moments as wm

    exact = {wm.M: sp.Integer(sample_size), wm.A: _exact_number(variance_scale), wm.K: sp.Integer(subsample or 2)}

    def roots(poly):
        """Roots with multiplicity: exact rational coefficients, factored over Q; linear factors exactly, the
        others (square-free) by ``mpmath.polyroots``."""
        found = []
        for factor, mult in sp.factor_list(poly)[1]:
            f = sp.Poly(factor, _k)
            if f.degree() == 1:
                found += [mpmath.mpf(sp.N(-f.all_coeffs()[1] / f.all_coeffs()[0], mpmath.mp.dps))] * mult
            else:
                coeffs = [mpmath.mpf(sp.N(c, mpmath.mp.dps)) for c in f.all_coeffs()]
                found += list(mpmath.polyroots(coeffs, maxsteps=400, extraprec=200)) * mult
        return found

    def split(name):
        num, den = (sp.Poly(sp.expand(x.subs(exact)), _k) for x in funcs[name])
        lead = mpmath.mpf(sp.N(num.LC() / den.LC(), mpmath.mp.dps))
        return lead, num.degree(), den.degree(), roots(num), roots(den)

    tiny = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
    lead, dn, dd, alphas, betas = split("rho_v")
    if dn != dd or abs(lead - 1) > tiny:
        raise AssertionError("the pool's variance ratio does not tend to 1")
    exponent = mpmath.re(mpmath.fsum(betas) - mpmath.fsum(alphas))
    u0 = funcs["u0"](*args)
    if abs(exponent) < tiny:
        var = u0 * mpmath.re(mpmath.fprod([mpmath.gamma(-b) for b in betas])
                             / mpmath.fprod([mpmath.gamma(-a) for a in alphas]))
    else:
        var = mpmath.inf if exponent > 0 else mpmath.mpf(0)
    lead, dn, dd, alphas, betas = split("ratio_t")
    excess = mpmath.re(mpmath.fsum([-b for b in betas]) - 1 - mpmath.fsum([-a for a in alphas]))
    if excess <= tiny:
        msq = mpmath.inf
    else:
        msq = 1 / mpmath.mpf(sample_size) + funcs["t0"](*args) * mpmath.re(
            mpmath.hyper([1] + [-a for a in alphas], [-b for b in betas], 1))
        if kind == "accumulate-subsample":
            msq = msq + funcs["c1_over_kappa"](*args) * var if mpmath.isfinite(var) else mpmath.inf
    out = {"variance_mean": var, "mean_sq_error": msq, "exponent": exponent, "variance_var": None}
    if "rho_v2" in funcs:  # E sigma_inf^4 = u2_0 prod_k rho_v2(k), the same Gamma form
        lead, dn, dd, alphas, betas = split("rho_v2")
        exponent2 = mpmath.re(mpmath.fsum(betas) - mpmath.fsum(alphas))
        if abs(exponent2) < tiny and mpmath.isfinite(var):
            fourth = funcs["u2_0"](*args) * mpmath.re(mpmath.fprod([mpmath.gamma(-b) for b in betas])
                                                      / mpmath.fprod([mpmath.gamma(-a) for a in alphas]))
            out["variance_var"] = fourth - var**2
        elif exponent2 > 0:
            out["variance_var"] = mpmath.inf
        elif var == 0:  # E sigma_n^4 -> 0 as well: both moments vanish
            out["variance_var"] = mpmath.mpf(0)
        out["exponent_fourth"] = exponent2
    return out
