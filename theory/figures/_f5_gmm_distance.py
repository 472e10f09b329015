"""F5: squared L2 distance int (G_0 - G_n)^2 between the generation-0 and generation-n GMMs, log y.

G_0 is the GMM fitted to the real data D_0, G_n the one fitted at generation n; the distance is the closed
form for Gaussian mixtures (:func:`theory.figures._gmm_em.l2_distance_squared`). One run per sample size N, for
both set-ups; the smaller N is, the faster the fitted mixture wanders from G_0.
"""

from __future__ import annotations

import jax
import numpy as np

from ._gmm_em import gmm_chain, l2_distance_squared
from ._gmm_setups import SETUP_LABELS, SETUPS, real_distribution
from ._io import array


@jax.jit
def _distances_to_first(models):
    """``int (G_0 - G_n)^2`` for every generation n of a chain (one compiled program per chain length)."""
    first = jax.tree.map(lambda a: a[0], models)
    return jax.vmap(l2_distance_squared, in_axes=(None, 0))(first, models)

NAME = "f5_gmm_distance"
TITLE = "Squared L2 distance between the generation-0 and generation-n GMMs, for sample sizes N"
REPRODUCES = "Nature 2024 / arXiv v2 GMM distance figure: int (p_0 - p_n)^2 over ~2000 generations, log y"

SAMPLE_SIZES = (500, 1_000, 10_000, 50_000, 200_000)
GENERATIONS = 2000
QUICK_SAMPLE_SIZES = (500, 5_000)
QUICK_GENERATIONS = 100


class _Stopped(Exception):
    """Raised inside a worker thread when the main thread was interrupted."""


def _run_chains(jobs, workers: int = 2):
    """Run ``jobs`` (key, real, sample size, generations) in ``workers`` threads: the compiled segments release
    the GIL, so two chains use two cores. Results come back in the order of ``jobs``; the numbers do not depend
    on the scheduling. On Ctrl-C every chain stops at its next segment boundary (seconds) before re-raising."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    x64 = bool(jax.config.jax_enable_x64)  # a thread-local setting (jax.enable_x64): carry it to the workers

    def check(_done):
        if stop.is_set():
            raise _Stopped

    def run(job):
        key, real, sample_size, generations = job
        with jax.enable_x64(x64):
            models, iterations = gmm_chain(key, real, sample_size=sample_size, generations=generations,
                                           callback=check)
            return jax.device_get((models, iterations, _distances_to_first(models)))

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result() for future in futures]
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def compute(key, *, quick: bool) -> dict:
    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    generations = QUICK_GENERATIONS if quick else GENERATIONS
    # largest sample sizes first, so that the two workers finish together
    jobs = sorted(((i, j, n) for i in range(len(SETUPS)) for j, n in enumerate(sizes)), key=lambda t: -t[2])
    results = _run_chains([(jax.random.fold_in(key, 100 * i + j), real_distribution(SETUPS[i]), n, generations)
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
