r"""Render ``proofs/kde.md``: the kernel-density-estimate chain's one-step moments and recursions, derived in SymPy.

Nothing is typed in. The law of one KDE draw comes from ``sympy.stats`` (a ``FiniteRV`` for the chosen training
point plus ``h`` times a ``Normal``); expectations over a training set use the set-partition identity for power
sums of ``k`` i.i.d. points, ``E prod_i P_{a_i} = sum_pi k^(|pi|) prod_{B in pi} mu'_{sum_{i in B} a_i}`` (``k^(j)``
the falling factorial, ``mu'`` raw moments: the equality pattern of the indices is a set partition), with the
count ``k`` symbolic (cross-checked against a direct expansion at ``k = 2, 3, 4``); the subsample of the
pooling workflows is drawn without replacement through inclusion indicators with ``E I_j = K/N`` and
``E I_j I_l = K (K - 1)/(N (N - 1))``. Each workflow's expected next state is then compared, as a SymPy identity,
with the step function that :func:`theory.numeric.kde_exact_values` iterates (``replace_step``, ``mix_step``,
``mix_fixed_step``, ``pool_step`` of :mod:`theory.numeric._kde_exact`, called with symbols): the document can only
be rendered when they agree (:class:`ProofError` otherwise). The replace closed forms are solved by ``rsolve`` and
checked by induction; the numbers are computed by :func:`kde_exact_values` when rendering.
``tests/test_kde.py`` re-renders the file and fails when the committed one is stale.

Run ``python -m theory.numeric._kde_proofs`` to rewrite it (a few seconds).
"""

from __future__ import annotations

import functools
import pathlib
import sys

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

from ..symbolic._documents import target_directory, write_documents
from . import _kde_exact as kx

NAME = "kde.md"

M, N, K, R = sp.symbols("M N K R", positive=True, integer=True)
h, sigma, w = sp.symbols("h sigma w", positive=True)
mu, m, d, eps, a_, xs = sp.symbols("mu m delta epsilon a xbar_s", real=True)
V, Q, U, b, S = sp.symbols("V Q U b S", positive=True)
e_sym, c_sym = sp.symbols("e c", real=True)
n = sp.Symbol("n", integer=True, nonnegative=True)


class ProofError(AssertionError):
    """A stated identity did not simplify to zero."""


def _check_zero(expr, what: str) -> None:
    if sp.simplify(sp.factor(sp.cancel(sp.together(sp.expand(expr))))) != 0:
        raise ProofError(f"{what}: {sp.simplify(expr)} is not 0")


def _tex(expr) -> str:
    return sp.latex(expr)


# ------------------------------------------------------------------------------------------------ one KDE draw


@functools.cache
def kde_draw_moments():
    """Mean, variance and fourth cumulant of one draw from a Gaussian KDE on three symbolic points with weights
    ``(w1, w2, 1 - w1 - w2)``, by ``sympy.stats``; returned with the weighted empirical ones they equal."""
    from sympy.stats import E, FiniteRV, Normal

    x = sp.symbols("x1:4", real=True)
    w1, w2 = sp.symbols("w1 w2", positive=True)
    weights = (w1, w2, 1 - w1 - w2)
    X, Z = FiniteRV("X", dict(zip(x, weights))), Normal("Z", 0, 1)
    # Y = X + h Z with X, Z independent: E Y^k = sum_j C(k, j) E X^j h^(k-j) E Z^(k-j) (each factor by sympy.stats;
    # cross-checked against sympy.stats' own E Y for k = 1)
    ex = [sp.Integer(1)] + [sp.expand(E(X**k)) for k in range(1, 5)]
    ez = [sp.Integer(1)] + [sp.expand(E(Z**k)) for k in range(1, 5)]
    raw = [sp.expand(sum(sp.binomial(k, j) * ex[j] * h ** (k - j) * ez[k - j] for j in range(k + 1)))
           for k in range(1, 5)]
    _check_zero(sp.expand(E(X + h * Z)) - raw[0], "E Y by sympy.stats")
    mean = raw[0]
    central = [sp.expand(sum(sp.binomial(k, j) * raw[j - 1] * (-mean) ** (k - j) if j else (-mean) ** k
                             for j in range(k + 1))) for k in (2, 4)]
    var, c4 = central[0], central[1]
    kappa4 = sp.expand(c4 - 3 * var**2)
    emp_mean = sum(wj * xj for wj, xj in zip(weights, x))
    emp_var = sum(wj * (xj - emp_mean) ** 2 for wj, xj in zip(weights, x))
    emp_c4 = sum(wj * (xj - emp_mean) ** 4 for wj, xj in zip(weights, x))
    _check_zero(mean - emp_mean, "KDE mean = weighted mean")
    _check_zero(var - (emp_var + h**2), "KDE variance = weighted biased variance + h^2")
    _check_zero(kappa4 - (emp_c4 - 3 * emp_var**2), "KDE fourth cumulant = the empirical one (the kernel's is 0)")
    _check_zero(c4 - (emp_c4 + 6 * h**2 * emp_var + 3 * h**4), "KDE fourth central moment")
    return {"mean": emp_mean, "var": emp_var, "c4": emp_c4}


