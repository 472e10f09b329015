"""F5: squared L2 distance int (G_0 - G_n)^2 between the generation-0 and generation-n GMMs, log y.

G_0 is the GMM fitted to the real data D_0, G_n the one fitted at generation n; the distance is the closed
form for Gaussian mixtures (:func:`theory.montecarlo._gmm.l2_distance_squared`). One run per sample size N, for
both set-ups; the smaller N is, the faster the fitted mixture wanders from G_0. The chains are run by
:func:`theory.montecarlo._gmm.run_gmm_chains`; this module only chooses the sizes and plots.
"""

from __future__ import annotations

import jax
import numpy as np

from ..montecarlo._gmm import run_gmm_chains
from ._gmm_setups import SETUP_LABELS, SETUPS, real_distribution
from ._io import array

NAME = "f5_gmm_distance"
TITLE = "Squared L2 distance between the generation-0 and generation-n GMMs, for sample sizes N"
REPRODUCES = "Nature 2024 / arXiv v2 GMM distance figure: int (p_0 - p_n)^2 over ~2000 generations, log y"

SAMPLE_SIZES = (500, 1_000, 10_000, 50_000, 200_000)
GENERATIONS = 2000
QUICK_SAMPLE_SIZES = (500, 5_000)
QUICK_GENERATIONS = 100


def compute(key, *, quick: bool) -> dict:
    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    generations = QUICK_GENERATIONS if quick else GENERATIONS
    # largest sample sizes first, so that the two workers finish together
    jobs = sorted(((i, j, n) for i in range(len(SETUPS)) for j, n in enumerate(sizes)), key=lambda t: -t[2])
    results = run_gmm_chains([(jax.random.fold_in(key, 100 * i + j), real_distribution(SETUPS[i]), n, generations)
                           for i, j, n in jobs])
    by_job = {(i, j): result for (i, j, _), result in zip(jobs, results)}
    out = {}
    for i, setup in enumerate(SETUPS):
        runs = []
        for j, n in enumerate(sizes):
            models, iterations, dist = by_job[i, j]
            runs.append({
                "sample_size": n,
                "l2_squared": np.asarray(dist),
                "em_iterations": np.asarray(iterations),
                "final_weights": np.asarray(models.weights[-1]),
                "final_means": np.asarray(models.means[-1]),
                "final_covariances": np.asarray(models.covariances[-1]),
            })
        out[setup] = {"label": SETUP_LABELS[setup], "runs": runs}
    return {
        "caption": (
            "Squared L2 distance int (G_0 - G_n)^2 dx between the GMM fitted to the real data (generation 0) and "
            f"the GMM of generation n, one run per N, {generations} generations, closed form for Gaussian mixtures. "
            "Left: the notebook's set-up (real data one standard 2-D Gaussian split by a 2-component GMM); right: "
            "the text's (real data two Gaussians). EM: tol 1e-5, at most 2000 iterations, warm-started."
        ),
        "generations": generations,
        "sample_sizes": list(sizes),
        "em_tol": 1e-5,
        "em_max_iter": 2000,
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
            ax.plot(gens[1:], dist[1:], color=f"C{c}", lw=0.8, label=f"N = {run['sample_size']:g}")
        ax.set_yscale("log")
        ax.set_xlabel("generation n")
        ax.set_title("blob (notebook set-up)" if setup == "blob" else "two Gaussians (text's set-up)")
    axes[0, 0].set_ylabel("$\\int (G_0 - G_n)^2\\,dx$")
    axes[0, 0].legend(loc="lower right")
    return fig
