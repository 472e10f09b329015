"""The Gaussian-mixture chain: a ``K``-component, full-covariance GMM fitted by EM, generation after generation.

Generation ``n`` is the mixture ``G_n`` fitted by EM to a training set ``T_n`` of ``d``-dimensional points (the
paper's GMM experiment, whose ``G_0`` is fitted to the real data ``D_0``):

* ``T_0`` is ``D_0``: ``M`` i.i.d. points of the source (the real distribution, a :class:`GMMSource`);
* ``T_n`` for ``n >= 1`` is built from ``G_{n-1}`` by the chain model's workflow (:mod:`theory.chain._workflow`),
  with the source as the real distribution: ``replace`` draws ``M`` points of ``G_{n-1}``; ``mix:LAMBDA`` takes
  ``R = round(LAMBDA M)`` fresh points of the source and ``M - R`` of ``G_{n-1}`` (an optional real weight ``w``
  weights every point in the EM's log-likelihood: ``w / R`` on a real one, ``(1 - w)/(M - R)`` on a synthetic one);
  ``mix-fixed:LAMBDA`` keeps the first ``R`` points of ``D_0`` as the real part at every step; ``accumulate`` fits
  to the pool ``D_0`` plus the ``M`` points drawn from each of ``G_0 .. G_{n-1}`` (``(n + 1) M`` points);
  ``accumulate-subsample:K`` fits to ``K`` points drawn without replacement from that pool (``G_0`` to ``K``
  points of ``D_0``).

So GMM generation ``n`` is the chain model's generation ``n + 1`` (the chain model counts the source as generation
0): with ``K = 1``, the ``mle`` learner and ``reg_covar = 0`` this is exactly
:class:`~theory.chain.MultivariateGaussianChain` (``learner="mle"``) at generation ``n + 1``, which the tests check.

The learner (:class:`GMMLearner`) is scikit-learn's ``GaussianMixture`` rule, the authors' notebook's settings:
EM stops when the mean log-likelihood changes by less than ``tol`` between iterations, after at most ``max_iter``
iterations, with ``reg_covar`` added to every covariance diagonal. The first fit starts from a split of ``T_0``
along its principal axis into ``K`` equal groups; every later fit is warm-started from ``G_{n-1}``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._errors import ParameterError, check_integer
from ._workflow import REPLACE, Workflow

#: Named sources (the real distribution ``D_0`` is drawn from); ``normal:d`` is the standard ``d``-dim Gaussian.
SOURCES: tuple[str, ...] = ("blob", "two_gaussians", "normal:d")

_SOURCE_SPELLING = "blob, two_gaussians or normal:d (d an integer >= 1)"
_LEARNER_SPELLING = "gmm:K or gmm:K,tol=T,max_iter=I,reg_covar=R (K an integer >= 1)"


def _frozen(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class GMMSource:
    """The real distribution of a GMM chain: a Gaussian mixture given by NumPy arrays.

    Parameters
    ----------
    name:
        how it is spelled (``"blob"``, ``"two_gaussians"``, ``"normal:3"``).
    weights, means, covariances:
        ``(S,)``, ``(S, d)``, ``(S, d, d)``: the source's own components (``S`` need not be the learner's ``K``).
    """

    name: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        w, m, c = _frozen(self.weights), _frozen(self.means), _frozen(self.covariances)
        if w.ndim != 1 or m.shape != (w.shape[0], m.shape[-1]) or c.shape != (w.shape[0],) + m.shape[-1:] * 2:
            raise ParameterError("source", "weights (S,), means (S, d), covariances (S, d, d)",
                                 f"shapes {w.shape}, {m.shape}, {c.shape}")
        if not (np.all(w > 0) and abs(w.sum() - 1) < 1e-12):
            raise ParameterError("source", "positive weights that sum to 1", w.tolist())
        for cov in c:
            if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov)[0] <= 0:
                raise ParameterError("source", "symmetric positive definite covariances", cov.tolist())
        for field, value in (("weights", w), ("means", m), ("covariances", c)):
            object.__setattr__(self, field, value)

    @property
    def dimension(self) -> int:
        return int(self.means.shape[1])

    @property
    def components(self) -> int:
        return int(self.weights.shape[0])

    @property
    def mean(self) -> np.ndarray:
        """The mixture's mean ``sum_k w_k m_k``."""
        return self.weights @ self.means

    @property
    def covariance(self) -> np.ndarray:
        """The mixture's total covariance ``sum_k w_k (S_k + m_k m_k^T) - mean mean^T``."""
        second = np.einsum("k,kij->ij", self.weights, self.covariances + self.means[:, :, None] * self.means[:, None])
        return second - np.outer(self.mean, self.mean)

    def __str__(self) -> str:
        return self.name