# ------------------------------------------------------------------------------------------------ power sums


def power_sum_expectation(orders: tuple, count, raw: dict):
    """``E prod_i P_{orders[i]}`` with ``P_a = sum_{j=1}^{count} x_j^a`` over ``count`` i.i.d. points with raw
    moments ``raw[a] = E x^a`` (``count`` may be a symbol): the sum over set partitions of the factors."""
    if not orders:
        return sp.Integer(1)
    total = sp.Integer(0)
    for partition in multiset_partitions(list(range(len(orders)))):
        term = sp.ff(count, len(partition))
        for block in partition:
            term *= raw[sum(orders[i] for i in block)]
        total += term
    return sp.expand(total)


def _direct_expectation(poly_of_points, k: int, raw: dict):
    """``E poly(x_1..x_k)`` for i.i.d. points by expanding into monomials (the cross-check)."""
    x = sp.symbols(f"y1:{k + 1}", real=True)
    expr = sp.Poly(sp.expand(poly_of_points(x)), *x)
    total = sp.Integer(0)
    for powers, coeff in expr.terms():
        term = coeff
        for p in powers:
            term *= raw[p] if p else 1
        total += term
    return sp.expand(total)


def centred_raw(var, third=None, fourth=None):
    """Raw moments of a centred variable: ``0, var, third, fourth``."""
    return {1: sp.Integer(0), 2: var, 3: sp.Symbol("mu_3") if third is None else third,
            4: sp.Symbol("mu_4") if fourth is None else fourth}


@functools.cache
def sample_moments():
    """``E S``, ``E S^2``, ``E m4`` of ``M`` i.i.d. points with variance ``V`` and fourth central moment ``Q``
    (``S``, ``m4`` the biased second and fourth central sample moments), symbolic ``M``; cross-checked at
    ``M = 2, 3, 4`` by direct expansion."""
    raw = centred_raw(V, fourth=Q)

    def ex(orders):
        return power_sum_expectation(orders, M, raw)

    # M S = P2 - P1^2/M; M m4 = P4 - 4 P3 P1/M + 6 P2 P1^2/M^2 - 3 P1^4/M^3
    e_s = (ex((2,)) - ex((1, 1)) / M) / M
    e_s2 = (ex((2, 2)) - 2 * ex((2, 1, 1)) / M + ex((1, 1, 1, 1)) / M**2) / M**2
    e_m4 = (ex((4,)) - 4 * ex((3, 1)) / M + 6 * ex((2, 1, 1)) / M**2 - 3 * ex((1, 1, 1, 1)) / M**3) / M
    out = tuple(sp.factor(sp.simplify(v)) for v in (e_s, e_s2, e_m4))
    for k in (2, 3, 4):
        def s_of(x, k=k):
            mean = sum(x) / k
            return sum((xi - mean) ** 2 for xi in x) / k

        def m4_of(x, k=k):
            mean = sum(x) / k
            return sum((xi - mean) ** 4 for xi in x) / k

        direct = (_direct_expectation(s_of, k, raw), _direct_expectation(lambda x: s_of(x) ** 2, k, raw),
                  _direct_expectation(m4_of, k, raw))
        for name, general, concrete in zip(("E S", "E S^2", "E m4"), out, direct):
            _check_zero(general.subs(M, k) - concrete, f"{name} at M = {k}")
    return out


# ------------------------------------------------------------------------------------------------ groups


