r"""Bounds on the survival of categories in the discrete chain (replace, MLE), after Suresh et al.

Suresh, Thangaraj, Khandavally, "Rate of Model Collapse in Recursive Training" (arXiv:2412.17646, AISTATS 2025):
the abstract says the time to forget a symbol is roughly linear in the number of times it occurred in the original
corpus. Their paper could not be read from the machine this was written on; a third-party summary gives
``Pr(symbol i survives to generation k) >= 1 - exp(-lambda_i / k)``, ``lambda_i = M p_i``. Below, that form and
sharper ones are *derived* (the proofs are here, the numbers are checked against the exact chain in the tests and by
:func:`bound_verdicts` at run time); the summary's form is reported as ``"published"`` and is a consequence of (A)
and (C).

Setting. One category with source probability :math:`p`; :math:`X_n` is its count in the training set
:math:`T_{n-1}` of model :math:`n` (generation :math:`n \ge 1`), so :math:`X_1 \sim \mathrm{Bin}(M, p)` and
:math:`X_{n+1} \mid X_n \sim \mathrm{Bin}(M, X_n/M)`; the category is lost at generation :math:`n` iff
:math:`X_n = 0`, absorbing. With :math:`g(y) = 1 - e^{-y}`, let :math:`q_0 = 1`, :math:`q_{t+1} = g(q_t)`
(:math:`q_t` is the probability that a critical Galton-Watson process with Poisson(1) offspring, started from one
individual, survives :math:`t` generations).

**(A) Lower bound on survival.** For :math:`c > 0` and :math:`Y \sim \mathrm{Bin}(M, x/M)`,
:math:`E e^{-cY} = (1 - (x/M) g(c))^M \le e^{-x g(c)}` (:math:`1 - a \le e^{-a}`). Start from
:math:`P(X_{t} = 0 \mid X_t = x) = \mathbf 1\{x = 0\} = \lim_{c\to\infty} e^{-cx}`; conditioning on the first step
and applying the inequality, by induction :math:`P(X_{t+s} = 0 \mid X_t = x) \le e^{-x c_s}` with
:math:`c_0 = \infty`, :math:`c_1 = g(\infty) = 1 = q_0`, :math:`c_s = q_{s-1}` (the step uses that :math:`g` is
increasing: the bound at step :math:`s` is :math:`E e^{-c_{s-1} Y}`). From the source, :math:`E[e^{-q X_1}] =
(1 - p g(q))^M` *exactly*, so for :math:`n \ge 1`

.. math:: P(\text{lost at } n) \le (1 - p\,q_{n-1})^M \le e^{-M p\,q_{n-1}},

(:math:`g(q_{n-2}) = q_{n-1}`; at :math:`n = 1`, :math:`q_0 = 1` and the first is :math:`(1-p)^M`, exact). Summing
over categories: ``E surviving >= sum_k [1 - (1 - p_k q_{n-1})^M]`` (``"iterate"``) ``>= sum_k [1 -
exp(-M p_k q_{n-1})]`` (``"exponential"``) and ``E tail mass lost <= sum_k p_k (1 - p_k q_{n-1})^M`` (likewise).

**(C) The iterates.** :math:`1/(1 + t/(e-1)) \le q_t \le 2/(t+2)`, hence :math:`q_t \ge 1/(t+1)` and
:math:`q_t \sim 2/t`. Upper: :math:`q_0 = 1`; :math:`e^{-y} \ge 1 - y + y^2/2 - y^3/6` gives
:math:`g(y) \le y - y^2/2 + y^3/6`, and at :math:`y = 2/u` (:math:`u = t + 2 \ge 2`) this is :math:`\le 2/(u+1)`
iff :math:`u(u+1) - \tfrac23(u+1) \ge u^2` iff :math:`u \ge 2`; :math:`g` increasing closes the induction. Lower:
with :math:`y = 1/(1 + ct)`, :math:`1/(1 + c(t+1)) = y/(1 + cy)`, so the step holds iff
:math:`c \ge h(y) = 1/g(y) - 1/y = \tfrac12 + \tfrac12 L(y/2)` (:math:`L(z) = \coth z - 1/z`, the Langevin
function, increasing); :math:`y \le 1`, so :math:`c = h(1) = 1/(e-1) = 0.58198\ldots` suffices. Since
:math:`q_{n-1} \ge 1/n`: ``E surviving >= sum_k [1 - exp(-M p_k / n)]`` (``"published"``, the summary's form with
``k = n``). The summary's generation index matters: read as ``k = n`` (the number of draws of training sets
since the source, the first from ``p_0`` included) it is proved here; read as ``k = n - 1`` (counting only the
training sets drawn from models) it is false at small ``n``: for ``words:en:1000`` at ``M = 100`` and ``n = 2``,
``sum_k 1 - exp(-M p_k)`` is about 68.5 categories against an exact E surviving of about 47.5 (checked in the
tests).

**(B) Upper bounds on survival.** *Poisson comparison.* Let :math:`P` be the Wright-Fisher kernel
:math:`\mathrm{Bin}(M, x/M)` and :math:`Q` the Galton-Watson kernel :math:`\mathrm{Poisson}(x)` on
:math:`\{0, 1, \dots\}`; :math:`Q^s \mathbf 1_{\{0\}}(x) = (1 - q_s)^x`. Telescoping,
:math:`P^s f - Q^s f = \sum_{i<s} P^i (P - Q) Q^{s-1-i} f`, and for :math:`0 \le h \le 1`,
:math:`|(P - Q)h(y)| \le d_{TV}(\mathrm{Bin}(M, y/M), \mathrm{Po}(y)) \le (1 - e^{-y})\, y/M \le y/M`
(Barbour and Hall 1984); :math:`E_x X_i = x` (martingale). So
:math:`|P(X_{t+s} = 0 \mid X_t = x) - (1 - q_s)^x| \le s x / M`, and from the source
(:math:`E(1 - q)^{X_1} = (1 - pq)^M`, :math:`E X_1 = Mp`):

.. math:: P(\text{lost at } n) \ge (1 - p\,q_{n-1})^M - (n-1)\,p,

so ``E surviving <= sum_k min(1, 1 - (1 - p_k q_{n-1})^M + (n-1) p_k)`` (``"poisson"``: exact at ``n = 1``,
within ``n - 1`` categories in all). *Heterozygosity.* :math:`E X_n(M - X_n) = M^2 p(1-p)(1-1/M)^n` (the
Wright-Fisher identity) and :math:`x(M - x) \ge M - 1` on :math:`0 < x < M`, so
:math:`P(0 < X_n < M) \le M p(1-p)(1-1/M)^{n-1}`; with :math:`P(X_n = M) \le E X_n/M = p`,
``E surviving <= sum_k min(1, p_k + M p_k (1 - p_k)(1 - 1/M)^{n-1})`` (``"heterozygosity"``: useful once ``n`` is a
few times ``M``). ``"combined"`` takes the smaller of the two per category. The matching bounds on the tail mass
lost are ``sum_k p_k max(0, 1 - upper_k)``.

All are in closed form (log space: ``log1p``/``expm1``), over the distinct probabilities of the source with their
multiplicities: any ``K`` and ``M`` (``n`` up to about ``1e6``: the iterates are a loop).
"""

