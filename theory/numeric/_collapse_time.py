"""Exact distribution of ``sigma_n / sigma``: its CDF, its median, and the collapse time.

After ``n`` generations ``sigma_n^2 / sigma^2 = prod_{i<n} A X_i / d_i`` with independent ``X_i ~ chi^2_{k_i}``,
``k_i = M_i - 1`` and ``d_i = M_i - 1`` (unbiased) or ``M_i`` (mle). So ``Y_n = log(sigma_n^2/sigma^2)`` is a sum
of independent log-chi-square variables, with characteristic function

    phi_n(t) = prod_i (2 A / d_i)^{i t} Gamma(k_i/2 + i t) / Gamma(k_i/2),

mean ``mu_n = sum_i [log(2A/d_i) + psi(k_i/2)]`` and variance ``s_n^2 = sum_i psi'(k_i/2)``. Its CDF is obtained by
Gil-Pelaez inversion (no normal approximation):

    P(Y_n <= x) = 1/2 - (1/pi) int_0^oo Im[exp(-i t x) phi_n(t)] / t dt.

The integral is taken in the standardised variable ``u = s_n t`` after removing the mean (so the integrand
oscillates at frequency ``(x - mu_n)/s_n``), truncated where ``|phi_n| < exp(-37)`` (``|phi_n|`` decreases in
``t`` and decays at least like ``|t|^{k/2-1/2} e^{-pi |t|/2}`` per factor, so the neglected tail is of that
order), and integrated with :func:`scipy.integrate.quad`; the reported error is quad's estimate over ``pi`` plus
the truncation level. Equal ``M_i`` are grouped, so one evaluation of ``phi_n`` costs O(#distinct ``M_i``).
``log Gamma(x + it) - log Gamma(x)`` is taken from :func:`scipy.special.loggamma` for ``x < 20`` and from the
Stirling series written as a difference (``log1p``, no cancellation) for ``x >= 20``, so ``M`` up to 1e9 is fine.

Outside ``mu_n +- s_n`` the answer to "is ``P(Y_n <= x) > 1/2``?" is exact by Cantelli's inequality
(``|median - mean| <= sd``); only inside it is the integral needed.
"""

from __future__ import annotations

import decimal
import math
import numbers
import time
import warnings
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .._errors import ParameterError, check_integer
from ..chain import GaussianChain, check_chain


