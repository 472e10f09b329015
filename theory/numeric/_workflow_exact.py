"""Exact moments of the non-replace workflows (``mix``, ``mix-fixed``, ``accumulate``, ``accumulate-subsample``).

The moment system of each workflow is derived and closed in :mod:`theory.symbolic._workflow_moments` (from the
one-step laws, sympy.stats moments); here its affine transition ``E b(i+1) = T_i E b(i) + c_i`` is lambdified and
walked in :mod:`mpmath`:

* ``mix`` and ``mix-fixed``: ``T`` depends on ``(M_i, R_i, w_i, A)`` only, so each run of equal ``M`` is crossed
  with binary powers of its matrix (:func:`theory.numeric._walk.walk`): O(#runs log n) products of matrices of
  size 6 (``mix``) or 20 (``mix-fixed``).
* ``accumulate`` and ``accumulate-subsample``: ``T_i`` depends on the pool size ``N_{i-1}`` (non-autonomous), so
  the walk is one sparse matrix-vector step per generation: O(n). ``accumulate`` (5 monomials) costs about
  0.25 ms a step on one core (``n = 10^4`` in about 2.5 s per precision pass); ``accumulate-subsample`` (22
  monomials: the pool's power sums ``P_1..P_4`` and the model, :func:`theory.symbolic._workflow_moments.
  derive_subsample_fourth`) about 2 ms (``n = 10^4`` in about 20 s per pass).

Precision: mpmath, first at ``WORKING_DIGITS + 2 * (decimal digits of the largest pool or M)`` digits, then again
at ``ADAPT_DIGITS`` + half as many more, raised until two consecutive precisions round to the same float64 values
(the cancellation is not bounded a priori: under ``mix-fixed`` with one real point ``E sigma_n^2`` decays
geometrically while the walk's entries do not, so a fixed precision would leave it to rounding noise). Each
result is therefore the float64 of a value that no longer moves with the precision (correctly rounded unless two
precisions err identically); every parameter enters the lambdified transition as an mpmath number (a Python
``int`` would make ``1/R`` a float64 division). ``tests/test_workflow_exact.py`` checks the results against 60
more digits and against exact rational arithmetic on the same derived system (equal float64s). The check doubles
the cost.

Quantities with no exact value (``sd_mean``, ``log_variance_mean``, ``w2_sq_mean``, ``w2_sq_var``,
``sd_sq_error``): under mixing or pooling ``sigma_{n+1}^2`` is ``sigma_n^2`` times a chi-square plus terms from the
other groups (real points, the pool, the between-group term), not a chi-square multiple of ``sigma_n^2``, so
``E sigma_n`` (the square root) and ``E log sigma_n^2`` have no finite polynomial moment system; they are ``None``
with a note, and ``E sigma_n`` and ``E W_2^2`` get exact bounds from the exact second and fourth moments
(:func:`workflow_bounds`).
"""

from __future__ import annotations

import math
from functools import cache

import mpmath
import numpy as np
import sympy as sp

from .._errors import ParameterError
from ..quantities import EXTRA_QUANTITIES, QUANTITIES, SIGMA_POWER
from ._walk import walk as _walk

WORKING_DIGITS = 30
ADAPT_DIGITS = 20
MAX_DIGITS = 3000

_NO_SQRT = ("under {workflow} sigma_{{n+1}}^2 is not a chi-square multiple of sigma_n^2 (the {other} add terms "
            "that do not scale with it), so E sigma_n, a square root, has no finite polynomial moment system")
NOTES = {
    "sd_mean": "no exact value: " + _NO_SQRT + "; exact bounds in 'bounds' (Jensen above: sqrt(E sigma_n^2); "
               "Hoelder below: (E sigma_n^2)^(3/2)/(E sigma_n^4)^(1/2)); the Monte Carlo gives the value",
    "log_variance_mean": "no exact value: " + _NO_SQRT.replace("E sigma_n, a square root,", "E log sigma_n^2")
                         + "; the Monte Carlo gives the value",
    "w2_sq_mean": "no exact value: E W2^2 = E(mu_n-mu)^2 + E sigma_n^2 - 2 sigma E sigma_n + sigma^2 needs "
                  "E sigma_n (see sd_mean); exact bounds in 'bounds' from those of E sigma_n",
    "w2_sq_var": "no exact value: Var W2^2 needs E sigma_n and E sigma_n^3 (see sd_mean); the Monte Carlo gives it",
    "sd_sq_error": "no exact value: E(sigma_n-sigma)^2 needs E sigma_n (see sd_mean); exact bounds in 'bounds'",
}

