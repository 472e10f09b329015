r"""Render ``proofs/multivariate.md``: the multivariate Gaussian chain's exact moments (Wishart one-step identities,
the trace recursion, the determinant and the volume's collapse, the marginal identity, the accumulate workflow, the
mix workflow's trace variance)
and the paper's multivariate lower bound with its verdict computed when rendering.

Nothing in the document is typed in. Moments of the standard normal and of the chi-square come from
``sympy.stats`` (``Normal``, ``ChiSquared``); expectations of polynomials in independent Bartlett factors (or normals)
are assembled monomial by monomial from them (:func:`expect`); every stated identity is checked to simplify to zero
before it is written (:class:`ProofError` otherwise), closed forms are proposed and proved by induction (base case
and inductive step), and the numbers come from :func:`theory.numeric._multivariate_exact.multivariate_exact_values`,
:func:`~theory.numeric._multivariate_exact.w2_sq_bounds` and :func:`theory.numeric.exact_values`, called when
rendering. ``tests/test_multivariate_proofs.py`` re-renders the file and fails when the committed one is stale.

Run ``python -m theory.numeric._multivariate_proofs`` to rewrite it (about 15 s).
"""

from __future__ import annotations

import functools
import itertools
import math
import pathlib
import sys

import numpy as np
import sympy as sp

from ..symbolic._documents import target_directory, write_documents

NAME = "multivariate.md"

k = sp.Symbol("k", positive=True, integer=True)  # degrees of freedom M - 1
c = sp.Symbol("c", positive=True)  # A / divisor
beta = sp.Symbol("beta", positive=True)  # N_{i-1} / N_i
n = sp.Symbol("n", integer=True, nonnegative=True)
t = sp.Symbol("t", positive=True)  # tr Sigma
s = sp.Symbol("s", positive=True)  # tr Sigma^2
v = sp.Symbol("v", positive=True)  # chi-square degrees of freedom
x = sp.Symbol("x", real=True)


class ProofError(AssertionError):
    """A stated identity did not simplify to zero, or an inequality could not be decided."""


def _check_zero(expr, what: str) -> None:
    expr = sp.sympify(expr)
    if expr.has(sp.cosh, sp.sinh, sp.tanh, sp.coth):
        expr = expr.rewrite(sp.exp)
    if sp.simplify(sp.factor(sp.expand(expr))) != 0:
        raise ProofError(f"{what}: {expr} is not 0")


def _check_nonnegative(expr, what: str) -> None:
    if not sp.factor(sp.simplify(expr)).is_nonnegative:
        raise ProofError(f"{what}: SymPy cannot show {expr} >= 0")


def _tex(expr) -> str:
    return sp.latex(expr)


# ------------------------------------------------------------------------------------------------ moments


@functools.cache
def normal_moment(power: int):
    """``E z^power`` for ``z ~ N(0, 1)``, by ``sympy.stats``."""
    from sympy.stats import E, Normal

    return sp.simplify(E(Normal("z", 0, 1) ** power))


@functools.cache
def chi_square_moment(dof, power: int):
    """``E X^power`` for ``X ~ chi^2_dof``, by ``sympy.stats``."""
    from sympy.stats import ChiSquared, E

    return sp.factor(sp.gammasimp(sp.simplify(E(ChiSquared("X", dof) ** power))))


def expect(expression, normals, chis: dict):
    """``E[expression]`` for a polynomial in independent factors: ``normals`` standard normals and ``chis`` a dict
    ``symbol -> dof`` with ``symbol**2 ~ chi^2_dof`` (a Bartlett diagonal). A monomial with an odd power of a normal
    has mean 0; an odd power of a chi with only even normal powers is refused (it never arises below)."""
    gens = list(normals) + list(chis)
    poly = sp.Poly(sp.expand(expression), *gens)
    total = sp.S.Zero
    for powers, coefficient in poly.terms():
        if any(p % 2 for symbol, p in zip(gens, powers) if symbol in normals):
            continue
        factor = coefficient
        for symbol, p in zip(gens, powers):
            if symbol in chis:
                if p % 2:
                    raise ProofError(f"odd power of the chi factor {symbol} with even normal powers")
                factor *= chi_square_moment(chis[symbol], p // 2)
            else:
                factor *= normal_moment(p)
        total += factor
    return sp.factor(sp.expand(total))


def bartlett(d: int, dof=k, name: str = "B"):
    """``(B, normals, chis)``: the Bartlett factor of ``Wishart_d(dof, I)`` (``W = B B^T``), lower triangular with
    ``B_ii^2 ~ chi^2_{dof - i + 1}`` and ``B_ij ~ N(0, 1)`` below the diagonal, all independent."""
    normals = [sp.Symbol(f"{name}z{i}{j}") for i in range(d) for j in range(i)]
    chis = {sp.Symbol(f"{name}c{i}", positive=True): dof - i for i in range(d)}
    matrix = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}c{i}", positive=True) if i == j else
                       (sp.Symbol(f"{name}z{i}{j}") if i > j else 0))
    return matrix, normals, chis


def _lower(d: int):
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"l{i}{j}") if i >= j else 0)


def _symmetric(d: int, name: str):
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{min(i, j)}{max(i, j)}"))


def delta(a, b):
    return 1 if a == b else 0


# ------------------------------------------------------------------------------------------------ 1. Wishart


@functools.cache
def wishart_identities_d2():
    """At ``d = 2``, ``S = L B B^T L^T`` (``V = L L^T``): ``E S``, ``E (tr S)^2``, ``E tr S^2``, ``E det S``,
    ``E (det S)^2`` from the Bartlett factors; each checked against the stated closed form. Returns them."""
    d = 2
    lower = _lower(d)
    b, normals, chis = bartlett(d)
    scatter = lower * b * b.T * lower.T
    cov = lower * lower.T
    tr_v, tr_v2, det_v = cov.trace(), (cov * cov).trace(), cov.det()
    mean = scatter.applyfunc(lambda e: expect(e, normals, chis))
    _check_zero(sp.Matrix(mean - k * cov).norm() ** 2, "E S = k V")
    out = {
        "E tr^2": expect(scatter.trace() ** 2, normals, chis),
        "E tr S^2": expect((scatter * scatter).trace(), normals, chis),
        "E det": expect(scatter.det(), normals, chis),
        "E det^2": expect(scatter.det() ** 2, normals, chis),
    }
    _check_zero(out["E tr^2"] - (k**2 * tr_v**2 + 2 * k * tr_v2), "E (tr S)^2")
    _check_zero(out["E tr S^2"] - (k * tr_v**2 + k * (k + 1) * tr_v2), "E tr S^2")
    _check_zero(out["E det"] - det_v * k * (k - 1), "E det S")
    _check_zero(out["E det^2"] - det_v**2 * k * (k + 2) * (k - 1) * (k + 1), "E det^2 S")
    return out


