r"""Exact moments of the kernel-density-estimate chain (:class:`theory.chain._kde.KDEChain`) for every workflow.

Write ``m_n`` and ``V_n`` for the mean and the variance of model ``n`` (``m_0 = mu``, ``V_0 = sigma^2``). A
Gaussian KDE with bandwidth ``h`` on points ``x_j`` with weights ``omega_j`` has mean ``sum omega_j x_j`` and
variance ``sum omega_j (x_j - mean)^2 + h^2``; its fourth cumulant is the weighted empirical one (the kernel's is
0). Taking expectations of the one-step conditional moments (derived in SymPy in ``proofs/kde.md``, by
:mod:`theory.numeric._kde_proofs`, which checks them against the step functions below) gives *linear* recursions
in a few expectations, so the values below are exact at every ``n`` (up to float64 rounding of the recursion):

``replace`` (``T_i`` = ``M`` draws of model ``i``)
    ``E V_{n+1} = (1 - 1/M) E V_n + h^2``, so ``E V_n = M h^2 + (1 - 1/M)^n (sigma^2 - M h^2)``: the variance
    tends to ``M h^2`` from either side. With ``h^2 < sigma^2/M`` the chain still collapses (to ``M h^2``, not
    to 0); with ``h^2 > sigma^2/M`` (Silverman's ``h = 1.06 sigma M^{-1/5}`` for every ``M >= 2``) it *spreads*,
    to ``M h^2``. ``E (m_{n+1} - mu)^2 = E (m_n - mu)^2 + E V_n / M`` (a random walk of the mean: no limit).
    ``Var V_n`` from the closed system in ``(E V, E V^2, E Q)`` with ``Q`` the model's fourth central moment.
``mix:LAMBDA`` (``R`` fresh real points, weight ``w``; the plain fit ``w = R/M``)
    ``E (m' - mu)^2 = (1-w)^2 [E (m - mu)^2 + E V/(M - R)] + w^2 sigma^2/R`` and
    ``E V' = h^2 + w (1 - w/R) sigma^2 + (1-w)(1 - (1-w)/(M-R)) E V + w (1-w) E (m - mu)^2`` (a weighted KDE).
``mix-fixed:LAMBDA`` (one real set, mean ``rbar``, biased variance ``U``)
    the state ``(E V, E (m - rbar)^2, E (m - rbar)(rbar - mu))``; ``E U = (1 - 1/R) sigma^2``.
``accumulate`` / ``accumulate-subsample:K`` (pool ``P_i`` of ``N_i = (i + 1) M`` points, biased variance ``b_i``,
mean ``a_i``)
    model ``i + 1`` (the KDE on ``K`` points drawn without replacement from ``P_i``; ``K = N_i`` for accumulate):
    ``E V_{i+1} = h^2 + (K-1) N/(K (N-1)) E b_i``, ``E (m_{i+1} - mu)^2 = E (a_i - mu)^2 + (N-K)/((N-1) K) E b_i``;
    its ``M`` draws join the pool: ``N' E b' = N E b + M (1 - 1/N') E V_{i+1} + (N M/N') (N-K)/((N-1)K) E b`` and
    ``N'^2 E (a' - mu)^2 = N'^2 E (a - mu)^2 + M^2 (N-K)/((N-1)K) E b + M E V_{i+1}``. The pool's variance gains
    about ``h^2/(i + 2)`` per step (each generation's draws carry one more ``h^2`` and are a share ``1/(i + 2)`` of
    the pool), so ``E V_n`` grows without bound, like ``h^2 log n`` (accumulate) or ``(1 - 1/K) h^2 log n``
    (subsample); ``E (m_n - mu)^2`` converges under accumulate and grows like ``(h^2/K) log n`` under subsample
    (the subsample's mean misses the pool's by about ``b/K``).

Which moments of ``D_0`` enter: ``mu`` and ``sigma^2`` for every mean, mean-square error and ``E V``; the fourth
central moment (``3 sigma^4`` for the normal source) for ``Var V``. ``E m_n = mu`` under every workflow.
"""

from __future__ import annotations

import math

import numpy as np

from .._errors import ParameterError, check_integer

#: The quantities of :func:`kde_exact_values` (and of the Monte Carlo, :mod:`theory.montecarlo._kde`).
KDE_QUANTITIES: tuple[str, ...] = ("mean_mean", "mean_sq_error", "variance_mean", "variance_var")

DESCRIPTIONS = {
    "mean_mean": "E m_n (the model's mean)",
    "mean_sq_error": "E (m_n - mu)^2",
    "variance_mean": "E V_n (the model's variance: training variance + h^2)",
    "variance_var": "Var V_n",
}