def _notes(kind: str) -> dict:
    groups = {"mix": "real points and the between-group term", "mix-fixed": "fixed real points and the "
              "between-group term", "accumulate": "pool's earlier points",
              "accumulate-subsample": "pool's earlier points"}[kind]
    notes = {k: v.format(workflow=kind, other=groups) for k, v in NOTES.items()}
    return notes


# ---------------------------------------------------------------------------------------------- the derived system
@cache
def _system(kind: str, learner: str):
    """``(basis, {shape: (entries, constants)}, initial)`` with each entry ``(i, j, f)`` and ``f`` lambdified."""
    from ..symbolic._workflow_moments import PARAMETERS, SHAPES, A, N, workflow_system

    if kind == "accumulate-subsample":  # the fourth-order system over the pool's power sums
        from ..symbolic._workflow_moments import (
            SUBSAMPLE4_PARAMETERS,
            subsample_fourth_system,
        )

        derived, params = subsample_fourth_system(learner), SUBSAMPLE4_PARAMETERS
    else:
        derived, params = workflow_system(kind, learner), PARAMETERS[kind]
    shapes = {}
    for shape in SHAPES[kind]:
        rows, constants = derived[shape]
        where = [(i, j) for i, row in enumerate(rows) for j, x in enumerate(row) if x != 0]
        const_where = [i for i, c in enumerate(constants) if c != 0]
        values = sp.lambdify(params, [rows[i][j] for i, j in where] + [constants[i] for i in const_where],
                             modules="mpmath", cse=True)
        shapes[shape] = (where, const_where, values)
    from ..symbolic._workflow_moments import M, R

    initial = sp.lambdify((R, M), derived["initial"], modules="mpmath")
    outputs = sp.lambdify((N, A), derived["outputs"], modules="mpmath")
    return tuple(derived["basis"]), shapes, initial, outputs


def _affine(kind, learner, shape, params):
    """The affine step as an mpmath matrix of size ``b + 1`` (last coordinate the constant 1)."""
    basis, shapes, _, _ = _system(kind, learner)
    where, const_where, values = shapes[shape]
    size = len(basis)
    numbers = values(*[mpmath.mpf(p) for p in params])  # mpf: a Python int would divide in float64
    t = mpmath.zeros(size + 1, size + 1)
    for (i, j), x in zip(where, numbers):
        t[i, j] = x
    for i, x in zip(const_where, numbers[len(where):]):
        t[i, size] = x
    t[size, size] = 1
    return t


def _sparse_step(kind, learner, shape, params, vector):
    """One step ``T x + c`` without building the matrix (pooling workflows)."""
    _, shapes, _, _ = _system(kind, learner)
    where, const_where, values = shapes[shape]
    numbers = values(*[mpmath.mpf(p) for p in params])  # mpf: a Python int would divide in float64
    out = [mpmath.mpf(0)] * len(vector)
    for (i, j), x in zip(where, numbers):
        out[i] += x * vector[j]
    for i, x in zip(const_where, numbers[len(where):]):
        out[i] += x
    return out


def _mix_shape(r: int, m: int) -> str:
    return "real" if r == m else ("synthetic" if r == 0 else "both")


def _weight(workflow, m: int, r: int):
    if workflow.real_weight is not None:
        return mpmath.mpf(workflow.real_weight)
    return mpmath.mpf(r) / m