@functools.cache
def wishart_fourth_tensor(d: int = 4):
    """``E W_ab W_cd`` for ``W = sum_{m=1}^k z_m z_m^T`` (``z_m`` i.i.d. ``N(0, I_d)``): ``k E[z_a z_b z_c z_d] +
    k (k - 1) E[z_a z_b] E[z_c z_d]`` with the normal moments of ``sympy.stats``; checked equal to
    ``k^2 d_ab d_cd + k (d_ac d_bd + d_ad d_bc)`` for every index pattern (``d = 4`` realises all of them)."""
    z = [sp.Symbol(f"z{i}") for i in range(d)]
    for a, b_, c_, d_ in itertools.product(range(d), repeat=4):
        four = expect(z[a] * z[b_] * z[c_] * z[d_], z, {})
        two = expect(z[a] * z[b_], z, {}) * expect(z[c_] * z[d_], z, {})
        value = k * four + k * (k - 1) * two
        claim = k**2 * delta(a, b_) * delta(c_, d_) + k * (delta(a, c_) * delta(b_, d_) + delta(a, d_) * delta(b_, c_))
        _check_zero(value - claim, f"E W_{a}{b_} W_{c_}{d_}")
    return True


def contract(tensor, p, q):
    """``(sum_abcd P_ba Q_dc T_abcd, sum_abcd P_ab Q_cd T_bcda)``: ``E tr(PG) tr(QG)`` and ``E tr(P G Q G)`` for a
    random ``G`` with ``E G_ab G_cd = tensor(a, b, c, d)``."""
    d = p.shape[0]
    first = sum(p[b_, a] * q[d_, c_] * tensor(a, b_, c_, d_) for a, b_, c_, d_ in itertools.product(range(d), repeat=4))
    second = sum(p[a, b_] * q[c_, d_] * tensor(b_, c_, d_, a) for a, b_, c_, d_ in itertools.product(range(d),
                                                                                                  repeat=4))
    return sp.expand(first), sp.expand(second)


@functools.cache
def general_trace_identities(d: int = 3):
    """The trace identities for a generic symmetric ``V`` (``d = 3``) from the tensor: ``S = V^{1/2} W V^{1/2}`` has
    ``tr S = tr(V W)``, ``tr S^2 = tr(V W V W)``."""
    wishart_fourth_tensor()
    cov = _symmetric(d, "v")

    def tensor(a, b_, c_, d_):
        return k**2 * delta(a, b_) * delta(c_, d_) + k * (delta(a, c_) * delta(b_, d_) + delta(a, d_) * delta(b_, c_))

    first, second = contract(tensor, cov, cov)
    tr_v, tr_v2 = cov.trace(), (cov * cov).trace()
    _check_zero(first - (k**2 * tr_v**2 + 2 * k * tr_v2), "E (tr S)^2, d = 3")
    _check_zero(second - (k * tr_v**2 + k * (k + 1) * tr_v2), "E tr S^2, d = 3")
    return True


# ------------------------------------------------------------------------------------------------ 2. trace recursion


@functools.cache
def trace_recursion():
    """``(T, eigen, a_n, b_n, var_n)``: ``(a, b)_{n+1} = c^2 T (a, b)_n``, its eigenvectors, the closed form proved by
    induction and ``Var tr Sigma_n``."""
    matrix = sp.Matrix([[k**2, 2 * k], [k, k * (k + 1)]])
    eigen = {sp.factor(val): [sp.simplify(vec / vec[0]) for vec in vecs] for val, _, vecs in matrix.eigenvects()}
    if set(eigen) != {sp.factor(k * (k + 2)), sp.factor(k * (k - 1))}:
        raise ProofError(f"eigenvalues {set(eigen)}")
    alpha_, beta_ = (t**2 + 2 * s) / 3, (t**2 - s) / 3
    lam1, lam2 = k * (k + 2), k * (k - 1)
    a_n = c ** (2 * n) * (alpha_ * lam1**n + 2 * beta_ * lam2**n)
    b_n = c ** (2 * n) * (alpha_ * lam1**n - beta_ * lam2**n)
    _check_zero(a_n.subs(n, 0) - t**2, "base case a_0 = t^2")
    _check_zero(b_n.subs(n, 0) - s, "base case b_0 = s")
    step = c**2 * matrix * sp.Matrix([a_n, b_n])
    for i, target in enumerate((a_n, b_n)):
        difference = sp.expand(sp.powsimp(sp.expand(step[i] - target.subs(n, n + 1), power_base=True,
                                                    power_exp=True), force=True))
        _check_zero(difference, f"inductive step, row {i}")
    r = c * k
    var_n = r ** (2 * n) * (alpha_ * ((1 + 2 / k) ** n - 1) + 2 * beta_ * ((1 - 1 / k) ** n - 1))
    for value in range(6):
        _check_zero((a_n - r ** (2 * n) * t**2 - var_n).subs(n, value), f"Var tr at n = {value}")
    _check_zero(sp.expand(var_n.subs(s, t**2) - t**2 * r ** (2 * n) * ((1 + 2 / k) ** n - 1)), "d = 1: 1-D chain")
    return matrix, eigen, a_n, b_n, var_n


# ------------------------------------------------------------------------------------------------ 3. determinant


@functools.cache
def chi_square_log_moments():
    """``E log X = psi(v/2) + log 2`` and ``Var log X = psi'(v/2)`` for ``X ~ chi^2_v``: derivatives at ``u = 0`` of
    ``log E X^u`` (``E X^u`` by ``sympy.stats``)."""
    from sympy.stats import ChiSquared, E

    u = sp.Symbol("u", positive=True)
    mgf = sp.simplify(E(ChiSquared("X", v) ** u))
    cumulant = sp.expand_log(sp.log(mgf), force=True)
    mean = sp.simplify(sp.diff(cumulant, u).subs(u, 0))
    var = sp.simplify(sp.diff(cumulant, u, 2).subs(u, 0))
    _check_zero(mean - (sp.polygamma(0, v / 2) + sp.log(2)), "E log chi^2")
    _check_zero(var - sp.polygamma(1, v / 2), "Var log chi^2")
    return mgf, mean, var


# ------------------------------------------------------------------------------------------------ 4. marginals


@functools.cache
def projection_identities():
    """The weighted fit commutes with projections (three points in ``d = 2``, symbolic weights), a projected normal
    has the normal's second and fourth moments with variance ``u^T V u``, and polarization recovers a symmetric
    matrix from its quadratic form."""
    pts = [sp.Matrix([sp.Symbol(f"x{j}{i}") for i in range(2)]) for j in range(3)]
    w = sp.symbols("w0 w1 w2", positive=True)
    u = sp.Matrix(sp.symbols("u0 u1", real=True))
    mean = sum((wj * p for wj, p in zip(w, pts)), sp.zeros(2, 1))
    scatter = sum((wj * (p - mean) * (p - mean).T for wj, p in zip(w, pts)), sp.zeros(2, 2))
    proj = [(u.T * p)[0] for p in pts]
    proj_mean = sum(wj * y for wj, y in zip(w, proj))
    _check_zero((u.T * mean)[0] - proj_mean, "u^T mean = mean of u^T x")
    _check_zero((u.T * scatter * u)[0] - sum(wj * (y - proj_mean) ** 2 for wj, y in zip(w, proj)),
                "u^T scatter u = scatter of u^T x")
    lower = _lower(2)
    eps = sp.symbols("e0 e1")
    y = (u.T * lower * sp.Matrix(eps))[0]
    q = (u.T * lower * lower.T * u)[0]
    _check_zero(expect(y**2, eps, {}) - q, "E (u^T z)^2 = u^T V u")
    _check_zero(expect(y**4, eps, {}) - 3 * q**2, "E (u^T z)^4 = 3 (u^T V u)^2")
    m = _symmetric(2, "m")
    a, b_ = sp.Matrix(sp.symbols("a0 a1")), sp.Matrix(sp.symbols("b0 b1"))
    polar = ((a + b_).T * m * (a + b_) - (a - b_).T * m * (a - b_))[0] / 4
    _check_zero(polar - (a.T * m * b_)[0], "polarization")
    return True


