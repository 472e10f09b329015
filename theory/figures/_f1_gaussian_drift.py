"""F1: the recursive 1-D Gaussian chain drifts: |mu - mu_n| and |sigma - sigma_n| over 1000 generations.

For each M the paper shows one run. Drawn here: that single run (thin), the root-mean-square error over many
chains with a +-2 SE band (the simulation summary), and the exact root-mean-square error from
:func:`theory.exact_values` (black dashed), for both learners: ``unbiased`` (variance divisor M - 1, the paper's
theory) and ``mle`` (divisor M, the authors' notebook). Simulation: :func:`theory.montecarlo.simulate` in
sufficient-statistics mode (exact in distribution: sample mean and variance drawn from their joint law).
"""

from __future__ import annotations

import numpy as np

from ._gaussian_common import SAMPLE_SIZES, exact_rms, rms_summary, sample_size_colours, z_scores
from ._io import array

NAME = "f1_gaussian_drift"
TITLE = "Recursive 1-D Gaussian chain: |mu - mu_n| and |sigma - sigma_n| over generations, runs, RMS and exact RMS"
REPRODUCES = "Nature 2024 / arXiv v2 Gaussian figure: |mu - mu_n| and |sigma - sigma_n|, 1000 generations, M = 1e2..1e7"

LEARNERS = ("unbiased", "mle")
QUICK_SAMPLE_SIZES = (100, 10_000, 10_000_000)


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..chain import GaussianChain
    from ..montecarlo import simulate

    generations = 100 if quick else 1000
    chains = 200 if quick else 2000
    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    gens = list(range(generations + 1))
    results = {}
    for li, learner in enumerate(LEARNERS):
        per_m = []
        for mi, m in enumerate(sizes):
            chain = GaussianChain(m, learner=learner, sigma=1.0, mu=0.0)
            sim = simulate(jax.random.fold_in(key, 100 * li + mi), chain, chains=chains, generations=gens,
                           mode="sufficient", trajectories=True, progress=False)
            mu_dev = sim.mu_trajectories - chain.mu
            sd_dev = sim.sigma_trajectories - chain.sigma
            mean_stats, sd_stats = rms_summary(mu_dev), rms_summary(sd_dev)
            exact = exact_rms(chain, gens)
            per_m.append({
                "sample_size": m,
                "single_run_abs_mean_error": np.abs(mu_dev[:, 0]),
                "single_run_abs_sd_error": np.abs(sd_dev[:, 0]),
                "mean_error": mean_stats,
                "sd_error": sd_stats,
                "exact_mean_rms": exact["mean_rms"],
                "exact_sd_rms": exact["sd_rms"],
                "z_mean_square_mean_error": z_scores(mean_stats["mean_square"], mean_stats["mean_square_se"],
                                                      exact["mean_square"]),
                "z_mean_square_sd_error": z_scores(sd_stats["mean_square"], sd_stats["mean_square_se"],
                                                    exact["sd_square"]),
            })
        results[learner] = per_m
    return {
        "caption": (
            f"Recursive 1-D Gaussian chain, mu = 0, sigma = 1, {generations} generations. Thin lines: one run per M "
            f"(the paper's curves, |mu - mu_n| and |sigma - sigma_n|); bands: root-mean-square error over {chains} "
            "chains +- 2 SE; black dashed: exact RMS error sqrt(E(mu_n - mu)^2) and sqrt(E(sigma_n - sigma)^2) "
            "from theory.exact_values. Top: unbiased learner (divisor M - 1, the paper's theory); bottom: MLE "
            "(divisor M, the authors' notebook). Simulation: sufficient statistics (exact in distribution). For small "
            "M and late generations the unbiased chain's sigma_n^2 is heavy-tailed (E sigma_n^2 = sigma^2 while "
            "sigma_n -> 0 almost surely): the sample RMS then falls below the exact RMS and its SE is unreliable."
        ),
        "mu": 0.0,
        "sigma": 1.0,
        "generations": generations,
        "chains": chains,
        "sample_sizes": list(sizes),
        "simulation_mode": "sufficient",
        "learners": results,
    }


#: The heavy-tail caveat drawn on the unbiased learner's panels.
HEAVY_TAIL_NOTE = ("unbiased, M = 1e2, n $\\gtrsim$ 300: $\\sigma_n^2$ is heavy-tailed;\n"
                   "the sample RMS of 2000 chains falls below\nthe exact RMS, and its SE is unreliable")


def plot(data: dict):
    import matplotlib.pyplot as plt

    learners = [name for name in LEARNERS if name in data["learners"]]
    fig, axes = plt.subplots(len(learners), 2, figsize=(7.6, 2.9 * len(learners) + 0.4), sharex=True,
                             squeeze=False)
    gens = np.arange(data["generations"] + 1)
    shown = gens >= 1
    colours = sample_size_colours(len(data["sample_sizes"]))
    for r, learner in enumerate(learners):
        for c, (which, exact_key) in enumerate((("mean", "exact_mean_rms"), ("sd", "exact_sd_rms"))):
            ax = axes[r, c]
            for i, run in enumerate(data["learners"][learner]):
                colour = colours[i]
                single = array(run[f"single_run_abs_{which}_error"])
                stats = run[f"{which}_error"]
                rms, se = array(stats["rms"]), array(stats["rms_se"])
                ax.plot(gens[shown], single[shown], color=colour, lw=0.4, alpha=0.3)
                ax.fill_between(gens[shown], (rms - 2 * se)[shown], (rms + 2 * se)[shown], color=colour, alpha=0.85,
                                lw=0, label=f"M = {run['sample_size']:.0e}".replace("e+0", "e"))
                ax.plot(gens[shown], array(run[exact_key])[shown], "--", color="black", lw=0.7)
                if learner == "unbiased" and run["sample_size"] == 100 and data["generations"] >= 600:
                    n_mark = 600
                    ax.annotate(HEAVY_TAIL_NOTE if c == 1 else "heavy tail: see right",
                                xy=(n_mark, rms[n_mark]), xycoords="data",
                                xytext=(0.98, 0.03), textcoords="axes fraction", ha="right", va="bottom",
                                fontsize=6, arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "0.2"})
            ax.set_xscale("log")
            ax.set_yscale("log")
            symbol = "\\mu" if which == "mean" else "\\sigma"
            ax.set_ylabel(f"$|{symbol} - {symbol}_n|$")
            ax.set_title(f"{learner} learner: ${symbol}$ error")
            if r == len(learners) - 1:
                ax.set_xlabel("generation n")
    axes[0, 0].plot([], [], color="0.4", lw=0.5, label="one run")
    axes[0, 0].plot([], [], "--", color="black", lw=0.7, label="exact RMS")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=9, fontsize=6)
    return fig
