"""The first generation: the learner fitted to ``M_0`` samples of ``D_0``, and ``E sigma_1`` (exact or Monte Carlo).

``sigma_1 = sqrt(A SS / d)`` with ``SS`` the sum of squared deviations of the ``M_0`` samples and ``d`` the
learner's divisor (``M_0 - 1`` unbiased, ``M_0`` MLE). For any ``D_0`` with variance ``sigma^2``,
``E SS = (M_0 - 1) sigma^2`` exactly; ``E sigma_1`` depends on the whole law of ``D_0``:

* Gaussian ``D_0``: exact, ``E sigma_1 = sigma r_1(M_0)`` with ``r_1`` from :func:`theory.step_moments`;
* large ``M_0`` (above :data:`SERIES_THRESHOLD`) and ``E X^4 < inf``: the second-order expansion
  ``E sqrt(S^2) = sqrt(v) (1 - Var(S^2)/(8 v^2)) + O(M_0^-2)`` with the exact
  ``Var(S^2)/v^2 = (kurtosis - (M_0 - 3)/(M_0 - 1))/M_0``; its reported error is ``(Var(S^2)/v^2)^2``, the size
  of the neglected terms (an order-of-magnitude estimate, not a bound: they also involve the sixth moment);
* otherwise: Monte Carlo over ``draws`` independent samples of size ``M_0``, reported with its standard error.
  When ``E X^4 < inf`` the estimator uses the control variate ``S^2 = SS/d`` (whose mean ``v = sigma^2 k/d``
  is exact): ``Y = sqrt(S^2) - (S^2 - v) / (2 sqrt(v))``, unbiased for ``E sqrt(S^2)`` with a residual of
  order ``(S^2 - v)^2``, so its standard error is ``O(1/M_0)`` of the plain estimator's
  (variance ``O(M_0^-2)`` instead of ``O(M_0^-1)``). Heavy tails (Student-t with ``nu <= 4``) use the plain mean.

All values here are at ``A = 1``; ``E sigma_1`` at ``A`` is ``sqrt(A)`` times it.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np

from .._errors import ParameterError, check_integer, check_key

#: Random numbers in flight per chunk of first fits.
CHUNK_ELEMENTS = 2**22
#: Bound on the random numbers the default number of draws may cost.
DEFAULT_BUDGET_ELEMENTS = 2**26
#: Default number of draws: the most within the budget, between these.
MIN_DRAWS, MAX_DRAWS = 2**8, 2**18
#: Above this ``M_0`` (and with a finite fourth moment) the default method is the second-order series.
SERIES_THRESHOLD = 2**17


@dataclasses.dataclass(frozen=True)
class FirstFitSd:
    """``E sigma_1 / sigma`` at ``A = 1`` for ``M_0`` samples of ``D_0``: value, standard error and how found."""

    ratio: float
    stderr: float
    method: str  # "exact", "monte carlo (control variate)", "monte carlo" or "series (second order)"
    draws: int = 0


def default_draws(sample_size: int) -> int:
    return int(min(MAX_DRAWS, max(MIN_DRAWS, DEFAULT_BUDGET_ELEMENTS // sample_size)))


@lru_cache(maxsize=64)
def _fit_kernel(d0, rows: int, sample_size: int):
    import jax
    import jax.numpy as jnp

    def kernel(key):
        x = d0.sample(key, (rows, sample_size), jnp.float64) - d0.mean
        mean = x.mean(axis=1)
        ss = jnp.sum(jnp.square(x - mean[:, None]), axis=1)
        return mean + d0.mean, ss

    return jax.jit(kernel)


def first_fits(key, d0, sample_size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` independent first fits: sample means and sums of squared deviations of ``M_0`` draws of ``D_0``.

    Float64 (x64 is switched on inside, locally); a pure function of ``key``. Chunks of at most
    :data:`CHUNK_ELEMENTS` random numbers, one key per chunk (``fold_in(key, chunk)``).
    """
    import jax

    key = check_key(key)
    sample_size = check_integer("sample_size", sample_size, minimum=2)
    count = check_integer("draws", count, minimum=2)
    rows = max(1, min(count, CHUNK_ELEMENTS // sample_size))
    means, sss = [], []
    with jax.enable_x64(True):
        kernel = _fit_kernel(d0, rows, sample_size)
        for c in range(-(-count // rows)):
            m, s = kernel(jax.random.fold_in(key, c))
            means.append(np.asarray(m))
            sss.append(np.asarray(s))
    return np.concatenate(means)[:count], np.concatenate(sss)[:count]


def first_fit_sd(
    d0, sample_size: int, learner: str, *, key=None, draws: int | None = None, method: str = "auto"
) -> FirstFitSd:
    """``E sigma_1 / sigma`` at ``A = 1``: exact for a Gaussian ``D_0``, else Monte Carlo with its standard error.

    ``key`` defaults to ``jax.random.key(0)`` (the estimate is a pure function of it); ``draws`` to the most
    fits within ``2**26`` random numbers, between ``2**8`` and ``2**18``. ``method``: ``"auto"`` (exact for a
    Gaussian, the series above :data:`SERIES_THRESHOLD` when ``E X^4 < inf``, else Monte Carlo),
    ``"monte carlo"`` or ``"series"``.

    >>> from theory.decomposition import Normal
    >>> r = first_fit_sd(Normal(), 2, "unbiased")
    >>> round(r.ratio, 12), r.stderr, r.method  # E|X1 - X2|/sqrt(2) = sqrt(2/pi)
    (0.797884560803, 0.0, 'exact')
    """
    from ..numeric import step_moments

    if method not in ("auto", "monte carlo", "series"):
        raise ParameterError("method", "'auto', 'monte carlo' or 'series'", method)
    if d0.is_gaussian and method == "auto":
        return FirstFitSd(float(step_moments(int(sample_size), learner, 1.0)[1]), 0.0, "exact")
    divisor = sample_size - 1 if learner == "unbiased" else sample_size
    v = (sample_size - 1) / divisor  # E S^2 / sigma^2, exact for every D_0
    if method == "series" or (method == "auto" and sample_size > SERIES_THRESHOLD and d0.finite_fourth_moment):
        if not d0.finite_fourth_moment:
            raise ParameterError("method", "'monte carlo' for a D_0 without a finite fourth moment", method)
        var_delta = (d0.kurtosis - (sample_size - 3) / (sample_size - 1)) / sample_size  # Var(S^2)/v^2
        return FirstFitSd(math.sqrt(v) * (1 - var_delta / 8), math.sqrt(v) * var_delta**2, "series (second order)")
    import jax

    key = jax.random.key(0) if key is None else check_key(key)
    draws = default_draws(sample_size) if draws is None else check_integer("draws", draws, minimum=2)
    _, ss = first_fits(key, d0, sample_size, draws)
    variance = ss / (divisor * d0.sd**2)  # S^2 / sigma^2
    sd = np.sqrt(variance)
    if d0.finite_fourth_moment:
        y = sd - (variance - v) / (2 * math.sqrt(v))
        method = "monte carlo (control variate)"
    else:
        y = sd
        method = "monte carlo"
    stderr = float(np.std(y, ddof=1) / math.sqrt(draws))
    if not np.all(np.isfinite(y)):  # pragma: no cover - would be a bug
        raise ParameterError("d0", "a distribution whose samples are finite", d0)
    return FirstFitSd(float(np.mean(y)), stderr, method, draws)
