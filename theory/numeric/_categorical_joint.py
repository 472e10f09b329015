r"""The exact full chain of the discrete model on compositions, for any learner (small ``K`` and ``M``).

The per-category route (:mod:`theory.numeric._categorical_exact`) needs each category's count to be a Markov
chain by itself, which holds for the MLE only. Temperature, top-k and top-p couple the categories (the next
probability of category ``k`` depends on every count), so the exact law needs the whole training-count vector:
a *composition* ``c = (c_1, ..., c_K)`` of ``M`` (``c_k >= 0``, ``sum c = M``). There are
``C(M + K - 1, K - 1)`` of them (:func:`joint_state_count`); this module builds the transition between them as a
dense matrix and propagates the law, for any :class:`~theory.chain.DiscreteLearner`, whose NumPy
:meth:`~theory.chain.DiscreteLearner.fit` (the definition of the learner map) is called once per state.

Chains and their Markov states (``T_i`` is the training set of step ``i``; model ``i + 1 = fit(T_i)``; model 0 is
``p_0``; ``R = round(lambda M)`` real draws, ``w`` the real weight or ``None`` for the plain pooled fit):

* ``replace``: the state is the counts ``c`` of ``T_i``. ``T_0 ~ Multinomial(M, p_0)`` and
  ``c' | c ~ Multinomial(M, fit(c))``.
* ``mix:LAMBDA``, plain fit: the state is the counts ``c`` of the whole training set (real plus synthetic), since
  the pooled fit sees only their sum: ``c' = s' + r'`` with ``s' ~ Multinomial(M - R, fit(c))`` and fresh
  ``r' ~ Multinomial(R, p_0)``, so the transition row is the convolution of the two multinomial laws,
  ``P = A B`` with ``A[c, s'] = Mult(M - R, fit(c))(s')`` and ``B[s', c'] = Mult(R, p_0)(c' - s')``. ``T_0`` is
  ``M`` draws from ``p_0`` (model 0 is ``p_0``). ``replace`` is the case ``R = 0`` (``B`` the identity).
* ``mix:LAMBDA`` with a real weight: the fit sees the real and synthetic parts apart, ``fit(s, r, w)``; the state
  is the synthetic counts ``s`` (a composition of ``M - R``) and the fresh real counts ``r`` are averaged out:
  ``P[s, s'] = sum_r Mult(R, p_0)(r) Mult(M - R, fit(s, r, w))(s')``; a quantity of model ``n`` is averaged over
  the pair ``(s_{n-1}, r_{n-1})``, independent.
* ``mix-fixed:LAMBDA``: the real counts ``r ~ Multinomial(R, p_0)`` are drawn once and reused; given ``r`` the
  synthetic counts form a chain ``s' | s ~ Multinomial(M - R, fit(s, r))`` (pooled: ``fit(s + r)``), run once per
  composition ``r`` of ``R`` and mixed with the weights ``Mult(R, p_0)(r)``.
* ``accumulate`` is refused: its training set grows every step (no finite chain of compositions).

The multinomial pmf of a row ``q`` at ``c`` is ``exp(log M! - sum log c_k! + sum_{c_k > 0} c_k log q_k)``, and 0 where
some ``c_k > 0`` has ``q_k = 0`` (exact zeros, not underflow). Quantities of model ``n`` (generation ``n >= 1``) are
functions of the model ``p_n = fit(...)`` and of ``T_{n-1}``: with ``law_{n-1}`` the law of the state after step
``n - 1``, ``E f(p_n) = law_{n-1} . F``. "Lost" is ``p_{n,k} = 0`` as the float64 map returns it (a temperature
below about 0.002 can underflow a probability to 0: that is the learner's definition, the one the Monte Carlo runs
too) and "collapsed" is one category left with ``p_{n,k} > 0`` (``max_k p_{n,k} = 1`` without rounding: at
temperature 0.03 the map returns ``[1.0, 5e-24]`` for counts ``[5, 1]``, two surviving categories, not collapsed); under add-``alpha`` smoothing
(``alpha > 0``) they mean instead: count 0 in ``T_{n-1}``, and all of ``T_{n-1}`` in one category. Every quantity,
entropy included, is exact (a finite sum over states); the only errors are float64 rounding: the log-space pmf
loses up to about ``2e-11`` relative per entry at ``M = 3000`` (cancellation between ``log M!`` and
``sum c_k log q_k``), most of it a common drift of each row's mass, which is divided out (the full support is
enumerated, so each row sums to 1). Measured against the per-category route for the MLE (``K = 2`` at
``M = 100, 1000, 2999``; ``K = 3, M = 75``; ``K = 5, M = 12``; ``n <= 100``): every quantity, entropy included,
within ``5e-14`` absolute (before the renormalisation: ``1e-9`` at ``M = 2999``).

Cost: ``S`` states (pairs ``(s, r)`` for the weighted mix and mix-fixed), ``S`` calls of ``fit``, a dense ``S x S``
transition built in ``O(S^2 min(K, M))`` and ``O(S^2)`` per generation to the largest requested one. Chains with more
than :data:`JOINT_MAX_STATES` states are refused (``ParameterError("sample_size", ...)``); the measured times are in
:data:`JOINT_FEASIBILITY`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError, check_integer

__all__ = [
    "JOINT_FEASIBILITY",
    "JOINT_MAX_STATES",
    "JointCategoryExact",
    "compositions",
    "joint_category_exact",
    "joint_exact_values",
    "joint_state_count",
]

#: Largest number of states (compositions, or real/synthetic pairs) the joint chain accepts; see
#: :data:`JOINT_FEASIBILITY`.
JOINT_MAX_STATES = 3000

#: Measured on the 2-core development machine (shared with other jobs; ``/tmp/joint_feas.py`` in the session
#: report), ``joint_exact_values`` at generations 0..100: ``(K, M, workflow, learner) -> (states, seconds)``; peak
#: RSS of the whole measuring process 303 MiB. A dense ``S x S`` float64 transition is 72 MB at ``S = 3000``; twice
#: the states would be four times the memory and about four times the time: hence the limit 3000.
JOINT_FEASIBILITY: dict[tuple[int, int, str, str], tuple[int, float]] = {
    (2, 2999, "replace", "temperature 0.7"): (3000, 1.25),
    (3, 75, "replace", "temperature 0.5"): (2926, 1.19),
    (4, 24, "replace", "top-p 0.6"): (2925, 1.08),
    (10, 5, "replace", "top-k 2"): (2002, 0.92),
    (3, 75, "mix:0.2", "top-k 2"): (2926, 1.26),
    (3, 17, "mix-fixed:0.5", "temperature 0.5"): (2475, 0.12),
}

_QUANTITY_KEYS = ("surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean", "collapse_probability", "entropy_mean")


def joint_state_count(size: int, sample_size: int) -> int:
    """``C(M + K - 1, K - 1)``: the number of compositions of ``M`` draws over ``K`` categories.

    >>> joint_state_count(3, 4)
    15
    """
    k = check_integer("size", size, minimum=1)
    m = check_integer("sample_size", sample_size, minimum=0)
    return math.comb(m + k - 1, k - 1)


def _rank_table(total: int, parts: int) -> np.ndarray:
    # table[j, s] = C(s + j, j + 1): the colex rank term of the bar after part j at prefix sum s
    table = np.zeros((max(parts - 1, 1), total + 1), dtype=np.int64)
    for j in range(parts - 1):
        for s in range(total + 1):
            table[j, s] = math.comb(s + j, j + 1)
    return table


def _ranks(counts: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Colex rank of each composition (stars and bars: bar ``j`` at ``c_0 + .. + c_j + j``)."""
    parts = counts.shape[1]
    if parts == 1:
        return np.zeros(counts.shape[0], dtype=np.int64)
    prefix = np.cumsum(counts[:, :-1], axis=1)
    return table[np.arange(parts - 1)[None, :], prefix].sum(axis=1)