def _group(count, weight, mean, var):
    """A group of ``count`` i.i.d. points (``mean``, ``var``) each with fit weight ``weight``: the expectations of
    its weighted sum ``T1 = weight P1`` and of ``weight P2`` and ``T1^2`` (set-partition identity)."""
    raw = {1: mean, 2: var + mean**2}
    return {"t1": weight * power_sum_expectation((1,), count, raw),
            "t1sq": weight**2 * power_sum_expectation((1, 1), count, raw),
            "p2": weight * power_sum_expectation((2,), count, raw)}


def _fit(groups):
    """``E`` of the weighted mean, its square and the weighted biased variance of independent groups (weights
    summing to 1): ``mean = sum T1``, ``var = sum weight P2 - mean^2``."""
    e_mean = sum(g["t1"] for g in groups)
    e_mean_sq = sum(g["t1sq"] for g in groups) + sum(
        2 * groups[i]["t1"] * groups[j]["t1"] for i in range(len(groups)) for j in range(i + 1, len(groups)))
    e_var = sum(g["p2"] for g in groups) - e_mean_sq
    return sp.expand(e_mean), sp.expand(e_mean_sq), sp.expand(e_var)


def _in(expr, square, symbol):
    """``expr`` (a polynomial with only even powers of ``square``'s base) rewritten in ``symbol = base^2``."""
    out = sp.expand(expr).subs(square**2, symbol)
    if out.has(square):
        raise ProofError(f"odd power of {square} left in {out}")
    return out


def _clean(expr, gens):
    """``expr`` as a polynomial in ``gens`` with each coefficient simplified (so that cancelling terms vanish)."""
    poly = sp.Poly(sp.expand(expr), *gens)
    return sum((sp.factor(sp.cancel(coeff)) * sp.prod([g**p for g, p in zip(gens, powers)])
                for powers, coeff in poly.terms()), sp.Integer(0))


