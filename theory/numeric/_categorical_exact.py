"""Exact results for the discrete chain: multinomial resampling of a categorical distribution (Wright-Fisher).

The chain (replace workflow, MLE learner, constant sample size ``M``): generation 0 is ``p_0`` over ``K``
categories; generation ``n + 1`` is the vector of empirical frequencies of ``M`` draws from generation ``n``.
Marginally each category's count ``c_{n,k} = M p_{n,k}`` is a Markov chain (the Wright-Fisher marginal)

    c_{1,k} ~ Binomial(M, p_{0,k}),    c_{n+1,k} | c_{n,k} ~ Binomial(M, c_{n,k} / M),

absorbed at 0 (category lost) and at ``M`` (category fixed: the distribution has collapsed onto it).

Derivation of the moments (from the binomial law, not transcribed). With ``q = c_n / M``,
``E[c_{n+1} | c_n] = M q``, so ``E p_{n+1} = E p_n = p_0`` (martingale). And
``E[c_{n+1}(M - c_{n+1}) | c_n] = M E c_{n+1} - E c_{n+1}^2 = M^2 q - (M q (1 - q) + M^2 q^2) = M^2 q(1-q)(1 - 1/M)``,
so ``E p_{n+1}(1 - p_{n+1}) = (1 - 1/M) E p_n(1 - p_n)`` and, since ``p_0`` is fixed,

    E p_{n,k}(1 - p_{n,k}) = p_{0,k}(1 - p_{0,k}) (1 - 1/M)^n,

the published identity (it is also checked against the Markov-chain numbers below, in the tests). Summing over
``k`` and using ``sum_k p_{n,k} = 1``: ``E[1 - sum_k p_{n,k}^2] = (1 - 1/M)^n (1 - sum_k p_{0,k}^2)`` (Gini-Simpson).

Loss and fixation probabilities have no closed form; they come from the count chain: the law of ``c_n`` is the
law of ``c_1`` (a binomial pmf row) times ``T^{n-1}``, with ``T[i, j] = Binom(M, i/M).pmf(j)`` on counts ``0..M``.
``T`` depends on ``M`` only, so the product is taken from the other side (backward equation): ``u_s = T^s f`` is
computed once for the four functions ``f = 1{c = 0}, 1{c = M}, c/M, (c/M)(1 - c/M)`` of the count, and
``P(c_n = 0) = sum_i Binom(M, p_0).pmf(i) u_{n-1}(i)`` (likewise the others); equal probabilities are grouped, and
each distinct ``p_0`` costs one pmf row and one dot product. ``T`` keeps only the band of each row with
``pmf > 1e-300`` (entries from ``scipy.stats.binom.pmf``, rows sum to 1 within ~3e-15; ``exp(logpmf)`` was
3e-13 short): a contiguous run around ``i`` (the pmf is unimodal) inside ``|j - i| < sqrt(345.4 M)`` (Chernoff +
Pinsker: ``P(X = j) <= exp(-2 M (j/M - q)^2)``). Cost of the truncation: each row loses at most ``(M + 1) 1e-300``
of mass, so every probability is off by at most ``n (M + 1) 1e-300`` in absolute terms. Memory: ``nnz`` grows like
``M^{3/2}`` (28.5e6 entries, 326 MiB at M = 10000); time ``O(4 nnz n + G M)`` for ``G`` distinct probabilities.
The measured table is in :data:`FEASIBILITY`; ``M`` above :data:`MAX_SAMPLE_SIZE` is refused.

The whole-distribution quantities follow: expected surviving categories ``sum_k (1 - P(lost_k))``, expected tail
mass lost ``sum_k p_{0,k} P(lost_k)``, and the probability of complete collapse ``sum_k P(fixed_k)`` (the events
"category ``k`` holds all ``M`` draws" are disjoint). E entropy is not exact here (``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError, check_integer

__all__ = [
    "FEASIBILITY",
    "MAX_SAMPLE_SIZE",
    "CategoryExact",
    "category_exact",
    "discrete_exact_values",
    "gini_simpson_mean",
    "loss_time_distribution",
    "transition_band",
]

#: Largest ``M`` accepted by the banded Markov-chain computation (see :data:`FEASIBILITY`).
MAX_SAMPLE_SIZE = 10_000

#: Measured on the 2-core development machine (shared with other jobs; ``/tmp/feas3.py`` in the session report),
#: ``category_exact`` at generations ``[1, 10, 100]`` with ``p ~ 1/k`` over ``G`` distinct probabilities:
#: ``M -> (seconds to build the band, stored nonzeros, MiB of the band, total seconds for G = 2, G = 20,
#: G = 10000, peak RSS MiB of the whole measuring process)``. Totals include the build (about 0.1 s per generation
#: at M = 10000, independent of G beyond the one pmf row per distinct probability). M = 20000 (refused) measured
#: 14.1 s, 81.5e6 nonzeros, 932 MiB, 46 s / 47 s / 66 s, 2086 MiB peak: hence the limit 10000.
FEASIBILITY: dict[int, tuple[float, int, float, float, float, float, int]] = {
    100: (0.00, 10_001, 0.1, 0.01, 0.01, 0.13, 180),
    1_000: (0.20, 757_709, 8.7, 0.39, 0.37, 1.77, 398),
    10_000: (4.9, 28_524_721, 326.5, 15.9, 16.2, 26.9, 866),
}

_TINY = 1e-300  # entries of T below this are dropped
_LOG_TINY = math.log(_TINY)
_CHUNK_FLOATS = 4_000_000  # propagate at most this many state-probabilities at once (32 MB)


def _check_probabilities(probabilities) -> np.ndarray:
    try:
        p = np.asarray(probabilities, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("probabilities", "a vector of finite numbers >= 0 with a positive sum", probabilities) from None
    if p.ndim != 1 or p.size < 2:
        raise ParameterError("probabilities", "a vector of at least 2 probabilities (K >= 2)", f"shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
        raise ParameterError("probabilities", "a vector of finite numbers >= 0 with a positive sum", probabilities)
    return p / p.sum()


def _check_sample_size(sample_size) -> int:
    m = check_integer("sample_size", sample_size, minimum=1)
    if m > MAX_SAMPLE_SIZE:
        raise ParameterError(
            "sample_size",
            f"an integer between 1 and {MAX_SAMPLE_SIZE} for the exact categorical chain (banded binomial "
            "transition on counts 0..M: memory ~37 M^1.5 floats, time ~ that times generations)",
            sample_size,
        )
    return m


def _check_generations(generations) -> np.ndarray:
    gens = np.atleast_1d(np.asarray(generations, dtype=object))
    if gens.ndim != 1 or gens.size == 0:
        raise ParameterError("generations", "one or more integers >= 0", generations)
    return np.array([check_integer("generations", g, minimum=0) for g in gens], dtype=np.int64)


def transition_band(sample_size: int):
    """The Wright-Fisher transition ``T[i, j] = Binom(M, i/M).pmf(j)`` on counts ``0..M`` as a CSR matrix,
    keeping only entries ``> 1e-300`` (rows 0 and ``M`` are the absorbing deltas).

    >>> T = transition_band(4)
    >>> T.shape, bool(np.allclose(T.sum(axis=1), 1.0))
    ((5, 5), True)
    """
    from scipy import sparse
    from scipy.stats import binom

    m = _check_sample_size(sample_size)
    half = min(m, math.ceil(math.sqrt(-_LOG_TINY / 2.0 * m)) + 1)
    offsets = np.arange(-half, half + 1)
    indptr = [0]
    indices = []
    data = []
    rows_per_chunk = max(1, 2_000_000 // offsets.size)
    for start in range(0, m + 1, rows_per_chunk):
        rows = np.arange(start, min(m + 1, start + rows_per_chunk))
        cols = rows[:, None] + offsets[None, :]
        valid = (cols >= 0) & (cols <= m)
        pmf = binom.pmf(np.clip(cols, 0, m), m, rows[:, None] / m)
        keep = valid & (pmf > _TINY)
        counts = keep.sum(axis=1)
        indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
        indices.append(cols[keep].astype(np.int32))
        data.append(pmf[keep])
    index_dtype = np.int32 if indptr[-1] < 2**31 else np.int64
    return sparse.csr_matrix(
        (np.concatenate(data), np.concatenate(indices).astype(index_dtype, copy=False), np.asarray(indptr, dtype=index_dtype)),
        shape=(m + 1, m + 1),
        copy=False,
    )


@dataclass(frozen=True)
class CategoryExact:
    """Per-distinct-probability results; arrays are ``(G, len(generations))``, rows aligned with
    ``probabilities`` (distinct ``p_{0,k}``, ascending) and ``multiplicities``.

    ``mean`` and ``heterozygosity`` (``E p_n (1 - p_n)``) are read off the Markov chain's distribution (they are
    checked against ``p_0`` and the identity ``p_0 (1 - p_0)(1 - 1/M)^n``), ``lost = P(c_n = 0)``,
    ``fixed = P(c_n = M)``. ``P(time to loss = n) = lost[:, n] - lost[:, n - 1]`` for consecutive generations.
    """

    probabilities: np.ndarray
    multiplicities: np.ndarray
    sample_size: int
    generations: np.ndarray
    mean: np.ndarray
    heterozygosity: np.ndarray
    lost: np.ndarray
    fixed: np.ndarray


def category_exact(probabilities, sample_size, generations, *, multiplicities=None) -> CategoryExact:
    """Exact per-category law of the Wright-Fisher marginal at the given generations.

    ``probabilities``: the vector ``p_0`` (normalised to sum 1), or, with ``multiplicities``, the distinct
    probabilities and how many categories have each (``sum(probabilities * multiplicities)`` must be 1 after
    normalisation).

    >>> r = category_exact([0.5, 0.5], 2, [0, 1, 2])
    >>> r.lost[0].tolist()   # P(count 0) after 0, 1, 2 generations: 0, 1/4, 1/4 + 1/2 * 1/4
    [0.0, 0.25, 0.375]
    """
    m = _check_sample_size(sample_size)
    gens = _check_generations(generations)
    if multiplicities is None:
        p = _check_probabilities(probabilities)
        distinct, mult = np.unique(p, return_counts=True)
    else:
        distinct = np.asarray(probabilities, dtype=np.float64)
        mult = np.asarray(multiplicities)
        if distinct.ndim != 1 or mult.shape != distinct.shape or np.any(mult < 1) or np.any(mult != np.round(mult)):
            raise ParameterError("multiplicities", "positive integers, one per distinct probability", multiplicities)
        mult = mult.astype(np.int64)
        if int(mult.sum()) < 2:
            raise ParameterError("probabilities", "at least 2 categories (K >= 2)", int(mult.sum()))
        if not np.all(np.isfinite(distinct)) or np.any(distinct < 0) or not (distinct * mult).sum() > 0:
            raise ParameterError("probabilities", "finite numbers >= 0 with a positive sum", probabilities)
        distinct = distinct / (distinct * mult).sum()
    from scipy.stats import binom

    g_count = distinct.size
    shape = (g_count, gens.size)
    mean = np.empty(shape)
    het = np.empty(shape)
    lost = np.empty(shape)
    fixed = np.empty(shape)
    # generation 0: deterministic
    zero = gens == 0
    mean[:, zero] = distinct[:, None]
    het[:, zero] = (distinct * (1 - distinct))[:, None]
    lost[:, zero] = (distinct == 0).astype(float)[:, None]
    fixed[:, zero] = (distinct == 1).astype(float)[:, None]
    positive = np.unique(gens[gens > 0])
    if positive.size:
        transition = transition_band(m) if positive[-1] > 1 else None
        counts = np.arange(m + 1)
        freq = counts / m
        het_weights = freq * (1 - freq)
        # Backward equation: the columns of ``h`` are E[f(c_{s+1}) | c_1 = i] for f = 1{c = 0}, 1{c = M},
        # c/M and (c/M)(1 - c/M), after s = 0, 1, ... further steps (h <- T h). This costs 4 nnz per step, once,
        # whatever the number of distinct p_0; each distinct p_0 then needs one dot product with the law of c_1.
        h = np.zeros((m + 1, 4))
        h[0, 0] = 1.0
        h[m, 1] = 1.0
        h[:, 2] = freq
        h[:, 3] = het_weights
        snapshots = []
        step = 1
        for target in positive:
            while step < target:
                h = transition @ h
                step += 1
            snapshots.append(h)
        stacked = np.concatenate(snapshots, axis=1)  # (M + 1, 4 * len(positive))
        rows_per_chunk = max(1, _CHUNK_FLOATS // (m + 1))
        for start in range(0, g_count, rows_per_chunk):
            block = slice(start, min(g_count, start + rows_per_chunk))
            law = binom.pmf(counts[None, :], m, distinct[block, None])  # law of c_1
            values = (law @ stacked).reshape(law.shape[0], positive.size, 4)
            for t, target in enumerate(positive):
                where = np.flatnonzero(gens == target)
                lost[block, where] = values[:, t, 0:1]
                fixed[block, where] = values[:, t, 1:2]
                mean[block, where] = values[:, t, 2:3]
                het[block, where] = values[:, t, 3:4]
    return CategoryExact(distinct, mult, m, gens, mean, het, lost, fixed)


def loss_time_distribution(probabilities, sample_size, max_generation, *, multiplicities=None):
    """The law of the time to loss ``tau_k = min{n : c_{n,k} = 0}`` for each distinct ``p_{0,k}``.

    Returns ``(distinct probabilities, multiplicities, pmf)`` with ``pmf[g, n - 1] = P(tau = n)`` for
    ``n = 1..max_generation`` (``P(lost by n) - P(lost by n - 1)``, loss being absorbing);
    ``1 - pmf.sum(1)`` is ``P(tau > max_generation)`` (it includes fixation, after which loss never comes).

    >>> _, _, pmf = loss_time_distribution([0.5, 0.5], 2, 3)
    >>> pmf[0].tolist()   # 1/4, then 1/2 * 1/4 (from c = 1), then 1/2 * 1/2 * 1/4
    [0.25, 0.125, 0.0625]
    """
    top = check_integer("max_generation", max_generation, minimum=1)
    r = category_exact(probabilities, sample_size, np.arange(top + 1), multiplicities=multiplicities)
    return r.probabilities, r.multiplicities, np.diff(r.lost, axis=1)


def gini_simpson_mean(probabilities, sample_size, generations) -> np.ndarray:
    """``E[1 - sum_k p_{n,k}^2] = (1 - 1/M)^n (1 - sum_k p_{0,k}^2)``, exact (log space, any ``M >= 1``).

    >>> gini_simpson_mean([0.5, 0.5], 2, [0, 1, 2]).tolist()
    [0.5, 0.25, 0.125]
    """
    p = _check_probabilities(probabilities)
    m = check_integer("sample_size", sample_size, minimum=1)
    gens = _check_generations(generations)
    base = 1.0 - float(np.sum(p * p))
    if m == 1:
        return np.where(gens == 0, base, 0.0)
    return base * np.exp(gens * math.log1p(-1.0 / m))


def discrete_exact_values(p, sample_size, generations) -> dict:
    """Exact whole-distribution results of the discrete chain (replace workflow, MLE learner, constant ``M``).

    Returns ``{"generations", "surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean",
    "collapse_probability", "entropy_mean": None, "notes"}`` with float64 arrays aligned with ``generations``.

    >>> v = discrete_exact_values([0.5, 0.5], 2, [0, 1])
    >>> v["surviving_mean"].tolist(), v["collapse_probability"].tolist()
    ([2.0, 1.5], [0.0, 0.5])
    """
    probs = _check_probabilities(p)
    m = _check_sample_size(sample_size)
    per = category_exact(probs, m, generations)
    mult = per.multiplicities[:, None]
    return {
        "generations": per.generations.copy(),
        "surviving_mean": np.sum(mult * (1.0 - per.lost), axis=0),
        "tail_mass_lost_mean": np.sum(mult * per.probabilities[:, None] * per.lost, axis=0),
        "gini_simpson_mean": gini_simpson_mean(probs, m, per.generations),
        "collapse_probability": np.sum(mult * per.fixed, axis=0),
        "entropy_mean": None,
        "notes": {
            "entropy_mean": "not exact (E[-sum p log p] has no closed form for the Wright-Fisher chain); use Monte Carlo",
            "method": (
                "loss/fixation from the count Markov chain (banded binomial transition, entries < 1e-300 dropped: "
                f"absolute error <= n (M+1) 1e-300), {per.probabilities.size} distinct probabilities; Gini-Simpson "
                "from E p_n(1-p_n) = p_0(1-p_0)(1-1/M)^n"
            ),
        },
    }