def compositions(total: int, parts: int) -> np.ndarray:
    """All compositions of ``total`` into ``parts`` non-negative parts, shape ``(C(total + parts - 1, parts - 1),
    parts)``, row ``i`` the composition of colex rank ``i``.

    >>> compositions(2, 3).tolist()
    [[0, 0, 2], [0, 1, 1], [1, 0, 1], [0, 2, 0], [1, 1, 0], [2, 0, 0]]
    """
    # level by level: each prefix of j parts has (its parent prefix, its part j); the rows are read back at the
    # end, so the work is O(K S), not O(K^2 S)
    left = np.array([total], dtype=np.int64)
    parents, values = [], []
    for _ in range(parts - 1):
        reps = left + 1
        parent = np.repeat(np.arange(left.size), reps)
        value = np.arange(parent.size) - np.repeat(np.cumsum(reps) - reps, reps)
        parents.append(parent)
        values.append(value)
        left = left[parent] - value
    rows = np.empty((left.size, parts), dtype=np.int64)
    rows[:, parts - 1] = left
    index = np.arange(left.size)
    for j in range(parts - 2, -1, -1):
        rows[:, j] = values[j][index]
        index = parents[j][index]
    order = np.argsort(_ranks(rows, _rank_table(total, parts)), kind="stable")
    return rows[order]


