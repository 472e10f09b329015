"""F5: squared L2 distance int (G_0 - G_n)^2 between the generation-0 and generation-n GMMs, log y.

G_0 is the GMM fitted to the real data D_0, G_n the one fitted at generation n; the distance is the closed
form for Gaussian mixtures (:func:`theory.montecarlo._gmm.l2_distance_squared`). For both set-ups and every
sample size N the chain (:class:`theory.chain.GMMChain`, replace workflow) runs as several independent runs in
one vectorised call (:func:`theory.montecarlo._gmm.simulate_gmm`): one run is drawn as a line (the paper shows
one run per N), the band is the interquartile range over the runs at each generation. This module only chooses
the sizes and plots.
"""

from __future__ import annotations

import jax
import numpy as np

from ..chain._gmm import GMMChain, GMMLearner
from ..montecarlo._gmm import distances_to_first, run_in_threads
from ._f4_gmm_scatter import SETUP_LABELS, SETUPS
from ._io import array

NAME = "f5_gmm_distance"
TITLE = "Squared L2 distance between the generation-0 and generation-n GMMs, for sample sizes N"
REPRODUCES = "Nature 2024 / arXiv v2 GMM distance figure: int (p_0 - p_n)^2 over ~2000 generations, log y"

SAMPLE_SIZES = (500, 1_000, 10_000, 50_000, 200_000)
#: Runs per sample size (the band); the large-N runs dominate the time, so they get fewer.
RUNS = (8, 8, 4, 1, 1)
GENERATIONS = 2000
QUICK_SAMPLE_SIZES = (500, 5_000)
QUICK_RUNS = (2, 2)
QUICK_GENERATIONS = 100


def compute(key, *, quick: bool) -> dict:
    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    runs = QUICK_RUNS if quick else RUNS
    generations = QUICK_GENERATIONS if quick else GENERATIONS
    learner = GMMLearner(2)
    # largest sample sizes first, so that the two workers finish together
    jobs = sorted(((i, j) for i in range(len(SETUPS)) for j in range(len(sizes))), key=lambda t: -sizes[t[1]] * runs[t[1]])
    results = run_in_threads([(jax.random.fold_in(key, 100 * i + j), GMMChain(learner, sizes[j], source=SETUPS[i]),
                               generations, runs[j]) for i, j in jobs])
    by_job = {}
    for (i, j), run in zip(jobs, results):
        by_job[i, j] = (run, np.asarray(distances_to_first(run.models)))
    out = {}
    for i, setup in enumerate(SETUPS):
        rows = []
        for j, n in enumerate(sizes):
            run, dist = by_job[i, j]
            low, median, high = np.quantile(dist, [0.25, 0.5, 0.75], axis=0)
            rows.append({
                "sample_size": n,
                "runs": int(dist.shape[0]),
                "l2_squared": dist[0],
                "l2_squared_median": median,
                "l2_squared_q25": low,
                "l2_squared_q75": high,
                "em_iterations": np.asarray(run.iterations[0]),
                "em_iterations_mean": float(np.mean(run.iterations)),
                "final_weights": np.asarray(run.models.weights[0, -1]),
                "final_means": np.asarray(run.models.means[0, -1]),
                "final_covariances": np.asarray(run.models.covariances[0, -1]),
            })
        out[setup] = {"label": SETUP_LABELS[setup], "runs": rows}
    return {
        "caption": (
            "Squared L2 distance int (G_0 - G_n)^2 dx between the GMM fitted to the real data (generation 0) and "
            f"the GMM of generation n, {generations} generations, closed form for Gaussian mixtures. Lines: one run "
            f"per N (as the paper); bands: interquartile range over {', '.join(map(str, runs))} independent runs for "
            f"N = {', '.join(map(str, sizes))}. Left: the notebook's set-up (real data one standard 2-D Gaussian "
            "split by a 2-component GMM); right: the text's (real data two Gaussians). EM: tol 1e-5, at most 2000 "
            "iterations, warm-started (the chain model's GMMChain, replace workflow)."
        ),
        "generations": generations,
        "sample_sizes": list(sizes),
        "runs_per_size": list(runs),
        "em_tol": learner.tol,
        "em_max_iter": learner.max_iter,
        "setups": out,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    setups = list(data["setups"])
    fig, axes = plt.subplots(1, len(setups), figsize=(7.0, 3.2), sharey=True, squeeze=False)
    gens = np.arange(data["generations"])
    for ax, setup in zip(axes[0], setups):
        for c, run in enumerate(data["setups"][setup]["runs"]):
            dist = array(run["l2_squared"])
            if run["runs"] > 1:
                ax.fill_between(gens[1:], array(run["l2_squared_q25"])[1:], array(run["l2_squared_q75"])[1:],
                                color=f"C{c}", alpha=0.2, lw=0)
            ax.plot(gens[1:], dist[1:], color=f"C{c}", lw=0.8, label=f"N = {run['sample_size']:g}")
        ax.set_yscale("log")
        ax.set_xlabel("generation n")
        ax.set_title("blob (notebook set-up)" if setup == "blob" else "two Gaussians (text's set-up)")
    axes[0, 0].set_ylabel("$\\int (G_0 - G_n)^2\\,dx$")
    axes[0, 0].legend(loc="lower right")
    return fig
