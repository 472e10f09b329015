"""F3: data pooling against replace. Each generation appends M new samples, drawn from the current model, to a
pool that starts with M samples of p_0; the next model is the Gaussian (unbiased variance) fitted to

(a) K = M points drawn without replacement from the pool: the workflow ``accumulate-subsample:M``;
(b) the whole pool: the workflow ``accumulate``.

Both are run by :func:`theory.simulate` on ``GaussianChain(M, workflow=...)`` (:mod:`theory.chain._workflow` fixes
the definitions): (b) in ``sufficient`` mode (the pool's count, mean and sum of squares merged exactly: exact in
distribution for every M); (a) in ``samples`` mode, which keeps each chain's pool point by point
(M (n + 1) floats a chain), so it is run for M = 1e2 and 1e3 only, with as many chains as ``POOL_ELEMENTS``
allows (the exact moments of ``accumulate-subsample`` also take seconds per M).
Drawn: one run per M (thin), the root-mean-square error over chains +-2 SE (band, where at least 20 chains ran),
the exact RMS error of the workflow itself where :func:`theory.exact_values` has it (solid), and for reference
the exact RMS error of the replace chain with the same M (dashed).
"""

from __future__ import annotations

import numpy as np

from ._gaussian_common import SAMPLE_SIZES, exact_rms, rms_summary, sample_size_colours
from ._io import array

NAME = "f3_pooling"
TITLE = "Data pooling (fit a subsample of the pool / fit the whole pool) against replace, 1-D Gaussian chain"
REPRODUCES = "Nature 2024 Supplementary / arXiv v2 appendix: data-pooling variants of the Gaussian figure"

POOL_ELEMENTS = 4_000_000  # floats of pool per sample size in variant (a): chains = POOL_ELEMENTS / (M (n + 1))
SUBSAMPLE_SIZES = (100, 1_000)  # variant (a): samples mode, time ~ POOL_ELEMENTS * n per M
VARIANTS = {"a_subsample_pool": "accumulate-subsample", "b_whole_pool": "accumulate"}


def _workflow(variant: str, m: int) -> str:
    return f"accumulate-subsample:{m}" if variant == "a_subsample_pool" else "accumulate"


def _summaries(mus, sds) -> dict:
    mus, sds = np.asarray(mus), np.asarray(sds)
    return {
        "single_run_abs_mean_error": np.abs(mus[:, 0]),
        "single_run_abs_sd_error": np.abs(sds[:, 0] - 1.0),
        "mean_error": rms_summary(mus),
        "sd_error": rms_summary(sds - 1.0),
    }


