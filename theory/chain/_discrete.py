r"""The discrete chain model: a categorical source, a learner, a workflow and a sample size.

Generation 0 is the source :math:`p_0` over :math:`K` categories (:class:`~theory.chain.CategoricalSource`). Step
:math:`i` (generation :math:`i \to i + 1`) fits the learner to a training set :math:`T_i` of category counts, as in
the Gaussian chain's workflows (:mod:`theory.chain._workflow`):

* ``replace``: :math:`T_i` = :math:`M` draws from model :math:`i` (multinomial resampling, Wright-Fisher);
* ``mix:LAMBDA``: :math:`R = \mathrm{round}(\lambda M)` fresh draws from :math:`p_0` and :math:`M - R` draws from
  model :math:`i` (Wright-Fisher with migration); with a real weight :math:`w` the fit is
  :math:`w\,\hat p_{\text{real}} + (1 - w)\,\hat p_{\text{synthetic}}` (``w = R/M``, the default, is the plain fit);
* ``mix-fixed:LAMBDA``: the same, but the :math:`R` real draws are made once and reused;
* ``accumulate``: a pool of :math:`M` real draws plus :math:`M` draws of every model so far; model :math:`i + 1`
  is fitted to the whole pool (:math:`N_i = (i + 1) M` points).

``accumulate-subsample`` is not offered for the discrete chain (a subsample of the pool is a multivariate
hypergeometric draw: no exact route and no sampler here).

The learner (:class:`DiscreteLearner`) maps the training counts :math:`c` (:math:`N` points) to the next model's
probabilities, in this order, each step optional:

1. add-:math:`\alpha` smoothing: :math:`\hat p_k = (c_k + \alpha)/(N + K\alpha)` (the MLE :math:`c_k/N` at
   :math:`\alpha = 0`; with weights, each part's frequencies are mixed first, then smoothed);
2. temperature :math:`T`: :math:`q_k \propto \hat p_k^{1/T}` (a category with :math:`\hat p_k = 0` stays at 0);
3. top-k: keep the :math:`k` most probable categories;
4. top-p (nucleus): keep the most probable categories, in rank order, while the mass of those ranked before is
   below :math:`P` (the smallest prefix with mass :math:`\ge P`);
5. renormalise what is kept.

Ranks order categories by probability, largest first, and break ties by the lower category index: the map is a
deterministic function of the counts, the same in :meth:`DiscreteLearner.fit` (NumPy, the definition) and in the
Monte Carlo kernel. A "lost" category at generation :math:`n` is one with :math:`p_{n,k} = 0`; under add-:math:`\alpha`
smoothing no category ever has probability 0, so there "lost" means absent from the training set of generation
:math:`n` (count 0), which is said wherever it is reported.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._errors import ParameterError, check_integer
from ._categorical import CategoricalSource, parse_source
from ._workflow import REPLACE, Workflow

__all__ = ["DISCRETE_WORKFLOWS", "DiscreteChain", "DiscreteLearner"]

#: The workflows the discrete chain accepts.
DISCRETE_WORKFLOWS: tuple[str, ...] = ("replace", "mix", "mix-fixed", "accumulate")


def _positive_finite(name: str, value, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ParameterError(name, allowed, value)
    return float(value)


@dataclasses.dataclass(frozen=True)
class DiscreteLearner:
    """How a model of the discrete chain is fitted to its training counts (see the module doc).

    Parameters
    ----------
    temperature:
        ``T > 0``; ``1`` (default) leaves the fitted frequencies as they are.
    top_k:
        keep the ``k >= 1`` most probable categories; ``None`` (default) keeps all.
    top_p:
        nucleus mass ``P`` in ``(0, 1]``; ``None`` (default) or ``1`` keeps all.
    alpha:
        add-``alpha`` smoothing, ``alpha >= 0``; ``0`` (default) is the MLE.

    Examples
    --------
    >>> DiscreteLearner().fit([3, 1, 0]).tolist()
    [0.75, 0.25, 0.0]
    >>> DiscreteLearner(top_k=1).fit([1, 2, 2]).tolist()   # tie: the lower index wins
    [0.0, 1.0, 0.0]
    >>> DiscreteLearner(top_p=0.5).fit([5, 3, 2]).tolist()
    [1.0, 0.0, 0.0]
    >>> DiscreteLearner(alpha=1).fit([2, 0]).tolist()
    [0.75, 0.25]
    >>> str(DiscreteLearner(temperature=0.5, top_k=40))
    'temperature 0.5, top-k 40'
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    alpha: float = 0.0

    def __post_init__(self) -> None:
        t = _positive_finite("temperature", self.temperature, "a finite number > 0")
        if not t > 0:
            raise ParameterError("temperature", "a finite number > 0", self.temperature)
        object.__setattr__(self, "temperature", t)
        if self.top_k is not None:
            object.__setattr__(self, "top_k", check_integer("top_k", self.top_k, minimum=1))
        if self.top_p is not None:
            p = _positive_finite("top_p", self.top_p, "a number in (0, 1]")
            if not 0 < p <= 1:
                raise ParameterError("top_p", "a number in (0, 1]", self.top_p)
            object.__setattr__(self, "top_p", p)
        a = _positive_finite("alpha", self.alpha, "a finite number >= 0")
        if a < 0:
            raise ParameterError("alpha", "a finite number >= 0", self.alpha)
        object.__setattr__(self, "alpha", a)

    def truncates(self, size: int) -> bool:
        """Whether top-k or top-p can remove a category when there are ``size`` categories."""
        return (self.top_k is not None and self.top_k < size) or (self.top_p is not None and self.top_p < 1)

    def per_category(self, size: int) -> bool:
        """Whether each category's next probability depends on its own count only (no temperature, no
        truncation): then each category's count is a Markov chain by itself and the exact results scale to
        large ``K``."""
        return self.temperature == 1.0 and not self.truncates(size)

    @property
    def is_mle(self) -> bool:
        """The plain empirical frequencies (no smoothing, temperature or truncation)."""
        return self.temperature == 1.0 and self.top_k is None and self.top_p in (None, 1.0) and self.alpha == 0

    def fit(self, counts, real_counts=None, real_weight: float | None = None) -> np.ndarray:
        """The next model's probabilities from training ``counts`` (NumPy reference of the definition).

        With ``real_counts`` and a ``real_weight`` ``w`` (workflow ``mix`` with weights), the frequencies are
        ``w * real/R + (1 - w) * counts/(M - R)`` before smoothing; without a weight the two are pooled.
        """
        c = _counts("counts", counts)
        if real_counts is not None:
            r = _counts("real_counts", real_counts)
            if r.shape != c.shape:
                raise ParameterError("real_counts", f"{c.size} counts, one per category like counts", r.size)
            if r.sum() + c.sum() <= 0:
                raise ParameterError("counts", "at least one draw (real or synthetic)", 0)
            if real_weight is None:
                c = c + r
            else:
                rn, cn = r.sum(), c.sum()
                total = rn + cn
                mixed = (real_weight * r / rn + (1 - real_weight) * c / cn) * total if rn > 0 and cn > 0 else r + c
                return self._shape(self._smooth(mixed, total))
        total = c.sum()
        if total <= 0:
            raise ParameterError("counts", "at least one draw", total)
        return self._shape(self._smooth(c, total))

    def _smooth(self, c: np.ndarray, total: float) -> np.ndarray:
        if self.alpha == 0:
            return c / total
        return (c + self.alpha) / (total + c.size * self.alpha)

    def _shape(self, p: np.ndarray) -> np.ndarray:
        size = p.size
        if self.temperature != 1.0:
            positive = p > 0
            logs = np.where(positive, np.log(np.where(positive, p, 1.0)) / self.temperature, -np.inf)
            q = np.exp(logs - logs.max())
            p = q / q.sum()
        if self.truncates(size):
            order = np.argsort(-p, kind="stable")  # largest first, ties by lower index
            keep_sorted = np.ones(size, dtype=bool)
            if self.top_k is not None:
                keep_sorted[self.top_k:] = False
            if self.top_p is not None and self.top_p < 1:
                ranked = p[order]
                before = np.concatenate([[0.0], np.cumsum(ranked)[:-1]])
                keep_sorted &= before < self.top_p
            keep = np.zeros(size, dtype=bool)
            keep[order[keep_sorted]] = True
            p = np.where(keep, p, 0.0)
            p = p / p.sum()
        return p

    def __str__(self) -> str:
        parts = []
        if self.alpha:
            parts.append(f"add-{self.alpha:g} smoothing")
        if self.temperature != 1.0:
            parts.append(f"temperature {self.temperature:g}")
        if self.top_k is not None:
            parts.append(f"top-k {self.top_k}")
        if self.top_p is not None:
            parts.append(f"top-p {self.top_p:g}")
        return ", ".join(parts) if parts else "MLE"


