"""Shared by the Gaussian-chain figures: the paper's sample sizes, root-mean-square summaries of trajectories,
and the exact root-mean-square curves from :func:`theory.exact_values`.

What is plotted against the exact theory are root-mean-square errors, because those are exact functions of the
moments: ``sqrt(E(mu_n - mu)^2)`` is ``sqrt(mean_sq_error)`` and
``sqrt(E(sigma_n - sigma)^2) = sqrt(E sigma_n^2 - 2 sigma E sigma_n + sigma^2)``. (``E|mu_n - mu|`` is *not*
``sqrt(2/pi * mean_sq_error)``: ``mu_n - mu`` is normal only given the sigma's, so it would need
``E sqrt(V_n)``.)
"""

from __future__ import annotations

import math

import numpy as np

SAMPLE_SIZES = (100, 500, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)


def rms_summary(deviations: np.ndarray) -> dict[str, np.ndarray]:
    """Per generation (rows) over chains (columns): RMS, its SE (delta method), mean |.|, its SE, mean square
    and its SE."""
    deviations = np.asarray(deviations, dtype=np.float64)
    chains = deviations.shape[1]
    sq = deviations**2
    msq = sq.mean(axis=1)
    msq_se = sq.std(axis=1, ddof=1) / math.sqrt(chains)
    rms = np.sqrt(msq)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms_se = np.where(rms > 0, msq_se / (2 * rms), 0.0)
    absolute = np.abs(deviations)
    return {
        "rms": rms,
        "rms_se": rms_se,
        "mean_square": msq,
        "mean_square_se": msq_se,
        "mean_abs": absolute.mean(axis=1),
        "mean_abs_se": absolute.std(axis=1, ddof=1) / math.sqrt(chains),
    }


def exact_rms(chain, generations) -> dict[str, np.ndarray]:
    """Exact ``sqrt(E(mu_n - mu)^2)`` and ``sqrt(E(sigma_n - sigma)^2)`` and the mean squares behind them."""
    from ..numeric import exact_values

    ex = exact_values(chain, list(generations))
    mean_sq = np.asarray(ex["mean_sq_error"], dtype=np.float64)
    # E(sigma_n - sigma)^2 as exact_values computes it, without the cancellation of
    # E sigma_n^2 - 2 sigma E sigma_n + sigma^2 when 1 - E sigma_n / sigma is near machine epsilon (M ~ 1e7, small n)
    sd_sq = np.maximum(np.asarray(ex["sd_sq_error"], dtype=np.float64), 0.0)  # rounding at n = 0
    return {
        "mean_rms": np.sqrt(mean_sq),
        "mean_square": mean_sq,
        "sd_rms": np.sqrt(sd_sq),
        "sd_square": sd_sq,
        "sd_mean": np.asarray(ex["sd_mean"], dtype=np.float64),
    }


def z_scores(estimate, standard_error, exact) -> np.ndarray:
    """(estimate - exact) / SE, nan where the SE is zero (generation 0)."""
    estimate, standard_error, exact = (np.asarray(a, dtype=np.float64) for a in (estimate, standard_error, exact))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(standard_error > 0, (estimate - exact) / standard_error, np.nan)


def sample_size_colours(count: int):
    """A sequential, colour-blind-safe colour per M (viridis from dark to green-yellow, never the pale end)."""
    import matplotlib

    return [matplotlib.colormaps["viridis"](v) for v in np.linspace(0.0, 0.85, count)]