# ------------------------------------------------------------------------------------------------ one-step maps
# Plain arithmetic only (no branches on the sizes), so that theory.numeric._kde_proofs can call them with SymPy
# symbols and check them against its derivation.


def replace_step(state, M, h2):
    """``(E (m - mu)^2, E V, E V^2, E Q) -> `` the same one step later under ``replace`` (``Q``: the model's fourth
    central moment). Draws: ``M`` i.i.d. from the model; ``S``, ``m4`` their biased second and fourth central
    moments; ``V' = S + h^2``, ``Q' = m4 + 6 h^2 S + 3 h^4``."""
    e, v, v2, q = state
    e_s = (M - 1) * v / M  # E S
    e_s2 = (M - 1) * ((M - 1) * q + (M**2 - 2 * M + 3) * v2) / M**3  # E S^2
    e_m4 = (M - 1) * ((M**2 - 3 * M + 3) * q + 3 * (2 * M - 3) * v2) / M**3  # E m4
    return (e + v / M, e_s + h2, e_s2 + 2 * h2 * e_s + h2**2, e_m4 + 6 * h2 * e_s + 3 * h2**2)


def mix_step(state, M, R, w, h2, sigma2):
    """``(E (m - mu)^2, E V) -> `` one step later under ``mix`` with ``0 < R < M`` fresh real points of total
    weight ``w`` (``w = R/M``: the plain fit)."""
    e, v = state
    e_new = (1 - w) ** 2 * (e + v / (M - R)) + w**2 * sigma2 / R
    v_new = h2 + w * (1 - w / R) * sigma2 + (1 - w) * (1 - (1 - w) / (M - R)) * v + w * (1 - w) * e
    return (e_new, v_new)


def mix_fixed_step(state, M, R, w, h2, sigma2):
    """``(E V, E (m - rbar)^2, E (m - rbar)(rbar - mu)) -> `` one step later under ``mix-fixed`` (one real set of
    ``0 < R < M`` points, mean ``rbar``, biased variance ``U`` with ``E U = (1 - 1/R) sigma^2``; weight ``w``)."""
    v, d, c = state
    e_u = (1 - 1 / R) * sigma2
    v_new = h2 + w * e_u + (1 - w) * (1 - (1 - w) / (M - R)) * v + w * (1 - w) * d
    return (v_new, (1 - w) ** 2 * (d + v / (M - R)), (1 - w) * c)


def pool_step(state, M, N, K, h2):
    """Pooling workflows: ``(E b, E (a - mu)^2)`` of the pool ``P_i`` (``N`` points) ``->`` ``((E V, E (m - mu)^2)``
    of model ``i + 1``, ``(E b, E (a - mu)^2)`` of ``P_{i+1}``). Model ``i + 1`` is the KDE on ``K`` points drawn
    without replacement from ``P_i`` (``K = N``: the whole pool); ``M`` of its draws join the pool."""
    b, e = state
    spread = (N - K) / ((N - 1) * K) * b  # E (subsample mean - pool mean)^2
    v = h2 + (K - 1) * N / (K * (N - 1)) * b
    n_new = N + M
    b_new = (N * b + M * (1 - 1 / n_new) * v + N * M / n_new * spread) / n_new
    e_new = e + (M**2 * spread + M * v) / n_new**2
    return (v, e + spread), (b_new, e_new)


# ------------------------------------------------------------------------------------------------ values


def _generations(generations) -> list[int]:
    if isinstance(generations, (int, np.integer)) and not isinstance(generations, bool):
        generations = [generations]
    try:
        gens = [check_integer("generations", g, minimum=0) for g in generations]
    except TypeError:
        raise ParameterError("generations", "integers >= 0", generations) from None
    if not gens:
        raise ParameterError("generations", "a non-empty list of integers >= 0", generations)
    return gens


#: The largest generation the iterated recursions (every workflow but replace) run to.
MAX_ITERATED = 2_000_000


def _fixed_point(step, size):
    """The fixed point of an affine map ``x -> A x + b`` given as ``step`` (read off at 0 and the unit vectors),
    or ``None`` when ``A`` has an eigenvalue of modulus >= 1."""
    b = np.array(step((0.0,) * size), dtype=float)
    a = np.empty((size, size))
    for j in range(size):
        unit = [0.0] * size
        unit[j] = 1.0
        a[:, j] = np.array(step(tuple(unit)), dtype=float) - b
    if np.max(np.abs(np.linalg.eigvals(a))) >= 1:
        return None
    return np.linalg.solve(np.eye(size) - a, b)