class _Lazy:
    """A SciPy submodule imported on first use, so that ``import theory`` does not load SciPy."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        return getattr(importlib.import_module(self._name), attr)


special, integrate, optimize = _Lazy("scipy.special"), _Lazy("scipy.integrate"), _Lazy("scipy.optimize")

_MAX_SECONDS = 600.0  # a schedule function whose calls are estimated to take longer is refused
_MAX_SIZES = 2**27  # sample sizes of a schedule held in memory (1 GiB of float64; each CDF groups them: O(n log n))
_LOG_TRUNCATION = -37.0  # truncate the inversion integral where |phi| < e^-37 ~ 8.5e-17
_DETERMINISTIC_SIZE = 1e30  # steps with larger M contribute only their mean (variance ~ 2/M)
_STIRLING_MIN = 20.0  # below this half-degree-of-freedom, use scipy's complex loggamma
# B_{2j} / (2j (2j - 1)), j = 1..7: the Stirling series of log Gamma
_STIRLING_COEFFICIENTS = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


# ---------------------------------------------------------------------------------------------- distribution
@dataclass(frozen=True)
class _LogVarianceLaw:
    """``Y_n = log(sigma_n^2/sigma^2)`` as groups of equal steps: half-dof ``x = k/2``, counts, ``log(2A/d)``."""

    half_dof: np.ndarray
    counts: np.ndarray
    log_scale: np.ndarray
    mean: float
    sd: float
    shift: float = 0.0  # the part of ``mean`` from steps treated as deterministic (M > 1e30)
    divisor_offset: float = 1.0  # d = M - divisor_offset: 1 (unbiased) or 0 (mle)
    variance_scale: float = 1.0

    @classmethod
    def from_sizes(cls, sizes: np.ndarray, counts: np.ndarray, learner: str, variance_scale: float):
        """Group ``(M, count)`` pairs.

        Steps with ``M > 1e30`` (``inf`` for integers beyond float64) keep their exact mean but are otherwise
        treated as deterministic: their log-variance ``~ 2/M < 2e-30`` is below float64 resolution.
        """
        sizes = np.asarray(sizes, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        # E log(A X/d) = log A + log(2x/d) - (log x - psi(x)), x = k/2 = (M - 1)/2: no cancellation for large M
        mean = math.log(variance_scale) * float(np.sum(counts))
        huge = sizes > _DETERMINISTIC_SIZE
        shift = 0.0
        if np.any(huge):
            shift = math.log(variance_scale) * float(np.sum(counts[huge])) - float(
                np.sum(counts[huge] * (2.0 if learner == "mle" else 1.0) / sizes[huge])  # 0 for inf
            )
            mean += shift - math.log(variance_scale) * float(np.sum(counts[huge]))
            sizes, counts = sizes[~huge], counts[~huge]
        half_dof = (sizes - 1.0) / 2.0
        log_ratio = 0.0 if learner == "unbiased" else np.log1p(-1.0 / sizes)  # log((M - 1)/d)
        mean += float(np.sum(counts * (log_ratio - _log_minus_digamma(half_dof))))
        sd = float(math.sqrt(np.sum(counts * special.polygamma(1, half_dof))))
        log_scale = math.log(2.0 * variance_scale) - np.log(sizes - 1.0 if learner == "unbiased" else sizes)
        return cls(half_dof, counts, log_scale, mean, sd, shift, 1.0 if learner == "unbiased" else 0.0,
                   float(variance_scale))

    def centred_log_cf(self, t: float) -> complex:
        """``log phi(t) - i t mean`` (one real ``t >= 0``)."""
        x = self.half_dof
        it = 1j * t
        out = np.empty(len(x), dtype=np.complex128)
        small = x < _STIRLING_MIN
        if np.any(small):
            xs = x[small]
            out[small] = special.loggamma(xs + it) - special.loggamma(xs) - it * special.digamma(xs)
        big = ~small
        if np.any(big):
            out[big] = _log_gamma_ratio_centred(x[big], t)
        return complex(np.sum(self.counts * out))

    def cdf(self, value: float) -> tuple[float, float]:
        """``(P(Y <= value), error estimate)`` by Gil-Pelaez inversion."""
        if self.sd == 0.0:  # every step deterministic (all M_i beyond float64)
            return (1.0 if value >= self.mean else 0.0), 0.0
        z = (value - self.mean) / self.sd
        s = self.sd

        def log_abs(u: float) -> float:
            return self.centred_log_cf(u / s).real

        upper = 4.0
        while log_abs(upper) > _LOG_TRUNCATION:
            upper *= 2.0
            if upper > 1e8:  # pragma: no cover - |phi| always decays; guard against a bug looping forever
                raise RuntimeError("characteristic function does not decay")

        def integrand(u: float) -> float:
            if u == 0.0:
                return -z  # limit u -> 0 of Im(e^{-iuz} phi_c(u/s))/u (phi_c has zero mean, unit variance)
            return (np.exp(-1j * u * z + self.centred_log_cf(u / s))).imag / u

        pieces = np.unique(np.concatenate([np.linspace(0.0, min(upper, 16.0), 5), [upper]]))
        total, error = 0.0, 0.0
        for a, b in zip(pieces[:-1], pieces[1:]):
            value_ab, error_ab = integrate.quad(integrand, a, b, epsabs=1e-14, epsrel=1e-12, limit=400)
            total += value_ab
            error += error_ab
        probability = 0.5 - total / math.pi
        return min(max(probability, 0.0), 1.0), error / math.pi + math.exp(_LOG_TRUNCATION)


    def cdf_mpmath(self, value: float) -> float:
        """``P(Y <= value)`` by an independent route, to check :meth:`cdf`.

        The Gil-Pelaez integral written without centring, ``1/2 - (1/pi) int_0^oo Im[exp(-i t value) phi(t)]/t dt``,
        with ``log phi`` summed from :func:`mpmath.loggamma` and ``log(2A/d)`` from ``M`` (no Stirling series, no
        SciPy, none of the float64 constants of :meth:`cdf`) in ``20 + log10(max k)`` digits, by the midpoint rule with step ``h`` (not QUADPACK): for a smooth integrand decaying like
        ``|phi|`` this is the CDF of ``Y`` aliased with period ``2 pi/h`` (Hale and Waller), so its error is below
        the probability that ``Y`` lies beyond ``2 pi/h - |value - mean|`` from ``value``; ``h`` is chosen to put
        that at more than ``90/x_min + 40 sd`` (the left tail of a log-chi-square with half-dof ``x`` decays like
        ``exp(x y)``, the right one faster), and the sum stops where ``|phi| < e^-40``.
        """
        import mpmath

        digits = 20 + len(str(int(max(self.half_dof, default=1.0))))
        with mpmath.workdps(digits):
            two_a = 2 * mpmath.mpf(self.variance_scale)
            groups = []
            for h, c in zip(self.half_dof, self.counts):
                h = mpmath.mpf(float(h))
                m = 2 * h + 1  # M, exactly as the float64 M the law was built from
                groups.append((h, mpmath.mpf(float(c)), mpmath.log(two_a / (m - self.divisor_offset))))
            shift, x = mpmath.mpf(self.shift), mpmath.mpf(value)

            def log_phi(t):
                total = 1j * t * shift
                for h, c, ls in groups:
                    total += c * (1j * t * ls + mpmath.loggamma(h + 1j * t) - mpmath.loggamma(h))
                return total

            upper = 1 / mpmath.mpf(self.sd)
            while mpmath.re(log_phi(upper)) > -40:
                upper *= 1.25
            smallest = float(min(self.half_dof))  # the left tail decays like exp(smallest * y)
            period = 90 / smallest + 40 * self.sd + 2 * abs(value - self.mean)
            step = 2 * mpmath.pi / period
            total, t = mpmath.mpf(0), step / 2
            while t < upper:
                total += mpmath.im(mpmath.exp(-1j * t * x + log_phi(t))) / t
                t += step
            return float(mpmath.mpf(0.5) - step * total / mpmath.pi)


def _log_minus_digamma(x: np.ndarray) -> np.ndarray:
    """``log x - psi(x)``; from its asymptotic series ``1/(2x) + 1/(12x^2) - ...`` for ``x >= 20``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = x < _STIRLING_MIN
    out[small] = np.log(x[small]) - special.digamma(x[small])
    big = x[~small]
    out[~small] = 0.5 / big + _digamma_gap(big)
    return out