def dimension_one_check(workflows=("replace", "mix:0.3", "mix-fixed:0.3", "accumulate", "accumulate-subsample:4"),
                        generations=(1, 2, 5, 20)) -> list[dict]:
    """``d = 1``: every value of :func:`multivariate_exact_values` that is not ``None`` against the 1-D chain's
    :func:`theory.numeric.exact_values` (largest relative difference per workflow)."""
    from ..chain import GaussianChain
    from ..chain._multivariate import MultivariateGaussianChain
    from ._exact import exact_values
    from ._multivariate_exact import multivariate_exact_values

    pairs = [("mean_sq_error", "mean_sq_error"), ("trace_mean", "variance_mean"), ("trace_var", "variance_var"),
             ("det_mean", "variance_mean"), ("log_det_mean", "log_variance_mean")]
    rows = []
    for workflow in workflows:
        for learner in ("unbiased", "mle"):
            multi = multivariate_exact_values(MultivariateGaussianChain(7, [[1.7]], learner=learner,
                                                                        workflow=workflow), list(generations))
            one = exact_values(GaussianChain(7, learner=learner, sigma=math.sqrt(1.7), workflow=workflow),
                               list(generations))
            keys = [ours for ours, _ in pairs if multi[ours] is not None]
            worst = max(float(np.max(np.abs(multi[ours] / one[theirs] - 1))) for ours, theirs in pairs
                        if multi[ours] is not None)
            rows.append({"workflow": workflow, "learner": learner, "keys": keys, "max_rel_diff": worst})
    return rows


# ------------------------------------------------------------------------------------------------ 5. accumulate


@functools.cache
def pool_update(old: int = 3, new: int = 2):
    """The scatter of a pool of ``old`` points plus ``new`` points (``d = 2``, symbolic coordinates) is
    ``Q + S + (N M / N') (ybar - m)(ybar - m)^T``."""
    def points(name, count):
        return [sp.Matrix([sp.Symbol(f"{name}{j}{i}") for i in range(2)]) for j in range(count)]

    def mean_scatter(pts):
        mean = sum(pts, sp.zeros(2, 1)) / len(pts)
        return mean, sum(((p - mean) * (p - mean).T for p in pts), sp.zeros(2, 2))

    xs, ys = points("x", old), points("y", new)
    m_old, q_old = mean_scatter(xs)
    y_bar, s_new = mean_scatter(ys)
    _, q_all = mean_scatter(xs + ys)
    gap = y_bar - m_old
    claim = q_old + s_new + sp.Rational(old * new, old + new) * gap * gap.T
    _check_zero(sp.Matrix(q_all - claim).applyfunc(sp.expand).norm() ** 2, "pool scatter update")
    return True


@functools.cache
def step_tensor_d2():
    """``E G_ab G_cd`` for ``G = I + c (W + beta g g^T)`` at ``d = 2`` (``W`` by Bartlett, ``g`` normals): checked
    equal to ``g1^2 d_ab d_cd + q (d_ac d_bd + d_ad d_bc)``; returns ``(g1, q)``."""
    d = 2
    b, normals, chis = bartlett(d)
    g = sp.Matrix([sp.Symbol(f"g{i}") for i in range(d)])
    step = sp.eye(d) + c * (b * b.T + beta * g * g.T)
    g1 = 1 + c * (k + beta)
    q = c**2 * (k + beta**2)
    variables = normals + list(g)
    for a, b_, c_, d_ in itertools.product(range(d), repeat=4):
        value = expect(step[a, b_] * step[c_, d_], variables, chis)
        claim = g1**2 * delta(a, b_) * delta(c_, d_) + q * (delta(a, c_) * delta(b_, d_) + delta(a, d_) * delta(b_, c_))
        _check_zero(value - claim, f"E G_{a}{b_} G_{c_}{d_}")
    for a, b_ in itertools.product(range(d), repeat=2):
        _check_zero(expect(step[a, b_], variables, chis) - g1 * delta(a, b_), f"E G_{a}{b_}")
    return g1, q


@functools.cache
def accumulate_recursion(d: int = 3):
    """With the tensor of :func:`step_tensor_d2` (general ``d``: Wishart and Isserlis, independent), contracting with
    a generic symmetric ``Q`` (``d = 3``) gives ``E (tr Q_i)^2`` and ``E tr Q_i^2`` as the 2x2 matrix
    ``[[g1^2, 2q], [q, g1^2 + q]]`` times ``((tr Q)^2, tr Q^2)``; returns the matrix."""
    g1, q = step_tensor_d2()
    # general d: E G = g1 I and Cov(G_ab, G_cd) = c^2 (k + beta^2)(d_ac d_bd + d_ad d_bc), from Cov(W) = k (..)
    # (wishart_fourth_tensor) and Cov(g g^T) = (..) (Isserlis), independent
    wishart_fourth_tensor()

    def tensor(a, b_, c_, d_):
        return g1**2 * delta(a, b_) * delta(c_, d_) + q * (delta(a, c_) * delta(b_, d_) + delta(a, d_) * delta(b_, c_))

    pool = _symmetric(d, "q")
    first, second = contract(tensor, pool, pool)
    tr_q, tr_q2 = pool.trace(), (pool * pool).trace()
    matrix = sp.Matrix([[g1**2, 2 * q], [q, g1**2 + q]])
    predicted = matrix * sp.Matrix([tr_q**2, tr_q2])
    _check_zero(first - predicted[0], "E (tr Q_i)^2")
    _check_zero(second - predicted[1], "E tr Q_i^2")
    # the variance form: V_i = g1^2 V_{i-1} + 2 q E tr Q^2 (no cancellation)
    mean, var, second_inv = sp.symbols("m V P", positive=True)
    new_first = matrix[0, 0] * (var + mean**2) + matrix[0, 1] * second_inv
    _check_zero(new_first - (g1 * mean) ** 2 - (g1**2 * var + 2 * q * second_inv), "variance form")
    return matrix


@functools.cache
def det_step_d2():
    """``E det G`` at ``d = 2`` directly from the Bartlett factors and the normals, checked equal to the Cauchy-Binet
    sum; also ``E det(Z_K B Z_K^T) = 2! e_2(B)`` for a ``2 x 3`` normal ``Z`` and ``B = diag(1, 1, beta)``."""
    d = 2
    b, normals, chis = bartlett(d)
    g = sp.Matrix([sp.Symbol(f"g{i}") for i in range(d)])
    step = sp.eye(d) + c * (b * b.T + beta * g * g.T)
    value = expect(step.det(), normals + list(g), chis)
    claim = sp.expand(1 + c * d * (k + beta) + c**2 * 2 * (k * (k - 1) / 2 + beta * k))
    _check_zero(value - claim, "E det G (d = 2)")
    general = sum(c**j * sp.ff(d, j) * (sp.binomial(k, j) + beta * sp.binomial(k, j - 1)) for j in range(d + 1))
    _check_zero(sp.expand_func(general) - claim, "Cauchy-Binet sum at d = 2")
    z = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"Z{i}{j}"))
    weights = sp.diag(1, 1, beta)
    minor = expect((z * weights * z.T).det(), list(z), {})
    _check_zero(minor - 2 * (1 + 2 * beta), "E det(Z B Z^T) = 2! e_2(B)")
    return value


