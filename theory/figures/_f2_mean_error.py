"""F2: the error of one estimated mean, |mu - mu_hat|, against the sample size N (log-log).

The paper's figure shows mean +- std over repeats of the absolute error of the sample mean of N draws from
N(mu, sigma^2). The exact curve is E|mu_hat - mu| = sigma * sqrt(2 / (pi N)) (mu_hat - mu is exactly normal with
variance sigma^2 / N), with standard deviation sigma * sqrt((1 - 2/pi) / N).

Simulation: for N up to ``SAMPLE_LIMIT`` the N samples are drawn and averaged; above it the sample mean is drawn
from its exact law N(mu, sigma^2 / N) (sufficient statistic), which the data file records per N.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ..montecarlo._sample_means import sample_means
from ._io import array

NAME = "f2_mean_error"
TITLE = "Error of one estimated mean |mu - mu_hat| against the sample size N, simulation and exact E|mu_hat - mu|"
REPRODUCES = "Nature 2024 Extended Data / arXiv v2: estimated mean error against sample size (10,000 repeats)"

SAMPLE_SIZES = (10, 30, 100, 500, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)
SIGMA = 1.0
MU = 0.0


def compute(key, *, quick: bool) -> dict:
    repeats = 1_000 if quick else 10_000
    sample_limit = 100 if quick else 10_000
    rows = {k: [] for k in ("abs_error_mean", "abs_error_std", "abs_error_se", "exact_mean", "exact_std", "z")}
    modes = []
    for i, n in enumerate(SAMPLE_SIZES):
        k = jax.random.fold_in(key, i)
        mode = "samples" if n <= sample_limit else "sufficient"
        means = sample_means(k, n, repeats, mu=MU, sigma=SIGMA, mode=mode)
        modes.append(mode)
        err = np.abs(np.asarray(means) - MU)
        mean, std = float(err.mean()), float(err.std(ddof=1))
        se = std / math.sqrt(repeats)
        exact_mean = SIGMA * math.sqrt(2.0 / (math.pi * n))
        rows["abs_error_mean"].append(mean)
        rows["abs_error_std"].append(std)
        rows["abs_error_se"].append(se)
        rows["exact_mean"].append(exact_mean)
        rows["exact_std"].append(SIGMA * math.sqrt((1.0 - 2.0 / math.pi) / n))
        rows["z"].append((mean - exact_mean) / se)
    return {
        "caption": (
            "Absolute error of the sample mean of N draws from N(0, 1): mean +- one standard deviation over "
            f"{repeats} repeats (points, bars; the paper's presentation; lower bars clipped at 0.1 x mean on the log axis), the exact mean sigma*sqrt(2/(pi N)) "
            "(black line) and exact mean +- exact std (grey band). Lower panel: z = (simulated mean - exact) / "
            "standard error."
        ),
        "sigma": SIGMA,
        "mu": MU,
        "repeats": repeats,
        "sample_sizes": list(SAMPLE_SIZES),
        "simulation_mode": modes,
        **rows,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    n = array(data["sample_sizes"])
    mean, std = array(data["abs_error_mean"]), array(data["abs_error_std"])
    fig, (ax, axz) = plt.subplots(2, 1, figsize=(4.6, 4.4), sharex=True, height_ratios=(3, 1))
    grid = np.geomspace(n[0], n[-1], 200)
    s = data["sigma"]
    ax.fill_between(grid, s * np.sqrt(2 / (np.pi * grid)) - s * np.sqrt((1 - 2 / np.pi) / grid),
                    s * np.sqrt(2 / (np.pi * grid)) + s * np.sqrt((1 - 2 / np.pi) / grid),
                    color="0.85", lw=0, label="exact mean $\\pm$ std")
    ax.plot(grid, s * np.sqrt(2 / (np.pi * grid)), color="black", lw=1, label="exact $\\sigma\\sqrt{2/(\\pi N)}$")
    # mean - std is below zero on a log axis: clip the lower bar at a tenth of the mean (marked in the caption)
    lower = np.minimum(std, 0.9 * mean)
    ax.errorbar(n, mean, yerr=[lower, std], fmt="o", color="C1", capsize=2,
                label=f"simulation: mean $\\pm$ std, {data['repeats']} repeats")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("$|\\mu - \\hat\\mu|$")
    ax.set_title("Estimated mean error against sample size")
    ax.legend(loc="lower left")
    z = array(data["z"])
    axz.axhspan(-3, 3, color="0.9", lw=0)
    axz.axhline(0, color="black", lw=0.8)
    axz.plot(n, z, "o", color="C1")
    axz.set_ylim(-5, 5)
    axz.set_ylabel("z (SE)")
    axz.set_xlabel("sample size N")
    return fig