def _multinomial_rows(models: np.ndarray, states: np.ndarray) -> np.ndarray:
    """``out[i, j] = Multinomial(total, models[i]).pmf(states[j])``, exact zeros where ``states[j]`` puts a draw on
    a category of probability 0."""
    from scipy import sparse
    from scipy.special import gammaln

    total = int(states[0].sum())
    coef = gammaln(total + 1.0) - gammaln(states + 1.0).sum(axis=1)  # (S,)
    positive = models > 0
    logq = np.log(np.where(positive, models, 1.0))
    c = sparse.csr_matrix(states.astype(np.float64))
    logpmf = (c @ logq.T).T + coef[None, :]
    impossible = ((c > 0).astype(np.float64) @ (~positive).astype(np.float64).T).T > 0
    logpmf[impossible] = -np.inf  # before exp: there the coefficient alone can overflow
    out = np.exp(logpmf)
    # the full support is enumerated, so each row sums to 1: divide out the rounding of log M! - sum log c_k!
    # + sum c_k log q_k (relative error up to ~2e-11 per entry at M = 3000, measured against scipy's binom.pmf)
    return out / out.sum(axis=1, keepdims=True)


def _fit_rows(fit, training: np.ndarray, real: np.ndarray | None = None, weight: float | None = None) -> np.ndarray:
    if real is None:
        return np.stack([np.asarray(fit(row), dtype=np.float64) for row in training])
    return np.stack([np.asarray(fit(s, r, weight), dtype=np.float64) for s, r in zip(training, real)])


def _quantities(models: np.ndarray, training: np.ndarray, p0: np.ndarray, alpha: float, per_category: bool):
    """Columns: the five quantities, then (per_category) p_k, p_k(1 - p_k), lost_k, fixed_k for every k."""
    from scipy.special import entr

    total = training[0].sum()
    if alpha > 0:
        lost = training == 0
        fixed = training == total
    else:
        lost = models == 0
        # collapsed: one category left with positive probability (as the Monte Carlo counts it); "== 1.0" would
        # call [1.0, 5e-24] collapsed (temperature 0.03 rounds the second category's share into 1.0) while
        # counting two surviving categories
        fixed = ~lost & ((~lost).sum(axis=1, keepdims=True) == 1)
    cols = [
        (~lost).sum(axis=1).astype(np.float64),
        lost.astype(np.float64) @ p0,
        1.0 - (models * models).sum(axis=1),
        fixed.any(axis=1).astype(np.float64),
        entr(models).sum(axis=1),
    ]
    out = np.stack(cols, axis=1)
    if per_category:
        out = np.concatenate([out, models, models * (1 - models), lost, fixed], axis=1)
    return out


def _source_row(p0: np.ndarray, per_category: bool) -> np.ndarray:
    from scipy.special import entr

    lost = p0 == 0
    fixed = ~lost & ((~lost).sum() == 1)
    row = [float((~lost).sum()), 0.0, 1.0 - float(p0 @ p0), float(fixed.any()), float(entr(p0).sum())]
    if per_category:
        row = np.concatenate([row, p0, p0 * (1 - p0), lost, fixed])
    return np.asarray(row, dtype=np.float64)


def _check_generations(generations) -> np.ndarray:
    gens = np.atleast_1d(np.asarray(generations, dtype=object))
    if gens.ndim != 1 or gens.size == 0:
        raise ParameterError("generations", "one or more integers >= 0", generations)
    return np.array([check_integer("generations", g, minimum=0) for g in gens], dtype=np.int64)


def _chain_states(size: int, m: int, workflow, real_count: int, weighted: bool) -> int:
    if workflow.kind == "replace" or (workflow.kind == "mix" and not weighted):
        return joint_state_count(size, m)
    return joint_state_count(size, m - real_count) * joint_state_count(size, real_count)