@functools.cache
def convexity_checks():
    """``x -> log(1 + e^x)`` is convex and ``(a, b) -> a^(3/2) b^(-1/2)`` is jointly convex on the positive quadrant
    (a perspective): second derivatives / the Hessian's minors are nonnegative."""
    softplus = sp.log(1 + sp.exp(x))
    second = sp.exp(x) / (1 + sp.exp(x)) ** 2
    _check_zero(sp.diff(softplus, x, 2) - second, "softplus''")
    _check_nonnegative(second, "softplus'' >= 0")
    a, b_ = sp.symbols("a b", positive=True)
    f = a ** sp.Rational(3, 2) * b_ ** sp.Rational(-1, 2)
    hessian = sp.hessian(f, (a, b_))
    _check_nonnegative(hessian[0, 0], "f_aa >= 0")
    _check_nonnegative(hessian[1, 1], "f_bb >= 0")
    _check_zero(hessian.det(), "det Hessian = 0 (degree-1 homogeneous)")
    return second, hessian


def accumulate_numbers(cases=((2, 6, "unbiased"), (5, 9, "mle"), (20, 25, "unbiased")), generations=(2, 5, 50)):
    """The module's accumulate values against the recursion iterated here in exact rational arithmetic (from the
    matrix of :func:`accumulate_recursion` and the Cauchy-Binet sum), for ``Sigma = I`` (largest relative
    difference)."""
    from fractions import Fraction

    from ..chain._multivariate import MultivariateGaussianChain
    from ._multivariate_exact import multivariate_exact_values

    rows = []
    for d, m, learner in cases:
        kk = m - 1
        values = multivariate_exact_values(MultivariateGaussianChain(m, np.eye(d), learner=learner,
                                                                     workflow="accumulate"), list(generations))
        mean, var, second = Fraction(kk * d), Fraction(2 * kk * d), Fraction(kk * d * d + kk * (kk + 1) * d)
        det = Fraction(math.perm(kk, d))
        exact = {}
        for i in range(1, max(generations) + 1):
            if i > 1:
                pool = (i - 1) * m
                cc = Fraction(1, pool - 1 if learner == "unbiased" else pool)
                bb = Fraction(i - 1, i)
                g1, q = 1 + cc * (kk + bb), cc * cc * (kk + bb * bb)
                mean, var, second = (g1 * mean, g1 * g1 * var + 2 * q * second,
                                     q * (var + mean**2) + (g1 * g1 + q) * second)
                det *= sum(cc**j * math.perm(d, j) * (math.comb(kk, j) + bb * (math.comb(kk, j - 1) if j else 0))
                           for j in range(d + 1))
            pool = i * m
            cc = Fraction(1, pool - 1 if learner == "unbiased" else pool)
            exact[i] = (cc * cc * var, cc**d * det)
        worst = max(max(abs(float(values["trace_var"][j] / exact[g][0]) - 1),
                        abs(float(values["det_mean"][j] / exact[g][1]) - 1)) for j, g in enumerate(generations))
        rows.append({"d": d, "M": m, "learner": learner, "max_rel_diff": worst})
    return rows


def mix_rows():
    """The mix step (:func:`theory.numeric._multivariate_exact.derive_mix_system`, derived when rendering) as
    ``E[next invariant]`` expressions in display symbols."""
    from ._multivariate_exact import derive_mix_system

    rows = derive_mix_system()
    names = [r"(\operatorname{tr}\Sigma_n)^2", r"\operatorname{tr}\left(\Sigma_n^2\right)",
             r"\lVert\delta\rVert^2\operatorname{tr}\Sigma_n", r"\delta^{\top}\Sigma_n\delta", r"\lVert\delta\rVert^4",
             r"\operatorname{tr}\Sigma_n", r"\operatorname{tr}(\Sigma\Sigma_n)", r"\lVert\delta\rVert^2",
             r"\delta^{\top}\Sigma\delta"]
    symbols = [sp.Symbol(f"X{i}") for i in range(len(names))]
    out = []
    for i, row in enumerate(rows[:-1]):
        expr = sum(sp.factor(coef) * sym for coef, sym in zip(row[:-1], symbols)) + sp.factor(row[-1])
        text = _tex(expr)
        for sym, name in sorted(zip(symbols, names), key=lambda pair: -len(str(pair[0]))):
            text = text.replace(_tex(sym), "\\left[" + name + "\\right]")
        out.append((names[i], text.replace("Mp", "M_p")))
    return out


def mix_dimension_one_check(generations=(1, 2, 5, 30)) -> list[dict]:
    """``d = 1``: the mix trace variance against the 1-D chain's ``Var sigma_n^2`` (plain and weighted fits)."""
    from ..chain import GaussianChain, Workflow
    from ..chain._multivariate import MultivariateGaussianChain
    from ._exact import exact_values
    from ._multivariate_exact import multivariate_exact_values

    rows = []
    for text, weight in (("mix:0.3", None), ("mix:0.4", 0.7)):
        workflow = Workflow.parse(text, real_weight=weight)
        for learner in ("unbiased", "mle"):
            multi = multivariate_exact_values(MultivariateGaussianChain(7, [[1.7]], learner=learner,
                                                                        workflow=workflow), list(generations))
            one = exact_values(GaussianChain(7, learner=learner, sigma=math.sqrt(1.7), workflow=workflow),
                               list(generations))
            rows.append({"workflow": str(workflow), "learner": learner,
                         "max_rel_diff": float(np.max(np.abs(multi["trace_var"] / one["variance_var"] - 1)))})
    return rows


def _section_mix() -> list[str]:
    lines = [
        "## 6. Mix (fresh real points): the trace variance", "",
        ("Step $n$ fits $R$ fresh real points (mean $\\bar x$, scatter $S_x \\sim W_d(R-1, \\Sigma)$) and $M - R$ "
         "points of model $n$ ($\\bar y$, $S_y \\sim W_d(M-R-1, \\Sigma_n)$), all independent given the past, with "
         "$\\bar x - \\mu \\sim N(0, \\Sigma/R)$, $\\bar y - \\mu \\sim N(\\delta, \\Sigma_n/(M-R))$, "
         "$\\delta = \\mu_n - \\mu$. The fit is $\\Sigma_{n+1} = a_x S_x + a_y S_y + g\\,ww^{\\top}$, "
         "$w = \\bar x - \\bar y$, $\\delta_{n+1} = p(\\bar x - \\mu) + (1-p)(\\bar y - \\mu)$ (plain: "
         "$a_x = a_y = A/D$, $g = AR(M-R)/(MD)$, $p = R/M$; weighted with real weight $w_r$: $a_x = Aw_r/(RD')$, "
         "$a_y = A(1-w_r)/((M-R)D')$, $g = Aw_r(1-w_r)/D'$, $p = w_r$, $D' = 1 - \\sum_j\\omega_j^2$ unbiased, 1 MLE). "
         "Taking expectations monomial by monomial (normal moments; Wishart $\\mathbb{E}\\,W = kI$ and section 1's "
         "tensor) with generic $2 \\times 2$ matrices and matching against the invariants below (times "
         "$t = \\operatorname{tr}\\Sigma$, $s = \\operatorname{tr}\\left(\\Sigma^2\\right)$) gives a unique solution "
         "with "
         "no remainder (a slow test repeats it with $3 \\times 3$ matrices: the same coefficients). With $R$ the real "
         "count and $M_p = M - R$, the derived step: the expectation of each invariant at generation $n + 1$ given "
         "generation $n$, in terms of the invariants at generation $n$ (in brackets):"), ""]
    for name, text in mix_rows():
        lines.append(f"- ${name}$ at $n + 1$: ${text}$")
    lines += ["", ("The start is $\\Sigma_0 = \\Sigma$, $\\delta_0 = 0$; the module walks this affine map with binary "
                   "powers in mpmath, and $\\operatorname{Var}\\operatorname{tr}\\Sigma_n = \\mathbb{E}\\left[("
                   "\\operatorname{tr}\\Sigma_n)^2\\right] - \\left(\\mathbb{E}\\operatorname{tr}\\Sigma_n\\right)^2$. "
                   "**Checked against the toolkit** ($d = 1$, $M = 7$, $n \\in \\{1, 2, 5, 30\\}$): against the 1-D "
                   "chain's $\\operatorname{Var}\\sigma_n^2$, derived independently in `theory.symbolic`:"), "",
              "| workflow | learner | largest relative difference |", "|---|---|---|"]
    for row in mix_dimension_one_check():
        lines.append(f"| {row['workflow']} | {row['learner']} | {row['max_rel_diff']:.2e} |")
    lines.append("")
    return lines