def parse_gmm_source(spec) -> GMMSource:
    """The source named by ``spec``:

    * ``"blob"``: one standard 2-D Gaussian (what the authors' notebook samples as its real data);
    * ``"two_gaussians"``: the paper text's two-component 2-D mixture (weights 1/2, means (-1.2, 0.8) and
      (1.0, -0.9), covariances [[0.30, 0.10], [0.10, 0.25]] and [[0.35, -0.12], [-0.12, 0.30]]);
    * ``"normal:d"``: the standard ``d``-dimensional Gaussian.

    A :class:`GMMSource` is returned as it is. Anything else: :class:`~theory.ParameterError` naming ``source``.

    >>> parse_gmm_source("normal:3").dimension
    3
    >>> parse_gmm_source("three_gaussians")
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: source: must be blob, two_gaussians or normal:d (d an integer >= 1), got \
'three_gaussians'
    """
    if isinstance(spec, GMMSource):
        return spec
    if not isinstance(spec, str):
        raise ParameterError("source", _SOURCE_SPELLING, spec)
    text = spec.strip()
    if text == "blob":
        return GMMSource("blob", [1.0], np.zeros((1, 2)), np.eye(2)[None])
    if text == "two_gaussians":
        return GMMSource("two_gaussians", [0.5, 0.5], [[-1.2, 0.8], [1.0, -0.9]],
                         [[[0.30, 0.10], [0.10, 0.25]], [[0.35, -0.12], [-0.12, 0.30]]])
    name, sep, arg = text.partition(":")
    if name == "normal" and sep:
        try:
            d = int(arg)
        except ValueError:
            d = 0
        if d >= 1:
            return GMMSource(f"normal:{d}", [1.0], np.zeros((1, d)), np.eye(d)[None])
    raise ParameterError("source", _SOURCE_SPELLING, spec)


