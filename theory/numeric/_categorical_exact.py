r"""Exact results for the discrete chain, category by category (Wright-Fisher and its workflows).

Scope. A :class:`~theory.chain.DiscreteChain` whose learner is *per category* (``learner.per_category(K)``: the MLE
or add-:math:`\alpha` smoothing; no temperature, top-k or top-p) moves each category's count by itself: category
:math:`k` only sees its own count and :math:`p_{0,k}`, so every per-category law below is a one-dimensional Markov
chain and the whole-distribution means are sums over categories (equal :math:`p_{0,k}` grouped: each distinct value
costs once). Learners that couple the categories go to :mod:`._categorical_joint` (the chain on compositions, small
``K`` and ``M`` only) or are reported ``None`` ("Monte Carlo: --chains").

Notation. ``M`` draws per generation, ``K`` categories, smoothing :math:`\alpha \ge 0`, ``D = M + K alpha``,
``beta = M / D``, ``gamma = alpha / D``, ``gamma_bar = (K - 1) alpha / D``. For one category with source
probability :math:`p_0` (:math:`q_0 = 1 - p_0`), :math:`c_n` is its count in the training set :math:`T_{n-1}` of
model :math:`n` and :math:`\pi_n` its probability in model :math:`n` (:math:`\pi_0 = p_0`). Model 0 is the source,
so under every workflow :math:`c_1 \sim \mathrm{Bin}(M, p_0)`.

1. **Moments, every workflow** (exact, any ``M``). Under replace and mix, :math:`T_n` holds ``R`` real draws
   (``R = 0`` for replace; a fresh :math:`r \sim \mathrm{Bin}(R, p_0)` each step under mix, one fixed draw under
   mix-fixed) and ``S = M - R`` draws :math:`s \sim \mathrm{Bin}(S, \pi_n)`; the fit is
   :math:`\pi_{n+1} = \beta (a r + b s) + \gamma` with ``a = b = 1/M`` (plain fit) or ``a = w/R, b = (1-w)/S``
   (real weight ``w``). Because ``a R + b S = 1``, the complement is of the same form,
   :math:`1 - \pi_{n+1} = \beta(a \bar r + b \bar s) + \bar\gamma` with :math:`\bar r = R - r`, :math:`\bar s = S - s`.
   From :math:`E[s \mid \pi] = S\pi`, :math:`E[s \bar s \mid \pi] = S(S-1)\pi(1-\pi)` and
   :math:`E[r \bar r] = R(R-1) p_0 q_0`, with :math:`m = E\pi_n`, :math:`\bar m = E(1-\pi_n)`,
   :math:`h = E\pi_n(1-\pi_n)`:

   .. math::
       m' = \beta(a R p_0 + b S m) + \gamma, \qquad \bar m' = \beta(a R q_0 + b S \bar m) + \bar\gamma,\\
       h' = \beta^2 [a^2 R(R-1) p_0 q_0 + a b X + b^2 S(S-1) h] + \beta\bar\gamma E f + \beta\gamma E\bar f
            + \gamma\bar\gamma,

   :math:`E f = a R p_0 + b S m`, :math:`E\bar f = a R q_0 + b S \bar m`, and the cross term
   :math:`X = E[r\bar s] + E[s\bar r]` is :math:`R S (p_0 \bar m + q_0 m)` for fresh real draws (independent of
   :math:`\pi_n`) but :math:`S(u + v)` for the shared draw of mix-fixed, where :math:`u = E[r(1-\pi_n)]`,
   :math:`v = E[\bar r \pi_n]` follow :math:`u' = \beta(a R(R-1)p_0q_0 + b S u) + \bar\gamma R p_0`,
   :math:`v' = \beta(a R(R-1)p_0q_0 + b S v) + \gamma R q_0` (:math:`u_0 = v_0 = R p_0 q_0`). Every term is a sum
   of nonnegative parts (no cancellation, so ``h`` keeps full relative accuracy near :math:`p_0 \in \{0, 1\}`).
   Replace with the MLE gives :math:`h_n = (1 - 1/M)^n p_0 q_0`: the published identity, checked in the tests.
   Accumulate: the pool count :math:`C_i` of :math:`N_i = (i+1)M` points gives :math:`\pi_{i+1} = (C_i+\alpha)/
   (N_i + K\alpha)`, :math:`C_i = C_{i-1} + \mathrm{Bin}(M, \pi_i)`; with :math:`\bar C = N - C` and
   :math:`Y = E[C\bar C]`, :math:`E[C(M - s)\mid C] = M C(\bar C + (K-1)\alpha)/D_i` and
   :math:`E[s \bar C \mid C] = M\bar C(C + \alpha)/D_i` close the recursion on :math:`(EC, E\bar C, Y)`.
   Gini-Simpson is :math:`\sum_k E\pi_{n,k}(1-\pi_{n,k})` (:math:`\sum_k \pi_{n,k} = 1`).

2. **Loss and fixation, replace** (and mix-fixed, part 3; the count chain :math:`c' \mid c \sim \mathrm{Bin}(M, (c+\alpha)/D)`, absorbing
   at 0 and ``M`` for the MLE). Backward equation: :math:`u_s(x) = P(c_{s+1} = 0 \mid c_1 = x)` is
   :math:`T^s 1_{\{0\}}`, and :math:`P(\text{lost at } n) = \sum_x \mathrm{Bin}(M, p_0)(x)\,u_{n-1}(x)`; one vector
   serves every distinct :math:`p_0`. Fixation is loss of the complement :math:`M - c`, itself the chain with
   :math:`\alpha \to (K-1)\alpha` started from :math:`\mathrm{Bin}(M, q_0)` (the same vector when
   :math:`\alpha = 0`).

   *Bound used for truncation.* :math:`E[e^{-\lambda c'} \mid x] = (1 - g(\lambda)(x+\alpha)/D)^M \le
   \exp(-\beta g(\lambda)(x + \alpha))`, :math:`g(\lambda) = 1 - e^{-\lambda}`. By induction on the steps
   (condition on the first one, apply the bound to the rest), :math:`E[e^{-\lambda c_s} \mid c_0 = x] \le
   \exp(-x b_s - d_s)` with :math:`(b_0, d_0) = (\lambda, 0)`, :math:`b_{s+1} = \beta g(b_s)`,
   :math:`d_{s+1} = d_s + \alpha\beta g(b_s)`; letting :math:`\lambda \to \infty`,

   .. math:: u_s(x) = P(c_s = 0 \mid c_0 = x) \le B_s(x) = \exp(-x b_s - d_s),\quad b_1 = \beta,\ d_1 = \alpha\beta,

   (for the MLE :math:`b_s = a_s`, the iterates :math:`a_1 = 1`, :math:`a_{s+1} = 1 - e^{-a_s}` of Suresh et al.),
   and from the start law :math:`P(\text{lost at } n) \le e^{-d}(1 - p_0 g(b))^M` at :math:`(b, d) = (b_{n-1},
   d_{n-1})`.

   *Truncated route* (``M`` above :data:`MAX_SAMPLE_SIZE`). Keep counts ``0..C``. Since :math:`T \ge 0`, the
   recursion :math:`L_{s+1} = T_C L_s` (rows and columns ``<= C``: the tail replaced by 0) is a lower bound and
   :math:`U_{s+1} = T_C U_s + \bar F_C(x) B_s(C+1) + \epsilon` an upper bound, where
   :math:`\bar F_C(x) = P(\mathrm{Bin}(M, q(x)) > C)` (``scipy.stats.binom.sf``) and :math:`B_s` is decreasing in
   ``y``. Each row of :math:`T` keeps the window where the Chernoff bound :math:`P(X \ge k) \le
   \exp(-M\,\mathrm{KL}(k/M \,\|\, q))` (and its mirror) exceeds :math:`e^{-125}`, so the mass dropped per row is
   below :math:`\epsilon = 3\cdot 10^{-54}` (margin included), added to ``U`` each step. The start law is handled the
   same way (counts above ``C``: 0 below, :math:`B_s(x)` above, capped by the closed bound above). Then every loss
   and fixation probability, and each whole-distribution sum of them, lies in the reported bracket ("bounds"); the
   value reported is the lower end (the truncated chain). ``C`` starts at
   :math:`\lceil \log(10^{17} K n) / b_{n-1} \rceil` (the tail term :math:`n e^{-C b}` at :math:`10^{-17}/K`) and
   is doubled (at most twice) until each bracket is below :math:`10^{-15}` of its value or below
   :data:`ABSOLUTE_FLOOR` ``= 1e-30`` in absolute terms (a probability that small is given as its bracket, not to
   15 digits); the bracket reached is reported either way. The cost is set by ``n`` and not by ``M``.

   *Full route* (``M <= MAX_SAMPLE_SIZE``): ``C = M``, no tail, windows to :math:`e^{-705}`; the only error is the
   dropped window mass (:math:`\le 2\cdot 10^{-304}` per step, not reported as a bracket). Here E entropy is exact as well:
   :math:`E[-\sum_k \pi \log \pi]` is linear in the per-category laws, one more backward vector with
   :math:`f(c) = -q\log q`, :math:`q = (c+\alpha)/D`.

3. **Mix with the plain fit**: :math:`c' = \mathrm{Bin}(R, p_0) + \mathrm{Bin}(S, (c+\alpha)/D)`, no absorbing
   state, and :math:`p_0` enters the step: the law of :math:`c_n` is pushed forward for each distinct :math:`p_0`
   (the synthetic step as a banded matrix, then a convolution with the real pmf), full route only and while
   ``n (G nnz + (M + 1) sum_g w_g)`` stays below :data:`MIX_WORK_LIMIT`; else ``None`` ("Monte Carlo: --chains").
   Mix with a real weight and fresh real draws: moments only (the fit is not a function of one count); loss,
   collapse and entropy ``None``.

   **Mix-fixed** (plain or weighted fit): the real draw ``r`` is made once, so given ``r`` the synthetic count is
   a Markov chain, :math:`s' \sim \mathrm{Bin}(S, \beta b s + \beta a r + \gamma)`, started from
   :math:`\mathrm{Bin}(S, p_0)` (model 0 is the source). The category is lost (count 0 in the training set) only
   if :math:`r = 0`, probability :math:`q_0^R`, and then :math:`s' \sim \mathrm{Bin}(S, (s + \alpha_1)/D_1)` with
   :math:`D_1 = 1/(\beta b)`, :math:`\alpha_1 = \gamma D_1`: the replace chain's form with ``S`` trials, so
   part 2 applies as it is (one backward vector, full on ``0..S`` when ``S <= MAX_SAMPLE_SIZE``, else truncated
   with its bracket; :math:`\beta_1 = S/D_1 < 1` makes it subcritical). It holds everything only if
   :math:`r = R`, probability :math:`p_0^R`, and then :math:`S - s` is the same chain with
   :math:`\alpha_1 \to \bar\gamma D_1`, started from :math:`\mathrm{Bin}(S, q_0)`. E entropy: ``None`` (it needs
   the count law for every value of ``r``).

4. **Accumulate**: the pool keeps every point. MLE: a category absent from the first ``M`` real points has
   probability 0 forever and one present keeps a positive count, so :math:`P(\text{lost at } n \ge 1) = q_0^M`;
   likewise all of the pool is in category ``k`` iff the first ``M`` are, :math:`P(\text{fixed}) = p_0^M`.
   Add-:math:`\alpha`: the pool count stays 0 iff each step's ``M`` draws miss ``k``, whose probability is then
   :math:`\alpha/(iM + K\alpha)` at step ``i``: :math:`P(c_n = 0) = q_0^M \prod_{i=1}^{n-1}
   (1 - \alpha/(iM+K\alpha))^M`, and :math:`P(\text{all in } k) = p_0^M \prod_{i=1}^{n-1}
   ((iM + \alpha)/(iM + K\alpha))^M`. E entropy: ``None`` (the pool count's state space grows with ``n``).

Lost / collapsed: for the MLE, :math:`\pi_{n,k} = 0` / :math:`\max_k \pi_{n,k} = 1`; under smoothing
(:math:`\alpha > 0`) instead count 0 in :math:`T_{n-1}` / all of :math:`T_{n-1}` in one category. Categories'
events "all of :math:`T_{n-1}` in ``k``" are disjoint, so P(collapsed) is their sum. Whole distribution: E surviving
:math:`\sum_k (1 - P(\text{lost}_k))`, E tail mass lost :math:`\sum_k p_{0,k} P(\text{lost}_k)`.

Cost: :data:`FEASIBILITY` (measured): the truncated route is a few seconds at generations up to 100 for any
``M`` from 1e5 to 1e7 and ``K`` up to 1e5 (``C`` is set by ``n``: :math:`\log(10^{17} K n)/a_{n-1}`, about
``27 n`` at ``K = 1e4``), the full route 17 s at ``M = 1e4``; a horizon needing more than :data:`MAX_TRUNCATION`
counts (``n`` above 500 to 600) gives ``None`` for loss and collapse ("Monte Carlo: --chains").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError, check_integer

__all__ = [
    "FEASIBILITY",
    "FULL_WORK_LIMIT",
    "MAX_SAMPLE_SIZE",
    "MIX_WORK_LIMIT",
    "CategoryExact",
    "category_exact",
    "discrete_exact_values",
    "gini_simpson_mean",
    "loss_time_distribution",
    "transition_band",
]

#: Largest ``M`` for the full count state space ``0..M`` (E entropy exact, mix's loss exact); above it the
#: truncated route (bracketed loss and fixation, entropy ``None``).
MAX_SAMPLE_SIZE = 10_000

#: Largest ``n (G nnz + (M + 1) sum_g w_g)`` (multiply-adds) for mix's forward laws (about a minute here).
MIX_WORK_LIMIT = 2e10

#: Largest ``n nnz`` (generations times stored entries of the band) for the full route's backward equation (five
#: vectors a step: about 2 minutes here at the limit); beyond it the truncated route, or ``None`` if that needs more
#: than :data:`MAX_TRUNCATION` counts (``-n 1e6`` at ``M = 1e4`` would otherwise run for a day).
FULL_WORK_LIMIT = 2e10

#: Brackets narrower than this (absolute) are not widened to 1e-15 relative: a loss/collapse probability or tail
#: mass below it is reported as its bracket.
ABSOLUTE_FLOOR = 1e-30

#: Truncated-route states kept at most (the band has about ``21 C^1.5`` entries: 4e7 at C = 16000).
MAX_TRUNCATION = 16_000

#: Measured on the 2-core development machine (shared with other jobs), replace/MLE, ``discrete_exact_values`` at
#: generations ``[1, 10, 100]``, one process under ``/usr/bin/time -v`` (``/tmp/h1_feas.py`` in the session report):
#: ``(source, M) -> (seconds inside the call, wall seconds of the process, peak RSS MiB, truncation C or None for
#: the full route, bracket width)``. The bracket width is the largest ``upper - lower`` of E surviving and E tail
#: mass lost (0.0: the bracket is narrower than float64's spacing at the value) and of P(collapsed) (whose value is
#: 0 to float64 here: the bracket is ``[0, 3e-50]``). Generations up to 500 at M = 1e5 (C = 13710): 58 s, 730 MiB.
#: Other workflows, same generations: words:en:10000, M = 1e5, mix-fixed:0.1 5.2 s (C = 4000, 455 MiB), accumulate
#: 0.4 s; zipf:1:100, M = 1000, mix:0.1 (forward laws) 4.1 s, 183 MiB.
FEASIBILITY: dict[tuple[str, int], tuple[float, float, int, int | None, float]] = {
    ("words:en:10000", 10_000): (16.8, 17.6, 731, None, 0.0),
    ("words:en:10000", 100_000): (1.96, 2.74, 355, 2700, 3e-50),
    ("words:en:10000", 1_000_000): (2.43, 3.08, 356, 2700, 3e-50),
    ("words:en:10000", 10_000_000): (1.99, 2.64, 356, 2700, 3e-50),
    ("zipf:1:100000", 100_000): (2.51, 3.15, 377, 2817, 3e-49),
    ("zipf:1:100000", 10_000_000): (3.95, 4.64, 464, 2817, 3e-49),
}

_LOG_WINDOW = 705.0  # Chernoff exponent of the row windows: dropped mass per row <= 2 exp(-705) < 2e-304
_DROPPED = 2e-304  # >= 2 exp(-705)
# the truncated route carries a bracket anyway: narrower windows (a third of the entries), dropped mass per row
# <= 2 exp(-125) (with a margin of e for the rounding of KL: 2 exp(-124) < 3e-54), added to the upper vector
_LOG_WINDOW_TRUNCATED = 125.0
_DROPPED_TRUNCATED = 3e-54
_BLOCK = 4_000_000  # entries evaluated at once


# ------------------------------------------------------------------------------------------------ validation


def _check_generations(generations) -> np.ndarray:
    gens = np.atleast_1d(np.asarray(generations, dtype=object))
    if gens.ndim != 1 or gens.size == 0:
        raise ParameterError("generations", "one or more integers >= 0", generations)
    return np.array([check_integer("generations", g, minimum=0) for g in gens], dtype=np.int64)


def _check_chain(chain):
    from ..chain import DiscreteChain

    if not isinstance(chain, DiscreteChain):
        raise ParameterError("chain", "a DiscreteChain (theory.chain.DiscreteChain)", chain)
    return chain


def _groups(chain) -> tuple[np.ndarray, np.ndarray]:
    values, mult = chain.source.grouped()
    return values[::-1].copy(), mult[::-1].copy()  # ascending


# ------------------------------------------------------------------------------------------------ binomial windows


def _kl(k, m, q):
    from scipy.special import rel_entr

    x = k / m
    return m * (rel_entr(x, q) + rel_entr(1.0 - x, 1.0 - q))


def _windows(m: int, q: np.ndarray, cap: int | None = None, log_window: float = _LOG_WINDOW):
    """Integer windows ``[lo, hi]`` of ``Bin(m, q)`` outside which the mass is below ``2 exp(-log_window)``
    (Chernoff: ``P(X >= k) <= exp(-m KL(k/m || q))`` for ``k >= mq``, and its mirror)."""
    q = np.asarray(q, dtype=np.float64)
    mu = m * q
    # upper end: smallest k >= ceil(mu) with KL >= log_window (or m)
    lo_k = np.minimum(np.ceil(mu), m)
    hi_k = np.full(q.shape, float(m))
    ok = _kl(hi_k, m, q) >= log_window
    a, b = lo_k.copy(), hi_k.copy()
    for _ in range(64):
        if np.all(b - a <= 0):
            break
        mid = np.floor((a + b) / 2)
        good = _kl(mid, m, q) >= log_window
        b = np.where(good, mid, b)
        a = np.where(good, a, mid + 1)
    hi = np.where(ok, b, float(m))
    # lower end: largest k <= floor(mu) with KL >= log_window (or 0)
    a, b = np.zeros(q.shape), np.maximum(np.floor(mu), 0)
    ok = _kl(np.zeros(q.shape), m, q) >= log_window
    for _ in range(64):
        if np.all(b - a <= 0):
            break
        mid = np.ceil((a + b) / 2)
        good = _kl(mid, m, q) >= log_window
        a = np.where(good, mid, a)
        b = np.where(good, b, mid - 1)
    lo = np.where(ok, a, 0.0)
    lo = np.where(q <= 0, 0.0, lo)
    hi = np.where(q <= 0, 0.0, hi)
    lo = np.where(q >= 1, float(m), lo)
    hi = np.where(q >= 1, float(m), hi)
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    if cap is not None:
        hi = np.minimum(hi, cap)
    return lo, hi


def _band(trials: int, q: np.ndarray, cap: int, log_window: float = _LOG_WINDOW):
    """CSR matrix ``T[x, y] = Bin(trials, q[x]).pmf(y)`` for ``y`` in the Chernoff window, ``y <= cap``."""
    from scipy import sparse
    from scipy.stats import binom

    rows = q.size
    lo, hi = _windows(trials, q, cap, log_window)
    length = np.maximum(hi - lo + 1, 0)
    indptr = np.concatenate([[0], np.cumsum(length)])
    total = int(indptr[-1])
    index_dtype = np.int32 if total < 2**31 else np.int64
    data = np.empty(total)
    indices = np.empty(total, dtype=index_dtype)
    start = 0
    while start < rows:
        stop = start + 1
        limit = indptr[start] + _BLOCK
        stop = max(start + 1, int(np.searchsorted(indptr, limit, side="right")) - 1)
        stop = min(stop, rows)
        r = np.arange(start, stop)
        n = length[r]
        base = indptr[start]
        flat_rows = np.repeat(r, n)
        offs = np.arange(int(indptr[stop] - base)) - np.repeat(indptr[r] - base, n)
        cols = np.repeat(lo[r], n) + offs
        data[base:indptr[stop]] = binom.pmf(cols, trials, q[flat_rows])
        indices[base:indptr[stop]] = cols
        start = stop
    return sparse.csr_matrix((data, indices, indptr.astype(index_dtype)), shape=(rows, cap + 1), copy=False)


def transition_band(sample_size: int, alpha: float = 0.0, size: int = 2):
    """The count chain's transition ``T[i, j] = Bin(M, (i + alpha)/(M + K alpha)).pmf(j)`` on counts ``0..M``
    as a CSR matrix, each row kept on its Chernoff window (mass dropped per row ``< 2e-304``).

    >>> T = transition_band(4)
    >>> T.shape, bool(np.allclose(T.sum(axis=1), 1.0))
    ((5, 5), True)
    """
    m = check_integer("sample_size", sample_size, minimum=1)
    d = m + size * alpha
    return _band(m, (np.arange(m + 1) + alpha) / d, m)


# ------------------------------------------------------------------------------------------------ moments


def _moments(chain, p0: np.ndarray, gens: np.ndarray):
    """``(E pi_n, E pi_n (1 - pi_n))`` per group, shape ``(G, len(gens))`` (module doc, part 1)."""
    k, m, alpha = chain.size, chain.sample_size, chain.learner.alpha
    q0 = 1.0 - p0
    top = int(gens.max())
    mean = np.empty((p0.size, gens.size))
    het = np.empty((p0.size, gens.size))
    want = {}
    for j, g in enumerate(gens):
        want.setdefault(int(g), []).append(j)

    def record(n, mn, hn):
        for j in want.get(n, ()):
            mean[:, j] = mn
            het[:, j] = hn

    record(0, p0, p0 * q0)
    if chain.workflow.kind == "accumulate":
        ec, ecb, y = m * p0, m * q0, m * (m - 1.0) * p0 * q0
        for n in range(1, top + 1):
            d = n * m + k * alpha
            mn = (ec + alpha) / d
            mbn = (ecb + (k - 1) * alpha) / d
            hn = (y + (k - 1) * alpha * ec + alpha * ecb + (k - 1) * alpha * alpha) / (d * d)
            record(n, mn, hn)
            y = y + m * (y + (k - 1) * alpha * ec) / d + m * (y + alpha * ecb) / d + m * (m - 1.0) * hn
            ec, ecb = ec + m * mn, ecb + m * mbn
        return mean, het
    r = chain.real_count
    s = m - r
    w = chain.real_weight
    a, b = (1.0 / m, 1.0 / m) if w is None else (w / r, (1.0 - w) / s)
    d = m + k * alpha
    beta, gam, gbar = m / d, alpha / d, (k - 1) * alpha / d
    fixed = chain.workflow.kind == "mix-fixed"
    err = r * (r - 1.0) * p0 * q0
    mn, mbn, hn = p0.copy(), q0.copy(), p0 * q0
    u = v = r * p0 * q0
    for n in range(1, top + 1):
        ef = a * r * p0 + b * s * mn
        efb = a * r * q0 + b * s * mbn
        cross = s * (u + v) if fixed else r * s * (p0 * mbn + q0 * mn)
        eff = a * a * err + a * b * cross + b * b * s * (s - 1.0) * hn
        if fixed:
            u, v = beta * (a * err + b * s * u) + gbar * r * p0, beta * (a * err + b * s * v) + gam * r * q0
        mn, mbn = beta * ef + gam, beta * efb + gbar
        hn = beta * beta * eff + beta * gbar * ef + beta * gam * efb + gam * gbar
        record(n, mn, hn)
    return mean, het


# ------------------------------------------------------------------------------------------------ replace chain


def _bound_iterates(beta: float, alpha: float, steps: int):
    """``(b_s, d_s)`` for ``s = 0..steps`` (``b_0 = inf``, ``d_0 = 0``): ``u_s(x) <= exp(-x b_s - d_s)``."""
    b = np.empty(steps + 1)
    d = np.empty(steps + 1)
    b[0], d[0] = np.inf, 0.0
    for s in range(1, steps + 1):
        g = -math.expm1(-b[s - 1]) if np.isfinite(b[s - 1]) else 1.0
        b[s] = beta * g
        d[s] = d[s - 1] + alpha * beta * g
    return b, d


def _tail_bound(x, b: float, d: float, s: int):
    """``B_s(x)`` (upper bound on ``u_s(x)``); ``u_0(x) = 1{x = 0}``."""
    x = np.asarray(x, dtype=np.float64)
    if s == 0:
        return (x == 0).astype(np.float64)
    return np.minimum(1.0, np.exp(-x * b - d))


def _backward(m: int, alpha: float, d_all: float, cap: int, steps: list[int], entropy: bool):
    # full route (cap = m): windows to exp(-705); truncated: exp(-125) (the bracket carries the dropped mass)
    """Lower/upper vectors ``u_s`` on counts ``0..cap`` for each ``s`` in ``steps`` (and ``T^s f`` for the
    entropy function when asked; full route only). Returns ``{s: (L, U, E or None)}`` and the iterates."""
    from scipy.stats import binom

    q = (np.arange(cap + 1) + alpha) / d_all
    log_window, dropped = (_LOG_WINDOW, _DROPPED) if cap >= m else (_LOG_WINDOW_TRUNCATED, _DROPPED_TRUNCATED)
    band = _band(m, q, cap, log_window)
    tail = binom.sf(cap, m, q) if cap < m else np.zeros(cap + 1)
    top = max(steps) if steps else 0
    bs, ds = _bound_iterates(m / d_all, alpha, top)
    cols = 3 if entropy else 2
    h = np.zeros((cap + 1, cols))
    h[0, 0] = h[0, 1] = 1.0
    if entropy:
        qq = q
        h[:, 2] = -np.where(qq > 0, qq * np.log(np.where(qq > 0, qq, 1.0)), 0.0)
    out = {}
    wanted = set(steps)
    for s in range(top + 1):
        if s > 0:
            prev = s - 1
            bound_next = float(_tail_bound(cap + 1, bs[prev], ds[prev], prev)) if cap < m else 0.0
            h = band @ h
            h[:, 1] += tail * bound_next + dropped
            np.minimum(h[:, 1], 1.0, out=h[:, 1])
        if s in wanted:
            out[s] = (h[:, 0].copy(), h[:, 1].copy(), h[:, 2].copy() if entropy else None)
    return out, bs, ds


def _start_dot(m: int, p: np.ndarray, cap: int, vectors: dict, bs, ds, entropy: bool):
    """For each start probability ``p`` (law ``Bin(m, p)``) and each ``s``: (lower, upper, entropy) of
    ``E u_s(c_1)``. Returns arrays ``(G, len(vectors))``."""
    from scipy.stats import binom

    steps = sorted(vectors)
    g = p.size
    lower = np.zeros((g, len(steps)))
    upper = np.zeros((g, len(steps)))
    ent = np.zeros((g, len(steps))) if entropy else None
    log_window, dropped = (_LOG_WINDOW, _DROPPED) if cap >= m else (_LOG_WINDOW_TRUNCATED, _DROPPED_TRUNCATED)
    lo, hi = _windows(m, p, None, log_window)
    inside = lo <= cap
    hi_c = np.minimum(hi, cap)
    idx = np.flatnonzero(inside)
    # per group: mass above cap (bounded by B_s(cap + 1)) or, for groups wholly above cap, B_s(lo)
    above = np.where(hi > cap, binom.sf(cap, m, p), 0.0) if cap < m else np.zeros(g)
    length = np.where(inside, hi_c - lo + 1, 0)
    start = 0
    while start < idx.size:
        csum = np.cumsum(length[idx[start:]])
        stop = start + max(1, int(np.searchsorted(csum, _BLOCK, side="right")))
        block = idx[start:stop]
        n = length[block]
        offs = np.arange(int(n.sum())) - np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        x = np.repeat(lo[block], n) + offs
        pmf = binom.pmf(x, m, np.repeat(p[block], n))
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        for j, s in enumerate(steps):
            low_v, up_v, ent_v = vectors[s]
            lower[block, j] = np.add.reduceat(pmf * low_v[x], starts)
            upper[block, j] = np.add.reduceat(pmf * up_v[x], starts)
            if entropy:
                ent[block, j] = np.add.reduceat(pmf * ent_v[x], starts)
        start = stop
    for j, s in enumerate(steps):
        tail_b = np.where(inside, above * _tail_bound(cap + 1, bs[s], ds[s], s),
                          _tail_bound(lo, bs[s], ds[s], s)) if cap < m else 0.0
        upper[:, j] += tail_b + dropped
        if s > 0:
            closed = np.exp(-ds[s] + m * np.log1p(-p * -np.expm1(-bs[s]))) + _DROPPED
            upper[:, j] = np.minimum(upper[:, j], closed)
        upper[:, j] = np.minimum(np.maximum(upper[:, j], lower[:, j]), 1.0)
    return lower, upper, ent


def _chain_parameters(chain):
    """``(trials, alpha_loss, alpha_fixed, D, log prefactor weights)`` of the count chain whose loss/fixation give
    the category's: replace: ``c' ~ Bin(M, (c + alpha)/D)``; mix-fixed: the synthetic count given the fixed real
    count 0 (loss) or ``R`` (fixation), ``s' ~ Bin(S, beta b s + gamma)`` (module doc, part 3)."""
    m, k, alpha = chain.sample_size, chain.size, chain.learner.alpha
    d = m + k * alpha
    if chain.workflow.kind != "mix-fixed":
        return m, alpha, (k - 1) * alpha, d, 0
    r = chain.real_count
    s = m - r
    w = chain.real_weight
    b = 1.0 / m if w is None else (1.0 - w) / s
    d1 = d / (m * b)  # 1 / (beta b)
    return s, alpha * d1 / d, (k - 1) * alpha * d1 / d, d1, r