@functools.cache
def derivations():
    """Each workflow's derived one-step map, checked equal to the step function of theory.numeric._kde_exact;
    the lines for the document."""
    lines = []
    h2 = h**2
    e_s, e_s2, e_m4 = sample_moments()
    # replace: model (mean m = mu + d, variance V, fourth central moment Q)
    e_mean, e_mean_sq, _ = _fit([_group(M, 1 / M, d, V)])  # centred at mu: points have mean d
    derived = (_in(e_mean_sq, d, e_sym), e_s + h2, sp.expand(e_s2 + 2 * h2 * e_s + h2**2),
               sp.expand(e_m4 + 6 * h2 * e_s + 3 * h2**2))
    coded = kx.replace_step((e_sym, V, V**2, Q), M, h2)  # E V^2 written V^2: the check is termwise in V, V^2
    for name, x, y in zip(("E (m' - mu)^2", "E V'", "E V'^2", "E Q'"), derived, coded):
        _check_zero(x - y, f"replace {name}")
    lines += ["## `replace`", "",
              ("Model $i$: mean $\\mu + \\delta$, variance $V$, fourth central moment $Q$; $M$ i.i.d. draws, $S$ and "
              "$m_4$ their biased second and fourth central moments, $V' = S + h^2$, $Q' = m_4 + 6h^2 S + 3h^4$. "
              "Set-partition identity (symbolic $M$; checked by direct expansion at $M = 2, 3, 4$):"), "",
              f"- $\\mathbb{{E}}[S] = {_tex(e_s)}$", f"- $\\mathbb{{E}}[S^2] = {_tex(e_s2)}$",
              f"- $\\mathbb{{E}}[m_4] = {_tex(e_m4)}$",
              f"- $\\mathbb{{E}}[(m' - \\mu)^2 \\mid \\delta, V] = {_tex(derived[0])}$ (with $e = \\delta^2$)",
              f"- $\\mathbb{{E}}[V'^2] = {_tex(sp.collect(derived[2], [Q, V]))}$",
              f"- $\\mathbb{{E}}[Q'] = {_tex(sp.collect(derived[3], [Q, V]))}$", "",
              ("Linear in $(e, V, V^2, Q)$: taking expectations gives the closed system that `replace_step` iterates "
              "(checked identical). Its start is $(0, \\sigma^2, \\sigma^4, \\mu_4(D_0))$; only $D_0$'s second and "
              "fourth central moments enter ($3\\sigma^4$ for the normal source)."), ""]
    # mix: R fresh real points (mean mu, variance sigma^2; weight w/R) and M - R draws of the model (weight (1-w)/(M-R))
    groups = [_group(R, w / R, 0, sigma**2), _group(M - R, (1 - w) / (M - R), d, V)]
    e_mean, e_mean_sq, e_var = _fit(groups)
    derived = (_in(e_mean_sq, d, e_sym), _in(e_var + h2, d, e_sym))
    coded = kx.mix_step((e_sym, V), M, R, w, h2, sigma**2)
    for name, x, y in zip(("E (m' - mu)^2", "E V'"), derived, coded):
        _check_zero(x - y, f"mix {name}")
    _check_zero(e_mean - (1 - w) * d, "mix E m' - mu")
    lines += ["## `mix:LAMBDA` (fresh real points; weighted KDE with real weight $w$, plain fit $w = R/M$)", "",
              ("Groups: $R$ real points of $D_0$ (weight $w/R$ each), $M - R$ draws of the model (weight "
              "$(1-w)/(M-R)$); $0 < R < M$."), "",
              f"- $\\mathbb{{E}}[m' - \\mu] = {_tex(sp.factor(e_mean))}$",
              f"- $\\mathbb{{E}}[(m' - \\mu)^2] = {_tex(_clean(derived[0], (e_sym, V)))}$",
              f"- $\\mathbb{{E}}[V'] = {_tex(_clean(derived[1], (e_sym, V)))}$", "",
              "Checked identical to `mix_step`; start $(e, V) = (0, \\sigma^2)$.", ""]
    # mix-fixed: fixed real set (R points, mean rbar = mu + eps, biased variance U); model mean rbar + d
    real = {"t1": w * (eps), "t1sq": w**2 * eps**2, "p2": w * (U + eps**2)}  # deterministic given the real set
    e_mean, e_mean_sq, e_var = _fit([real, _group(M - R, (1 - w) / (M - R), eps + d, V)])
    # (m' - rbar)^2 = (m' - mu)^2 - 2 eps (m' - mu) + eps^2
    dev_sq = sp.expand(e_mean_sq - 2 * eps * e_mean + eps**2)
    cross = sp.expand((e_mean - eps) * eps)  # E (m' - rbar)(rbar - mu), rbar - mu = eps fixed
    sub = {d**2: sp.Symbol("D"), d * eps: sp.Symbol("C")}
    derived = [_clean(sp.expand(x).subs(sub), (sp.Symbol("D"), sp.Symbol("C"), V, U, eps, d))
               for x in (e_var + h2, dev_sq, cross)]
    for x in derived:
        if x.has(d) or x.has(eps):
            raise ProofError(f"mix-fixed: the state does not close: {x}")
    e_u = sp.expand(_fit([_group(R, 1 / R, 0, sigma**2)])[2])  # E U for R draws of D_0
    _check_zero(e_u - (1 - 1 / R) * sigma**2, "E U")
    derived[0] = derived[0].subs(U, e_u)
    coded = kx.mix_fixed_step((V, sp.Symbol("D"), sp.Symbol("C")), M, R, w, h2, sigma**2)
    for name, x, y in zip(("E V'", "E (m' - rbar)^2", "E (m' - rbar)(rbar - mu)"), derived, coded):
        _check_zero(x - y, f"mix-fixed {name}")
    lines += ["## `mix-fixed:LAMBDA` (one real set)", "",
              ("The real set: $R$ points drawn once, mean $\\bar r = \\mu + \\varepsilon$, biased variance $U$ "
              f"($\\mathbb{{E}}[U] = {_tex(sp.factor(e_u))}$); model mean $\\bar r + \\delta$. State "
              "$(V, D = \\delta^2, C = \\delta\\varepsilon)$:"), "",
              f"- $\\mathbb{{E}}[V'] = {_tex(derived[0])}$",
              f"- $\\mathbb{{E}}[D'] = {_tex(derived[1])}$",
              f"- $\\mathbb{{E}}[C'] = {_tex(sp.factor(derived[2]))}$", "",
              ("Checked identical to `mix_fixed_step`; start $(\\sigma^2, \\sigma^2/R, -\\sigma^2/R)$ (model 0 is "
              "$D_0$: $\\delta = -\\varepsilon$), and $\\mathbb{E}\\left[(m - \\mu)^2\\right] = D + 2C + \\sigma^2/R$."), ""]
    # pooling: pool of N points, mean a (= mu + alpha), biased variance b; subsample of K without replacement
    pj, pjl = K / N, K * (K - 1) / (N * (N - 1))
    # sum over the pool of (x_j - a) is 0 and of (x_j - a)^2 is N b, so sum_{j != l} (x_j - a)(x_l - a) = -N b
    spread = sp.expand((pj * N * b + pjl * (-N * b)) / K**2)  # E (xbar_s - a)^2
    sub_var = sp.expand(pj * N * b / K - spread)  # E (1/K) sum_sub (x - a)^2 - E (xbar_s - a)^2
    _check_zero(spread - (N - K) / ((N - 1) * K) * b, "subsample E (xbar_s - a)^2")
    model_v = h2 + sub_var
    # add M draws of the model (mean xbar_s, variance Vm) to the pool: N' b' = pool P2 + new P2 - (total)^2 / N'
    Vm, X = sp.symbols("V_m X", real=True)  # model variance; X = xbar_s - a
    new = _group(M, 1, X, Vm)  # centred at a
    n_new = N + M
    e_nb = sp.expand(N * b + new["p2"] - (new["t1sq"]) / n_new)  # pool: sum (x - a) = 0, sum (x - a)^2 = N b
    e_b = sp.expand((e_nb.subs(X**2, spread).subs(Vm, model_v)) / n_new)
    # a' - mu = (a - mu) + P1_new / N' (P1_new centred at a): E[P1_new | subsample] = M X has mean 0 over the
    # subsample, so E (a' - mu)^2 = E (a - mu)^2 + E P1_new^2 / N'^2
    _check_zero(new["t1"] - M * X, "E P1_new = M (xbar_s - a)")
    e_a_sq = e_sym + sp.expand(new["t1sq"]).subs(X**2, spread).subs(Vm, model_v) / n_new**2
    (v_coded, m_coded), (b_coded, a_coded) = kx.pool_step((b, e_sym), M, N, K, h2)
    _check_zero(model_v - v_coded, "pool E V_{i+1}")
    _check_zero(e_sym + spread - m_coded, "pool E (m_{i+1} - mu)^2")
    _check_zero(e_b - b_coded, "pool E b'")
    _check_zero(e_a_sq - a_coded, "pool E (a' - mu)^2")
    lines += ["## `accumulate` and `accumulate-subsample:K`", "",
              ("Pool $P_i$: $N$ points, mean $a$, biased variance $b$. Model $i+1$ is the KDE on $K$ points drawn "
              "without replacement ($K = N$: accumulate); inclusion indicators with $\\mathbb{E} I_j = K/N$, "
              "$\\mathbb{E} I_j I_l = K(K-1)/(N(N-1))$ and $\\sum_{j \\ne l} (x_j - a)(x_l - a) = -Nb$ give"), "",
              (f"- $\\mathbb{{E}}\\left[(\\bar x_s - a)^2\\right] = {_tex(sp.factor(spread))}$, "
              f"$\\mathbb{{E}}[V_{{i+1}}] = {_tex(sp.factor(model_v))}$"),
              (f"- $M$ draws of model $i+1$ join the pool ($N' = N + M$): $\\mathbb{{E}}[b'] = "
              f"{_tex(_clean(e_b, (b,)))}$"),
              (f"- $\\mathbb{{E}}\\left[(a' - \\mu)^2\\right] = {_tex(_clean(e_a_sq, (e_sym, b)))}$ "
              "($e = \\mathbb{E}\\left[(a - \\mu)^2\\right]$; the cross term vanishes since $\\mathbb{E}[\\bar x_s - a] = 0$)"), "",
              ("Checked identical to `pool_step`; start: $P_0$ is $M$ real points, $b_0 = (1 - 1/M)\\sigma^2$, "
              "$e_0 = \\sigma^2/M$."), ""]
    return lines