def workflow_states(chain, generations, *, dps: int | None = None, max_seconds: float = 600.0):
    """``({generation: (E d^2, E v, E v^2 or None)}, digits)``: mpmath numbers in sigma units, for a non-replace
    chain, computed at ``digits`` decimal digits."""

    workflow = chain.workflow
    kind, learner = workflow.kind, chain.learner
    gens = sorted(set(generations))
    top = max(gens)
    chain.check_workflow(top)
    runs = chain.sample_size_runs(top, max_seconds=max_seconds) if top else []
    largest = sum(m * c for m, c in runs) if workflow.pools else max((m for m, _ in runs), default=2)
    if dps is None:
        dps = WORKING_DIGITS + 2 * len(str(int(max(largest, top, 2))))
    basis, _, initial, outputs = _system(kind, learner)
    with mpmath.workdps(dps):
        scale = mpmath.mpf(str(sp.N(chain.variance_scale, dps))) if isinstance(chain.variance_scale, sp.Basic) \
            else mpmath.mpf(float(chain.variance_scale))
        m0 = runs[0][0] if runs else 2
        start = initial(mpmath.mpf(max(workflow.real_count(m0), 1)), mpmath.mpf(m0))
        if workflow.pools:
            states = _walk_pool(kind, learner, workflow, runs, gens, scale, start)
        else:
            def matrix(m):
                r = workflow.real_count(m)
                return _affine(kind, learner, _mix_shape(r, m), (m, r, _weight(workflow, m, r), scale))

            walked = _walk(runs, gens, matrix, lambda p, q: p * q, lambda p, s: p * s,
                           mpmath.matrix(list(start) + [1]))
            states = {g: (list(walked[g])[: len(basis)], 0) for g in gens}
        out = {}
        for g in gens:
            if g == 0 and kind == "accumulate":  # the walk starts at generation 1 (the first pool)
                values = [mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(1)]
            else:
                vector, pool = states[g]
                values = [mpmath.fsum(c * x for c, x in zip(row, vector)) for row in outputs(mpmath.mpf(pool), scale)]
            out[g] = (values[0], values[1], values[2] if len(values) > 2 else None)
        return out, dps


def _walk_pool(kind, learner, workflow, runs, gens, scale, start):
    """``{generation: (state, N_{n-1})}``: one step per generation (the transition depends on the pool size)."""
    targets = set(gens)
    k = workflow.subsample
    out = {}
    if kind == "accumulate":  # the state starts at generation 1: the pool of the M_0 real points
        sizes = ((m, c) for m, c in runs)
        first, rest = runs[0] if runs else (2, 0), runs[1:]
        pool, i, state = first[0], 1, list(start)
        sizes = ([(first[0], first[1] - 1)] if first[1] > 1 else []) + list(rest)
    else:
        pool, i, state, sizes = 0, 0, list(start), list(runs)
    if i in targets:
        out[i] = (list(state), pool)
    for m, count in sizes:
        for _ in range(count):
            params = (pool, m, scale) if kind == "accumulate" else (pool, m, scale, k, *_inclusion(k, pool + m))
            state = _sparse_step(kind, learner, "pool", params, state)
            pool += m
            i += 1
            if i in targets:
                out[i] = (list(state), pool)
    return out


def _inclusion(k: int, size: int) -> list:
    """``phi_r = (K)_r/(N')_r``, ``r = 1..4``: the probability that ``r`` given pool points are all in a uniform
    ``K``-subset of ``N'`` points (0 when ``r > K``)."""
    out, value = [], mpmath.mpf(1)
    for r in range(4):
        value = value * (k - r) / (size - r) if r < k else mpmath.mpf(0)
        out.append(value)
    return out


def _float(x, power: int, sigma: float) -> float:
    value = x * mpmath.mpf(sigma) ** power
    if abs(value) >= mpmath.mpf("1.7976931348623157e308"):
        return math.copysign(math.inf, value)
    return float(value)