def _replace_chain(chain, p0, gens, cap: int, entropy: bool):
    """Loss/fixation (lower, upper) and entropy per group under replace, and loss/fixation under mix-fixed
    (module doc, parts 2 and 3)."""
    m, alpha, alpha_fixed, d_all, r = _chain_parameters(chain)
    positive = sorted({int(n) - 1 for n in gens if n > 0})
    shape = (p0.size, gens.size)
    res = {name: np.zeros(shape) for name in ("lost_lo", "lost_hi", "fixed_lo", "fixed_hi")}
    res["entropy"] = np.zeros(shape) if entropy else None
    res["lost_lo"][:, gens == 0] = res["lost_hi"][:, gens == 0] = (p0 == 0)[:, None]
    res["fixed_lo"][:, gens == 0] = res["fixed_hi"][:, gens == 0] = (p0 == 1)[:, None]
    if entropy:
        res["entropy"][:, gens == 0] = -np.where(p0 > 0, p0 * np.log(np.where(p0 > 0, p0, 1.0)), 0.0)[:, None]
    if not positive:
        return res
    vec, bs, ds = _backward(m, alpha, d_all, cap, positive, entropy)
    lo, hi, ent = _start_dot(m, p0, cap, vec, bs, ds, entropy)
    if alpha_fixed == alpha:
        flo, fhi, _ = _start_dot(m, 1.0 - p0, cap, vec, bs, ds, False)
    else:
        # complement chain: M - c ~ Bin(M, (M - c + (K - 1) alpha) / D) (replace)
        vec_c, bs_c, ds_c = _backward(m, alpha_fixed, d_all, cap, positive, False)
        flo, fhi, _ = _start_dot(m, 1.0 - p0, cap, vec_c, bs_c, ds_c, False)
    if r:
        # mix-fixed: lost needs the fixed real count 0 (probability q0^R), fixed needs it R (p0^R)
        with np.errstate(divide="ignore"):
            miss = np.exp(r * np.log1p(-p0))[:, None]
            hit = np.exp(r * np.log(p0))[:, None]
        lo, hi, flo, fhi = lo * miss, hi * miss, flo * hit, fhi * hit
    for j, n in enumerate(gens):
        if n == 0:
            continue
        t = positive.index(int(n) - 1)
        res["lost_lo"][:, j], res["lost_hi"][:, j] = lo[:, t], hi[:, t]
        res["fixed_lo"][:, j], res["fixed_hi"][:, j] = flo[:, t], fhi[:, t]
        if entropy:
            res["entropy"][:, j] = ent[:, t]
    return res