@functools.cache
def replace_closed_forms():
    """``E V_n`` and ``E (m_n - mu)^2`` under replace by ``rsolve``, checked by induction."""
    f = sp.Function("f")
    v_n = sp.rsolve(f(n + 1) - (1 - 1 / M) * f(n) - h**2, f(n), {f(0): sigma**2})
    v_n = sp.simplify(v_n)
    claimed_v = M * h**2 + (1 - 1 / M) ** n * (sigma**2 - M * h**2)
    _check_zero(v_n - claimed_v, "rsolve E V_n")
    _check_zero(claimed_v.subs(n, 0) - sigma**2, "E V_0")
    _check_zero(claimed_v.subs(n, n + 1) - ((1 - 1 / M) * claimed_v + h**2), "E V_n inductive step")
    claimed_e = n * h**2 + (sigma**2 - M * h**2) * (1 - (1 - 1 / M) ** n)
    _check_zero(claimed_e.subs(n, 0), "E (m_0 - mu)^2")
    _check_zero(claimed_e.subs(n, n + 1) - (claimed_e + claimed_v / M), "E (m_n - mu)^2 inductive step")
    boot = claimed_v.subs(h, 0)
    _check_zero(boot - sigma**2 * (1 - 1 / M) ** n, "h -> 0: the MLE Gaussian chain")
    # the decomposition: total - statistical (h -> 0) - approximation (sigma^2 + n h^2, M -> infinity)
    interaction = (claimed_v - sigma**2) - (boot - sigma**2) - n * h**2
    _check_zero(interaction - h**2 * (M * (1 - (1 - 1 / M) ** n) - n), "replace interaction")
    return claimed_v, claimed_e