def workflow_exact_values(chain, generations, *, max_seconds: float = 600.0, dps: int | None = None) -> dict:
    """:func:`theory.exact_values` for a non-replace workflow (see the module doc): the exact keys as float64
    arrays, the others ``None`` with ``"notes"``, and ``"bounds"`` ``{key: (lower, upper)}``."""

    gens = list(generations)
    top = max(gens)
    runs = chain.sample_size_runs(top, max_seconds=max_seconds) if top else []
    steps = sum(c for _, c in runs)
    if chain.workflow.pools:
        estimate = (4e-3 if chain.workflow.kind == "accumulate-subsample" else 5e-4) * steps
        if estimate > max_seconds:
            raise ParameterError(
                "generations", f"a request estimated under {max_seconds:g} s (refused: {steps} generations of "
                f"{chain.workflow.kind} take about {estimate:.3g} s, one step each)", top)
    sigma = float(chain.sigma)
    notes = _notes(chain.workflow.kind)
    out: dict = {"generations": gens}
    for q in QUANTITIES + tuple(EXTRA_QUANTITIES):
        out[q] = None
    # the working precision is raised until two precisions (the second ADAPT_DIGITS more) give the same float64s
    states, used = workflow_states(chain, gens, dps=dps, max_seconds=max_seconds)
    values = _rounded(states, gens, used, sigma)
    while dps is None:
        higher, more = workflow_states(chain, gens, dps=used + ADAPT_DIGITS + used // 2, max_seconds=max_seconds)
        again = _rounded(higher, gens, more, sigma)
        if all(np.array_equal(x, y) for x, y in zip(values, again) if x is not None):
            break
        if more > MAX_DIGITS:
            raise ArithmeticError(f"the exact moments did not settle to float64 below {MAX_DIGITS} digits")
        states, used, values = higher, more, again
    out["mean_sq_error"], out["variance_mean"], out["variance_var"] = values
    with mpmath.workdps(used):
        msq = [states[g][0] for g in gens]
        var = [states[g][1] for g in gens]
        fourth = None if states[gens[0]][2] is None else [states[g][2] for g in gens]
        bounds = workflow_bounds(msq, var, fourth, sigma)
    out["notes"] = {k: notes[k] for k in notes if out.get(k) is None}
    out["bounds"] = bounds
    assert set(SIGMA_POWER) <= set(out)
    return out


def _rounded(states, gens, dps, sigma):
    with mpmath.workdps(dps):
        msq = np.array([_float(states[g][0], 2, sigma) for g in gens])
        var = np.array([_float(states[g][1], 2, sigma) for g in gens])
        if states[gens[0]][2] is None:
            return msq, var, None
        return msq, var, np.array([_float(states[g][2] - states[g][1] ** 2, 4, sigma) for g in gens])


def workflow_bounds(msq, var, fourth, sigma: float) -> dict:
    """Exact bounds (float64, rounded outward by one ulp) on ``E sigma_n``, ``E W2^2`` and ``E(sigma_n-sigma)^2``
    from ``E d^2``, ``E v``, ``E v^2`` (sigma units; mpmath numbers):

    * ``E sigma_n <= sqrt(E sigma_n^2)`` (Jensen); ``E sigma_n >= (E sigma_n^2)^(3/2) / (E sigma_n^4)^(1/2)``
      (Hoelder: ``E X^2 = E X^(2/3) X^(4/3) <= (E X)^(2/3) (E X^4)^(1/3)``), ``0`` without the fourth moment;
    * ``E W2^2 = E(mu_n-mu)^2 + E sigma_n^2 - 2 sigma E sigma_n + sigma^2`` and ``E(sigma_n-sigma)^2 =
      E sigma_n^2 - 2 sigma E sigma_n + sigma^2`` are decreasing in ``E sigma_n``: the bounds swap.
    """
    lo_sd, hi_sd, lo_w2, hi_w2, lo_sq, hi_sq = ([] for _ in range(6))
    for k, (m, x) in enumerate(zip(msq, var)):
        upper = mpmath.sqrt(x)
        lower = x ** mpmath.mpf(1.5) / mpmath.sqrt(fourth[k]) if fourth is not None and fourth[k] > 0 else \
            mpmath.mpf(0)
        lower = min(lower, upper)
        lo_sd.append(lower * sigma)
        hi_sd.append(upper * sigma)
        lo_sq.append((x - 2 * upper + 1) * sigma**2)
        hi_sq.append((x - 2 * lower + 1) * sigma**2)
        lo_w2.append((m + x - 2 * upper + 1) * sigma**2)
        hi_w2.append((m + x - 2 * lower + 1) * sigma**2)

    def down(values):
        return np.nextafter(np.array([float(y) for y in values]), -np.inf)

    def up(values):
        return np.nextafter(np.array([float(y) for y in values]), np.inf)

    return {"sd_mean": (np.maximum(down(lo_sd), 0.0), up(hi_sd)),
            "w2_sq_mean": (np.maximum(down(lo_w2), 0.0), up(hi_w2)),
            "sd_sq_error": (np.maximum(down(lo_sq), 0.0), up(hi_sq))}
