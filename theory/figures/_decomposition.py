"""Figure ``decomposition``: the collapse error of a two-component mixture split into its three sources.

Left: the single-source parts ``e_S``, ``e_X``, ``e_P`` and the interaction remainder stacked over generations
(positive parts upwards, negative ones downwards from zero), the exact total as a line and Monte Carlo
estimates of the total (:func:`theory.decomposition.simulate_decomposition`) with 3-standard-error bars.
Right: the Shapley attribution, stacked the same way (it adds up to the total too).

The numbers come from :mod:`theory.decomposition` (``decompose`` and ``simulate_decomposition``); this module
only chooses the case and plots (``collapse-theory figures --only decomposition``, or
``theory.figures.make_figure("decomposition", out)``).
"""

from __future__ import annotations

import numpy as np

NAME = "decomposition"
TITLE = "Collapse error of a Gaussian learner on a two-component mixture, split into its three error sources"
REPRODUCES = "the paper's three error sources (statistical, functional expressivity, functional approximation)"

SPEC = "mixture:0.5,-1.5,0.6;0.5,1.5,0.6"
SAMPLE_SIZE = 50
VARIANCE_SCALE = 0.98
LEARNER = "unbiased"
GENERATIONS = 100
QUICK_GENERATIONS = 20
MC_GENERATIONS = (1, 10, 25, 50, 100)
QUICK_MC_GENERATIONS = (1, 10, 20)
CHAINS, QUICK_CHAINS = 20_000, 2_000

PART_STYLE = {
    "statistical": ("statistical $e_S$", "C0"),
    "expressivity": ("expressivity $e_X$", "C1"),
    "approximation": ("approximation $e_P$", "C2"),
    "interaction": ("interaction $e - e_S - e_X - e_P$", "C7"),
}


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..decomposition import decompose, simulate_decomposition

    n_max = QUICK_GENERATIONS if quick else GENERATIONS
    gens = list(range(1, n_max + 1))
    result = decompose(SPEC, gens, sample_size=SAMPLE_SIZE, learner=LEARNER, variance_scale=VARIANCE_SCALE,
                       key=jax.random.fold_in(key, 0), draws=2**14 if quick else None)
    mc_gens = list(QUICK_MC_GENERATIONS if quick else MC_GENERATIONS)
    chains = QUICK_CHAINS if quick else CHAINS
    mc = simulate_decomposition(jax.random.fold_in(key, 1), SPEC, mc_gens, sample_size=SAMPLE_SIZE, learner=LEARNER,
                                variance_scale=VARIANCE_SCALE, chains=chains, subsets=("SXP",))["SXP"]
    exact_at_mc = result.total[[g - 1 for g in mc_gens]]
    se_at_mc = np.hypot(mc["stderr"], result.stderr["total"][[g - 1 for g in mc_gens]])
    data = result.to_dict()
    return {
        "caption": (
            f"Expected squared W2 distance e(n) = E W2^2(p_n, D_0) between generation n and the real data D_0 "
            f"(two-component Gaussian mixture {SPEC.split(':', 1)[1]}), for the unbiased Gaussian learner with "
            f"M = {SAMPLE_SIZE} samples a generation and variance multiplier A = {VARIANCE_SCALE}. Left: the error "
            "with one source on (statistical e_S, expressivity e_X, approximation e_P) and the interaction "
            "remainder, stacked (negative parts below zero); line: the exact total; points: Monte Carlo of the "
            f"whole chain ({chains} chains, bars 3 standard errors). Right: the Shapley attribution of e(n) to "
            "the three sources. E sigma_1 is a Monte Carlo estimate (its standard error is in the data file)."
        ),
        "spec": SPEC,
        "sample_size": SAMPLE_SIZE,
        "variance_scale": VARIANCE_SCALE,
        "learner": LEARNER,
        "decomposition": data,
        "monte_carlo": {
            "generations": mc_gens,
            "chains": chains,
            "total_mean": mc["mean"],
            "total_stderr": mc["stderr"],
            "z": (mc["mean"] - exact_at_mc) / se_at_mc,
        },
    }


def _stack(ax, x, parts: dict, styles: dict):
    pos = np.zeros_like(x, dtype=float)
    neg = np.zeros_like(x, dtype=float)
    for key, (label, color) in styles.items():
        y = np.asarray(parts[key], dtype=float)
        up, down = np.clip(y, 0, None), np.clip(y, None, 0)
        if np.any(up > 0):
            ax.fill_between(x, pos, pos + up, color=color, alpha=0.75, lw=0, label=label, step=None)
            label = None
        if np.any(down < 0):
            ax.fill_between(x, neg + down, neg, color=color, alpha=0.75, lw=0, label=label, hatch="//")
        pos, neg = pos + up, neg + down


def plot(data: dict):
    import matplotlib.pyplot as plt

    from ._io import array

    d = data["decomposition"]
    x = np.asarray(d["generations"], dtype=float)
    total = array(d["total"])
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.2), sharey=True)
    ax = axes[0]
    _stack(ax, x, {k: array(d[k]) for k in PART_STYLE}, PART_STYLE)
    ax.plot(x, total, color="black", lw=1.2, label="total $e(n)$ (exact)")
    mc = data["monte_carlo"]
    ax.errorbar(mc["generations"], array(mc["total_mean"]), yerr=3 * array(mc["total_stderr"]), fmt="o",
                ms=3.5, color="black", mfc="white", capsize=2, lw=0.8, label="Monte Carlo total")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("generation n")
    ax.set_ylabel("$E\\,W_2^2(p_n, D_0)$")
    ax.set_title("parts and interaction")
    ax.legend(loc="upper left", fontsize="small")
    ax = axes[1]
    shap_style = {k: (f"Shapley {v[0].split(' ')[0]}", v[1]) for k, v in PART_STYLE.items() if k != "interaction"}
    _stack(ax, x, {k: array(v) for k, v in d["shapley"].items()}, shap_style)
    ax.plot(x, total, color="black", lw=1.2, label="total $e(n)$")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("generation n")
    ax.set_title("Shapley attribution")
    ax.legend(loc="upper left", fontsize="small")
    fig.suptitle(f"$D_0$ = two-Gaussian mixture, M = {data['sample_size']}, A = {data['variance_scale']:g}",
                 fontsize="medium")
    return fig