# ------------------------------------------------------------------------------------------------ mix chain


def _window_sizes(trials: int, q: np.ndarray) -> np.ndarray:
    """About the Chernoff windows' lengths (Gaussian width for exponent 705), without building them."""
    return np.minimum(trials + 1, 2.0 * np.sqrt(2 * _LOG_WINDOW * trials * q * (1 - q)) + 3)


def _full_work(trials: int, top: int) -> float:
    """``n nnz`` of the full route's backward equation on counts ``0..trials`` up to generation ``top``."""
    q = np.arange(trials + 1) / trials
    return float(top) * float(np.sum(_window_sizes(trials, q)))


def _mix_work(chain, p0: np.ndarray, top: int) -> float:
    """Multiply-adds of the forward laws of mix: ``n (G nnz + sum_g (M + 1) w_g)``."""
    m, k, alpha = chain.sample_size, chain.size, chain.learner.alpha
    r = chain.real_count
    q = (np.arange(m + 1) + alpha) / (m + k * alpha)
    nnz = float(np.sum(_window_sizes(m - r, q)))
    conv = float(np.sum((m + 1) * _window_sizes(r, p0)))
    return float(top) * (p0.size * nnz + conv)


def _mix_chain(chain, p0, gens):
    """Forward laws of the mix count chain (plain fit), all groups at once: lost, fixed, entropy (module doc,
    part 3)."""
    from scipy.stats import binom

    m, k, alpha = chain.sample_size, chain.size, chain.learner.alpha
    r = chain.real_count
    s = m - r
    d = m + k * alpha
    counts = np.arange(m + 1)
    q = (counts + alpha) / d
    f = -np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    shape = (p0.size, gens.size)
    lost, fixed, ent = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    lost[:, gens == 0] = (p0 == 0)[:, None]
    fixed[:, gens == 0] = (p0 == 1)[:, None]
    ent[:, gens == 0] = -np.where(p0 > 0, p0 * np.log(np.where(p0 > 0, p0, 1.0)), 0.0)[:, None]
    top = int(gens.max())
    if top == 0:
        return lost, fixed, ent
    synth = _band(s, q, s).T.tocsr() if s > 0 else None  # (S + 1, M + 1): law of c -> law of the synthetic part
    rlo, rhi = _windows(r, p0)
    reals = [binom.pmf(np.arange(rlo[g], rhi[g] + 1), r, p0[g]) for g in range(p0.size)]
    law = binom.pmf(counts[:, None], m, p0[None, :])  # (M + 1, G): law of c_1
    for n in range(1, top + 1):
        if n > 1:
            part = synth @ law if synth is not None else np.ones((1, p0.size))
            law = np.zeros((m + 1, p0.size))
            for g in range(p0.size):
                conv = np.convolve(part[:, g], reals[g])
                law[rlo[g]:rlo[g] + conv.size, g] = conv[: m + 1 - rlo[g]]
        where = gens == n
        if where.any():
            lost[:, where] = law[0][:, None]
            fixed[:, where] = law[m][:, None]
            ent[:, where] = (f @ law)[:, None]
    return lost, fixed, ent


