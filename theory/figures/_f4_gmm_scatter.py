"""F4: scatter snapshots of the recursive GMM chain (2 components, full covariance, EM, N = 1000 a generation).

Generation 0 shows the real data D_0; generation n shows D_n, the N points drawn from G_{n-1}, the GMM fitted
at the previous generation; the ellipses are the 2-sigma contours of G_n fitted to the points shown. The chain
is :class:`theory.chain.GMMChain` (replace workflow) run by :func:`theory.montecarlo._gmm.simulate_gmm`; this
module only picks the snapshots and plots.
"""

from __future__ import annotations

import jax
import numpy as np

from ..chain._gmm import GMMChain, GMMLearner
from ..montecarlo._gmm import drawn_points, run_in_threads
from ._io import array

SETUPS = ("blob", "two_gaussians")
SETUP_LABELS = {
    "blob": "notebook set-up: real data one standard 2-D Gaussian",
    "two_gaussians": "text's set-up: real data a mixture of two Gaussians",
}

NAME = "f4_gmm_scatter"
TITLE = "Recursive 2-D GMM chain fitted by EM: scatter snapshots over generations"
REPRODUCES = "Nature 2024 Fig. (GMM, arXiv v2 Fig. 8): samples at generations 0, 50, 100, 150, 200, 350, 2000"

SNAPSHOTS = (0, 50, 100, 150, 200, 350, 2000)
SAMPLE_SIZE = 1000
QUICK_SNAPSHOTS = (0, 10, 30, 99)  # 100 generations at N = 500, 2 runs: the same compiled chain as F5's quick run
QUICK_RUNS = 2


def compute(key, *, quick: bool) -> dict:
    snapshots = QUICK_SNAPSHOTS if quick else SNAPSHOTS
    sample_size = 500 if quick else SAMPLE_SIZE
    generations = snapshots[-1] + 1
    out = {}
    learner = GMMLearner(2)
    chains = [GMMChain(learner, sample_size, source=setup) for setup in SETUPS]
    runs = run_in_threads([(jax.random.fold_in(key, i), chain, generations, QUICK_RUNS if quick else 1)
                           for i, chain in enumerate(chains)])
    for setup, chain, run in zip(SETUPS, chains, runs):
        fitted = jax.device_get(run.models)
        iterations = np.asarray(run.iterations[0])
        real = chain.source
        shots = []
        for n in snapshots:
            x = np.asarray(drawn_points(run, chain, 0, n))
            g = jax.tree.map(lambda a, n=n: a[0, n], fitted)
            shots.append({
                "generation": n,
                "points": np.round(x, 4),
                "weights": g.weights,
                "means": g.means,
                "covariances": g.covariances,
                "em_iterations": int(iterations[n]),
            })
        out[setup] = {
            "label": SETUP_LABELS[setup],
            "real_weights": real.weights,
            "real_means": real.means,
            "real_covariances": real.covariances,
            "em_iterations_mean": float(np.mean(iterations)),
            "em_iterations_max": int(np.max(iterations)),
            "snapshots": shots,
        }
    return {
        "caption": (
            f"Recursive GMM chain, N = {sample_size} samples a generation, 2-component full-covariance GMM fitted by "
            "EM (tol 1e-5, at most 2000 iterations; first fit from a principal-axis split, later fits warm-started; "
            "the chain model's GMMChain, replace workflow). "
            "Top: the notebook's set-up (real data one standard 2-D Gaussian); bottom: the text's (two Gaussians). "
            "Points: D_n (coordinates rounded to 1e-4 in the data file); ellipses: 2-sigma contours of the GMM "
            "fitted to them."
        ),
        "sample_size": sample_size,
        "generations": generations,
        "snapshot_generations": list(snapshots),
        "em_tol": 1e-5,
        "em_max_iter": 2000,
        "setups": out,
    }


def _ellipse(ax, mean, cov, colour):
    vals, vecs = np.linalg.eigh(cov)
    t = np.linspace(0, 2 * np.pi, 100)
    circle = np.stack([np.cos(t), np.sin(t)])
    pts = mean[:, None] + 2 * vecs @ (np.sqrt(np.maximum(vals, 0))[:, None] * circle)
    ax.plot(pts[0], pts[1], color=colour, lw=0.9)


def plot(data: dict):
    import matplotlib.pyplot as plt

    setups = list(data["setups"])
    cols = len(data["snapshot_generations"])
    fig, axes = plt.subplots(len(setups), cols, figsize=(1.3 * cols + 0.4, 1.45 * len(setups) + 0.5),
                             sharex=True, sharey=True, squeeze=False)
    for r, setup in enumerate(setups):
        d = data["setups"][setup]
        for c, shot in enumerate(d["snapshots"]):
            ax = axes[r, c]
            pts = array(shot["points"])
            ax.scatter(pts[:, 0], pts[:, 1], s=0.6, color="C0", alpha=0.5, lw=0, rasterized=True)
            for j in range(len(shot["weights"])):
                _ellipse(ax, array(shot["means"])[j], array(shot["covariances"])[j], "C1")
            ax.set_xlim(-3, 3)
            ax.set_ylim(-3, 3)
            ax.set_aspect("equal")
            ax.grid(False)
            ax.set_xticks([-3, 0, 3])
            ax.set_yticks([-3, 0, 3])
            if r == 0:
                ax.set_title(f"generation {shot['generation']}")
        axes[r, 0].set_ylabel("blob (notebook)" if setup == "blob" else "two Gaussians (text)", fontsize=7)
    fig.suptitle(f"GMM chain, N = {data['sample_size']} a generation: data $D_n$ and fitted $G_n$ (2$\\sigma$)",
                 fontsize=9)
    return fig