from __future__ import annotations

import math

import numpy as np

from .._errors import ParameterError, check_integer

__all__ = ["LOWER_BOUNDS", "UPPER_BOUNDS", "bound_verdicts", "iterates", "survival_bounds"]

#: Lower bounds on E surviving (upper bounds on the tail mass lost), tightest first.
LOWER_BOUNDS: tuple[str, ...] = ("iterate", "exponential", "published")
#: Upper bounds on E surviving (lower bounds on the tail mass lost).
UPPER_BOUNDS: tuple[str, ...] = ("combined", "poisson", "heterozygosity")

_STATEMENTS = {
    "iterate": "E surviving >= sum_k 1 - (1 - p_k q_{n-1})^M (A)",
    "exponential": "E surviving >= sum_k 1 - exp(-M p_k q_{n-1}) (A)",
    "published": "E surviving >= sum_k 1 - exp(-M p_k / n) (the summary's form of Suresh et al.; from (A), (C))",
    "poisson": "E surviving <= sum_k min(1, 1 - (1 - p_k q_{n-1})^M + (n-1) p_k) (B, Barbour-Hall)",
    "heterozygosity": "E surviving <= sum_k min(1, p_k + M p_k (1-p_k) (1-1/M)^{n-1}) (B, Wright-Fisher identity)",
    "combined": "E surviving <= sum_k min of the poisson and heterozygosity bounds of category k",
}