# ------------------------------------------------------------------------------------------------ accumulate


def _accumulate_chain(chain, p0, gens):
    m, k, alpha = chain.sample_size, chain.size, chain.learner.alpha
    q0 = 1.0 - p0
    top = int(gens.max())
    i = np.arange(1, max(top, 1))
    if alpha == 0:
        log_miss = np.zeros(i.size + 1)
        log_all = np.zeros(i.size + 1)
    else:
        log_miss = np.concatenate([[0.0], np.cumsum(m * np.log1p(-alpha / (i * m + k * alpha)))])
        log_all = np.concatenate([[0.0], np.cumsum(m * np.log1p(-(k - 1) * alpha / (i * m + k * alpha)))])
    with np.errstate(divide="ignore"):
        lq = m * np.log(q0)
        lp = m * np.log(p0)
    lost = np.empty((p0.size, gens.size))
    fixed = np.empty((p0.size, gens.size))
    for j, n in enumerate(gens):
        if n == 0:
            lost[:, j] = p0 == 0
            fixed[:, j] = p0 == 1
        else:
            lost[:, j] = np.exp(lq + log_miss[n - 1])
            fixed[:, j] = np.exp(lp + log_all[n - 1])
    return lost, fixed


# ------------------------------------------------------------------------------------------------ public API