def _matrix_power(matrix, power: int):
    """``matrix ** power`` (``power >= 1``) by repeated squaring."""
    result, base = None, matrix
    while power:
        if power & 1:
            result = base if result is None else result * base
        power >>= 1
        if power:
            base = base * base
    return result


def kde_exact_values(chain, generations, *, bandwidth_squared: float | None = None) -> dict:
    """The exact moments of a KDE chain at each generation (float64, from the exact recursions of the module doc).

    Returns ``{"generations", "mean_mean", "mean_sq_error", "variance_mean", "variance_var", "notes",
    "limits"}``: each quantity a list aligned with ``generations`` (``None`` with a reason in ``"notes"`` where it
    has no exact value here), ``"limits"`` the values as ``n -> infinity`` (a number, ``inf``, or ``None`` with a
    reason in ``"notes"``).

    >>> from theory.chain._kde import KDEChain
    >>> out = kde_exact_values(KDEChain(0.1, 10), [0, 1, 2])
    >>> [round(v, 6) for v in out["variance_mean"]]
    [1.0, 0.91, 0.829]
    >>> round(out["limits"]["variance_mean"], 12)  # M h^2
    0.1

    ``bandwidth_squared`` replaces the chain's ``h^2`` (``0``: the limit ``h -> 0``, resampling the training set,
    which :mod:`theory.decomposition._kde` uses; a KDE itself needs ``h > 0``).
    """
    from ..chain._kde import KDEChain

    if not isinstance(chain, KDEChain):
        raise ParameterError("chain", "a KDEChain", type(chain).__name__)
    gens = _generations(generations)
    M, h2 = chain.sample_size, chain.bandwidth**2
    if bandwidth_squared is not None:
        h2 = float(bandwidth_squared)
        if not (math.isfinite(h2) and h2 >= 0):
            raise ParameterError("bandwidth_squared", "a finite number >= 0", bandwidth_squared)
    mu, s2, q0 = chain.source.mean, chain.source.variance, chain.source.fourth_central_moment
    wf = chain.workflow
    R, w = chain.real_count, chain.real_weight
    kind = wf.kind
    if kind in ("mix", "mix-fixed") and R == 0:
        kind = "replace"  # LAMBDA = 0: no real point, the replace chain
    top = max(gens)
    if kind != "replace" and top > MAX_ITERATED:
        raise ParameterError("generations", f"at most {MAX_ITERATED} for workflow {wf} (the recursion is iterated)",
                             top)
    notes: dict[str, str] = {}
    limits: dict[str, float | None] = {"mean_mean": mu}
    out = {q: [None] * len(gens) for q in KDE_QUANTITIES}
    out["mean_mean"] = [mu] * len(gens)
    wanted = {g: [] for g in gens}
    for i, g in enumerate(gens):
        wanted[g].append(i)

    def record(g, e, v, var=None):
        for i in wanted.get(g, ()):
            out["mean_sq_error"][i] = float(e)
            out["variance_mean"][i] = float(v)
            if var is not None:
                out["variance_var"][i] = float(var)

    if kind == "replace":
        log_r = math.log1p(-1 / M)  # (1 - 1/M)^n = exp(n log1p(-1/M)): accurate for M up to 1e9 and beyond
        for i, g in enumerate(gens):  # closed forms (proofs/kde.md): no iteration for E V and E (m - mu)^2
            decay, lost = math.exp(g * log_r), -math.expm1(g * log_r)  # (1 - 1/M)^n and 1 - (1 - 1/M)^n
            v = M * h2 + decay * (s2 - M * h2)
            e = h2 * g + (s2 - M * h2) * lost  # sum_{j<g} E V_j / M
            out["variance_mean"][i], out["mean_sq_error"][i] = float(v), float(e)
        # Var V from the fourth-moment system (E V, E V^2, E Q): state_g = T^g state_0 with T the affine map as a
        # 4 x 4 matrix, in mpmath at 50 digits (Var V = E V^2 - (E V)^2 cancels: about 2/M of E V^2), powers by
        # squaring (no iteration over g)
        import mpmath

        with mpmath.workdps(50):
            hh, ss = mpmath.mpf(h2), mpmath.mpf(s2)
            zero, one = mpmath.mpf(0), mpmath.mpf(1)  # (ints would divide in float: (M - 1) * 1 / M)
            step = lambda x: replace_step((zero, *x), M, hh)[1:]
            offset = step((zero, zero, zero))
            affine = mpmath.eye(4)
            for j in range(3):
                column = step(tuple(one if k == j else zero for k in range(3)))
                for r in range(3):
                    affine[r, j] = column[r] - offset[r]
            for r in range(3):
                affine[r, 3] = offset[r]
            start = mpmath.matrix([ss, ss * ss, mpmath.mpf(q0), 1])
            for i, g in enumerate(gens):
                moments = _matrix_power(affine, g) @ start if g else start
                out["variance_var"][i] = float(moments[1] - moments[0] ** 2)
            block = mpmath.matrix([[affine[r, c] for c in range(3)] for r in range(3)])
            radius = max(abs(x) for x in mpmath.eig(block)[0])
            if radius < 1:
                fixed = mpmath.lu_solve(mpmath.eye(3) - block, mpmath.matrix([offset[r] for r in range(3)]))
                limits["variance_var"] = float(fixed[1] - fixed[0] ** 2)
            else:
                limits["variance_var"] = None
        limits["variance_mean"] = M * h2
        limits["mean_sq_error"] = math.inf if h2 > 0 else s2
        if h2 > 0:
            notes["mean_sq_error"] = ("limit inf: the mean is a random walk (E (m_{n+1} - mu)^2 - E (m_n - mu)^2 "
                                      "= E V_n / M -> h^2 per generation)")
        out.update(notes=notes, limits=limits, generations=gens)
        return out

    notes["variance_var"] = (f"no exact value under {wf}: the fourth-moment recursion is derived for replace only "
                             "(the mixed and pooled training sets couple the fourth moments to cross terms)")
    limits["variance_var"] = None
    if kind == "mix":
        if R == M:
            step = lambda x: (w**2 * s2 / R, h2 + w * (1 - w / R) * s2)
        else:
            step = lambda x: mix_step(x, M, R, w, h2, s2)
        state, done = (0.0, s2), 0
        for g in sorted(set(gens)):
            while done < g:
                state = step(state)
                done += 1
            record(g, *state)
        fixed = _fixed_point(step, 2)
        limits["mean_sq_error"], limits["variance_mean"] = float(fixed[0]), float(fixed[1])
    elif kind == "mix-fixed":
        if R == M:
            step = lambda x: (h2 + (1 - 1 / R) * s2, 0.0, 0.0)
        else:
            step = lambda x: mix_fixed_step(x, M, R, w, h2, s2)
        state, done = (s2, s2 / R, -s2 / R), 0
        for g in sorted(set(gens)):
            while done < g:
                state = step(state)
                done += 1
            record(g, state[1] + 2 * state[2] + s2 / R, state[0])
        fixed = _fixed_point(step, 3)
        limits["mean_sq_error"] = float(fixed[1] + 2 * fixed[2] + s2 / R)
        limits["variance_mean"] = float(fixed[0])
    else:  # accumulate, accumulate-subsample:K
        pool = (s2 * (1 - 1 / M), s2 / M)  # P_0: M real points
        n_pool, done = M, 0
        model = (0.0, s2)  # (E (m - mu)^2, E V) of model 0 = D_0
        for g in sorted(set(gens)):
            while done < g:
                k = n_pool if kind == "accumulate" else wf.subsample
                (v, e), pool = pool_step(pool, M, n_pool, k, h2)
                model = (e, v)
                n_pool += M
                done += 1
            record(g, *model)
        subsample = kind == "accumulate-subsample"
        if h2 > 0:
            limits["variance_mean"] = math.inf
            rate = "(1 - 1/K) h^2 log n" if subsample else "h^2 log n"
            notes["variance_mean"] = (f"limit inf: no fixed point; E V_n grows like {rate} (the pool's variance "
                                      "gains about h^2/(i + 2) per step: each generation's draws carry one more h^2 "
                                      "and are a share 1/(i + 2) of the pool)")
        else:
            limits["variance_mean"] = None
            notes["variance_mean"] = "h = 0 is the MLE Gaussian chain's: see theory.workflow_limits"
        if subsample and h2 > 0:
            limits["mean_sq_error"] = math.inf
            notes["mean_sq_error"] = ("limit inf: the subsample's mean misses the pool's by E (N - K)/((N - 1) K) b "
                                      "-> b/K, which grows like (h^2/K) log n")
        else:
            limits["mean_sq_error"] = None
            notes["mean_sq_error"] = ("converges (the increments fall like log n / n^2); the limit is not in closed "
                                      "form" if h2 > 0 else "h = 0 is the MLE Gaussian chain's: see "
                                      "theory.workflow_limits")
    out.update(notes=notes, limits=limits, generations=gens)
    return out