@dataclasses.dataclass(frozen=True)
class GMMLearner:
    """EM for a ``K``-component full-covariance Gaussian mixture (scikit-learn's ``GaussianMixture`` rule).

    Parameters
    ----------
    components:
        ``K >= 1``.
    tol:
        ``> 0``: EM stops when the mean log-likelihood changes by less than ``tol`` between iterations.
    max_iter:
        ``>= 1``: at most this many EM iterations per fit.
    reg_covar:
        added to every fitted covariance's diagonal: ``> 0`` for ``K > 1`` (scikit-learn's default ``1e-6``), ``>= 0``
        for ``K = 1``.

    >>> GMMLearner(2)
    GMMLearner(components=2, tol=1e-05, max_iter=2000, reg_covar=1e-06)
    >>> GMMLearner(0)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: components: must be an integer >= 1, got 0
    """

    components: int = 2
    tol: float = 1e-5
    max_iter: int = 2000
    reg_covar: float = 1e-6

    def __post_init__(self) -> None:
        object.__setattr__(self, "components", check_integer("components", self.components, minimum=1))
        object.__setattr__(self, "max_iter", check_integer("max_iter", self.max_iter, minimum=1))
        for name, allowed, ok in (("tol", "a finite number > 0", lambda v: v > 0),
                                  ("reg_covar", "a number in [0, 1e6] (added to every fitted covariance's "
                                   "diagonal; the sources have unit scale)", lambda v: 0 <= v <= 1e6)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or not ok(value):
                raise ParameterError(name, allowed, value)
            object.__setattr__(self, name, float(value))
        if self.components > 1 and self.reg_covar == 0:
            raise ParameterError("reg_covar", "a finite number > 0 when components > 1 (without it a component can "
                                 "fit a few points with a singular covariance and EM breaks down; 0 is allowed for "
                                 "K = 1, the sample covariance)", self.reg_covar)

    def parameters(self, dimension: int) -> int:
        """Free parameters of the mixture: ``K (d + d (d + 1) / 2) + K - 1``."""
        k, d = self.components, int(dimension)
        return k * (d + d * (d + 1) // 2) + k - 1

    def __str__(self) -> str:
        return f"gmm:{self.components}"


def parse_gmm_learner(rest: str | None) -> GMMLearner:
    """The learner of the command-line spelling after ``gmm:``: ``"2"``, or ``"3,tol=1e-6,max_iter=500,reg_covar=0"``;
    ``None`` (plain ``gmm``) is the paper's ``K = 2``. Bad text: :class:`~theory.ParameterError` naming ``learner``.

    >>> parse_gmm_learner("3,tol=1e-6")
    GMMLearner(components=3, tol=1e-06, max_iter=2000, reg_covar=1e-06)
    """
    if rest is None:
        return GMMLearner()
    parts = [p.strip() for p in str(rest).split(",")]
    options: dict = {}
    try:
        options["components"] = int(parts[0])
        for part in parts[1:]:
            key, sep, value = part.partition("=")
            if not sep or key not in ("tol", "max_iter", "reg_covar") or key in options:
                raise ValueError
            options[key] = int(value) if key == "max_iter" else float(value)
    except ValueError:
        raise ParameterError("learner", _LEARNER_SPELLING, f"gmm:{rest}") from None
    try:
        return GMMLearner(**options)
    except ParameterError as error:
        raise ParameterError("learner", f"{_LEARNER_SPELLING}; {error.parameter} must be {error.allowed}",
                             f"gmm:{rest}") from None


@dataclasses.dataclass(frozen=True, eq=False)
class GMMChain:
    """A chain of Gaussian mixtures fitted by EM (see the module doc).

    Parameters
    ----------
    learner:
        a :class:`GMMLearner` (an integer ``K`` is ``GMMLearner(K)``).
    sample_size:
        ``M``: points drawn per generation. Every fit must hold at least as many points as the mixture has free
        parameters, ``K (d + d (d + 1)/2) + K - 1`` (11 for ``K = 2``, ``d = 2``): with fewer, EM's maximum is
        degenerate (a component can sit on a few points with a singular covariance). This applies to ``M`` and, under
        ``accumulate-subsample:K``, to ``K``.
    workflow:
        a :class:`~theory.chain.Workflow` or its spelling (default ``"replace"``, the paper's chain).
    source:
        the real distribution: a :class:`GMMSource` or its spelling (:func:`parse_gmm_source`; default ``"blob"``).

    >>> chain = GMMChain(GMMLearner(2), 1000, source="two_gaussians")
    >>> chain.dimension, str(chain.workflow)
    (2, 'replace')
    >>> GMMChain(GMMLearner(2), 10)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sample_size: must be an integer >= 11 (the free parameters of 2 full-covariance \
components in 2 dimensions), got 10
    """

    learner: GMMLearner
    sample_size: int
    workflow: Workflow = REPLACE
    source: GMMSource = "blob"  # type: ignore[assignment]

    def __post_init__(self) -> None:
        learner = self.learner
        if isinstance(learner, numbers.Integral) and not isinstance(learner, bool):
            learner = GMMLearner(int(learner))
        if not isinstance(learner, GMMLearner):
            raise ParameterError("learner", "a GMMLearner (or an integer K)", learner)
        source = parse_gmm_source(self.source)
        workflow = Workflow.parse(self.workflow)
        m = check_integer("sample_size", self.sample_size, minimum=2)
        need = learner.parameters(source.dimension)
        why = (f"the free parameters of {learner.components} full-covariance component"
               f"{'s' if learner.components > 1 else ''} in {source.dimension} dimension"
               f"{'s' if source.dimension > 1 else ''}")
        if m < need:
            raise ParameterError("sample_size", f"an integer >= {need} ({why})", self.sample_size)
        workflow.check_sizes([m])
        if workflow.kind == "accumulate-subsample" and workflow.subsample < need:
            raise ParameterError("workflow", f"accumulate-subsample:K with K >= {need} ({why})", str(workflow))
        object.__setattr__(self, "learner", learner)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "workflow", workflow)
        object.__setattr__(self, "sample_size", m)

    @property
    def dimension(self) -> int:
        return self.source.dimension

    @property
    def components(self) -> int:
        return self.learner.components

    def training_size(self, generation: int) -> int:
        """Points in ``T_n`` (the fit of generation ``n``): ``M``; ``(n + 1) M`` under ``accumulate``; ``K`` under
        ``accumulate-subsample:K``."""
        if self.workflow.kind == "accumulate":
            return (int(generation) + 1) * self.sample_size
        if self.workflow.kind == "accumulate-subsample":
            return self.workflow.subsample
        return self.sample_size