@functools.cache
def mix_fixed_points():
    """The fixed points of the mix and mix-fixed maps (plain fit ``w = R/M``), by ``sympy.solve``, checked by
    substituting them back, and against the limits :func:`kde_exact_values` computes (``M = 100``, ``R = 10``,
    ``h = 0.2``, ``sigma = 1``); the document's lines."""
    from ..chain._kde import KDEChain

    e, v, dd, cc = sp.symbols("e V D C")
    plain = {w: R / M}
    out, lines = {}, []
    st = kx.mix_step((e, v), M, R, w, h**2, sigma**2)
    sol = sp.solve([st[0] - e, st[1] - v], [e, v], dict=True)[0]
    for expr, target in zip(st, (e, v)):
        _check_zero(expr.subs(sol) - sol[target], f"mix fixed point ({target})")
    out["mix"] = (sp.factor(sol[v].subs(plain)), sp.factor(sol[e].subs(plain)))
    st = kx.mix_fixed_step((v, dd, cc), M, R, w, h**2, sigma**2)
    sol = sp.solve([st[0] - v, st[1] - dd, st[2] - cc], [v, dd, cc], dict=True)[0]
    for expr, target in zip(st, (v, dd, cc)):
        _check_zero(expr.subs(sol) - sol[target], "mix-fixed fixed point")
    out["mix-fixed"] = (sp.factor(sol[v].subs(plain)), sp.factor((sol[dd] + 2 * sol[cc] + sigma**2 / R).subs(plain)))
    at = {M: 100, R: 10, h: sp.Rational(1, 5), sigma: 1}
    for wf, (var, err) in out.items():
        limits = kx.kde_exact_values(KDEChain(0.2, 100, f"{wf}:0.1"), [1])["limits"]
        for name, expr in (("variance_mean", var), ("mean_sq_error", err)):
            if abs(float(expr.subs(at)) - limits[name]) > 1e-12 * abs(limits[name]):
                raise ProofError(f"{wf} {name}: closed form {float(expr.subs(at))} != kde_exact_values {limits[name]}")
        lines.append(f"- `{wf}`: $\\mathbb{{E}} V_\\infty = {_tex(var)}$, "
                     f"$\\mathbb{{E}}\\left[(m_\\infty - \\mu)^2\\right] = {_tex(err)}$")
    return lines


def _numbers() -> list[str]:
    from ..chain._kde import KDEChain, silverman_bandwidth

    gens = [1, 10, 100, 1000]
    rows = ["| h | M | workflow | " + " | ".join(f"$\\mathbb{{E}} V_{{{g}}}$" for g in gens) + " | limit |",
            "|---|---|---|" + "---|" * (len(gens) + 1)]
    hs = silverman_bandwidth(100)
    for bw in (0.05, 0.2, hs):
        for wf in ("replace", "mix:0.1", "accumulate"):
            out = kx.kde_exact_values(KDEChain(bw, 100, wf), gens)
            lim = out["limits"]["variance_mean"]
            rows.append(f"| {bw:.4g} | 100 | {wf} | " + " | ".join(f"{v:.6g}" for v in out["variance_mean"])
                        + f" | {lim:.6g} |")
    return rows


