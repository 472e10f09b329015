"""Real-data distributions ``D_0`` for the decomposition: their mean, sd, sampler and Gaussian correlation ``rho``.

For a 1-D distribution ``Q`` with mean ``mu``, sd ``sigma``, cdf ``F`` and quantile function ``F^{-1}``,

    rho_Q = int_0^1 Phi^{-1}(u) (F^{-1}(u) - mu) / sigma du = (1/sigma) int phi(Phi^{-1}(F(x))) dx  <= 1,

the correlation of ``Q``'s quantile function with the standard normal one (the second form by parts, see
``proofs/decomposition.md``). It fixes ``W2^2(N(m, s^2), Q) = (m - mu)^2 + s^2 + sigma^2 - 2 s sigma rho_Q``.

Families (all frozen dataclasses with ``mean``, ``sd``, ``rho()``, ``sample(key, shape)``, ``cdf``, ``sf``,
``ppf``, ``spec``):

==================================  ===========================================================================
:class:`Normal`                      ``rho = 1`` (exact)
:class:`GaussianMixture`             any number of components; ``rho`` by adaptive quadrature (scipy ``quad``)
:class:`StudentT`                    ``nu > 2`` (finite variance); ``rho`` by quadrature
:class:`Laplace`                     ``rho = sqrt(2) int_0^inf phi(z)^2 / Phi(-z) dz`` (one-dimensional quadrature)
:class:`Uniform`                     ``rho = sqrt(3/pi)`` (exact)
:class:`Empirical`                   the user's samples; ``rho`` exact, a finite sum over order statistics
==================================  ===========================================================================

``rho()`` returns ``(value, error)``: the error is 0 for exact forms, else quad's absolute error estimate
(plus the rounding of the sum for the empirical distribution).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import integrate, special, stats

from .._errors import ParameterError, check_finite, check_positive

_QUAD = dict(epsabs=1e-14, epsrel=1e-12, limit=500)

#: Largest (and 1/smallest) standard deviation of ``D_0``: ``sd**2`` and the errors built from it (a few times
#: ``sd**2``, times ``A**n``) must stay within float64.
MAX_SD = 1e150
#: Largest ``|mean| / sd`` of a non-Gaussian ``D_0``: its samples are centred in float64 before fitting, which
#: keeps ``|mean| / sd * 2**-52`` of relative precision (below 1e-7 here, well under the Monte Carlo error).
MAX_MEAN_OVER_SD = 1e9
#: Fewest data points accepted from a file or an array of samples (their empirical distribution stands in for
#: the data's law: rho, sd and E sigma_1 of fewer points say little about it).
MIN_DATA_POINTS = 20


def check_scale(name: str, sd: float, mean: float | None = None, *, gaussian: bool = False) -> None:
    """Raise :class:`ParameterError` ``name`` unless ``1/MAX_SD <= sd <= MAX_SD`` (and, for a non-Gaussian
    ``D_0``, ``|mean| <= MAX_MEAN_OVER_SD * sd``)."""
    if not (math.isfinite(sd) and 1 / MAX_SD <= sd <= MAX_SD):
        raise ParameterError(name, f"a distribution with sd between {1 / MAX_SD:g} and {MAX_SD:g} (its variance and "
                             "the errors must fit in float64)", f"sd {sd:g}")
    if mean is not None and not gaussian and abs(mean) > MAX_MEAN_OVER_SD * sd:
        raise ParameterError(name, f"a distribution whose |mean| is at most {MAX_MEAN_OVER_SD:g} sd (shift it: the "
                             "decomposition does not depend on the mean)", f"mean {mean:g}, sd {sd:g}")


def _phi(z):
    return np.exp(-0.5 * np.square(z)) / math.sqrt(2 * math.pi)


def _phi_of_probit(lower, upper=None):
    """``phi(Phi^{-1}(p))`` from ``p`` and ``1 - p`` (the smaller one is used: no loss in either tail)."""
    p = lower if upper is None else np.minimum(lower, upper)
    return _phi(special.ndtri(p))


def _rho_by_quadrature(d0, breakpoints) -> tuple[float, float]:
    """``rho = (1/sigma) int phi(Phi^{-1}(F(x))) dx`` by scipy ``quad`` on a finite core and two infinite tails."""

    def integrand(x):
        return float(_phi_of_probit(d0.cdf(x), d0.sf(x)))

    points = sorted(set(float(b) for b in breakpoints))
    lo, hi = points[0], points[-1]
    total, error = 0.0, 0.0
    for a, b in ((-np.inf, lo), (hi, np.inf)):
        v, e = integrate.quad(integrand, a, b, **_QUAD)
        total, error = total + v, error + e
    inner = [p for p in points if lo < p < hi]
    v, e = integrate.quad(integrand, lo, hi, points=inner or None, **_QUAD)
    return (total + v) / d0.sd, (error + e) / d0.sd


class _Distribution:
    """Shared behaviour; subclasses define ``mean``, ``sd``, ``cdf``, ``sf``, ``ppf``, ``_sample``, ``_rho``."""

    #: whether ``E X^4 < inf`` (then the control variate of the first-fit sd estimate applies).
    finite_fourth_moment = True
    #: ``E (X - mu)^4 / sigma^4`` (``inf`` when the fourth moment is not finite).
    kurtosis = math.inf
    #: whether ``rho`` and ``E sigma_1`` are exact (Gaussian): no numerical error anywhere.
    is_gaussian = False

    def rho(self) -> tuple[float, float]:
        """``(rho_Q, error)``: see the module docstring."""
        return self._rho_cached

    @cached_property
    def _rho_cached(self) -> tuple[float, float]:
        value, error = self._rho()
        return float(min(value, 1.0)), float(error)

    def sample(self, key, shape, dtype=None):
        """``shape`` i.i.d. draws in JAX (float64 when x64 is on)."""
        import jax.numpy as jnp

        dtype = dtype or (jnp.float64 if _x64() else jnp.float32)
        return self._sample(key, shape, dtype)


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


@dataclasses.dataclass(frozen=True)
class Normal(_Distribution):
    """``N(mean, sd^2)``: the Gaussian ``D_0``; ``rho = 1`` and ``G = D_0`` (no expressivity error)."""

    mean: float = 0.0
    sd: float = 1.0
    is_gaussian = True

    def __post_init__(self):
        object.__setattr__(self, "mean", check_finite("normal mean", self.mean))
        object.__setattr__(self, "sd", check_positive("normal sd", self.sd))
        check_scale("normal sd", self.sd, self.mean, gaussian=True)

    @property
    def spec(self) -> str:
        return f"normal:{self.mean:g},{self.sd:g}"

    def cdf(self, x):
        return special.ndtr((np.asarray(x) - self.mean) / self.sd)

    def sf(self, x):
        return special.ndtr((self.mean - np.asarray(x)) / self.sd)

    def ppf(self, u):
        return self.mean + self.sd * special.ndtri(u)

    def _rho(self):
        return 1.0, 0.0

    kurtosis = 3.0

    def _sample(self, key, shape, dtype):
        import jax

        return self.mean + self.sd * jax.random.normal(key, shape, dtype)


@dataclasses.dataclass(frozen=True)
class GaussianMixture(_Distribution):
    """``sum_k w_k N(m_k, s_k^2)``; weights are normalised (they must be >= 0 with a positive sum).

    >>> d = GaussianMixture([1, 1], [-2, 2], [1, 1])
    >>> d.mean, round(d.sd**2, 12)
    (0.0, 5.0)
    """

    weights: tuple
    means: tuple
    sds: tuple

    def __post_init__(self):
        try:
            w = [float(x) for x in self.weights]
            m = [float(x) for x in self.means]
            s = [float(x) for x in self.sds]
        except (TypeError, ValueError):
            raise ParameterError("mixture", "lists of numbers (weights, means, sds)", self.weights) from None
        if not (len(w) == len(m) == len(s)) or not w:
            raise ParameterError("mixture", "one weight, mean and sd per component (at least one component)",
                                 (len(w), len(m), len(s)))
        for i, wi in enumerate(w):
            if not math.isfinite(wi) or wi < 0:
                raise ParameterError(f"mixture weight {i + 1}", "a finite number >= 0", wi)
        largest = max(w)
        if not largest > 0:
            raise ParameterError("mixture weights", "numbers >= 0 summing to a positive number", w)
        w = [x / largest for x in w]  # no overflow in the sum for weights near the float64 limit
        total = math.fsum(w)
        for i in range(len(w)):
            check_finite(f"mixture mean {i + 1}", m[i])
            check_positive(f"mixture sd {i + 1}", s[i])
        object.__setattr__(self, "weights", tuple(x / total for x in w))
        object.__setattr__(self, "means", tuple(m))
        object.__setattr__(self, "sds", tuple(s))
        check_scale("mixture", self.sd, self.mean)

    @property
    def spec(self) -> str:
        return "mixture:" + ";".join(f"{w:g},{m:g},{s:g}" for w, m, s in zip(self.weights, self.means, self.sds))

    @cached_property
    def mean(self) -> float:
        scale = max(abs(m) for m in self.means) or 1.0
        return scale * math.fsum(w * (m / scale) for w, m in zip(self.weights, self.means))

    @cached_property
    def sd(self) -> float:
        mu = self.mean
        # scaled by the largest |m - mu| or s, so that means or sds near the float64 limit do not overflow
        scale = max(max(abs(m - mu), s) for m, s in zip(self.means, self.sds))
        if not math.isfinite(scale):
            return math.inf
        terms = (w * ((s / scale) ** 2 + ((m - mu) / scale) ** 2) for w, m, s in zip(self.weights, self.means, self.sds))
        return scale * math.sqrt(math.fsum(terms))

    @cached_property
    def kurtosis(self) -> float:
        mu = self.mean
        c4 = math.fsum(w * ((m - mu) ** 4 + 6 * (m - mu) ** 2 * v * v + 3 * v**4)
                       for w, m, v in zip(self.weights, self.means, self.sds))
        return c4 / self.sd**4

    def _z(self, x):
        x = np.asarray(x, dtype=float)[..., None]
        return (x - np.asarray(self.means)) / np.asarray(self.sds)

    def cdf(self, x):
        return special.ndtr(self._z(x)) @ np.asarray(self.weights)

    def sf(self, x):
        return special.ndtr(-self._z(x)) @ np.asarray(self.weights)

    def ppf(self, u):
        from scipy.optimize import brentq

        lo = min(m - 40 * s for m, s in zip(self.means, self.sds))
        hi = max(m + 40 * s for m, s in zip(self.means, self.sds))
        u = np.asarray(u, dtype=float)
        def solve(t):  # the lower tail through the cdf, the upper through the sf (no loss near u = 1)
            if t <= 0.5:
                return brentq(lambda x: float(self.cdf(x)) - t, lo, hi, xtol=1e-15, rtol=1e-15)
            return brentq(lambda x: float(self.sf(x)) - (1 - t), lo, hi, xtol=1e-15, rtol=1e-15)

        out = [solve(float(t)) for t in u.ravel()]
        return np.asarray(out).reshape(u.shape)

    def _rho(self):
        if len(self.weights) == 1 or len(set(zip(self.means, self.sds))) == 1:
            return 1.0, 0.0  # one Gaussian
        pts = [m + k * s for m, s in zip(self.means, self.sds) for k in (-12.0, 0.0, 12.0)]
        return _rho_by_quadrature(self, pts)

    def _sample(self, key, shape, dtype):
        import jax
        import jax.numpy as jnp

        k_comp, k_norm = jax.random.split(key)
        comp = jax.random.categorical(k_comp, jnp.log(jnp.asarray(self.weights, dtype)), shape=shape)
        means = jnp.asarray(self.means, dtype)[comp]
        sds = jnp.asarray(self.sds, dtype)[comp]
        return means + sds * jax.random.normal(k_norm, shape, dtype)


@dataclasses.dataclass(frozen=True)
class StudentT(_Distribution):
    """Student-t with ``df = nu > 2`` degrees of freedom, location and scale; ``sd = scale sqrt(nu/(nu-2))``."""

    df: float
    loc: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        df = check_finite("student-t nu", self.df)
        if not df > 2:
            raise ParameterError("student-t nu", "a number > 2 (finite variance)", df)
        object.__setattr__(self, "df", df)
        object.__setattr__(self, "loc", check_finite("student-t loc", self.loc))
        object.__setattr__(self, "scale", check_positive("student-t scale", self.scale))
        check_scale("student-t scale", self.sd, self.mean)

    @property
    def finite_fourth_moment(self) -> bool:
        return self.df > 4

    @property
    def kurtosis(self) -> float:
        return 3 + 6 / (self.df - 4) if self.df > 4 else math.inf

    @property
    def spec(self) -> str:
        return f"student-t:{self.df:g},{self.loc:g},{self.scale:g}"

    @property
    def mean(self) -> float:
        return self.loc

    @property
    def sd(self) -> float:
        return self.scale * math.sqrt(self.df / (self.df - 2))

    def cdf(self, x):
        return stats.t.cdf(x, self.df, self.loc, self.scale)

    def sf(self, x):
        return stats.t.sf(x, self.df, self.loc, self.scale)

    def ppf(self, u):
        return stats.t.ppf(u, self.df, self.loc, self.scale)

    def _rho(self):
        # symmetric: rho = (2/sigma) int_loc^inf phi(Phi^{-1}(sf(x))) dx, split where the tail starts
        def integrand(x):
            return float(_phi_of_probit(stats.t.sf(x, self.df)))

        total, error = 0.0, 0.0
        for a, b in ((0.0, 1.0), (1.0, 10.0), (10.0, np.inf)):
            v, e = integrate.quad(integrand, a, b, **_QUAD)
            total, error = total + v, error + e
        scale = 2 * self.scale / self.sd
        return scale * total, scale * error

    def _sample(self, key, shape, dtype):
        import jax

        return self.loc + self.scale * jax.random.t(key, self.df, shape, dtype)


@dataclasses.dataclass(frozen=True)
class Laplace(_Distribution):
    """Laplace with location and scale ``b``; ``sd = sqrt(2) b``; ``rho = sqrt(2) int_0^inf phi^2/Phi(-z) dz``."""

    loc: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "loc", check_finite("laplace loc", self.loc))
        object.__setattr__(self, "scale", check_positive("laplace scale", self.scale))
        check_scale("laplace scale", self.sd, self.mean)

    kurtosis = 6.0

    @property
    def spec(self) -> str:
        return f"laplace:{self.loc:g},{self.scale:g}"

    @property
    def mean(self) -> float:
        return self.loc

    @property
    def sd(self) -> float:
        return math.sqrt(2) * self.scale

    def cdf(self, x):
        return stats.laplace.cdf(x, self.loc, self.scale)

    def sf(self, x):
        return stats.laplace.sf(x, self.loc, self.scale)

    def ppf(self, u):
        return stats.laplace.ppf(u, self.loc, self.scale)

    def _rho(self):
        # phi(z)^2 / Phi(-z) in log space: log phi^2 - log ndtr(-z) (no overflow for large z)
        def integrand(z):
            return math.exp(2 * (-0.5 * z * z - 0.5 * math.log(2 * math.pi)) - float(special.log_ndtr(-z)))

        total, error = 0.0, 0.0
        for a, b in ((0.0, 4.0), (4.0, np.inf)):
            v, e = integrate.quad(integrand, a, b, **_QUAD)
            total, error = total + v, error + e
        return math.sqrt(2) * total, math.sqrt(2) * error

    def _sample(self, key, shape, dtype):
        import jax

        return self.loc + self.scale * jax.random.laplace(key, shape, dtype)


@dataclasses.dataclass(frozen=True)
class Uniform(_Distribution):
    """Uniform on ``[low, high]``; ``rho = sqrt(3/pi)`` exactly.

    >>> round(Uniform().rho()[0], 12)
    0.977205023806
    """

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self):
        low = check_finite("uniform low", self.low)
        high = check_finite("uniform high", self.high)
        if not high > low:
            raise ParameterError("uniform high", f"a number > low = {low:g}", high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        check_scale("uniform high", self.sd, self.mean)

    kurtosis = 1.8

    @property
    def spec(self) -> str:
        return f"uniform:{self.low:g},{self.high:g}"

    @property
    def mean(self) -> float:
        return 0.5 * self.low + 0.5 * self.high

    @property
    def sd(self) -> float:
        return (self.high / math.sqrt(12) - self.low / math.sqrt(12))  # no overflow of high - low near the limit

    def cdf(self, x):
        return np.clip((np.asarray(x, dtype=float) - self.low) / (self.high - self.low), 0.0, 1.0)

    def sf(self, x):
        return np.clip((self.high - np.asarray(x, dtype=float)) / (self.high - self.low), 0.0, 1.0)

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def _rho(self):
        return math.sqrt(3 / math.pi), 0.0

    def _sample(self, key, shape, dtype):
        import jax

        return jax.random.uniform(key, shape, dtype, self.low, self.high)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Empirical(_Distribution):
    """The empirical distribution of the user's 1-D samples (each point has mass ``1/N``).

    ``mean`` and ``sd`` are the population ones (divisor ``N``); ``rho`` is the exact finite sum
    ``(1/sigma) sum_k (x_(k) - mu) [phi(Phi^{-1}((k-1)/N)) - phi(Phi^{-1}(k/N))]``. Built directly, any two or
    more distinct real values are accepted (an exact discrete law); data read from a file or given to
    :func:`theory.decompose` as an array need at least :data:`MIN_DATA_POINTS` values.

    >>> d = Empirical([0.0, 1.0])
    >>> d.mean, d.sd, round(d.rho()[0], 12)  # two points: rho = 2 phi(0) = sqrt(2/pi)
    (0.5, 0.5, 0.797884560803)
    >>> d
    Empirical(2 values in [0, 1], source='array')
    """

    data: np.ndarray
    source: str = "array"

    def __post_init__(self):
        raw = self.data
        if np.iscomplexobj(raw) or (isinstance(raw, (list, tuple)) and any(isinstance(v, complex) for v in raw)):
            raise ParameterError("data", "real numbers (not complex)", f"{self.source}: complex values")
        try:
            x = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("data", "a 1-D array of numbers", type(raw).__name__) from None
        x = np.squeeze(x) if x.ndim > 1 and sum(s > 1 for s in x.shape) <= 1 else x
        if x.ndim == 0:
            x = x.reshape(1)
        if x.ndim != 1:
            raise ParameterError("data", "1-D samples (one column)", f"an array of shape {x.shape}")
        if x.size == 0:
            raise ParameterError("data", "a non-empty set of samples", f"{self.source}: no values")
        if not np.all(np.isfinite(x)):
            raise ParameterError("data", "finite numbers only", f"{self.source}: {int(np.sum(~np.isfinite(x)))} "
                                 "non-finite value(s)")
        x = np.sort(x)
        x.setflags(write=False)
        object.__setattr__(self, "data", x)
        if not self.sd > 0:
            raise ParameterError("data", "samples with non-zero variance", f"{self.source}: all {x.size} values "
                                 f"equal {x[0]:g}")
        check_scale("data", self.sd)  # no mean limit: centring the data loses nothing they carry

    def __repr__(self) -> str:
        x = self.data
        return f"Empirical({x.size} values in [{x[0]:g}, {x[-1]:g}], source={self.source!r})"

    @property
    def spec(self) -> str:
        return f"data:{self.source}"

    @cached_property
    def is_integer_valued(self) -> bool:
        """Whether every value is a whole number (discrete data, e.g. counts or ratings)."""
        return bool(np.all(self.data == np.round(self.data)))

    @cached_property
    def _scale(self) -> float:
        return float(max(abs(self.data[0]), abs(self.data[-1]))) or 1.0

    @cached_property
    def mean(self) -> float:
        scale = self._scale  # scaled sums: no overflow for values near the float64 limit
        return float(scale * (math.fsum(self.data / scale) / self.data.size))

    @cached_property
    def sd(self) -> float:
        d = self.data / self._scale - self.mean / self._scale
        return float(self._scale * math.sqrt(math.fsum(d * d) / self.data.size))

    @cached_property
    def kurtosis(self) -> float:
        d = (self.data - self.mean) / self.sd
        return float(math.fsum(d**4) / self.data.size)

    def cdf(self, x):
        return np.searchsorted(self.data, np.asarray(x, dtype=float), side="right") / self.data.size

    def sf(self, x):
        n = self.data.size
        return (n - np.searchsorted(self.data, np.asarray(x, dtype=float), side="right")) / n

    def ppf(self, u):
        n = self.data.size
        k = np.clip(np.ceil(np.asarray(u, dtype=float) * n).astype(int), 1, n)
        return self.data[k - 1]

    def _rho(self):
        n = self.data.size
        k = np.arange(n + 1)
        edges = _phi_of_probit(k / n, (n - k) / n)  # phi(Phi^{-1}(k/N)), 0 at both ends
        weights = edges[:-1] - edges[1:]  # int over cell k of Phi^{-1}(u) du
        terms = (self.data - self.mean) / self.sd * weights
        value = math.fsum(terms)
        return value, 8 * np.finfo(float).eps * float(np.sum(np.abs(terms)))

    def _sample(self, key, shape, dtype):
        import jax
        import jax.numpy as jnp

        idx = jax.random.randint(key, shape, 0, self.data.size)
        return jnp.asarray(self.data, dtype)[idx]


def check_data_size(d0: Empirical) -> Empirical:
    """``d0`` if it has at least :data:`MIN_DATA_POINTS` values, else a :class:`ParameterError` on ``data``."""
    if d0.data.size < MIN_DATA_POINTS:
        raise ParameterError("data", f"at least {MIN_DATA_POINTS} values (the empirical distribution of fewer is too "
                             "coarse a stand-in for the data's law)", f"{d0.source}: {d0.data.size} value(s)")
    return d0


def _column_index(names: list[str] | None, width: int, column, path) -> int:
    """The 0-based index of ``column`` (a name from the header or an index) among ``width`` columns."""
    if column is None:
        if width != 1:
            named = f" ({', '.join(names)})" if names else ""
            raise ParameterError("column", f"given (--column NAME|INDEX) for a file of {width} columns{named}",
                                 f"{path}: no column chosen")
        return 0
    text = str(column).strip()
    if names is not None and text in names:
        return names.index(text)
    try:
        index = int(text)
    except ValueError:
        allowed = f"one of the header's names ({', '.join(names)})" if names else "a 0-based column index"
        raise ParameterError("column", allowed + f" or an index in [0, {width - 1}]", column) from None
    if not 0 <= index < width:
        raise ParameterError("column", f"a 0-based index in [0, {width - 1}]" +
                             (f" or one of {', '.join(names)}" if names else ""), column)
    return index


def _read_text_table(p: Path, column):
    """Numbers of one column of a text/CSV file: ``#`` comments, an optional header line of names."""
    import csv

    try:
        text = p.read_text()
    except UnicodeDecodeError:
        raise ParameterError("data", "a .npy file or a text/.csv file of numbers", f"{p}: not text") from None
    lines = [ln.split("#", 1)[0] for ln in text.splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise ParameterError("data", "a non-empty file of numbers", f"{p}: empty file")
    delimiter = "," if any("," in ln for ln in lines) else None
    rows = list(csv.reader(lines, delimiter=",")) if delimiter else [ln.split() for ln in lines]
    rows = [[c.strip() for c in r] for r in rows]

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    names = None
    if not all(numeric(c) for c in rows[0]):
        names, rows = rows[0], rows[1:]
        if not rows:
            raise ParameterError("data", "a header line followed by rows of numbers", f"{p}: only a header")
    if names is None and len(rows) == 1 and len(rows[0]) > 1 and column is None:
        return np.asarray([_cell(c, p, 1, 0) for c in rows[0]])  # one row of samples
    width = len(names) if names is not None else max(len(r) for r in rows)
    index = _column_index(names, width, column, p)
    first = 2 if names is not None else 1
    values = []
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ParameterError("data", f"rows of {width} column(s), as the first", f"{p}: line {i + first} has {len(r)}")
        values.append(_cell(r[index], p, i + first, index))
    return np.asarray(values)


def _cell(cell: str, p, line: int, index: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ParameterError("data", "a .npy or .csv file of numbers",
                             f"{p}: line {line}, column {index}: {cell!r}") from None
    return value


def load_data(path, column=None) -> Empirical:
    """Read 1-D samples from a ``.npy`` or text/``.csv`` file.

    Text files: one column, or one row, of numbers; ``#`` comments; an optional header line of column names.
    With several columns (or a 2-D ``.npy``), ``column`` picks one: a header name or a 0-based index. At least
    :data:`MIN_DATA_POINTS` values; complex, non-finite or non-numeric values are refused.
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError("data", "an existing .npy or .csv file", str(path))
    if p.suffix.lower() == ".npy":
        try:
            x = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ParameterError("data", "a .npy or .csv file of numbers", f"{path}: {reason}") from None
        x = np.asarray(x)
        if np.iscomplexobj(x):
            raise ParameterError("data", "real numbers (not complex)", f"{path}: dtype {x.dtype}")
        if not np.issubdtype(x.dtype, np.number) or x.dtype == bool:
            raise ParameterError("data", "a .npy or .csv file of numbers", f"{path}: dtype {x.dtype}")
        if x.ndim == 2 and (column is not None or min(x.shape) > 1):
            x = x[:, _column_index(None, x.shape[1], column, path)]
        elif column is not None and str(column).strip() not in ("0",):
            raise ParameterError("column", "0 (the file has one column)", column)
    else:
        x = _read_text_table(p, column)
    return check_data_size(Empirical(np.asarray(x, dtype=float), source=str(path)))


def _numbers(text: str, what: str, count: tuple[int, ...]) -> list[float]:
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if len(parts) not in count:
        allowed = " or ".join(str(c) for c in count)
        raise ParameterError("d0", f"{what} with {allowed} comma-separated number(s)", text)
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ParameterError("d0", f"{what} with numbers only", text) from None


SPEC_HELP = (
    "normal[:MEAN,SD] | mixture:W,MEAN,SD;W,MEAN,SD;... | student-t:NU[,LOC,SCALE] | laplace[:LOC,SCALE] | "
    "uniform[:LOW,HIGH] | data:PATH (.npy or .csv)"
)


def parse_d0(spec: str):
    """A distribution from a command-line SPEC (see :data:`SPEC_HELP`).

    >>> parse_d0("mixture:1,-2,1;1,2,1").weights
    (0.5, 0.5)
    >>> parse_d0("student-t:2")
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: student-t nu: must be a number > 2 (finite variance), got 2.0
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError("d0", SPEC_HELP, spec)
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    if name == "normal":
        return Normal(*_numbers(rest, "normal[:MEAN,SD]", (0, 2)))
    if name == "laplace":
        return Laplace(*_numbers(rest, "laplace[:LOC,SCALE]", (0, 2)))
    if name == "uniform":
        return Uniform(*_numbers(rest, "uniform[:LOW,HIGH]", (0, 2)))
    if name in ("student-t", "t", "student"):
        return StudentT(*_numbers(rest, "student-t:NU[,LOC,SCALE]", (1, 3)))
    if name == "mixture":
        comps = [c for c in rest.split(";") if c.strip()]
        if not comps:
            raise ParameterError("d0", "mixture:W,MEAN,SD;W,MEAN,SD;... with at least one component", spec)
        rows = [_numbers(c, "each mixture component W,MEAN,SD", (3,)) for c in comps]
        return GaussianMixture(*zip(*rows))
    if name == "data":
        if not rest.strip():
            raise ParameterError("d0", "data:PATH with the path of a .npy or .csv file", spec)
        return load_data(rest.strip())
    raise ParameterError("d0", SPEC_HELP, spec)


def as_distribution(d0):
    """A distribution object from a distribution, a SPEC string, or an array of samples (empirical)."""
    if isinstance(d0, _Distribution):
        return d0
    if isinstance(d0, str):
        return parse_d0(d0)
    if isinstance(d0, Path):
        return load_data(d0)
    if isinstance(d0, (list, tuple, np.ndarray)) or hasattr(d0, "__array__"):
        return check_data_size(Empirical(d0 if isinstance(d0, (list, tuple)) else np.asarray(d0)))
    raise ParameterError("d0", "a distribution, a SPEC string or an array of samples", d0)
