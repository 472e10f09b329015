"""Moment systems of the non-replace workflows, derived from the one-step laws and closed automatically.

Units: ``sigma = 1``, ``mu = 0``; a model is ``N(d, v)`` with ``d = (mu_i - mu)/sigma``, ``v = sigma_i^2/sigma^2``.

**One step as groups.** Given the state, a training set is a union of independent Gaussian groups ``g`` of
``m_g`` points with total weight ``W_g`` in the fit (``sum_g W_g = 1``). A group drawn from ``N(d_g, v_g)`` has the
mean ``G_g = d_g + sqrt(v_g/m_g) Z_g`` and the scatter (sum of squares about its mean) ``v_g C_g``,
``Z_g ~ Normal(0, 1)``, ``C_g ~ ChiSquared(m_g - 1)``, all independent (Cochran). A group already fixed (the
reused real points of ``mix-fixed``, the pool of ``accumulate``) enters with its state-valued mean and scatter. The
weighted fit (every point of group ``g`` weighted ``W_g/m_g``, see :mod:`theory.chain._workflow`) has

* mean ``sum_g W_g G_g``;
* weighted sum of squares ``Q = sum_g (W_g/m_g) scatter_g + sum_g W_g (G_g - mean)^2`` (within + between);
* variance ``A Q / div`` with ``div = 1 - sum_g W_g^2/m_g`` (unbiased, reliability weights) or ``1`` (mle).

So the next state is a polynomial in the state, the ``Z_g`` and the ``C_g`` (and ``sqrt`` of variances, which only
survive in even powers). The conditional expectation of a state monomial is taken term by term with the moments
of ``Normal`` and ``ChiSquared`` from :mod:`sympy.stats`; the monomials that appear are added to the basis and the
process repeated until it closes (:func:`derive_system`). Every monomial of odd total degree in the means
``(d, e, a)`` has expectation 0 (the law is symmetric under ``x -> -x`` about ``mu``) and is dropped.

**The workflows' states** (the step parameters in brackets; each enters the transition as a symbol):

* ``mix`` [``M, R, w, A``]: ``(d, v)``; ``R`` fresh real points of weight ``w`` and ``M - R`` synthetic ones.
* ``mix-fixed`` [``M, R, w, A``]: ``(d, v, e, s)``, ``e`` the mean and ``s`` the scatter of the ``R`` real
  points, drawn once (``e ~ N(0, 1/R)``, ``s ~ ChiSquared(R - 1)``, independent of generation 0) and never changed.
* ``accumulate`` [``N, M, A``]: ``(a, S)``, the pool's mean and scatter (``N`` points); the model is the fit to
  the pool, ``d = a``, ``v = A S/div(N)`` (:data:`MODEL`). A step merges ``M`` samples of the model into the pool
  (mean and scatter of a union of groups). The state is that of generation ``n >= 1`` (pool ``P_{n-1}``); the
  first pool is ``M_0`` real points (``a ~ N(0, 1/M_0)``, ``S ~ ChiSquared(M_0 - 1)``).
* ``accumulate-subsample``: ``(a, S, d, v)``, pool and model (the model is not a function of the pool); ``N = 0``,
  ``a = S = 0`` before step 0.
  [``N, M, A, K``]: after the merge the model is fitted to ``K`` points drawn without
  replacement from it. Given the pool, the subsample's mean has conditional mean ``a'`` and variance ``c_1 S'`` and
  its scatter conditional mean ``c_2 S'`` (:func:`subsample_moments`, derived from the inclusion probabilities of
  a uniform ``K``-subset); the model enters the step as ``d' = a' + sqrt(c_1 S') Z``, ``v' = A c_2 S'/div(K)``,
  which reproduces every conditional moment of total degree ``<= 2`` (weights: means 1, variances 2): this
  second-order system (5 monomials) gives the limits. The fourth-order system (:func:`derive_subsample_fourth`,
  22 monomials) needs the pool's third and fourth moments: its state is the pool's power sums ``P_1..P_4`` and the
  model ``(d, v)``, and the subsample's conditional moments come from set partitions of the inclusion indicators
  (probabilities ``phi_r = (K)_r/(N')_r``) with Moebius inversion to power sums.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import sympy as sp
from sympy.stats import ChiSquared, E, Normal

from ._symbols import A, M

d, e, a = sp.symbols("d e a", real=True)
v, s, S = sp.symbols("v s S", positive=True)
R = sp.Symbol("R", integer=True, positive=True)
w = sp.Symbol("w", positive=True)
N = sp.Symbol("N", integer=True, nonnegative=True)
K = sp.Symbol("K", integer=True, positive=True)

MEANS = (d, e, a)
"""The mean-like state variables (odd total degree in them has expectation 0)."""

SECOND_ORDER = (d**2, v)
FOURTH_ORDER = (d**2, v, d**4, d**2 * v, v**2)

SHAPES = {
    "mix": ("both", "real", "synthetic"),
    "mix-fixed": ("both", "real", "synthetic"),
    "accumulate": ("pool",),
    "accumulate-subsample": ("pool",),
}
"""The derivations per workflow: ``both`` (``0 < R < M``), ``real`` (``R = M``), ``synthetic`` (``R = 0``)."""

PARAMETERS = {
    "mix": (M, R, w, A),
    "mix-fixed": (M, R, w, A),
    "accumulate": (N, M, A),
    "accumulate-subsample": (N, M, A, K),
}
STATE_VARIABLES = {"mix": (d, v), "mix-fixed": (d, v, e, s), "accumulate": (a, S),
                   "accumulate-subsample": (a, S, d, v)}


# ---------------------------------------------------------------------------------------------- one-step laws
_nu = sp.Symbol("nu", positive=True)


@cache
def normal_moment(k: int) -> sp.Expr:
    """``E Z^k``, ``Z ~ Normal(0, 1)`` (sympy.stats)."""
    return sp.sympify(E(Normal("Z", 0, 1) ** k))


@cache
def chi_square_moment(k: int) -> sp.Expr:
    """``E C^k`` for ``C ~ ChiSquared(nu)`` as a polynomial in ``nu`` (sympy.stats)."""
    return sp.factor(E(ChiSquared("C", _nu) ** k))


@dataclasses.dataclass(frozen=True)
class Group:
    """``size`` points of total weight ``weight``; ``mean`` and ``scatter`` as expressions (state and noise)."""

    size: sp.Expr
    weight: sp.Expr
    mean: sp.Expr
    scatter: sp.Expr


class _Noise:
    """Fresh independent noise symbols with their laws."""

    def __init__(self):
        self.laws: dict = {}

    def normal(self) -> sp.Symbol:
        z = sp.Symbol(f"Z{len(self.laws)}", real=True)
        self.laws[z] = ("normal", None)
        return z

    def chi_square(self, dof) -> sp.Symbol:
        c = sp.Symbol(f"C{len(self.laws)}", positive=True)
        self.laws[c] = ("chi2", sp.sympify(dof))
        return c

    def sample(self, size, weight, mean, variance) -> Group:
        """A group of ``size`` fresh points from ``N(mean, variance)``."""
        z, c = self.normal(), self.chi_square(size - 1)
        return Group(size, weight, mean + sp.sqrt(variance / size) * z, variance * c)

    def moment(self, symbol: sp.Symbol, k: int) -> sp.Expr:
        law, dof = self.laws[symbol]
        if law == "normal":
            return normal_moment(k)
        return chi_square_moment(k).subs(_nu, dof)


def fit(groups, learner: str):
    """``(mean, variance)`` of the weighted fit to a union of groups (module doc), variance times ``A``."""
    mean = sum(g.weight * g.mean for g in groups)
    q = sum(g.weight / g.size * g.scatter for g in groups) + sum(g.weight * (g.mean - mean) ** 2 for g in groups)
    div = 1 - sum(g.weight**2 / g.size for g in groups) if learner == "unbiased" else sp.S.One
    return mean, A * q / div


def merge(groups):
    """``(size, mean, scatter)`` of the union of groups (plain weights ``m_g / size``)."""
    size = sum(g.size for g in groups)
    mean = sum(g.size * g.mean for g in groups) / size
    scatter = sum(g.scatter for g in groups) + sum(g.size * (g.mean - mean) ** 2 for g in groups)
    return size, mean, scatter


@cache
def subsample_moments() -> tuple:
    """``(c_1, c_2)``: given a pool of ``N`` points with mean ``a`` and scatter ``S``, a uniform ``K``-subset has
    ``E[mean] = a``, ``Var[mean] = c_1 S`` and ``E[scatter] = c_2 S``.

    Derived from the inclusion indicators ``I_j`` of the subset: ``P(I_j = 1) = C(N-1, K-1)/C(N, K)``,
    ``P(I_j I_k = 1) = C(N-2, K-2)/C(N, K)`` (``j != k``), with the pool's power sums ``p_1 = N a``,
    ``p_2 = S + N a^2``: ``E (sum I_j x_j)^2 = pi_1 p_2 + pi_2 (p_1^2 - p_2)``, ``E sum I_j x_j^2 = pi_1 p_2``.
    """
    pi1 = sp.simplify(sp.combsimp(sp.binomial(N - 1, K - 1) / sp.binomial(N, K)))
    pi2 = sp.simplify(sp.combsimp(sp.binomial(N - 2, K - 2) / sp.binomial(N, K)))
    p1, p2 = N * a, S + N * a**2
    mean = sp.simplify(pi1 * p1 / K)
    if sp.simplify(mean - a) != 0:
        raise AssertionError(f"subsample mean is not unbiased: {mean}")
    second = (pi1 * p2 + pi2 * (p1**2 - p2)) / K**2
    c1 = sp.factor(sp.simplify((second - a**2) / S))
    scatter = pi1 * p2 - K * second
    c2 = sp.factor(sp.simplify(scatter / S))
    if c1.has(a) or c2.has(a) or c1.has(S) or c2.has(S):
        raise AssertionError("subsample moments are not proportional to the pool scatter")
    return c1, c2


# ---------------------------------------------------------------------------------------------- one step per workflow
def step(kind: str, learner: str, shape: str):
    """``(new state {variable: expression}, noise)`` of one step."""
    noise = _Noise()
    if kind in ("mix", "mix-fixed"):
        groups = []
        if shape in ("both", "real"):
            weight = w if shape == "both" else sp.S.One
            if kind == "mix":
                groups.append(noise.sample(R if shape == "both" else M, weight, sp.S.Zero, sp.S.One))
            else:
                groups.append(Group(R if shape == "both" else M, weight, e, s))
        if shape in ("both", "synthetic"):
            size = M - R if shape == "both" else M
            groups.append(noise.sample(size, 1 - w if shape == "both" else sp.S.One, d, v))
        mean, var = fit(groups, learner)
        new = {d: mean, v: var}
        if kind == "mix-fixed":
            new.update({e: e, s: s})
        return new, noise
    if kind in ("accumulate", "accumulate-subsample"):
        pool = Group(N, N / (N + M), a, S)
        model = model_of(kind, learner)
        new_points = noise.sample(M, M / (N + M), model[d], model[v])
        size, mean, scatter = merge([pool, new_points])
        new = {a: mean, S: scatter}
        if kind == "accumulate-subsample":
            c1, c2 = subsample_moments()
            c1, c2 = c1.subs(N, size), c2.subs(N, size)
            div = K - 1 if learner == "unbiased" else K
            new.update({d: mean + sp.sqrt(c1 * scatter) * noise.normal(), v: A * c2 * scatter / div})
        return new, noise
    raise ValueError(kind)


def model_of(kind: str, learner: str) -> dict:
    """The model ``{d: ..., v: ...}`` in terms of the state (``accumulate``: the fit to the pool of ``N`` points)."""
    if kind == "accumulate":
        return {d: a, v: A * S / (N - 1 if learner == "unbiased" else N)}
    return {d: d, v: v}


def targets_of(kind: str, learner: str) -> tuple:
    """The monomials the outputs need: ``d^2, v`` (and ``d^4, d^2 v, v^2``), written in the state."""
    wanted = SECOND_ORDER if kind == "accumulate-subsample" else FOURTH_ORDER
    model = model_of(kind, learner)
    out = []
    for mono in wanted:
        expr = sp.expand(mono.subs(model, simultaneous=True))
        for term in sp.Add.make_args(expr):
            state_part = sp.Mul(*[b**p for b, p in term.as_powers_dict().items() if b in STATE_VARIABLES[kind]])
            if state_part not in out:
                out.append(state_part)
    return tuple(out)


def _odd_in_means(monomial_powers: dict) -> bool:
    return sum(monomial_powers.get(x, 0) for x in MEANS) % 2 == 1


def expect(expr: sp.Expr, noise: _Noise, state) -> dict:
    """``E[expr | state]`` as ``{state monomial: coefficient}`` (``1`` for the constant), odd ones dropped."""
    out: dict = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        factor, rest = sp.S.One, sp.S.One
        for base, power in term.as_powers_dict().items():
            if base in noise.laws:
                factor *= noise.moment(base, int(power))
            else:
                rest *= base**power
        if factor == 0:
            continue
        coeff, mono = sp.S.One, sp.S.One
        for base, power in rest.as_powers_dict().items():
            if base in state:
                if not (power.is_Integer and power > 0):
                    raise AssertionError(f"a non-polynomial power of the state survived: {term}")
                mono *= base**power
            else:
                coeff *= base**power
        if _odd_in_means(mono.as_powers_dict()):
            continue
        out[mono] = out.get(mono, sp.S.Zero) + factor * coeff
    out = {k: sp.factor(sp.cancel(c)) for k, c in out.items()}
    return {k: c for k, c in out.items() if c != 0}


@dataclasses.dataclass(frozen=True)
class MomentSystem:
    """``E b(n+1) = T E b(n) + c`` over the basis ``b`` of state monomials.

    ``rows[i]`` is ``{basis index: coefficient}`` and ``constants[i]`` the constant of ``E b_i(n+1)``; both are
    expressions in :data:`PARAMETERS` of the workflow.
    """

    kind: str
    learner: str
    shape: str
    basis: tuple
    rows: tuple
    constants: tuple


def derive_system(kind: str, learner: str, shape: str, targets=None) -> MomentSystem:
    """Derive and close the moment system (module doc): start from ``targets`` (``E d^2, E v`` and the fourth
    order ``E d^4, E d^2 v, E v^2``; second order only for ``accumulate-subsample``) and add every monomial that
    appears in a conditional expectation until none is new."""
    if targets is None:
        targets = targets_of(kind, learner)
    new, noise = step(kind, learner, shape)
    state = set(STATE_VARIABLES[kind])
    basis, expectations, queue = [], {}, list(targets)
    while queue:
        mono = queue.pop(0)
        if mono in expectations:
            continue
        nxt = mono.subs(new, simultaneous=True)
        expectations[mono] = expect(nxt, noise, state)
        basis.append(mono)
        for other in expectations[mono]:
            if other != 1 and other not in expectations and other not in queue:
                queue.append(other)
    index = {mono: i for i, mono in enumerate(basis)}
    rows = tuple({index[m]: c for m, c in expectations[b].items() if m != 1} for b in basis)
    constants = tuple(expectations[b].get(sp.S.One, sp.S.Zero) for b in basis)
    return MomentSystem(kind, learner, shape, tuple(basis), rows, constants)


def initial_moment(kind: str, monomial: sp.Expr) -> sp.Expr:
    """``E monomial`` at the start (sympy.stats): generation 0 (``d = 0``, ``v = 1``; ``accumulate-subsample``'s
    empty pool ``a = S = 0``; for ``mix-fixed`` the real points' ``e ~ N(0, 1/R)`` and ``s ~ ChiSquared(R - 1)``,
    independent of generation 0), and for ``accumulate`` generation 1: the first pool of ``M`` real points,
    ``a ~ N(0, 1/M)``, ``S ~ ChiSquared(M - 1)``, independent."""
    powers = monomial.as_powers_dict()
    if kind == "accumulate":
        value = E((Normal("Z", 0, 1) / sp.sqrt(M)) ** powers.get(a, 0))
        return sp.factor(value * chi_square_moment(int(powers.get(S, 0))).subs(_nu, M - 1))
    if powers.get(d, 0) or powers.get(a, 0) or powers.get(S, 0):
        return sp.S.Zero
    value = sp.S.One
    if powers.get(e, 0):
        value *= E((Normal("Z", 0, 1) / sp.sqrt(R)) ** powers[e])
    if powers.get(s, 0):
        value *= chi_square_moment(int(powers[s])).subs(_nu, R - 1)
    return sp.factor(value)


def derive_workflow(kind: str, learner: str) -> dict:
    """``{"basis": [...], shape: [T rows (full lists), constants], ..., "initial": [...]}``: every shape of the
    workflow on the basis closed from the main shape (``both`` or ``pool``); the other shapes' systems are closed
    from that whole basis (and must stay within it)."""
    main = derive_system(kind, learner, SHAPES[kind][0])
    basis = list(main.basis)
    out = {"basis": basis}
    for shape in SHAPES[kind]:
        system = main if shape == SHAPES[kind][0] else derive_system(kind, learner, shape, targets=main.basis)
        index = {mono: i for i, mono in enumerate(system.basis)}
        if not set(system.basis) <= set(basis):
            raise AssertionError(f"{kind}/{shape}: the basis grew beyond the main shape's")
        rows = []
        for mono in basis:
            row = system.rows[index[mono]]
            full = [sp.S.Zero] * len(basis)
            for j, coeff in row.items():
                full[basis.index(system.basis[j])] = coeff
            rows.append(full)
        out[shape] = [rows, [system.constants[index[mono]] for mono in basis]]
    out["initial"] = [initial_moment(kind, mono) for mono in basis]
    model = model_of(kind, learner)
    wanted = (d**2, v) if kind == "accumulate-subsample" else (d**2, v, v**2)
    outputs = []
    for mono in wanted:  # E d^2, E v, E v^2 as combinations of the basis (coefficients in N, A)
        expr = sp.expand(mono.subs(model, simultaneous=True))
        vector = [sp.S.Zero] * len(basis)
        for term in sp.Add.make_args(expr):
            powers = term.as_powers_dict()
            state_part = sp.Mul(*[b**p for b, p in powers.items() if b in STATE_VARIABLES[kind]])
            vector[basis.index(state_part)] += sp.factor(term / state_part)
        outputs.append(vector)
    out["outputs"] = outputs
    return out


def workflow_system(kind: str, learner: str) -> dict:
    """:func:`derive_workflow`, cached across processes (:mod:`theory.symbolic._cache`)."""
    from ._cache import cached

    allowed = set(PARAMETERS[kind]) | set(STATE_VARIABLES[kind])

    def check(value) -> bool:
        if not (isinstance(value, dict) and set(value) == {"basis", "initial", "outputs", *SHAPES[kind]}):
            return False
        size = len(value["basis"])
        for shape in SHAPES[kind]:
            rows, constants = value[shape]
            if len(rows) != size or len(constants) != size or any(len(r) != size for r in rows):
                return False
            if not all(sp.sympify(x).free_symbols <= allowed for r in rows for x in r):
                return False
        return len(value["initial"]) == size and all(len(o) == size for o in value["outputs"])

    return cached(f"workflow_{kind.replace('-', '_')}_{learner}", lambda: derive_workflow(kind, learner), check)


# ---------------------------------------------------------------------------------------------- subsample, 4th order
P1, P3 = sp.symbols("P1 P3", real=True)
P2, P4 = sp.symbols("P2 P4", positive=True)
POWER_SUMS = (P1, P2, P3, P4)
PHI = sp.symbols("phi1:5", nonnegative=True)
"""``phi_r = (K)_r/(N')_r`` (falling factorials): the probability that ``r`` given distinct pool points are all
in a uniform ``K``-subset of the ``N'`` pool points (``0`` when ``K < r``); kept as symbols so that no
``0/0`` appears for pools smaller than 4."""
SUBSAMPLE4_PARAMETERS = (N, M, A, K, *PHI)
_WEIGHT4 = {P1: 1, P2: 2, P3: 3, P4: 4, d: 1, v: 2}


def _set_partitions(r: int):
    from sympy.utilities.iterables import multiset_partitions

    if r == 0:
        return [[]]
    return list(multiset_partitions(list(range(r))))


def _mobius_power_sums(exponents) -> sp.Expr:
    """``sum over distinct indices j_1..j_s of prod_b x_{j_b}^{e_b}`` in power sums ``P_k = sum_j x_j^k``
    (Moebius inversion on the partition lattice: ``sum_sigma prod_C (-1)^(|C|-1) (|C|-1)! P_{e_C}``)."""
    total = sp.S.Zero
    for sigma in _set_partitions(len(exponents)):
        term = sp.S.One
        for block in sigma:
            e = sum(exponents[i] for i in block)
            term *= (-1) ** (len(block) - 1) * sp.factorial(len(block) - 1) * POWER_SUMS[e - 1]
        total += term
    return total


def _subsample_product(exponents) -> sp.Expr:
    """``E[prod_i sum_j I_j x_j^{e_i} | pool]`` for a uniform subset (indicators ``I_j``): sum over set partitions
    of the factors of ``phi_{#blocks}`` times the distinct-index sum of the merged powers."""
    total = sp.S.Zero
    for pi in _set_partitions(len(exponents)):
        merged = [sum(exponents[i] for i in block) for block in pi]
        total += PHI[len(pi) - 1] * _mobius_power_sums(merged)
    return total if exponents else sp.S.One


def _iid_product(powers, mean, variance) -> sp.Expr:
    """``E[prod_i sum_{j<=M} x_j^{k_i}]`` for ``M`` i.i.d. points ``x = mean + sqrt(variance) Z``: sum over set
    partitions of the factors of ``(M)_{#blocks} prod_blocks E[x^(sum of the block's powers)]`` (sympy.stats)."""
    z = sp.Symbol("Zpt", real=True)
    total = sp.S.Zero
    for pi in _set_partitions(len(powers)):
        falling = sp.Mul(*[M - i for i in range(len(pi))])
        term = falling
        for block in pi:
            k = sum(powers[i] for i in block)
            poly = sp.Poly(sp.expand((mean + sp.sqrt(variance) * z) ** k), z)
            term *= sum(c * normal_moment(e[0]) for e, c in poly.terms())
        total += term
    return sp.expand(total)


def _conditional_model(a_pow: int, b_pow: int, learner: str) -> sp.Expr:
    """``E[d'^a v'^b | pool]`` for the fit to the subsample: ``d' = T_1/K``, ``v' = A (T_2 - T_1^2/K)/div(K)``,
    ``T_k = sum_j I_j x_j^k``, as a polynomial in the pool's power sums and ``phi``."""
    t1, t2 = sp.symbols("T1 T2")
    div = K - 1 if learner == "unbiased" else K
    expr = sp.expand((t1 / K) ** a_pow * (A * (t2 - t1**2 / K) / div) ** b_pow)
    out = sp.S.Zero
    for (p, q), coeff in sp.Poly(expr, t1, t2).terms():
        out += coeff * _subsample_product([1] * p + [2] * q)
    return sp.expand(out)


def derive_subsample_fourth(learner: str) -> dict:
    """The fourth-order moment system of ``accumulate-subsample`` over the pool's power sums about ``mu``
    (``P_k = sum_j (x_j - mu)^k / sigma^k``, ``k <= 4``) and the model ``(d, v)``: a step merges ``M`` points of the
    model into the pool (``P_k += sum_j x_j^k``, set-partition expectation over i.i.d. points) and draws the next
    model from a uniform ``K``-subset of the pool (set-partition expectation over inclusion indicators with
    ``phi_r``, Moebius inversion to power sums). Returns :func:`derive_workflow`'s shape with the shape ``pool``
    (parameters :data:`SUBSAMPLE4_PARAMETERS`)."""
    state = set(POWER_SUMS) | {d, v}
    targets = list(FOURTH_ORDER)
    basis, expectations, queue = [], {}, list(targets)
    while queue:
        mono = queue.pop(0)
        if mono in expectations:
            continue
        powers = mono.as_powers_dict()
        # E[model part | new pool] as a polynomial in the new pool's power sums
        model = _conditional_model(int(powers.get(d, 0)), int(powers.get(v, 0)), learner)
        pool_part = sp.Mul(*[s**powers.get(s, 0) for s in POWER_SUMS])
        expr = sp.expand(model * pool_part)  # in P' (new pool) and phi
        result = sp.S.Zero
        for term in sp.Add.make_args(expr):
            tp = term.as_powers_dict()
            coeff = sp.Mul(*[b**e for b, e in tp.items() if b not in POWER_SUMS])
            # P'_k = P_k + Q_k: expand the product, E over the new points given (d, v)
            factors = sp.expand(sp.Mul(*[(s + sp.Symbol(f"Q{i + 1}")) ** tp.get(s, 0)
                                         for i, s in enumerate(POWER_SUMS)]))
            qs = sp.symbols("Q1:5")
            for sub in sp.Add.make_args(factors):
                sp_ = sub.as_powers_dict()
                qpowers = [i + 1 for i, q in enumerate(qs) for _ in range(int(sp_.get(q, 0)))]
                rest = sp.Mul(*[b**e for b, e in sp_.items() if b not in qs])
                result += coeff * rest * _iid_product(qpowers, d, v)
        out: dict = {}
        for term in sp.Add.make_args(sp.expand(result)):
            tp = term.as_powers_dict()
            mono2 = sp.Mul(*[b**e for b, e in tp.items() if b in state])
            if sum(_WEIGHT4[b] * e for b, e in mono2.as_powers_dict().items() if b in _WEIGHT4) % 2:
                continue
            out[mono2] = out.get(mono2, sp.S.Zero) + term / mono2
        out = {k: sp.factor(sp.cancel(c)) for k, c in out.items()}
        expectations[mono] = {k: c for k, c in out.items() if c != 0}
        basis.append(mono)
        for other in expectations[mono]:
            if other != 1 and other not in expectations and other not in queue:
                queue.append(other)
    rows = []
    for mono in basis:
        row = [sp.S.Zero] * len(basis)
        for m2, c in expectations[mono].items():
            if m2 != 1:
                row[basis.index(m2)] = c
        rows.append(row)
    constants = [expectations[mono].get(sp.S.One, sp.S.Zero) for mono in basis]
    initial = [sp.S.One if all(b == v for b in mono.as_powers_dict() if b in state) else sp.S.Zero
               for mono in basis]  # generation 0: empty pool, d = 0, v = 1
    wanted = (d**2, v, v**2)
    outputs = [[sp.S.One if b == w_ else sp.S.Zero for b in basis] for w_ in wanted]
    return {"basis": basis, "pool": [rows, constants], "initial": initial, "outputs": outputs}


def subsample_fourth_system(learner: str) -> dict:
    """:func:`derive_subsample_fourth`, cached across processes (:mod:`theory.symbolic._cache`)."""
    from ._cache import cached

    allowed = set(SUBSAMPLE4_PARAMETERS) | set(POWER_SUMS) | {d, v}

    def check(value) -> bool:
        if not (isinstance(value, dict) and set(value) == {"basis", "pool", "initial", "outputs"}):
            return False
        size = len(value["basis"])
        rows, constants = value["pool"]
        return (len(rows) == size and len(constants) == size and all(len(r) == size for r in rows)
                and all(sp.sympify(x).free_symbols <= allowed for r in rows for x in r)
                and len(value["initial"]) == size)

    return cached(f"workflow_subsample4_{learner}", lambda: derive_subsample_fourth(learner), check)