# ------------------------------------------------------------------------------------------------ 6. paper's bound


PAPER_CASES = ((3, 10, "iso", "mle", "replace"), (5, 20, "aniso", "mle", "replace"), (3, 10, "iso", "unbiased",
                                                                                      "replace"),
               (3, 10, "iso", "unbiased", "accumulate"), (3, 10, "iso", "mle", "accumulate"))
PAPER_GENERATIONS = (1, 2, 5, 10, 20, 30, 100, 1000)


def paper_bound_rows(cases=PAPER_CASES, generations=PAPER_GENERATIONS) -> list[dict]:
    """The paper's ``E W2^2 >= tr Sigma sum_{i<n} 1/M`` against the exact bounds, per case and generation."""
    from ..chain._multivariate import MultivariateGaussianChain
    from ._multivariate_exact import w2_sq_bounds

    rows = []
    for d, m, shape, learner, workflow in cases:
        cov = np.eye(d) if shape == "iso" else np.diag(np.geomspace(4.0, 0.1, d))
        b = w2_sq_bounds(MultivariateGaussianChain(m, cov, learner=learner, workflow=workflow), list(generations))
        for j, g in enumerate(generations):
            verdict = {True: "holds", False: "fails", None: "undecided"}[b["paper_bound_holds"][j]]
            rows.append({"d": d, "M": m, "covariance": shape, "learner": learner, "workflow": workflow,
                         "generation": g, "lower": float(b["lower"][j]), "upper": float(b["upper"][j]),
                         "paper": float(b["paper_lower_bound"][j]), "verdict": verdict})
    return rows


def drift_rows(cases=((2, 11), (10, 101), (100, 1001), (100, 10001))) -> list[dict]:
    from ..chain._multivariate import MultivariateGaussianChain
    from ._multivariate_exact import log_det_drift

    return [{"d": d, "M": m, "learner": learner,
             "drift": log_det_drift(MultivariateGaussianChain(m, np.eye(d), learner=learner)),
             "approx": -d * (d + 1) / (2 * (m - 1)) - (d * math.log(m / (m - 1)) if learner == "mle" else 0.0)}
            for d, m in cases for learner in ("unbiased", "mle")]


# ------------------------------------------------------------------------------------------------ document

E = r"\mathbb{E}\,"


def _section_wishart() -> list[str]:
    identities = wishart_identities_d2()
    general_trace_identities()
    return [
        "## 1. One step: the Wishart identities", "",
        ("Given generation $n$ ($\\Sigma_n = V$), the scatter matrix of $M$ points is $S \\sim W_d(k, V)$, "
         "$k = M - 1$, independent of the sample mean $\\bar x \\sim N(\\mu_n, V/M)$, and $\\Sigma_{n+1} = c\\,S$ with "
         "$c = A/D$ ($D = M - 1$ unbiased, $M$ MLE). Bartlett: $S = L B B^{\\top} L^{\\top}$ with $V = L L^{\\top}$, "
         "$B$ lower triangular, $B_{ii}^2 \\sim \\chi^2_{k-i+1}$, $B_{ij} \\sim N(0, 1)$ below the diagonal, all "
         "independent. Expectations of polynomials in these factors are assembled from `sympy.stats` moments "
         f"($\\mathbb{{E}}\\left[z^4\\right] = {_tex(normal_moment(4))}$, "
         f"$\\mathbb{{E}}\\left[\\left(\\chi^2_v\\right)^2\\right] = {_tex(chi_square_moment(v, 2))}$)."), "",
        "At $d = 2$, with $L$ a generic lower-triangular matrix (checked symbolically, each identity simplified to 0):",
        "",
        "- $\\mathbb{E}\\,S = k\\,V$",
        ("- $\\mathbb{E}\\left[(\\operatorname{tr} S)^2\\right] = k^2 (\\operatorname{tr} V)^2 + 2k "
         "\\operatorname{tr}\\left(V^2\\right)$"),
        ("- $\\mathbb{E}\\operatorname{tr}\\left(S^2\\right) = k (\\operatorname{tr} V)^2 + k(k+1) "
         "\\operatorname{tr}\\left(V^2\\right)$"),
        f"- $\\mathbb{{E}}\\det S = {_tex(sp.factor(identities['E det'] / _lower(2).det() ** 2))}\\,\\det V$",
        (f"- $\\mathbb{{E}}\\left[(\\det S)^2\\right] = {_tex(sp.factor(identities['E det^2'] / _lower(2).det() ** 4))}"
         f"\\,(\\det V)^2$"), "",
        ("For every $d$: $W = \\sum_{m=1}^{k} z_m z_m^{\\top}$ ($z_m$ i.i.d. $N(0, I_d)$) has "
         "$\\mathbb{E}\\left[W_{ab} W_{cd}\\right] = k\\,\\mathbb{E}[z_a z_b z_c z_d] + "
         "k(k-1)\\,\\delta_{ab}\\delta_{cd}"
         " = k^2 \\delta_{ab}\\delta_{cd} + k(\\delta_{ac}\\delta_{bd} + \\delta_{ad}\\delta_{bc})$ (checked for all "
         "$4^4$ index patterns at $d = 4$, which realise every pattern of equalities), and with "
         "$S = V^{1/2} W V^{1/2}$, $\\operatorname{tr} S = \\operatorname{tr}(VW)$, "
         "$\\operatorname{tr}\\left(S^2\\right) = \\operatorname{tr}(VWVW)$: contracting the tensor against a generic "
         "symmetric "
         "$V$ at $d = 3$ gives the two trace identities above (checked)."), ""]