@dataclass(frozen=True)
class CategoryExact:
    """Per-distinct-probability results; arrays are ``(G, len(generations))``, rows aligned with
    ``probabilities`` (distinct ``p_{0,k}``, ascending) and ``multiplicities``; ``None`` where not exact.

    ``mean = E p_{n,k}``, ``heterozygosity = E p_{n,k}(1 - p_{n,k})``, ``lost`` / ``fixed``: probability that the
    category is lost / holds everything at generation ``n`` (module doc for the smoothed meaning). On the
    truncated route (``M > MAX_SAMPLE_SIZE``) ``lost``/``fixed`` are the lower ends of the proved brackets
    ``lost_bounds``/``fixed_bounds`` (``(lower, upper)``; ``None`` where the value is exact). ``entropy`` is
    ``E[-p log p]`` where exact, ``method`` says how the values were obtained.
    """

    probabilities: np.ndarray
    multiplicities: np.ndarray
    sample_size: int
    generations: np.ndarray
    mean: np.ndarray
    heterozygosity: np.ndarray
    lost: np.ndarray | None
    fixed: np.ndarray | None
    lost_bounds: tuple[np.ndarray, np.ndarray] | None = None
    fixed_bounds: tuple[np.ndarray, np.ndarray] | None = None
    entropy: np.ndarray | None = None
    notes: dict | None = None