def iterates(steps: int) -> np.ndarray:
    """``q_0 .. q_steps`` with ``q_0 = 1``, ``q_{t+1} = 1 - exp(-q_t)`` (Galton-Watson Poisson(1) survival).

    >>> iterates(2).round(6).tolist()
    [1.0, 0.632121, 0.468536]
    """
    n = check_integer("steps", steps, minimum=0)
    q = np.empty(n + 1)
    q[0] = 1.0
    for t in range(n):
        q[t + 1] = -math.expm1(-q[t])
    return q


def _check_chain(chain):
    from ..chain import DiscreteChain

    if not isinstance(chain, DiscreteChain):
        raise ParameterError("chain", "a DiscreteChain", chain)
    if chain.workflow.kind != "replace":
        raise ParameterError("workflow", "replace for Suresh et al.'s survival bounds", str(chain.workflow))
    if not chain.learner.is_mle:
        raise ParameterError("learner", "the MLE (no smoothing, temperature or truncation) for the survival bounds",
                             str(chain.learner))
    return chain


def _check_generations(generations) -> np.ndarray:
    gens = np.atleast_1d(np.asarray(generations, dtype=object))
    if gens.ndim != 1 or gens.size == 0:
        raise ParameterError("generations", "one or more integers >= 0", generations)
    return np.array([check_integer("generations", g, minimum=0) for g in gens], dtype=np.int64)


def survival_bounds(chain, generations) -> dict:
    """Lower and upper bounds on ``surviving_mean`` and the matching bounds on ``tail_mass_lost_mean`` (replace,
    MLE; module doc for the statements and proofs).

    Returns ``{"generations", "q": q_{n-1} (nan at n = 0), "surviving_mean": {"lower": {name: array}, "upper":
    {name: array}}, "tail_mass_lost_mean": {"lower": ..., "upper": ...}, "statements": {name: text}}``; the lower
    bounds of the tail mass are named after the upper survival bounds they come from, and vice versa. At
    generation 0 every bound is the source's exact value.

    >>> from theory.chain import DiscreteChain
    >>> b = survival_bounds(DiscreteChain("1,1", 2), [0, 1, 2])
    >>> b["surviving_mean"]["lower"]["iterate"].tolist()   # n = 1 is exact: 2 (1 - 1/4)
    [2.0, 1.5, 1.0]
    """
    chain = _check_chain(chain)
    gens = _check_generations(generations)
    m = chain.sample_size
    distinct, mult = chain.source.grouped()
    p = np.asarray(distinct, dtype=np.float64)[:, None]
    w = np.asarray(mult, dtype=np.float64)[:, None]
    q_all = iterates(max(int(gens.max()) - 1, 0))
    n = gens[None, :].astype(np.float64)
    positive = gens >= 1
    q = np.where(positive, q_all[np.maximum(gens - 1, 0)], np.nan)[None, :]
    qn = np.where(positive, q, 1.0)
    present = (p > 0).astype(np.float64)
    # per-category loss bounds (rows: distinct p, columns: generations)
    loss_iterate = np.exp(m * np.log1p(-p * qn))  # (1 - p q)^M
    loss_exponential = np.exp(-m * p * qn)
    loss_published = np.exp(-m * p / np.maximum(n, 1.0))
    loss_poisson = np.maximum(0.0, loss_iterate - (n - 1.0) * p)
    decay = np.exp((n - 1.0) * math.log1p(-1.0 / m)) if m > 1 else (n == 1).astype(np.float64)
    loss_het = np.maximum(0.0, 1.0 - p - m * p * (1.0 - p) * decay)
    loss_combined = np.maximum(loss_poisson, loss_het)
    zero = ~positive
    lower_loss = {"poisson": loss_poisson, "heterozygosity": loss_het, "combined": loss_combined}
    upper_loss = {"iterate": loss_iterate, "exponential": loss_exponential, "published": loss_published}

    def survive(loss):
        s = np.sum(w * present * (1.0 - loss), axis=0)
        s[zero] = float(np.sum(w * present))
        return s

    def mass(loss):
        s = np.sum(w * p * loss, axis=0)
        s[zero] = 0.0
        return s

    return {
        "generations": gens,
        "q": q[0],
        "surviving_mean": {
            "lower": {name: survive(upper_loss[name]) for name in LOWER_BOUNDS},
            "upper": {name: survive(lower_loss[name]) for name in UPPER_BOUNDS},
        },
        "tail_mass_lost_mean": {
            "lower": {name: mass(lower_loss[name]) for name in UPPER_BOUNDS},
            "upper": {name: mass(upper_loss[name]) for name in LOWER_BOUNDS},
        },
        "statements": dict(_STATEMENTS),
    }