def _check_chain(chain):
    from ..chain import DiscreteChain

    if not isinstance(chain, DiscreteChain):
        raise ParameterError("chain", "a DiscreteChain", chain)
    workflow = chain.workflow
    if workflow.kind not in ("replace", "mix", "mix-fixed"):
        raise ParameterError(
            "workflow",
            "replace, mix:LAMBDA or mix-fixed:LAMBDA for the joint chain (accumulate's training set grows every step: "
            "no finite chain of compositions)",
            str(workflow),
        )
    k, m = chain.size, chain.sample_size
    weighted = chain.real_weight is not None
    states = _chain_states(k, m, workflow, chain.real_count, weighted)
    if states > JOINT_MAX_STATES:
        largest = 0
        for trial in range(1, m):
            r = workflow.real_count(trial)
            if weighted and not 0 < r < trial:
                continue
            if _chain_states(k, trial, workflow, r, weighted) <= JOINT_MAX_STATES:
                largest = trial
            elif joint_state_count(k, (trial + 1) // 2) > JOINT_MAX_STATES:
                break  # every split of trial draws has more states than this (the count grows with M)
        raise ParameterError(
            "sample_size",
            f"at most {JOINT_MAX_STATES} states for the exact joint chain (compositions of the training counts; "
            f"K = {k}, {workflow}: "
            + (f"M <= {largest}" if largest else "no M: K categories alone are too many")
            + f"); this chain has {_count_text(states)}",
            m,
        )
    return states


def _count_text(states: int) -> str:
    """An exact count when short, else its order of magnitude (the count of compositions can have 600 digits)."""
    if states < 10**12:
        return str(states)
    return f"about 10^{math.floor(math.log10(states))}"  # str() of a 4300-digit int raises (Python's int limit)


def _propagate(initial: np.ndarray, transition: np.ndarray, values: np.ndarray, gens: np.ndarray, base: np.ndarray):
    """Rows aligned with ``gens``: ``base`` at generation 0, else ``law_{n-1} @ values`` with ``law_0 = initial``
    and ``law_{i+1} = law_i @ transition``."""
    out = np.empty((gens.size, values.shape[1]))
    out[gens == 0] = base
    positive = np.unique(gens[gens > 0])
    law = initial
    step = 1
    for target in positive:
        while step < target:
            law = law @ transition
            step += 1
        out[gens == target] = law @ values
    return out


def _joint_table(chain, generations, *, per_category: bool, fit=None):
    """``(gens, table, states)``: ``table[g]`` the expected quantity columns (see :func:`_quantities`)."""
    states_count = _check_chain(chain)
    gens = _check_generations(generations)
    fit = chain.learner.fit if fit is None else fit
    alpha = chain.learner.alpha
    p0 = np.asarray(chain.probabilities, dtype=np.float64)
    k, m, r = chain.size, chain.sample_size, chain.real_count
    workflow, weight = chain.workflow, chain.real_weight
    base = _source_row(p0, per_category)
    synthetic = compositions(m - r, k)
    real = compositions(r, k)
    real_law = _multinomial_rows(p0[None, :], real)[0]
    if workflow.kind == "replace" or (workflow.kind == "mix" and weight is None):
        states = compositions(m, k)
        models = _fit_rows(fit, states)
        moved = _multinomial_rows(models, synthetic)  # (S_M, S_{M-R})
        if r == 0:
            transition = moved
        else:
            from scipy import sparse

            table = _rank_table(m, k)
            target = _ranks((synthetic[:, None, :] + real[None, :, :]).reshape(-1, k), table)
            rows = np.repeat(np.arange(synthetic.shape[0]), real.shape[0])
            shift = sparse.csr_matrix(
                (np.tile(real_law, synthetic.shape[0]), (rows, target)), shape=(synthetic.shape[0], states.shape[0])
            )
            transition = np.asarray((shift.T @ moved.T).T)
        initial = _multinomial_rows(p0[None, :], states)[0]
        values = _quantities(models, states, p0, alpha, per_category)
        table_out = _propagate(initial, transition, values, gens, base)
    elif workflow.kind == "mix":  # weighted fit: state s, fresh r averaged out
        s_count, r_count = synthetic.shape[0], real.shape[0]
        pair_s = np.repeat(synthetic, r_count, axis=0)
        pair_r = np.tile(real, (s_count, 1))
        models = _fit_rows(fit, pair_s, pair_r, weight)
        moved = _multinomial_rows(models, synthetic).reshape(s_count, r_count, s_count)
        transition = np.einsum("srt,r->st", moved, real_law)
        values = _quantities(models, pair_s + pair_r, p0, alpha, per_category)
        values = np.einsum("srq,r->sq", values.reshape(s_count, r_count, -1), real_law)
        initial = _multinomial_rows(p0[None, :], synthetic)[0]
        table_out = _propagate(initial, transition, values, gens, base)
    else:  # mix-fixed: one chain on s per fixed real composition r
        initial = _multinomial_rows(p0[None, :], synthetic)[0]
        table_out = np.zeros((gens.size, base.size))
        for weight_r, counts_r in zip(real_law, real):
            if weight_r == 0:
                continue
            fixed_r = np.broadcast_to(counts_r, synthetic.shape)
            if weight is None:
                models = _fit_rows(fit, synthetic + fixed_r)
            else:
                models = _fit_rows(fit, synthetic, fixed_r, weight)
            transition = _multinomial_rows(models, synthetic)
            values = _quantities(models, synthetic + fixed_r, p0, alpha, per_category)
            table_out += weight_r * _propagate(initial, transition, values, gens, base)
        table_out[gens == 0] = base
    return gens, table_out, states_count


def joint_exact_values(chain, generations) -> dict:
    """Exact whole-distribution results of a discrete chain from the full chain on compositions (any learner;
    workflows replace, mix and mix-fixed; at most :data:`JOINT_MAX_STATES` states).

    Returns the shared contract's dict: ``"generations"`` (int64), each of ``DISCRETE_QUANTITIES`` (float64 arrays
    aligned with it, all exact, entropy in nats included), ``"notes"`` (``"method"`` and, under add-alpha smoothing,
    what "lost" and "collapsed" mean) and ``"bounds"`` (empty: nothing is truncated).

    >>> from theory.chain import DiscreteChain, DiscreteLearner
    >>> v = joint_exact_values(DiscreteChain("0.5,0.5", 2), [0, 1, 2])
    >>> v["surviving_mean"].tolist(), v["collapse_probability"].tolist()
    ([2.0, 1.5, 1.25], [0.0, 0.5, 0.75])
    >>> greedy = joint_exact_values(DiscreteChain("0.5,0.3,0.2", 4, DiscreteLearner(top_k=1)), [1, 2])
    >>> greedy["collapse_probability"].tolist(), greedy["surviving_mean"].tolist()
    ([1.0, 1.0], [1.0, 1.0])
    """
    gens, table, states = _joint_table(chain, generations, per_category=False)
    learner = chain.learner
    notes = {
        "method": (
            f"exact Markov chain on the {states} states (compositions of the training counts) of {chain}: dense "
            "transition from the learner's NumPy map (DiscreteLearner.fit) and multinomial pmfs, law propagated "
            "generation by generation; float64 rounding only"
        ),
        "entropy_mean": "exact: a finite sum over the states of -sum_k p_k log p_k (nats)",
    }
    if learner.alpha > 0:
        lost = (
            f"under add-{learner.alpha:g} smoothing no probability is 0: lost means count 0 in the training set "
            "T_{n-1} of model n"
        )
        notes["surviving_mean"] = lost
        notes["tail_mass_lost_mean"] = lost
        notes["collapse_probability"] = (
            f"under add-{learner.alpha:g} smoothing collapsed means all of T_{{n-1}} in one category"
        )
    out = {"generations": gens}
    for i, key in enumerate(_QUANTITY_KEYS):
        out[key] = table[:, i].copy()
    out["notes"] = notes
    out["bounds"] = {}
    return out


@dataclass(frozen=True)
class JointCategoryExact:
    """Per-category exact results of the joint chain; arrays ``(K, len(generations))`` in category order (under
    top-k/top-p ties go to the lower index, so equal ``p_0`` need not behave alike: no grouping).

    ``mean = E p_{n,k}``, ``heterozygosity = E p_{n,k}(1 - p_{n,k})``, ``lost`` and ``fixed`` the probabilities
    that category ``k`` is lost / holds everything at generation ``n`` (with the add-alpha meaning under
    smoothing, as in :func:`joint_exact_values`).
    """

    probabilities: np.ndarray
    sample_size: int
    generations: np.ndarray
    mean: np.ndarray
    heterozygosity: np.ndarray
    lost: np.ndarray
    fixed: np.ndarray


def joint_category_exact(chain, generations) -> JointCategoryExact:
    """Per-category laws from the joint chain (same states and limits as :func:`joint_exact_values`).

    >>> from theory.chain import DiscreteChain
    >>> r = joint_category_exact(DiscreteChain("0.5,0.5", 2), [0, 1, 2])
    >>> r.lost[0].tolist(), r.heterozygosity[0].tolist()
    ([0.0, 0.25, 0.375], [0.25, 0.125, 0.0625])
    """
    gens, table, _ = _joint_table(chain, generations, per_category=True)
    k = chain.size
    blocks = [table[:, 5 + i * k: 5 + (i + 1) * k].T.copy() for i in range(4)]
    return JointCategoryExact(
        np.asarray(chain.probabilities, dtype=np.float64).copy(), chain.sample_size, gens, *blocks
    )