def _truncation(chain, gens) -> int | None:
    """Starting ``C`` for the truncated route, or ``None`` when it would exceed :data:`MAX_TRUNCATION`."""
    m, alpha, _, d, _ = _chain_parameters(chain)
    k = chain.size
    top = int(gens.max())
    if top <= 1:
        return min(m, 64)
    bs, _ = _bound_iterates(m / d, alpha, top - 1)
    b = bs[top - 1]
    if not b > 0:
        return None
    c = math.ceil(math.log(1e17 * k * top) / b) + 16
    return c if c <= MAX_TRUNCATION else None


def category_exact(chain, generations, *, truncation: int | None = None) -> CategoryExact:
    """Exact per-category laws of a per-category discrete chain (module doc).

    ``truncation``: force the truncated route (replace, mix-fixed; ignored otherwise) with counts ``0..truncation``
    whatever ``M`` (a check of the bracket against the full route; by default the full route for
    ``M <= MAX_SAMPLE_SIZE``).

    >>> from theory.chain import DiscreteChain
    >>> r = category_exact(DiscreteChain("1,1", 2), [0, 1, 2])
    >>> r.lost[0].tolist()   # P(count 0) after 0, 1, 2 generations: 0, 1/4, 1/4 + 1/2 * 1/4
    [0.0, 0.25, 0.375]
    """
    chain = _check_chain(chain)
    gens = _check_generations(generations)
    k = chain.size
    if not chain.learner.per_category(k):
        raise ParameterError(
            "learner", "a per-category learner (MLE or add-alpha smoothing) for category_exact; temperature, "
            "top-k and top-p couple the categories (joint_exact_values, or Monte Carlo)", str(chain.learner))
    p0, mult = _groups(chain)
    m = chain.sample_size
    mean, het = _moments(chain, p0, gens)
    kind = chain.workflow.kind
    r = chain.real_count
    if kind in ("mix", "mix-fixed") and r == 0:
        kind = "replace"  # lambda 0: the replace chain exactly
    if kind == "mix-fixed" and r == m:
        kind = "mix"  # all real: each T_n is Bin(M, p_0), marginally as under mix:1
    notes: dict[str, str] = {}
    lost = fixed = entropy = None
    lost_b = fixed_b = None
    alpha = chain.learner.alpha
    smoothing = " (add-alpha: 'lost' is count 0 in the training set, 'collapsed' all of it in one category)" if alpha else ""
    if truncation is not None:
        truncation = check_integer("truncation", truncation, minimum=1)
    if kind in ("replace", "mix-fixed"):
        fixed_mix = kind == "mix-fixed"
        trials = _chain_parameters(chain)[0]
        if fixed_mix:
            label = (f"mix-fixed: the synthetic count chain (S = {trials} draws) given the fixed real count 0 (loss, "
                     f"times q0^R) or R = {r} (collapse, times p0^R)")
        else:
            label = "replace: the count chain"
        if trials <= MAX_SAMPLE_SIZE and truncation is None and _full_work(trials, int(gens.max())) <= FULL_WORK_LIMIT:
            res = _replace_chain(chain, p0, gens, trials, not fixed_mix)
            lost, fixed, entropy = res["lost_lo"], res["fixed_lo"], res["entropy"]
            notes["method"] = (f"{label}, in full on 0..{trials}, backward equation, {p0.size} distinct "
                               f"probabilities; window mass dropped < 2e-304 per step; moments by the exact linear "
                               f"recursion{smoothing}")
        else:
            cap = _truncation(chain, gens) if truncation is None else truncation
            if cap is None and fixed_mix:
                cap = min(trials, MAX_TRUNCATION // 4)  # subcritical chain: start here and let the bracket decide
            widths = math.inf
            if cap is not None:
                for attempt in range(3):
                    cap = min(cap, trials)
                    res = _replace_chain(chain, p0, gens, cap, False)
                    widths = _relative_widths(res, p0, mult)
                    if widths <= 1e-15 or cap >= trials or 2 * cap > MAX_TRUNCATION or attempt == 2 or truncation:
                        break
                    cap *= 2
            if cap is None or (widths > 1e-6 and truncation is None):
                notes["lost"] = notes["fixed"] = (
                    f"not exact here: at generation {int(gens.max())} the full count chain exceeds its work limit "
                    f"and the truncated chain's bracket needs more than {MAX_TRUNCATION} counts; Monte Carlo: --chains")
                notes["method"] = f"moments by the exact linear recursion{smoothing}"
            else:
                lost, fixed = res["lost_lo"], res["fixed_lo"]
                lost_b = (res["lost_lo"], res["lost_hi"])
                fixed_b = (res["fixed_lo"], res["fixed_hi"])
                notes["method"] = (
                    f"{label}, truncated at C = {cap} of {trials} with the proved bracket (iterates of "
                    f"g(x) = 1 - exp(-x)); value = lower end, exact to within the reported bounds (largest relative "
                    f"width {widths:.1e}); {p0.size} distinct probabilities; moments by the exact linear "
                    f"recursion{smoothing}")
            if trials > MAX_SAMPLE_SIZE or truncation is not None:
                notes["entropy"] = (f"not exact for M > {MAX_SAMPLE_SIZE} (the truncated chain does not carry the "
                                    "whole count law); Monte Carlo: --chains")
            else:
                notes["entropy"] = (f"not exact at generation {int(gens.max())}: the full count chain on 0..{trials} "
                                    f"would exceed its work limit ({FULL_WORK_LIMIT:.0e} multiply-adds); Monte "
                                    "Carlo: --chains")
        if fixed_mix:
            notes["entropy"] = ("not exact for mix-fixed (E entropy needs the count law for every value of the fixed "
                                "real count); Monte Carlo: --chains")
    elif kind == "mix" and chain.real_weight is None:
        top = int(gens.max())
        if m <= MAX_SAMPLE_SIZE and _mix_work(chain, p0, top) <= MIX_WORK_LIMIT:
            lost, fixed, entropy = _mix_chain(chain, p0, gens)
            notes["method"] = (f"mix (plain fit): forward law of each category's count (Bin(R, p0) + "
                               f"Bin(M - R, (c + alpha)/D), R = {r}) on 0..M, {p0.size} distinct probabilities; "
                               f"moments by the exact linear recursion{smoothing}")
        else:
            why = (f"not exact here (mix: the count law must be pushed forward for each of the {p0.size} distinct "
                   f"probabilities on 0..M; M = {m}, beyond the work limit); Monte Carlo: --chains")
            notes["lost"] = notes["fixed"] = notes["entropy"] = why
            notes["method"] = f"moments by the exact linear recursion (mix, R = {r}){smoothing}"
    elif kind == "accumulate":
        lost, fixed = _accumulate_chain(chain, p0, gens)
        notes["entropy"] = ("not exact (accumulate: the pool count's state space grows with n); Monte Carlo: --chains")
        notes["method"] = ("accumulate: closed forms (a category's pool count is 0, or all of the pool, iff the "
                           f"first M points and every later step's draws say so); moments by the exact recursion{smoothing}")
    else:
        what = "mix with a real weight and fresh real draws (the fit is not a function of one count)"
        why = f"not exact for {what}; Monte Carlo: --chains"
        notes["lost"] = notes["fixed"] = notes["entropy"] = why
        notes["method"] = f"moments by the exact linear recursion ({what}){smoothing}"
    return CategoryExact(p0, mult, m, gens, mean, het, lost, fixed, lost_b, fixed_b, entropy, notes)


def _relative_widths(res, p0, mult) -> float:
    """Largest bracket width relative to its aggregate (E surviving, E tail mass lost, P(collapsed)); widths
    below :data:`ABSOLUTE_FLOOR` are not counted (a probability or mass that small is given as its bracket)."""
    w = mult[:, None].astype(np.float64)
    lo, hi, flo, fhi = res["lost_lo"], res["lost_hi"], res["fixed_lo"], res["fixed_hi"]
    pairs = (
        (np.sum(w * (hi - lo), axis=0), np.sum(w * (1.0 - hi), axis=0)),
        (np.sum(w * p0[:, None] * (hi - lo), axis=0), np.sum(w * p0[:, None] * lo, axis=0)),
        (np.sum(w * (fhi - flo), axis=0), np.sum(w * flo, axis=0)),
    )
    worst = 0.0
    for width, value in pairs:
        big = width > ABSOLUTE_FLOOR
        if np.any(big):
            worst = max(worst, float(np.max(width[big] / np.maximum(value[big], 1e-300))))
    return worst


def _joint_or_none(chain, gens) -> dict:
    from ..quantities import DISCRETE_QUANTITIES

    k, m = chain.size, chain.sample_size
    from ._categorical_joint import joint_exact_values

    try:
        return joint_exact_values(chain, gens)  # raises ParameterError when the composition chain is too large
    except ParameterError as err:
        why = (f"not exact: {chain.learner} couples the categories, and the chain on compositions is too large "
               f"at K = {k}, M = {m} ({err}); Monte Carlo: --chains")
    out = {"generations": gens.copy()}
    for key in DISCRETE_QUANTITIES:
        out[key] = None
    out["notes"] = {key: why for key in DISCRETE_QUANTITIES}
    out["notes"]["method"] = "none exact (a coupling learner beyond the joint chain's limit)"
    out["bounds"] = {}
    return out


def discrete_exact_values(chain, generations) -> dict:
    """Exact whole-distribution results of a discrete chain (module doc).

    Returns ``{"generations", "surviving_mean", "tail_mass_lost_mean", "gini_simpson_mean",
    "collapse_probability", "entropy_mean", "notes", "bounds"}``: float64 arrays aligned with ``generations`` or
    ``None`` where not exact (``notes[key]`` says why), ``notes["method"]`` says how, and ``bounds[key] =
    (lower, upper)`` where the value is exact only to within a proved truncation bracket.

    >>> from theory.chain import DiscreteChain
    >>> v = discrete_exact_values(DiscreteChain("1,1", 2), [0, 1])
    >>> v["surviving_mean"].tolist(), v["collapse_probability"].tolist()
    ([2.0, 1.5], [0.0, 0.5])
    """
    chain = _check_chain(chain)
    gens = _check_generations(generations)
    if not chain.learner.per_category(chain.size):
        return _joint_or_none(chain, gens)
    per = category_exact(chain, gens)
    mult = per.multiplicities[:, None].astype(np.float64)
    p0 = per.probabilities[:, None]
    notes = dict(per.notes)
    out = {"generations": gens.copy(), "gini_simpson_mean": np.sum(mult * per.heterozygosity, axis=0)}
    bounds = {}
    if per.lost is not None:
        out["surviving_mean"] = np.sum(mult * (1.0 - per.lost), axis=0)
        out["tail_mass_lost_mean"] = np.sum(mult * p0 * per.lost, axis=0)
        out["collapse_probability"] = np.minimum(np.sum(mult * per.fixed, axis=0), 1.0)
        if per.lost_bounds is not None:
            lo, hi = per.lost_bounds
            flo, fhi = per.fixed_bounds
            bounds["surviving_mean"] = (np.sum(mult * (1.0 - hi), axis=0), np.sum(mult * (1.0 - lo), axis=0))
            bounds["tail_mass_lost_mean"] = (np.sum(mult * p0 * lo, axis=0), np.sum(mult * p0 * hi, axis=0))
            bounds["collapse_probability"] = (np.sum(mult * flo, axis=0), np.minimum(np.sum(mult * fhi, axis=0), 1.0))
    else:
        out["surviving_mean"] = out["tail_mass_lost_mean"] = out["collapse_probability"] = None
        why = notes.pop("lost", "not exact; Monte Carlo: --chains")
        notes.pop("fixed", None)
        for key in ("surviving_mean", "tail_mass_lost_mean", "collapse_probability"):
            notes[key] = why
    notes.pop("lost", None)
    notes.pop("fixed", None)
    if per.entropy is not None:
        out["entropy_mean"] = np.sum(mult * per.entropy, axis=0)
    else:
        out["entropy_mean"] = None
        notes["entropy_mean"] = notes.pop("entropy", "not exact; Monte Carlo: --chains")
    notes.pop("entropy", None)
    out["notes"] = notes
    out["bounds"] = bounds
    from ..quantities import DISCRETE_QUANTITIES

    return {"generations": out["generations"], **{key: out[key] for key in DISCRETE_QUANTITIES},
            "notes": out["notes"], "bounds": out["bounds"]}


def loss_time_distribution(chain, max_generation):
    """The law of the time to loss ``tau_k = min{n : p_{n,k} = 0}`` for each distinct ``p_{0,k}`` (MLE learner,
    replace or accumulate: loss is absorbing).

    Returns ``(distinct probabilities, multiplicities, pmf)`` with ``pmf[g, n - 1] = P(tau = n)`` for
    ``n = 1..max_generation``; ``1 - pmf.sum(1)`` is ``P(tau > max_generation)``, except for a category with
    ``p_{0,k} = 0``: it is lost at generation 0 (``tau = 0``), and its row is all zeros.

    >>> from theory.chain import DiscreteChain
    >>> _, _, pmf = loss_time_distribution(DiscreteChain("1,1", 2), 3)
    >>> pmf[0].tolist()   # 1/4, then 1/2 * 1/4 (from c = 1), then 1/2 * 1/2 * 1/4
    [0.25, 0.125, 0.0625]
    """
    chain = _check_chain(chain)
    top = check_integer("max_generation", max_generation, minimum=1)
    if not chain.learner.is_mle or chain.workflow.kind not in ("replace", "accumulate"):
        raise ParameterError("chain", "the MLE learner with workflow replace or accumulate (loss absorbing)",
                             str(chain))
    r = category_exact(chain, np.arange(top + 1))
    if r.lost is None:
        raise ParameterError("max_generation", "a horizon whose loss probabilities are exact here", top)
    return r.probabilities, r.multiplicities, np.diff(r.lost, axis=1)


def gini_simpson_mean(probabilities, sample_size, generations) -> np.ndarray:
    """``E[1 - sum_k p_{n,k}^2] = (1 - 1/M)^n (1 - sum_k p_{0,k}^2)`` (replace, MLE), exact for any ``M >= 1``.

    >>> gini_simpson_mean([0.5, 0.5], 2, [0, 1, 2]).tolist()
    [0.5, 0.25, 0.125]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size < 2 or not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
        raise ParameterError("probabilities", "a vector of K >= 2 finite numbers >= 0 with a positive sum",
                             probabilities)
    p = p / p.sum()
    m = check_integer("sample_size", sample_size, minimum=1)
    gens = _check_generations(generations)
    base = 1.0 - float(np.sum(p * p))
    if m == 1:
        return np.where(gens == 0, base, 0.0)
    return base * np.exp(gens * math.log1p(-1.0 / m))