def _exact_rms_or_none(chain, gens) -> dict:
    """The workflow's exact RMS errors where :func:`theory.exact_values` has them (``None`` otherwise), and why."""
    from ..numeric import exact_values

    ex = exact_values(chain, gens)
    notes = ex.get("notes") or {}
    out = {"exact_mean_rms": None, "exact_sd_rms": None, "exact_notes": {k: str(v) for k, v in notes.items()}}
    if ex.get("mean_sq_error") is not None:
        out["exact_mean_rms"] = np.sqrt(np.asarray(ex["mean_sq_error"], dtype=np.float64))
    if ex.get("sd_sq_error") is not None:
        out["exact_sd_rms"] = np.sqrt(np.maximum(np.asarray(ex["sd_sq_error"], dtype=np.float64), 0.0))
    elif "sd_sq_error" in (ex.get("bounds") or {}):  # E sigma_n has no exact value: its exact bounds
        out["exact_sd_rms_bounds"] = [np.sqrt(np.maximum(np.asarray(b, dtype=np.float64), 0.0))
                                      for b in ex["bounds"]["sd_sq_error"]]
    return out


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..chain import GaussianChain
    from ..montecarlo import simulate

    generations = 50 if quick else 1000
    whole_chains = 100 if quick else 1000
    sizes_a = (100,) if quick else SUBSAMPLE_SIZES
    budget = 2_000_000 if quick else POOL_ELEMENTS
    gens = list(range(generations + 1))
    subsample, whole, replace = [], [], []
    for i, m in enumerate(SAMPLE_SIZES):
        exact = exact_rms(GaussianChain(m, learner="unbiased"), gens)
        replace.append({"sample_size": m, "exact_mean_rms": exact["mean_rms"], "exact_sd_rms": exact["sd_rms"]})
        runs = [("b_whole_pool", whole_chains, "sufficient", jax.random.fold_in(key, i), whole)]
        if m in sizes_a:
            chains = int(max(2, min(200, budget // (m * (generations + 1)))))
            runs.append(("a_subsample_pool", chains, "samples", jax.random.fold_in(key, 1000 + i), subsample))
        for variant, chains, mode, k, into in runs:
            chain = GaussianChain(m, learner="unbiased", workflow=_workflow(variant, m))
            sim = simulate(k, chain, chains=chains, generations=gens, mode=mode, trajectories=True, progress=False)
            into.append({"sample_size": m, "workflow": str(chain.workflow), "mode": mode, "chains": chains,
                         **_summaries(sim.mu_trajectories - chain.mu, sim.sigma_trajectories),
                         **_exact_rms_or_none(chain, gens)})
    return {
        "caption": (
            f"Data pooling, 1-D Gaussian chain (mu = 0, sigma = 1, unbiased learner), {generations} generations; "
            "each generation appends M samples of the current model to the pool. (a) the next model is fitted to "
            "K = M points drawn without replacement from the pool (workflow accumulate-subsample:M, samples mode, "
            f"M = {', '.join(f'{m:g}' for m in sizes_a)}); (b) to the whole pool (workflow accumulate, sufficient "
            "statistics, exact in distribution); "
            "both simulated by theory.simulate. Thin: one run; bands: RMS error over chains +-2 SE (shown where "
            ">= 20 chains); solid: the workflow's exact RMS error where theory.exact_values has it (E(mu_n - mu)^2 is "
            "exact; E(sigma_n - sigma)^2 needs E sigma_n, which has no closed form under pooling: its exact bounds "
            "from the second and fourth moments are in the data file, too loose to draw); dashed: exact RMS error of "
            "replace with the same M."
        ),
        "mu": 0.0,
        "sigma": 1.0,
        "learner": "unbiased",
        "generations": generations,
        "subsample_with_replacement": False,
        "variants": {"a_subsample_pool": subsample, "b_whole_pool": whole},
        "replace_exact": replace,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(7.6, 5.8), sharex=True, sharey="row")
    gens = np.arange(data["generations"] + 1)
    shown = gens >= 1
    sizes = [m["sample_size"] for m in data["replace_exact"]]
    colour_of = dict(zip(sizes, sample_size_colours(len(sizes))))
    titles = {"a_subsample_pool": "(a) fit M points subsampled from the pool", "b_whole_pool": "(b) fit the whole pool"}
    for c, variant in enumerate(("a_subsample_pool", "b_whole_pool")):
        for r, which in enumerate(("mean", "sd")):
            ax = axes[r, c]
            for ref in data["replace_exact"]:
                ax.plot(gens[shown], array(ref[f"exact_{which}_rms"])[shown], "--", lw=0.7,
                        color=colour_of[ref["sample_size"]])
            for run in data["variants"][variant]:
                colour = colour_of[run["sample_size"]]
                ax.plot(gens[shown], array(run[f"single_run_abs_{which}_error"])[shown], color=colour, lw=0.4,
                        alpha=0.3)
                if run["chains"] >= 20:
                    stats = run[f"{which}_error"]
                    rms, se = array(stats["rms"]), array(stats["rms_se"])
                    ax.fill_between(gens[shown], (rms - 2 * se)[shown], (rms + 2 * se)[shown], color=colour,
                                    alpha=0.6, lw=0)
                exact = run.get(f"exact_{which}_rms")
                if exact is not None:
                    ax.plot(gens[shown], array(exact)[shown], "-", lw=0.7, color=colour)
            ax.set_xscale("log")
            ax.set_yscale("log")
            symbol = "\\mu" if which == "mean" else "\\sigma"
            ax.set_ylabel(f"$|{symbol} - {symbol}_n|$")
            if r == 0:
                ax.set_title(titles[variant])
            else:
                ax.set_xlabel("generation n")
    for m, colour in colour_of.items():
        axes[0, 1].fill_between([], [], color=colour, alpha=0.6, lw=0, label=f"M = {m:.0e}".replace("e+0", "e"))
    axes[0, 1].plot([], [], color="0.4", lw=0.5, label="one run")
    axes[0, 1].plot([], [], "-", color="0.4", lw=0.7, label="exact RMS")
    axes[0, 1].plot([], [], "--", color="0.4", lw=0.7, label="replace, exact RMS")
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="outside lower center", ncol=9, fontsize=6)
    return fig