MLE = DiscreteLearner()


def _counts(name: str, values) -> np.ndarray:
    """A 1-D vector of finite counts >= 0 (float64), or a ParameterError naming ``name``."""
    try:
        c = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, "a vector of finite numbers >= 0", values) from None
    if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ParameterError(name, "a vector of finite numbers >= 0", values)
    return c


@dataclasses.dataclass(frozen=True)
class DiscreteChain:
    """One discrete chain: source ``p_0``, sample size ``M`` per generation, learner and workflow.

    Parameters
    ----------
    source:
        a :class:`~theory.chain.CategoricalSource` or a spec for :func:`~theory.chain.parse_source`.
    sample_size:
        ``M >= 1`` draws per generation (under ``mix``, ``R = round(lambda M)`` of them real).
    learner:
        a :class:`DiscreteLearner` (default: the MLE).
    workflow:
        a :class:`~theory.chain.Workflow` or its spelling; one of :data:`DISCRETE_WORKFLOWS`.

    >>> chain = DiscreteChain("zipf:1:100", 1000, workflow="mix:0.1")
    >>> chain.size, chain.real_count, str(chain)
    (100, 100, 'zipf:1:100, M = 1000, MLE, mix:0.1')
    """

    source: CategoricalSource
    sample_size: int
    learner: DiscreteLearner = MLE
    workflow: Workflow = REPLACE

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", parse_source(self.source))
        object.__setattr__(self, "sample_size", check_integer("sample_size", self.sample_size, minimum=1))
        if not isinstance(self.learner, DiscreteLearner):
            raise ParameterError("learner", "a DiscreteLearner", self.learner)
        workflow = Workflow.parse(self.workflow) if isinstance(self.workflow, str) else self.workflow
        if not isinstance(workflow, Workflow):
            raise ParameterError("workflow", "a Workflow or its spelling", self.workflow)
        if workflow.kind not in DISCRETE_WORKFLOWS:
            raise ParameterError(
                "workflow", "replace, mix:LAMBDA, mix-fixed:LAMBDA or accumulate for the discrete chain", str(workflow)
            )
        object.__setattr__(self, "workflow", workflow)
        if workflow.kind in ("mix", "mix-fixed"):
            workflow.check_sizes([self.sample_size])

    @property
    def size(self) -> int:
        """``K``, the number of categories."""
        return self.source.size

    @property
    def probabilities(self) -> np.ndarray:
        return self.source.probabilities

    @property
    def real_count(self) -> int:
        """``R``: real draws per step under ``mix``/``mix-fixed`` (0 otherwise)."""
        return self.workflow.real_count(self.sample_size) if self.workflow.kind in ("mix", "mix-fixed") else 0

    @property
    def real_weight(self) -> float | None:
        """The weight of the real part of the fit, ``None`` for the plain (pooled) fit."""
        w = self.workflow.real_weight
        if w is None or self.workflow.kind not in ("mix", "mix-fixed"):
            return None
        return w

    def training_size(self, step: int) -> int:
        """Points the learner sees at step ``step`` (generation ``step`` -> ``step + 1``)."""
        if self.workflow.kind == "accumulate":
            return (step + 1) * self.sample_size
        return self.sample_size

    def __str__(self) -> str:
        return f"{self.source.spec}, M = {self.sample_size}, {self.learner}, {self.workflow}"
