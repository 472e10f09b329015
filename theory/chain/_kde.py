r"""The kernel-density-estimate chain (Kazdan, Schaeffer et al. 2024's setting): model ``i + 1`` is the Gaussian KDE
with bandwidth ``h`` on the training set ``T_i`` of step ``i``.

A Gaussian KDE on points ``x_1 .. x_N`` with weights ``omega_j`` (``1/N`` for a plain fit) is the mixture
``sum_j omega_j N(x_j, h^2)``; a draw from it picks a training point ``J`` with probability ``omega_J`` and adds
``h Z``, ``Z ~ N(0, 1)``. Its mean is the weighted mean of the points and its variance their weighted biased
variance plus ``h^2``. Generation 0 is the source ``D_0 = N(mu, sigma^2)``; the training set of each step follows
the workflow (:mod:`theory.chain._workflow`): ``replace`` fits to ``M`` draws of the current model, ``mix``
replaces ``R = round(LAMBDA M)`` of them by fresh draws of ``D_0`` (with ``real_weight`` ``w`` a *weighted* KDE:
weight ``w/R`` on each real point, ``(1 - w)/(M - R)`` on each synthetic one), ``mix-fixed`` reuses one real set,
``accumulate`` fits to the whole pool and ``accumulate-subsample:K`` to ``K`` points drawn from it without
replacement.

The limit ``h -> 0`` is resampling the training set (the bootstrap); it is not a KDE (``h`` must be ``> 0``) and
appears in :mod:`theory.decomposition._kde` as the statistical part of the error.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from .._errors import ParameterError, check_integer
from ._workflow import Workflow

SOURCE_SPELLING = "normal or normal:MU,SIGMA2 (D_0 = N(MU, SIGMA2), SIGMA2 > 0 finite)"
LEARNER_SPELLING = "kde:H with the bandwidth H a finite number > 0 (e.g. kde:0.5)"


def _bandwidth(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)) \
            or float(value) <= 0:
        raise ParameterError("bandwidth", "a finite number > 0 (the Gaussian kernel's standard deviation h)", value)
    h = float(value)
    if not (math.isfinite(h * h) and h * h >= 1e-300):  # h^2 enters every recursion: it must not overflow or vanish
        raise ParameterError("bandwidth", "a number h > 0 whose square is a positive finite float64 (1e-150 <= h "
                             "<= 1e150)", value)
    return h


@dataclasses.dataclass(frozen=True)
class KDELearner:
    """A Gaussian kernel density estimate with bandwidth ``h`` (the kernel's standard deviation).

    >>> KDELearner(0.5)
    KDELearner(bandwidth=0.5)
    >>> KDELearner(0)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: bandwidth: must be a finite number > 0 (the Gaussian kernel's standard deviation h), got 0
    """

    bandwidth: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bandwidth", _bandwidth(self.bandwidth))

    def __str__(self) -> str:
        return f"kde:{self.bandwidth:g}"


def parse_kde_learner(rest: str | None) -> KDELearner:
    """The learner of the spelling ``kde:H`` from what follows the colon (``"0.5"``); ``None`` or bad text is a
    :class:`~theory.ParameterError` naming ``learner``.

    >>> parse_kde_learner("0.25")
    KDELearner(bandwidth=0.25)
    """
    if rest is None or not isinstance(rest, str):
        raise ParameterError("learner", LEARNER_SPELLING, "kde" if rest is None else rest)
    try:
        h = float(rest)
    except ValueError:
        raise ParameterError("learner", LEARNER_SPELLING, f"kde:{rest}") from None
    if not math.isfinite(h) or h <= 0:
        raise ParameterError("learner", LEARNER_SPELLING, f"kde:{rest}")
    return KDELearner(h)


@dataclasses.dataclass(frozen=True)
class NormalSource:
    """``D_0 = N(mean, variance)``."""

    mean: float = 0.0
    variance: float = 1.0

    def __post_init__(self) -> None:
        for name in ("mean", "variance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
                raise ParameterError("source", SOURCE_SPELLING, value)
            object.__setattr__(self, name, float(value))
        if self.variance <= 0:
            raise ParameterError("source", SOURCE_SPELLING, f"variance {self.variance!r}")

    @property
    def fourth_central_moment(self) -> float:
        """``E (X - mu)^4 = 3 sigma^4`` (the only moment beyond the second that the exact values use)."""
        return 3.0 * self.variance**2

    def __str__(self) -> str:
        return f"normal:{self.mean:g},{self.variance:g}"


def parse_kde_source(text) -> NormalSource:
    """``D_0`` of a KDE chain from its spelling: ``None`` or ``"normal"`` (``N(0, 1)``), ``"normal:MU,SIGMA2"``.

    >>> parse_kde_source("normal:1,4")
    NormalSource(mean=1.0, variance=4.0)
    """
    if text is None:
        return NormalSource()
    if isinstance(text, NormalSource):
        return text
    if not isinstance(text, str):
        raise ParameterError("source", SOURCE_SPELLING, text)
    name, colon, rest = text.strip().partition(":")
    if name.strip().lower() != "normal":
        raise ParameterError("source", SOURCE_SPELLING, text)
    if not colon:
        return NormalSource()
    parts = rest.split(",")
    if len(parts) != 2:
        raise ParameterError("source", SOURCE_SPELLING, text)
    try:
        mean, variance = float(parts[0]), float(parts[1])
    except ValueError:
        raise ParameterError("source", SOURCE_SPELLING, text) from None
    if not (math.isfinite(mean) and math.isfinite(variance) and variance > 0):
        raise ParameterError("source", SOURCE_SPELLING, text)
    return NormalSource(mean, variance)


@dataclasses.dataclass(frozen=True)
class KDEChain:
    """A chain of Gaussian KDEs: generation 0 is ``source``, model ``i + 1`` the KDE (``learner``) on the training
    set of step ``i`` (``sample_size`` points per step, arranged by ``workflow``).

    Parameters
    ----------
    learner:
        a :class:`KDELearner` (or its bandwidth as a number).
    sample_size:
        ``M >= 2`` points drawn per step.
    workflow:
        a :class:`~theory.chain.Workflow` or its spelling (``"replace"``, ``"mix:0.1"``, ...); ``K`` of
        ``accumulate-subsample:K`` at most ``M`` (the first pool).
    source:
        ``D_0``: a :class:`NormalSource` or its spelling (``"normal"``, ``"normal:MU,SIGMA2"``).

    >>> KDEChain(KDELearner(0.1), 50, "accumulate").workflow.kind
    'accumulate'
    >>> KDEChain(KDELearner(0.1), 1)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sample_size: must be an integer >= 2, got 1
    """

    learner: KDELearner
    sample_size: int
    workflow: Workflow | str = "replace"
    source: NormalSource | str | None = "normal"

    def __post_init__(self) -> None:
        learner = self.learner
        if isinstance(learner, numbers.Real) and not isinstance(learner, bool):
            learner = KDELearner(learner)
        if not isinstance(learner, KDELearner):
            raise ParameterError("learner", "a KDELearner (kde:H)", learner)
        object.__setattr__(self, "learner", learner)
        object.__setattr__(self, "sample_size", check_integer("sample_size", self.sample_size, minimum=2))
        wf = self.workflow if isinstance(self.workflow, Workflow) else Workflow.parse(self.workflow)
        wf.check_sizes([self.sample_size])
        object.__setattr__(self, "workflow", wf)
        object.__setattr__(self, "source", parse_kde_source(self.source))

    @property
    def bandwidth(self) -> float:
        """``h``."""
        return self.learner.bandwidth

    @property
    def real_count(self) -> int:
        """``R``: the real points in each training set (mix, mix-fixed), else 0."""
        return self.workflow.real_count(self.sample_size)

    @property
    def real_weight(self) -> float:
        """``w``: the total weight of the real points in the fit (``R/M`` for the plain fit)."""
        return self.workflow.weight(self.sample_size)

    def __str__(self) -> str:
        return f"KDE chain (h = {self.bandwidth:g}, M = {self.sample_size}, {self.workflow}, D_0 = {self.source})"


def silverman_bandwidth(sample_size: int, sigma: float = 1.0) -> float:
    """Silverman's rule of thumb for a Gaussian kernel on ``M`` normal points: ``h = 1.06 sigma M^(-1/5)``.

    >>> round(silverman_bandwidth(100), 4)
    0.422
    """
    m = check_integer("sample_size", sample_size, minimum=1)
    return 1.06 * float(sigma) * m ** (-0.2)