def _section_trace() -> list[str]:
    matrix, eigen, a_n, b_n, var_n = trace_recursion()
    r = sp.Symbol("r", positive=True)
    return [
        "## 2. The trace: mean and variance for every $n$", "",
        ("$\\mathbb{E}\\,S = kV$ gives $\\mathbb{E}\\,\\Sigma_n = r^n \\Sigma$ with $r = ck$, hence "
         "$\\mathbb{E}\\operatorname{tr}\\Sigma_n = r^n \\operatorname{tr}\\Sigma$ and (the mean moves by "
         "$\\bar x - \\mu_n$, of covariance $\\Sigma_n/M$) "
         "$\\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] = (\\operatorname{tr}\\Sigma/M) \\sum_{i<n} "
         "r^i$."), "",
        ("With $a_n = \\mathbb{E}\\left[(\\operatorname{tr}\\Sigma_n)^2\\right]$, "
         "$b_n = \\mathbb{E}\\operatorname{tr}\\left(\\Sigma_n^2\\right)$, the identities of section 1 close "
         f"$(a, b)_{{n+1}} = c^2 T (a, b)_n$ with $T = {_tex(matrix)}$. SymPy's eigen-decomposition: "
         + ", ".join(f"eigenvalue ${_tex(val)}$ with eigenvector ${_tex(vecs[0].T)}^{{\\top}}$"
                     for val, vecs in eigen.items())
         + ". With $t = \\operatorname{tr}\\Sigma$, $s = \\operatorname{tr}\\left(\\Sigma^2\\right)$ the "
         "closed form"), "",
        f"$$a_n = {_tex(a_n)}, \\qquad b_n = {_tex(b_n)}$$", "",
        ("is proved by induction (base case $n = 0$ and the inductive step $c^2 T (a_n, b_n) = (a_{n+1}, b_{n+1})$, "
         "both simplified to 0), and"), "",
        (f"$$\\operatorname{{Var}}\\operatorname{{tr}}\\Sigma_n = a_n - "
         f"\\left(\\mathbb{{E}}\\operatorname{{tr}}\\Sigma_n\\right)^2 = {_tex(var_n.subs(c * k, r))}$$"), "",
        ("with $r = ck$ (checked against $a_n - r^{2n} t^2$ at $n = 0, \\dots, 5$; the constant terms cancel "
         "exactly). For $d = 1$ ($t^2 = s$) it is the 1-D chain's "
         "$\\sigma^4 r^{2n}\\left(\\left(\\frac{k+2}{k}\\right)^n - 1\\right)$ (checked)."), ""]


def _psi(expr):
    """``polygamma(0, y)`` as ``psi(y)`` and ``polygamma(1, y)`` as ``psi'(y)`` for display."""
    return expr.replace(lambda e: isinstance(e, sp.polygamma),
                        lambda e: sp.Function("psi" if e.args[0] == 0 else "psi'")(e.args[1]))


def _section_det() -> list[str]:
    mgf, mean, var = chi_square_log_moments()
    rows = drift_rows()
    lines = [
        "## 3. The determinant and the volume's almost-sure collapse", "",
        ("Bartlett: $\\det \\Sigma_{n+1} = \\det\\Sigma_n\\, c^d \\prod_{i=1}^{d} B_{ii}^2$, the "
         "$B_{ii}^2 \\sim \\chi^2_{k-i+1}$ independent of the past. So "
         "$\\mathbb{E}\\det\\Sigma_n = \\det\\Sigma\\left[c^d \\prod_i (k-i+1)\\right]^n$ and "
         "$\\mathbb{E}\\left[(\\det\\Sigma_n)^2\\right] = (\\det\\Sigma)^2 \\left[c^{2d} \\prod_i (k-i+1)(k-i+3)"
         "\\right]^n$ (the $d = 2$ case is section 1's). `sympy.stats` gives "
         f"$\\mathbb{{E}}\\left[\\left(\\chi^2_v\\right)^u\\right] = {_tex(mgf)}$; its log's derivatives at $u = 0$: "
         f"$\\mathbb{{E}}\\left[\\log\\chi^2_v\\right] = {_tex(_psi(mean))}$, "
         f"$\\operatorname{{Var}}\\left[\\log\\chi^2_v\\right] = {_tex(_psi(var))}$. "
         "Hence $\\log\\det\\Sigma_n$ is a random walk with i.i.d. steps:"), "",
        ("$$\\mathbb{E}\\log\\det\\Sigma_n - \\log\\det\\Sigma = n\\Big[d\\log c + \\sum_{i=1}^{d}\\big(\\psi"
         "\\big(\\tfrac{k-i+1}{2}\\big) + \\log 2\\big)\\Big], \\qquad \\operatorname{Var}\\log\\det\\Sigma_n = "
         "n \\sum_{i=1}^{d} \\psi'\\big(\\tfrac{k-i+1}{2}\\big),$$"), "",
        ("and by the strong law $(\\log\\det\\Sigma_n)/n$ tends almost surely to the drift. For $A = 1$ it is "
         "negative for both learners (Jensen: $\\mathbb{E}\\left[\\log\\chi^2_v\\right] < \\log v$), so the volume "
         "collapses to 0 "
         "almost surely while, for the unbiased learner, $\\mathbb{E}\\operatorname{tr}\\Sigma_n = "
         "\\operatorname{tr}\\Sigma$ for every $n$. The drift (`log_det_drift`, computed when rendering) against "
         "the leading order $-d(d+1)/(2k)$ (MLE: also $-d\\log(M/k)$):"), "",
        "| d | M | learner | drift per generation | leading order |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['d']} | {row['M']} | {row['learner']} | {row['drift']:.6g} | {row['approx']:.6g} |")
    negative = all(row["drift"] < 0 for row in rows)
    lines += ["", f"**Drift negative in every row (computed when rendering): {'yes' if negative else 'no'}**", ""]
    return lines


def _section_marginals() -> list[str]:
    projection_identities()
    rows = dimension_one_check()
    lines = [
        "## 4. Marginals: every projection is the 1-D chain, under every workflow", "",
        ("The fit commutes with projections: for points $x_j$ with weights $\\omega_j$ (the plain fit has "
         "$\\omega_j = 1/M$) and any $u$, $u^{\\top}\\sum_j \\omega_j x_j$ is the weighted mean of the $u^{\\top}x_j$ "
         "and "
         "$u^{\\top}\\left[\\sum_j \\omega_j (x_j - \\bar x)(x_j - \\bar x)^{\\top}\\right]u$ their weighted scatter "
         "(checked with three points in $d = 2$ and symbolic weights). A projected normal $u^{\\top} z$, "
         "$z \\sim N(0, V)$, is normal with variance $u^{\\top} V u$ (its second and fourth moments checked from "
         "`sympy.stats`). Real points projected are draws of $N(u^{\\top}\\mu, u^{\\top}\\Sigma u)$, and every "
         "workflow chooses its training set without looking at the values, so the projection of the chain is "
         "exactly the 1-D chain with the same workflow and $\\sigma^2 = u^{\\top}\\Sigma u$."), "",
        ("Consequences, with $e_n$, $v_n$ the 1-D chain's exact $\\mathbb{E}\\left[(\\mu_n - \\mu)^2\\right]$ and "
         "$\\mathbb{E}\\left[\\sigma_n^2\\right]$ at $\\sigma = 1$: "
         "$\\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] = \\sum_j "
         "\\mathbb{E}\\left[\\left(e_j^{\\top}(\\mu_n - \\mu)\\right)^2\\right] = "
         "e_n \\operatorname{tr}\\Sigma$; $u^{\\top}\\left(\\mathbb{E}\\,\\Sigma_n\\right)u = v_n\\, u^{\\top}\\Sigma "
         "u$ "
         "for every $u$, so by polarization ($a^{\\top} S b = \\frac14[(a+b)^{\\top}S(a+b) - (a-b)^{\\top}S(a-b)]$ for "
         "symmetric $S$, checked) $\\mathbb{E}\\,\\Sigma_n = v_n \\Sigma$ and "
         "$\\mathbb{E}\\operatorname{tr}\\Sigma_n = v_n \\operatorname{tr}\\Sigma$."), "",
        ("**Checked against the toolkit** ($d = 1$, $M = 7$, $\\sigma^2 = 1.7$, $n \\in \\{1, 2, 5, 20\\}$): every "
         "value of `multivariate_exact_values` that is not `None` against the 1-D chain's `exact_values` (an "
         "independent derivation: `theory.symbolic`):"), "",
        "| workflow | learner | exact keys | largest relative difference |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['workflow']} | {row['learner']} | {', '.join(row['keys'])} | "
                     f"{row['max_rel_diff']:.2e} |")
    lines.append("")
    return lines