def bound_verdicts(chain, generations, *, exact: dict | None = None) -> list[dict]:
    """Each bound of :func:`survival_bounds` beside the exact value, with a verdict computed here.

    ``exact`` defaults to ``discrete_exact_values(chain, generations)``; where it reports a bracket
    (``exact["bounds"][key]``: the large-``M`` route) a bound is judged against the bracket's far end. One dict per
    (quantity, bound, generation): ``quantity``, ``bound``, ``side`` ("lower"/"upper"), ``generation``, ``value``,
    ``exact``, ``verdict`` ("bound holds" or "violated"), ``ratio`` (bound/exact), ``gap`` (how far the bound is
    on its safe side; negative when violated), ``gap_per_category`` (``gap/K``) and ``text``, one line. A rounding
    allowance of ``1e-9`` times ``K`` (surviving) or ``1e-9`` (mass) is granted, since at ``n = 1`` the iterate
    and poisson bounds equal the exact value.

    >>> from theory.chain import DiscreteChain
    >>> rows = bound_verdicts(DiscreteChain("zipf:1:50", 100), [5])
    >>> sorted({r["verdict"] for r in rows})
    ['bound holds']
    """
    chain = _check_chain(chain)
    bounds = survival_bounds(chain, generations)
    gens = bounds["generations"]
    if exact is None:
        from ._categorical_exact import discrete_exact_values

        exact = discrete_exact_values(chain, gens)
    k = chain.size
    rows = []
    for quantity, allowance in (("surviving_mean", 1e-9 * k), ("tail_mass_lost_mean", 1e-9)):
        values = exact.get(quantity)
        if values is None:
            continue
        bracket = exact.get("bounds", {}).get(quantity)
        lo_exact, hi_exact = (values, values) if bracket is None else bracket
        for side in ("lower", "upper"):
            for name, bound in bounds[quantity][side].items():
                for j, n in enumerate(gens):
                    value, ex = float(bound[j]), float(values[j])
                    gap = (float(hi_exact[j]) - value) if side == "lower" else (value - float(lo_exact[j]))
                    holds = gap >= -allowance
                    # bound/exact; None where the exact value is 0 and the bound is not (no finite ratio)
                    ratio = value / ex if ex != 0 else (1.0 if value == 0 else None)
                    verdict = "bound holds" if holds else "violated"
                    unit = "categories" if quantity == "surviving_mean" else "probability"
                    text = (
                        f"{quantity} {side} bound {name} at n = {int(n)}: {value:.6g} vs exact {ex:.6g}: {verdict} "
                        f"(bound/exact {'-' if ratio is None else format(ratio, '.4g')}, gap {gap:.3g} {unit}, "
                        f"{gap / k:.3g} per category)"
                    )
                    rows.append({
                        "quantity": quantity, "bound": name, "side": side, "generation": int(n), "value": value,
                        "exact": ex, "verdict": verdict, "ratio": ratio, "gap": gap, "gap_per_category": gap / k,
                        "text": text,
                    })
    return rows