def render() -> str:
    v_n, e_n = replace_closed_forms()
    kde_draw_moments()  # raises ProofError unless the KDE draw's moments are as stated
    lines = ["# Exact moments of the kernel-density-estimate chain", "",
             "<!-- Generated by `python -m theory.numeric._kde_proofs`; do not edit. -->", "",
             ("Model $i+1$ is the Gaussian KDE with bandwidth $h$ on the training set $T_i$ (weights $\\omega_j$); "
             "$D_0 = N(\\mu, \\sigma^2)$. $m_n$, $V_n$: model $n$'s mean and variance."), "",
             "## One draw of a KDE (`sympy.stats`)", "",
             ("$Y = x_J + hZ$ with $P(J = j) = \\omega_j$ (`FiniteRV`) and $Z \\sim N(0,1)$ (`Normal`), on three "
             "symbolic points: $\\mathbb{E} Y = \\sum_j \\omega_j x_j$, $\\mathrm{Var}\\, Y = \\sum_j \\omega_j "
             "(x_j - \\bar x_\\omega)^2 + h^2$, fourth cumulant = the weighted empirical one (the Gaussian kernel "
             "adds none), i.e. fourth central moment $m_4 + 6h^2 S + 3h^4$ (each checked as a SymPy identity)."), ""]
    lines += derivations()
    lines += ["## Closed forms under `replace` (rsolve, then induction: base case and step checked)", "",
              (f"- $\\mathbb{{E}} V_n = {_tex(v_n)}$, so $\\mathbb{{E}} V_n \\to M h^2$: from below when "
              "$h^2 > \\sigma^2/M$ (the chain spreads; Silverman's $h = 1.06\\sigma M^{-1/5}$ gives "
              "$M h^2 = 1.12\\,M^{3/5}\\sigma^2 > \\sigma^2$), from above when $h^2 < \\sigma^2/M$ (it collapses, "
              "but to $M h^2$, not 0). Each generation resamples (losing the factor $1 - 1/M$ of the variance) and "
              "smooths (adding $h^2$); the two balance at $V = M h^2$."),
              f"- $\\mathbb{{E}}\\left[(m_n - \\mu)^2\\right] = {_tex(e_n)}$: grows like $n h^2$ (a random walk of the mean).",
              ("- $h \\to 0$ (resampling the training set, the bootstrap): $\\mathbb{E} V_n = (1 - 1/M)^n "
              "\\sigma^2$, the maximum-likelihood Gaussian chain's $\\mathbb{E}[\\sigma_n^2]$ (checked). Every "
              "recursion above involves only the model's mean and variance, so at $h = 0$ all workflows give the "
              "MLE Gaussian chain's first two moments (`tests/test_kde.py` checks this against "
              "`theory.exact_values` under seven workflows)."),
              ("- Decomposition of $\\mathbb{E} V_n - \\sigma^2$: statistical ($h \\to 0$) $\\sigma^2((1-1/M)^n - 1)$, "
              "approximation ($M \\to \\infty$) $n h^2$, interaction $h^2 (M(1 - (1-1/M)^n) - n) \\le 0$ (checked) "
              "(Bernoulli's inequality $(1 - 1/M)^n \\ge 1 - n/M$); no expressivity part (a KDE with $h \\to 0$ on "
              "$M \\to \\infty$ points reproduces any $D_0$)."),
              ("- Pooling: the pool's variance gains about $h^2/(i+2)$ per step, so $\\mathbb{E} V_n$ grows without "
               "bound, like $h^2 \\log n$ (accumulate) or $(1 - 1/K) h^2 \\log n$ (subsample); "
               "$\\mathbb{E}\\left[(m_n - \\mu)^2\\right]$ converges under accumulate and grows like $(h^2/K) \\log n$ under "
               "subsample (the subsample's mean misses the pool's by about $b/K$)."), "",
              ("## Fixed points of mixing in real data (plain fit $w = R/M$; `sympy.solve`, substituted back, and "
               "equal to the limits `kde_exact_values` computes at $M = 100$, $R = 10$, $h = 0.2$)"), "",
              *mix_fixed_points(),
              ("- at $h = 0$ these are the MLE Gaussian chain's fixed points (`proofs/workflows.md`); the kernel "
               "raises the variance's fixed point by $h^2$ times a factor of order $M/R$ (it is added every "
               "step and only the real share $R/M$ pulls back)."), "",
              "## Numbers ($\\sigma^2 = 1$; computed by `kde_exact_values` when rendering)", ""]
    lines += _numbers()
    lines.append("")
    return "\n".join(lines)


def write(directory: pathlib.Path) -> pathlib.Path:
    return write_documents(directory, {NAME: render()})[0]


if __name__ == "__main__":  # pragma: no cover
    print(write(target_directory(sys.argv)))