def _digamma_gap(x: np.ndarray) -> np.ndarray:
    """``log x - psi(x) - 1/(2x) = 1/(12x^2) - 1/(120x^4) + 1/(252x^6) - 1/(240x^8) + 1/(132x^10)`` (``x >= 20``)."""
    inv2 = 1.0 / (x * x)
    return inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))


def _log_gamma_ratio_centred(x: np.ndarray, t: float) -> np.ndarray:
    """``log Gamma(x + i t) - log Gamma(x) - i t psi(x)`` for ``x >= 20`` from the Stirling series.

    With ``z = x + i t``, ``y = t/x``: ``log Gamma(z) - log Gamma(x) = i t (log x - 1) + (z - 1/2) log(1 + i y)
    + B(z) - B(x)``, ``B(w) = sum_{j=1..7} B_{2j} / (2j (2j - 1) w^{2j-1})`` (error below 1e-20 for
    ``|w| >= 20``), ``log(1 + i y) = log1p(y^2)/2 + i atan(y)``. The imaginary part's large terms cancel
    analytically: ``Im = t (log x - psi(x) - 1/(2x)) - (x - 1/2)(y - atan y) + t log1p(y^2)/2 + Im B(z)``, with
    ``log x - psi(x) - 1/(2x)`` and ``y - atan y`` from their series, so the phase is accurate to ~1e-16 relative.
    """
    y = t / x
    half_log = 0.5 * np.log1p(y * y)
    atan = np.arctan(y)
    z = x + 1j * t

    def b(w):
        inv = 1.0 / (w * w)
        total = 0.0
        for c in _STIRLING_COEFFICIENTS[::-1]:
            total = total * inv + c
        return total / w

    digamma_gap = _digamma_gap(x)
    y2 = y * y
    series = np.zeros_like(y)
    for k in range(31, 1, -2):  # y - atan y = y^3/3 - y^5/5 + y^7/7 - ...
        series = series * y2 + (1.0 if (k // 2) % 2 == 1 else -1.0) / k
    tail = np.where(np.abs(y) < 0.25, series * y2 * y, y - atan)
    real = (x - 0.5) * half_log - t * atan
    imag = t * digamma_gap - (x - 0.5) * tail + t * half_log
    return real + 1j * imag + b(z) - b(x)


# ---------------------------------------------------------------------------------------------- the chain's steps
class _Steps:
    """The chain's sample sizes, computed lazily (a callable is called once per generation, in doubling chunks)."""

    def __init__(self, chain: GaussianChain):
        check_chain(chain)
        if chain.is_constant and not chain.is_symbolic and chain.sample_size > 1e300:
            raise ParameterError("sample_size", "at most 1e300 for the exact law of sigma_n (float64 polygammas)",
                                 format(decimal.Decimal(chain.sample_size), ".3e"))
        if chain.is_symbolic:
            raise ParameterError("chain", "numeric (no SymPy symbols) for the exact distribution", chain)
        self.chain = chain
        self.variance_scale = float(chain.variance_scale)
        self.limit = len(chain.sample_size) if isinstance(chain.sample_size, tuple) else None
        self._sizes = np.empty(0, dtype=np.float64)

    def _size(self, i: int) -> float:
        try:
            return float(self.chain.sample_size_at(i))
        except OverflowError:  # an integer beyond float64 (e.g. 10 * 2**i, i > 1020): the step is deterministic
            return math.inf

    def _more(self, start: int, stop: int) -> list:
        """``M_start .. M_{stop-1}``; refuses (with the estimate) more than ``_MAX_SECONDS`` of calls or 1e9 sizes."""
        if stop > _MAX_SIZES:
            raise ParameterError(
                "max_generations", f"at most {_MAX_SIZES} for a schedule given as a sequence or a function (the search "
                f"reached n = {stop:.3g}: {8 * stop / 2**30:.3g} GiB of sample sizes, and each CDF evaluation groups "
                "them all); pass a smaller max_generations", stop,
            )
        probe = min(stop, start + 256)
        began = time.perf_counter()
        more = [self._size(i) for i in range(start, probe)]
        per_call = (time.perf_counter() - began) / max(probe - start, 1)
        if per_call * stop > _MAX_SECONDS:
            raise ParameterError(
                "max_generations", f"a search estimated under {_MAX_SECONDS:g} s (refused: reaching n = {stop:.3g} needs "
                f"{stop:.3g} calls of the schedule function at {per_call * 1e6:.3g} us each, about "
                f"{per_call * stop:.3g} s); pass a smaller max_generations", stop,
            )
        return more + [self._size(i) for i in range(probe, stop)]

    def law(self, n: int) -> _LogVarianceLaw:
        chain = self.chain
        if chain.is_constant:
            sizes, counts = np.array([float(chain.sample_size)]), np.array([n])
        else:
            if n > len(self._sizes):
                want = max(n, 2 * len(self._sizes))
                if self.limit is not None:
                    want = min(want, self.limit)
                # float64, not int64: a fast-growing schedule (10 * 2**i) passes 2**63 after ~60 generations
                more = self._more(len(self._sizes), want)
                self._sizes = np.concatenate([self._sizes, np.array(more, dtype=np.float64)])
            sizes, counts = np.unique(self._sizes[:n], return_counts=True)
        return _LogVarianceLaw.from_sizes(sizes, counts, chain.learner, self.variance_scale)


def _check_n(n, steps: _Steps) -> int:
    n = check_integer("generations", n, minimum=0)
    if steps.limit is not None and n > steps.limit:
        raise ParameterError("generations", f"at most {steps.limit} for a schedule of {steps.limit} sample sizes", n)
    return n


def _check_ratio(name: str, value, *, below_one: bool) -> float:
    if isinstance(value, sp.Basic) and value.is_number:
        value = float(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if ok and below_one:
        ok = value < 1
    if not ok:
        raise ParameterError(name, "a number with 0 < " + name + (" < 1" if below_one else ""), value)
    return float(value)


# ---------------------------------------------------------------------------------------------- public functions
def sd_ratio_cdf(chain: GaussianChain, n: int, ratio: float, *, return_error: bool = False):
    """``P(sigma_n / sigma <= ratio)``, exactly (Gil-Pelaez inversion of the log-variance characteristic function).

    With ``return_error=True`` returns ``(probability, error_estimate)``.

    Examples
    --------
    >>> from scipy import stats
    >>> p = sd_ratio_cdf(GaussianChain(10), 1, 0.9)
    >>> bool(abs(p - stats.chi2.cdf(9 * 0.81, 9)) < 1e-12)
    True
    """
    steps = _Steps(chain)
    n = _check_n(n, steps)
    ratio = _check_ratio("ratio", ratio, below_one=False)
    if n == 0:
        result = (1.0 if ratio >= 1 else 0.0), 0.0
    else:
        result = steps.law(n).cdf(2.0 * math.log(ratio))
    return result if return_error else result[0]


#: log of the smallest positive (subnormal) and of the largest finite float64.
_LOG_SMALLEST = math.log(5e-324)
_LOG_LARGEST = math.log(np.finfo(float).max)


def median_sd_ratio(chain: GaussianChain, n: int) -> float:
    """The median of ``sigma_n / sigma``, by root-finding on the exact CDF of ``log(sigma_n^2/sigma^2)``.

    The root is bracketed by ``mu_n +- s_n`` (the median of any distribution lies within one standard deviation
    of its mean) and found to ``xtol = 1e-13`` in ``log sigma_n^2``. Where the whole bracket lies beyond float64,
    the result is ``0.0`` (the true median underflows) or ``inf`` (it overflows).

    Examples
    --------
    >>> from scipy import stats
    >>> median_sd_ratio(GaussianChain(2), 1)  # sqrt(median of chi^2_1)
    0.6744897...
    >>> bool(abs(median_sd_ratio(GaussianChain(50, learner="mle"), 1) - (stats.chi2.median(49) / 50) ** 0.5) < 1e-12)
    True
    """
    steps = _Steps(chain)
    n = _check_n(n, steps)
    if n == 0:
        return 1.0
    law = steps.law(n)
    if law.sd == 0.0:
        return math.exp(law.mean / 2.0)
    lo, hi = law.mean - law.sd, law.mean + law.sd
    # the median lies in [lo, hi]: where all of it is beyond float64, say so without inverting the CF (at such n
    # the inversion itself breaks down: n = 1e40 at M = 100 has |mean| ~ 1e38)
    if hi / 2.0 < _LOG_SMALLEST:
        return 0.0  # true value below the smallest float64 (underflow), not exactly 0
    if lo / 2.0 > _LOG_LARGEST:
        return math.inf  # true value above the largest float64 (overflow)
    root = optimize.brentq(lambda x: law.cdf(x)[0] - 0.5, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)
    return math.exp(root / 2.0)


def _collapsed(steps: _Steps, n: int, log_threshold: float) -> tuple[bool, float, float]:
    """``(P_n > 1/2, P_n, error)`` with ``P_n = P(Y_n <= log_threshold)``; exact outside ``mu +- sd`` (Cantelli)."""
    if n == 0:
        return False, 0.0, 0.0
    law = steps.law(n)
    if law.sd == 0.0:  # deterministic: median = exp(mean/2)
        return law.mean < log_threshold, float(law.mean < log_threshold), 0.0
    if log_threshold > law.mean + law.sd:  # Cantelli: P(Y > mean + sd) <= 1/2, strictly below it beyond
        return True, float("nan"), 0.0
    if log_threshold < law.mean - law.sd:
        return False, float("nan"), 0.0
    p, err = law.cdf(log_threshold)
    if abs(p - 0.5) <= err:
        warnings.warn(
            f"collapse_time: P(sigma_{n}/sigma < epsilon) = {p!r} is within its numerical error {err:.1e} of 1/2; "
            "the collapse time may be off by one",
            RuntimeWarning,
            stacklevel=3,
        )
    return p > 0.5, p, err


def collapse_time(chain: GaussianChain, epsilon: float, *, max_generations: int = 10**7) -> int | None:
    """The first generation ``n >= 1`` at which the median of ``sigma_n / sigma`` is below ``epsilon``.

    Exact (no normal approximation): ``median(sigma_n/sigma) < epsilon`` iff
    ``P_n = P(log(sigma_n^2/sigma^2) <= 2 log epsilon) > 1/2``, and ``P_n`` is computed by Gil-Pelaez inversion of the
    exact characteristic function (see the module docstring).

    The first ``n`` is found by doubling ``n = 1, 2, 4, ...`` until ``P_n > 1/2``, then bisecting. This relies on
    ``n -> P_n`` crossing 1/2 once, i.e. on the median of ``sigma_n/sigma`` decreasing in ``n``: true in practice
    whenever each step's log-ratio has a negative median (the median of ``log sigma_n^2`` is ``mu_n`` plus a bounded
    skewness term, and ``mu_n`` decreases when ``E log(A X_i/d_i) < 0``, always for ``A <= 1``). It is not proved
    here; what is checked at the returned ``n`` is the crossing itself, ``P_{n-1} <= 1/2 < P_n``, recomputed by an
    independent route (mpmath's log-gamma and tanh-sinh quadrature instead of SciPy's, see
    :meth:`_LogVarianceLaw.cdf_mpmath`); a disagreement raises RuntimeError.

    Parameters
    ----------
    chain:
        a numeric :class:`~theory.chain.GaussianChain` (constant ``M``, schedule or callable). ``sigma`` cancels.
    epsilon:
        the threshold, ``0 < epsilon < 1``.
    max_generations:
        search limit (for a finite schedule, also at most its length). The cost is O(log n) CDF evaluations of
        O(#distinct M_i) each; a callable schedule is called once per generation up to twice the answer (or
        ``max_generations``), so for schedules of many distinct sizes that never collapse (bounded drift, see
        :func:`bounded_drift`) pass a smaller ``max_generations``.

    Returns
    -------
    int or None
        the collapse time, or ``None`` if the median is still ``>= epsilon`` at ``max_generations`` (e.g. ``A > 1``,
        where the chain may never collapse, or ``M_i`` growing fast enough that the drift stays bounded).

    Examples
    --------
    >>> collapse_time(GaussianChain(100), 0.5)
    138
    >>> median_sd_ratio(GaussianChain(100), 137) >= 0.5 > median_sd_ratio(GaussianChain(100), 138)
    True
    >>> collapse_time(GaussianChain(100, variance_scale=1.1), 0.5, max_generations=1000) is None
    True
    """
    steps = _Steps(chain)
    epsilon = _check_ratio("epsilon", epsilon, below_one=True)
    max_generations = check_integer("max_generations", max_generations, minimum=1)
    if steps.limit is not None:
        max_generations = min(max_generations, steps.limit)
    threshold = 2.0 * math.log(epsilon)

    lo, hi = 0, 1  # invariant: P_lo <= 1/2 (P_0 = 0 since epsilon < 1)
    while True:
        done, _, _ = _collapsed(steps, hi, threshold)
        if done:
            break
        lo = hi
        if hi >= max_generations:
            return None
        hi = min(2 * hi, max_generations)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _collapsed(steps, mid, threshold)[0]:
            hi = mid
        else:
            lo = mid
    _check_crossing(steps, hi, threshold)
    return hi


_CHECK_MARGIN = 1e-12  # |P - 1/2| below this: the routes cannot be told apart (agreement is ~1e-15)


def _check_crossing(steps: _Steps, n: int, log_threshold: float) -> None:
    """Verify ``P_{n-1} <= 1/2 < P_n`` by the independent route :meth:`_LogVarianceLaw.cdf_mpmath` wherever the
    decision came from the SciPy integral (decisions by Cantelli's inequality are exact and not re-checked).
    Raises RuntimeError when the two routes put a probability on different sides of 1/2."""
    for g, collapsed in ((n - 1, False), (n, True)):
        if g == 0:
            continue
        law = steps.law(g)
        if law.sd == 0.0 or not law.mean - law.sd <= log_threshold <= law.mean + law.sd:
            continue
        p = law.cdf_mpmath(log_threshold)
        if abs(p - 0.5) > _CHECK_MARGIN and (p > 0.5) != collapsed:
            raise RuntimeError(
                f"collapse_time: the independent check puts P(sigma_{g}/sigma < epsilon) = {p!r} on the other "
                f"side of 1/2 from the SciPy inversion ({law.cdf(log_threshold)[0]!r}); the answer {n} is not trusted"
            )