def _section_accumulate() -> list[str]:
    pool_update()
    g1, q = step_tensor_d2()
    matrix = accumulate_recursion()
    det_step_d2()
    second, _ = convexity_checks()
    rows = accumulate_numbers()
    d = sp.Symbol("d", positive=True, integer=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    cb = sp.Sum(c**j * sp.factorial(d) / sp.factorial(d - j) * (sp.binomial(k, j) + beta * sp.binomial(k, j - 1)),
                (j, 0, d))
    lines = [
        "## 5. Accumulate: the pool's scatter, a non-autonomous recursion", "",
        ("Constant $M$. After step $i$ the pool holds $N_i = (i+1)M$ points with mean $m_i$ and scatter $Q_i$; "
         "model $i+1$ is $\\mu_{i+1} = m_i$, $\\Sigma_{i+1} = c_i Q_i$, $c_i = A/D(N_i)$ ($D(N) = N - 1$ unbiased, "
         "$N$ MLE), and $Q_0 \\sim W_d(k, \\Sigma)$ (the $M$ real points). Adding $M$ points of model $i$ (mean "
         "$\\bar y$, scatter $S$): $Q_i = Q_{i-1} + S + \\frac{N_{i-1} M}{N_i}(\\bar y - m_{i-1})(\\bar y - m_{i-1})"
         "^{\\top}$ (checked symbolically for a pool of 3 points plus 2 in $d = 2$). Given the past, "
         "$S \\sim W_d(k, \\Sigma_i)$ and $\\bar y - m_{i-1} \\sim N(0, \\Sigma_i/M)$ independently, so with "
         "$Q = Q_{i-1}$:"), "",
        ("$$Q_i = Q^{1/2} G_i Q^{1/2}, \\qquad G_i = I + c_{i-1}\\left(W + \\beta_i\\, g g^{\\top}\\right), \\quad "
         "W \\sim W_d(k, I),\\ g \\sim N(0, I),\\ \\beta_i = N_{i-1}/N_i = \\tfrac{i}{i+1},$$"), "",
        ("independent of the past and orthogonally invariant in law (so any square root of $Q$ gives the same "
         "law). Its moments (at $d = 2$ from the Bartlett factors and `sympy.stats` normals, every index pattern; "
         "for every $d$ from section 1's Wishart tensor and Isserlis' theorem for $g$, independent):"), "",
        (f"$$\\mathbb{{E}}\\,G = g_1 I, \\quad \\mathbb{{E}}\\left[G_{{ab}} G_{{cd}}\\right] = g_1^2\\,\\delta_{{ab}}"
         f"\\delta_{{cd}} + q\\,(\\delta_{{ac}}\\delta_{{bd}} + \\delta_{{ad}}\\delta_{{bc}}), \\quad g_1 = {_tex(g1)},"
         f"\\ q = {_tex(q)}.$$"), "",
        ("Contracting against a generic symmetric $Q$ ($d = 3$; $\\operatorname{tr} Q_i = \\operatorname{tr}(QG)$, "
         "$\\operatorname{tr}\\left(Q_i^2\\right) = \\operatorname{tr}(QGQG)$):"), "",
        (f"$$\\begin{{pmatrix}} \\mathbb{{E}}\\left[(\\operatorname{{tr}} Q_i)^2\\right] \\\\ \\mathbb{{E}}"
         f"\\operatorname{{tr}}\\left(Q_i^2\\right) \\end{{pmatrix}} = {_tex(matrix)} \\begin{{pmatrix}} "
         f"(\\operatorname{{tr}} Q)^2 \\\\ \\operatorname{{tr}}\\left(Q^2\\right) \\end{{pmatrix}}, \\qquad "
         f"\\mathbb{{E}}"
         f"\\operatorname{{tr}} Q_i = g_1 \\operatorname{{tr}} Q,$$"), "",
        ("a non-autonomous 2x2 linear recursion ($c$ and $\\beta$ change with $i$) started from section 1's "
         "identities for $Q_0$. The module walks it as (mean, variance, second invariant): "
         "$V_i = g_1^2 V_{i-1} + 2q\\,\\mathbb{E}\\operatorname{tr}\\left(Q_{i-1}^2\\right)$ (checked equal to "
         "$\\mathbb{E}\\left[(\\operatorname{tr}Q_i)^2\\right] - \\left(\\mathbb{E}\\operatorname{tr}Q_i\\right)^2$), "
         "every term positive, and $\\operatorname{Var}\\operatorname{tr}\\Sigma_n = c_{n-1}^2 V_{n-1}$. The same "
         "recursion with $\\operatorname{tr}(A Q)$ for a fixed symmetric $A$ gives "
         "$\\mathbb{E}\\operatorname{tr}\\left((\\Sigma\\Sigma_n)^2\\right)$ ($A = \\Sigma$), used for the $W_2$ "
         "bound below."), "",
        ("**Determinant.** $\\det Q_i = \\det Q_{i-1} \\det G_i$. Write $W + \\beta g g^{\\top} = Z B Z^{\\top}$ with "
         "$Z$ a $d \\times M$ standard normal matrix and $B = \\operatorname{diag}(1, \\dots, 1, \\beta)$; "
         "$\\det(I + cX) = \\sum_j c^j e_j(X)$ (sum of principal $j$-minors), and by Cauchy-Binet a principal "
         "$j$-minor $\\det(Z_J B Z_J^{\\top}) = \\sum_{|K| = j} \\det(Z_{JK})^2 \\prod_{m \\in K} B_{mm}$ has mean "
         "$j!\\,e_j(B)$ (a $j \\times j$ standard normal matrix $Z$ has $\\mathbb{E}\\left[(\\det Z)^2\\right] = j!$; "
         "checked at $j = 2$ with three "
         "columns). So"), "",
        f"$$\\mathbb{{E}}\\det G = {_tex(cb)},$$", "",
        ("checked at $d = 2$ against the expectation of $\\det G$ computed directly from the Bartlett factors and "
         "normals. With $\\mathbb{E}\\det Q_0 = \\det\\Sigma\\, k(k-1)\\cdots(k-d+1)$: "
         "$\\mathbb{E}\\det\\Sigma_n = c_{n-1}^d \\det\\Sigma \\prod_{j<d}(k-j) \\prod_{i=1}^{n-1}\\mathbb{E}\\det "
         "G_i$."),
        "",
        ("**Checked against the toolkit**: the recursion and the product above iterated here in exact rational "
         "arithmetic ($\\Sigma = I$, $A = 1$, $n \\in \\{2, 5, 50\\}$) against `multivariate_exact_values`' "
         "`trace_var` and `det_mean`:"), "",
        "| d | M | learner | largest relative difference |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['d']} | {row['M']} | {row['learner']} | {row['max_rel_diff']:.2e} |")
    lines += [
        "",
        ("**$\\mathbb{E}\\log\\det\\Sigma_n$** has no closed form under accumulate ($\\mathbb{E}\\log\\det G_i$ does "
         "not reduce to chi-squares), so it is `None`, with exact bounds. Upper: Jensen per step, "
         "$\\mathbb{E}\\log\\det G_i \\le \\log\\mathbb{E}\\det G_i$, and globally $\\mathbb{E}\\log\\det\\Sigma_n "
         "\\le "
         "\\log\\det\\mathbb{E}\\,\\Sigma_n = d\\log v_n + \\log\\det\\Sigma$ ($\\log\\det$ is concave). Lower: "
         "$G_i \\succeq I + cW$, Minkowski's determinant inequality $\\det(I + cW)^{1/d} \\ge 1 + c\\det(W)^{1/d}$, "
         "and Jensen on the convex $x \\mapsto \\log(1 + e^x)$ (second derivative "
         f"${_tex(second)} \\ge 0$, checked): $\\mathbb{{E}}\\log\\det G_i \\ge d\\log\\left(1 + c\\,"
         "e^{\\ell/d}\\right)$, $\\ell = \\mathbb{E}\\log\\det W = \\sum_{j=1}^{d}\\left(\\psi\\left(\\tfrac{k-j+1}{2}"
         "\\right) + \\log 2\\right)$."), "",
        ("**$\\mathbb{E}\\left[W_2^2\\right]$** (Bures-Wasserstein) has no closed form. Lower bound under every "
         "workflow: a "
         "coupling of $p_n$ and $p_0$ couples the projections on an orthonormal basis, so $W_2^2 \\ge \\sum_j "
         "W_2^2(u_j^{\\top} p_n, u_j^{\\top} p_0)$, each the 1-D chain (section 4): $\\mathbb{E}\\left[W_2^2\\right] "
         "\\ge "
         "\\operatorname{tr}\\Sigma$ times the 1-D chain's lower bound at $\\sigma = 1$. Upper: the independent "
         "coupling, $\\mathbb{E}\\left[W_2^2\\right] \\le \\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] + "
         "\\mathbb{E}\\operatorname{tr}"
         "\\Sigma_n + \\operatorname{tr}\\Sigma$; under accumulate also, with $X = "
         "\\Sigma^{1/2}\\Sigma_n\\Sigma^{1/2}$, "
         "Hoelder's $\\operatorname{tr}\\left(X^{1/2}\\right) \\ge (\\operatorname{tr} X)^{3/2} / "
         "\\left(\\operatorname{tr}\\left(X^2\\right)\\right)^{1/2}$ "
         "and the joint convexity of $(a, b) \\mapsto a^{3/2} b^{-1/2}$ (a perspective; its Hessian has nonnegative "
         "diagonal and determinant 0, checked): $\\mathbb{E}\\operatorname{tr}\\left(X^{1/2}\\right) \\ge "
         "\\left(\\mathbb{E}"
         "\\operatorname{tr}X\\right)^{3/2} / "
         "\\left(\\mathbb{E}\\operatorname{tr}\\left(X^2\\right)\\right)^{1/2}$."), ""]
    return lines


def _section_paper() -> list[str]:
    rows = paper_bound_rows()
    lines = [
        "## 7. The paper's multivariate lower bound", "",
        ("The paper states $\\mathbb{E}\\left[W_2^2\\right] \\ge \\operatorname{tr}\\Sigma \\sum_i 1/M_i$ (up to "
         "higher orders). "
         "$W_2^2(p_n, p_0) \\ge \\lVert\\mu_n - \\mu\\rVert^2$, and for the unbiased learner with $A = 1$ "
         "$r = 1$, so $\\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] = n\\operatorname{tr}\\Sigma/M$ "
         "exactly: the bound "
         "holds for every $n$ and $d$. For the MLE, $\\mathbb{E}\\left[W_2^2\\right] \\le "
         "\\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] "
         "+ \\mathbb{E}\\operatorname{tr}\\Sigma_n + \\operatorname{tr}\\Sigma \\le 2\\operatorname{tr}\\Sigma$ "
         "(the MLE keeps $\\mathbb{E}\\left[\\lVert\\mu_n - \\mu\\rVert^2\\right] + "
         "\\mathbb{E}\\operatorname{tr}\\Sigma_n = "
         "\\operatorname{tr}\\Sigma$) while $n\\operatorname{tr}\\Sigma/M$ grows, so it fails once $n$ is a few times "
         "$M$. The verdicts below compare $n\\operatorname{tr}\\Sigma/M$ with the exact bounds of "
         "`w2_sq_bounds` (holds: lower bound $\\ge$ it; fails: upper bound $<$ it), computed when rendering; the "
         "accumulate rows apply the same comparison to that workflow."), "",
        "| d | M | covariance | learner | workflow | n | lower | upper | n tr Sigma / M | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['d']} | {r['M']} | {r['covariance']} | {r['learner']} | {r['workflow']} | "
                     f"{r['generation']} | {r['lower']:.6g} | {r['upper']:.6g} | {r['paper']:.6g} | {r['verdict']} |")
    unbiased = [r for r in rows if r["learner"] == "unbiased" and r["workflow"] == "replace"]
    mle = [r for r in rows if r["learner"] == "mle" and r["workflow"] == "replace"]
    holds = all(r["verdict"] == "holds" for r in unbiased)
    first_fail = {}
    for r in mle:
        if r["verdict"] == "fails":
            key = (r["d"], r["M"], r["covariance"])
            first_fail.setdefault(key, r["generation"])
    fails = "; ".join(f"d = {d}, M = {m} ({cov}): from n = {g} on" for (d, m, cov), g in first_fail.items())
    lines += ["", (f"**Verdict (computed when rendering): unbiased, A = 1: {'holds at every n' if holds else 'FAILS'}"
                   f"; MLE: fails ({fails}).**"), ""]
    return lines


def render() -> str:
    lines = ["# Exact theory of the multivariate Gaussian chain: Wishart moments, the volume's collapse, workflows",
             "", "<!-- Generated by `python -m theory.numeric._multivariate_proofs`; do not edit. -->", "",
             ("Every formula below was printed from, or checked against, SymPy objects computed when this file was "
              "rendered; every stated identity was checked to simplify to zero, and every number was computed by the "
              "toolkit at the same time (`theory/numeric/_multivariate_proofs.py`; "
              "`tests/test_multivariate_proofs.py` fails when this file is stale). The evaluation itself is "
              "documented in `theory/numeric/_multivariate_exact.py`. Notation: $d$ the dimension, $M$ the sample "
              "size, $k = M - 1$, $A$ the multiplier, $c = A/D$ with the learner's divisor $D$, "
              "$r = ck$."), ""]
    lines += _section_wishart() + _section_trace() + _section_det() + _section_marginals()
    lines += _section_accumulate() + _section_mix() + _section_paper()
    return "\n".join(lines)


def write(directory: pathlib.Path) -> pathlib.Path:
    return write_documents(directory, {NAME: render()})[0]


if __name__ == "__main__":  # pragma: no cover
    print(write(target_directory(sys.argv)))
