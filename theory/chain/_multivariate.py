"""The multivariate Gaussian recursive-fitting chain (full covariance), under any workflow of the chain model.

Generation 0 is ``N(mu, Sigma)`` in ``d`` dimensions, ``Sigma`` any symmetric positive definite ``(d, d)`` matrix.
Generation ``i + 1`` is the Gaussian fitted to a training set ``T_i`` of points in ``R^d``; under ``replace`` (the
default) ``T_i`` is ``M`` i.i.d. points ``x_1 .. x_M`` of generation ``i``, and

* mean ``mu_{i+1} = xbar`` (the sample mean);
* covariance ``Sigma_{i+1} = A * S / divisor`` with the scatter matrix ``S = sum_j (x_j - xbar)(x_j - xbar)^T``,
  divisor ``M - 1`` (learner ``"unbiased"``) or ``M`` (learner ``"mle"``) and a fixed multiplier
  ``A = variance_scale > 0``.

Given generation ``i``, ``xbar ~ N(mu_i, Sigma_i / M)`` and ``S ~ Wishart_d(M - 1, Sigma_i)`` independently. The fit
is nonsingular (almost surely) only when ``M - 1 >= d``, so both learners need ``M >= d + 1``.

The other workflows (:class:`~theory.chain.Workflow`: ``mix:LAMBDA``, ``mix-fixed:LAMBDA``, ``accumulate``,
``accumulate-subsample:K``) choose ``T_i`` exactly as for the 1-D chain (:mod:`theory.chain._workflow`), with points
in ``R^d``; the fit to ``T_i`` is the same (weighted, under ``mix`` with a real weight ``w``: mean
``sum_j omega_j x_j``, covariance ``A sum_j omega_j (x_j - mean)(x_j - mean)^T``, divided by ``1 - sum_j omega_j^2``
for ``unbiased``). Every fit must hold at least ``d + 1`` points: ``M >= d + 1``, and ``K >= d + 1`` under
``accumulate-subsample:K``. Because the fit commutes with projections, the projection ``u^T x`` of the chain on any
direction ``u`` is exactly the 1-D chain with the same workflow and ``sigma**2 = u^T Sigma u``; for ``d = 1`` the
chain is :class:`~theory.chain.GaussianChain` with ``sigma**2 = Sigma[0, 0]``.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from .._errors import ParameterError, check_integer, check_positive
from ._model import LEARNERS
from ._workflow import REPLACE, Workflow

#: Relative tolerance of the symmetry check ``|Sigma - Sigma^T| <= tol * max|Sigma|``.
SYMMETRY_TOLERANCE = 1e-12


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


def check_covariance(covariance, name: str = "covariance", dimension: int | None = None) -> np.ndarray:
    """Return ``covariance`` as a read-only float64 ``(d, d)`` array if it is a finite symmetric positive definite
    matrix (symmetric to a relative ``1e-12``, then exactly symmetrised); raise :class:`~theory.ParameterError`
    naming ``name`` otherwise. With ``dimension``, ``d`` must equal it."""
    try:
        array = np.asarray(covariance, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, "a symmetric positive definite (d, d) matrix of numbers", covariance) from None
    if array.ndim == 0 and dimension is None:
        array = array.reshape(1, 1)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] < 1:
        raise ParameterError(name, "a square (d, d) matrix with d >= 1", f"an array of shape {array.shape}")
    if dimension is not None and array.shape[0] != dimension:
        raise ParameterError(name, f"a ({dimension}, {dimension}) matrix", f"an array of shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ParameterError(name, "a matrix of finite numbers", array.tolist())
    scale = float(np.max(np.abs(array)))
    if float(np.max(np.abs(array - array.T))) > SYMMETRY_TOLERANCE * scale:
        raise ParameterError(name, "symmetric (Sigma == Sigma^T)", array.tolist())
    array = 0.5 * (array + array.T)
    try:
        np.linalg.cholesky(array)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(array)[0])
        raise ParameterError(
            name, f"positive definite (its smallest eigenvalue is {smallest:.6g})", array.tolist()
        ) from None
    return _read_only(array)


@dataclasses.dataclass(frozen=True, eq=False)
class MultivariateGaussianChain:
    """A ``d``-dimensional Gaussian chain with a full covariance, under a workflow (see the module doc).

    Parameters
    ----------
    sample_size:
        ``M``: points per fit, an integer ``>= d + 1`` (the fitted covariance is singular otherwise).
    covariance:
        ``Sigma``, the covariance of generation 0: a symmetric positive definite ``(d, d)`` array-like (a scalar is
        the ``(1, 1)`` matrix). Stored as a read-only float64 array.
    mean:
        ``mu``, the mean of generation 0: a length-``d`` array-like; ``None`` is ``zeros(d)``.
    learner:
        ``"unbiased"`` (divisor ``M - 1``) or ``"mle"`` (divisor ``M``).
    variance_scale:
        ``A > 0``, multiplies every fitted covariance.
    workflow:
        what each generation is fitted to: a :class:`~theory.chain.Workflow` or its spelling (``"replace"``, the
        default; ``"mix:0.1"``, ``"mix-fixed:0.1"``, ``"accumulate"``, ``"accumulate-subsample:50"``).

    Examples
    --------
    >>> chain = MultivariateGaussianChain(10, [[2.0, 0.5], [0.5, 1.0]], learner="mle")
    >>> chain.dimension, chain.divisor
    (2, 10)
    >>> chain.mean
    array([0., 0.])
    >>> MultivariateGaussianChain(2, np.eye(2))
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sample_size: must be an integer >= d + 1 = 3 (a nonsingular fitted covariance
    needs M - 1 >= d), got 2
    >>> str(MultivariateGaussianChain(10, np.eye(2), workflow="accumulate").workflow)
    'accumulate'
    """

    sample_size: int
    covariance: np.ndarray
    mean: np.ndarray | None = None
    learner: str = "unbiased"
    variance_scale: float = 1.0
    workflow: Workflow = REPLACE

    def __post_init__(self) -> None:
        if self.learner not in LEARNERS:
            raise ParameterError("learner", "'unbiased' or 'mle'", self.learner)
        covariance = check_covariance(self.covariance)
        d = covariance.shape[0]
        object.__setattr__(self, "covariance", covariance)
        if self.mean is None:
            mean = np.zeros(d)
        else:
            try:
                mean = np.asarray(self.mean, dtype=np.float64)
            except (TypeError, ValueError):
                raise ParameterError("mean", f"a vector of {d} finite numbers", self.mean) from None
            if d == 1 and mean.ndim == 0:
                mean = mean.reshape(1)
            if mean.shape != (d,):
                raise ParameterError("mean", f"a vector of length d = {d} (the covariance's dimension)",
                                     f"an array of shape {mean.shape}")
            if not np.all(np.isfinite(mean)):
                raise ParameterError("mean", "a vector of finite numbers", mean.tolist())
        object.__setattr__(self, "mean", _read_only(mean))
        size = check_integer("sample_size", self.sample_size, minimum=2)
        if size < d + 1:
            raise ParameterError(
                "sample_size", f"an integer >= d + 1 = {d + 1} (a nonsingular fitted covariance needs M - 1 >= d)",
                self.sample_size,
            )
        object.__setattr__(self, "sample_size", size)
        object.__setattr__(self, "variance_scale", check_positive("variance_scale", self.variance_scale))
        workflow = self.workflow if isinstance(self.workflow, Workflow) else Workflow.parse(self.workflow)
        workflow.check_sizes([size])
        if workflow.kind == "accumulate-subsample" and workflow.subsample < d + 1:
            raise ParameterError(
                "workflow", f"accumulate-subsample:K with K >= d + 1 = {d + 1} (each fit needs d + 1 points for a "
                "nonsingular covariance)", str(workflow))
        object.__setattr__(self, "workflow", workflow)

    @property
    def dimension(self) -> int:
        """``d``, the dimension of the data."""
        return int(self.covariance.shape[0])

    @property
    def divisor(self) -> int:
        """The learner's divisor of the scatter matrix: ``M - 1`` (unbiased) or ``M`` (mle)."""
        return self.sample_size - 1 if self.learner == "unbiased" else self.sample_size

    @property
    def degrees_of_freedom(self) -> int:
        """``k = M - 1``: the scatter matrix given generation ``i`` is ``Wishart_d(k, Sigma_i)``."""
        return self.sample_size - 1

    def _key(self):
        return (self.sample_size, self.covariance.tobytes(), self.mean.tobytes(), self.learner, self.variance_scale,
                self.covariance.shape, self.workflow)

    def __eq__(self, other) -> bool:
        if not isinstance(other, MultivariateGaussianChain):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"MultivariateGaussianChain(sample_size={self.sample_size}, covariance={self.covariance.tolist()}, "
                f"mean={self.mean.tolist()}, learner={self.learner!r}, variance_scale={self.variance_scale!r}, "
                f"workflow={str(self.workflow)!r})")


def check_multivariate_chain(chain, name: str = "chain") -> MultivariateGaussianChain:
    """Return ``chain`` if it is a :class:`MultivariateGaussianChain`; raise :class:`~theory.ParameterError`
    otherwise."""
    if not isinstance(chain, MultivariateGaussianChain):
        raise ParameterError(name, "a theory.MultivariateGaussianChain", chain)
    return chain


_SPELLING = "'iso', 'iso:S2', 'diag:a,b,...' or 'file:PATH'"


def parse_covariance(spec: str, d: int | None = None) -> np.ndarray:
    """A covariance matrix from its command-line spelling, checked symmetric positive definite.

    ``"iso"``: the ``d x d`` identity; ``"iso:S2"``: ``S2 * I``; ``"diag:a,b,c"``: ``diag(a, b, c)``;
    ``"file:PATH"``: a matrix in a text file, one row per line, entries separated by whitespace and/or commas
    (lines starting with ``#`` are skipped). ``d`` is needed for ``iso``; for ``diag`` and ``file`` it is optional and,
    when given, must match. Raises :class:`~theory.ParameterError` naming ``covariance`` (or ``dimension``).

    Examples
    --------
    >>> parse_covariance("iso:2", 2)
    array([[2., 0.],
           [0., 2.]])
    >>> parse_covariance("diag:1,0.5,0.25")
    array([[1.  , 0.  , 0.  ],
           [0.  , 0.5 , 0.  ],
           [0.  , 0.  , 0.25]])
    """
    if d is not None:
        d = check_integer("dimension", d, minimum=1)
    if not isinstance(spec, str):
        raise ParameterError("covariance", _SPELLING, spec)
    text = spec.strip()
    kind, colon, argument = text.partition(":")
    if kind == "iso":
        if d is None:
            raise ParameterError("dimension", "given (an integer >= 1) for an isotropic covariance", None)
        scale = 1.0
        if colon and not argument.strip():
            raise ParameterError("covariance", "iso or iso:S2 with S2 a number > 0", spec)
        if argument:
            try:
                scale = float(argument)
            except ValueError:
                raise ParameterError("covariance", "iso:S2 with S2 a number > 0", spec) from None
        if not (np.isfinite(scale) and scale > 0):
            raise ParameterError("covariance", "iso:S2 with S2 a finite number > 0", spec)
        matrix = scale * np.eye(d)
    elif kind == "diag":
        if not argument.strip():
            raise ParameterError("covariance", "diag:a,b,... with at least one number", spec)
        try:  # an empty entry (diag:1,,2) is refused, not dropped: a typo must not change d
            entries = [float(x) for x in argument.split(",")]
        except ValueError:
            raise ParameterError("covariance", "diag:a,b,... with numbers > 0, one per comma-separated entry",
                                 spec) from None
        matrix = np.diag(entries)
    elif kind == "file":
        if not argument or not os.path.isfile(argument):
            raise ParameterError("covariance", "file:PATH naming a readable file", spec)
        rows = []
        try:
            with open(argument, encoding="utf-8") as handle:
                lines = handle.readlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ParameterError("covariance", f"file:PATH naming a readable text file ({argument}: "
                                 f"{getattr(err, 'strerror', None) or type(err).__name__})", spec) from None
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                rows.append([float(x) for x in re.split(r"[,\s]+", line) if x])
            except ValueError:
                raise ParameterError("covariance", f"a file of numbers ({argument})", line) from None
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParameterError("covariance", f"a file holding a square matrix ({argument})",
                                 f"rows of lengths {[len(r) for r in rows]}")
        matrix = np.array(rows)
    else:
        raise ParameterError("covariance", _SPELLING, spec)
    return check_covariance(matrix, "covariance", d)
