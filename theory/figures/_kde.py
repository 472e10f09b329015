"""Figure ``kde``: the kernel-density-estimate chain's model variance over generations, exact and Monte Carlo.

Kazdan, Schaeffer et al. (2024)'s setting: model ``n + 1`` is the Gaussian KDE (bandwidth ``h``) on ``M = 100``
points, ``D_0 = N(0, 1)``. Three bandwidths: ``h = 0.05`` (``M h^2 = 0.25 < sigma^2``), ``h = 0.1 = sigma /
sqrt(M)`` (the neutral bandwidth: ``E V_n = sigma^2`` at every ``n``) and Silverman's rule ``h = 1.06 sigma
M^{-1/5}`` (0.422: ``M h^2 = 17.8``). Panels: (a) replace: ``E V_n`` (exact lines, :func:`kde_exact_values`;
Monte Carlo mean +- 2 SE bands, :func:`simulate_kde`), the limits ``M h^2`` (dotted) and the maximum-likelihood
Gaussian chain's ``(1 - 1/M)^n`` (the ``h -> 0`` limit, dashed); (b) accumulate: the same (no limit: ``E V_n``
grows like ``h^2 log n``); (c) the exact decomposition of ``E V_n - sigma^2`` under replace for ``h = 0.05``
(statistical, approximation, interaction; :func:`kde_decomposition`). Below (a) and (b): z of the Monte Carlo
against the exact values.
"""

from __future__ import annotations

import jax
import numpy as np

from ..chain._kde import KDEChain, silverman_bandwidth
from ..decomposition._kde import kde_decomposition
from ..montecarlo._kde import simulate_kde
from ..numeric._kde_exact import kde_exact_values
from ._io import array

NAME = "kde"
TITLE = "Kernel-density-estimate chain: model variance over generations (replace, accumulate), exact and Monte Carlo"
REPRODUCES = ("new: Kazdan, Schaeffer et al. (2024)'s KDE setting with exact moments (E V_n -> M h^2 under "
              "replace; h^2 log n growth under accumulate) and the exact statistical/approximation split")

SAMPLE_SIZE = 100
BANDWIDTHS = (0.05, 0.1, round(silverman_bandwidth(SAMPLE_SIZE), 4))
DECOMPOSED_BANDWIDTH = 0.05
GENERATIONS, QUICK_GENERATIONS = 1000, 100
CHAINS, QUICK_CHAINS = 1000, 200
#: accumulate keeps each chain's pool (M (n + 1) points): fewer chains and generations in its Monte Carlo.
POOL_GENERATIONS, QUICK_POOL_GENERATIONS = 200, 30
POOL_CHAINS, QUICK_POOL_CHAINS = 300, 100
POINTS = 40


def _grid(top: int, points: int = POINTS) -> list[int]:
    return [0, *(int(g) for g in np.unique(np.round(np.geomspace(1, top, points)).astype(int)))]


def compute(key, *, quick: bool) -> dict:
    top = QUICK_GENERATIONS if quick else GENERATIONS
    pool_top = QUICK_POOL_GENERATIONS if quick else POOL_GENERATIONS
    chains = QUICK_CHAINS if quick else CHAINS
    pool_chains = QUICK_POOL_CHAINS if quick else POOL_CHAINS
    exact_grid = _grid(top, 120)
    out = {"sample_size": SAMPLE_SIZE, "bandwidths": list(BANDWIDTHS), "exact_generations": exact_grid,
           "workflows": {}}
    z_all = []
    for w_index, (workflow, mc_top, mc_chains) in enumerate((("replace", top, chains),
                                                             ("accumulate", pool_top, pool_chains))):
        mc_grid = _grid(mc_top, POINTS if workflow == "replace" else 20)
        rows = []
        for h_index, h in enumerate(BANDWIDTHS):
            chain = KDEChain(h, SAMPLE_SIZE, workflow)
            exact = kde_exact_values(chain, exact_grid)
            mc = simulate_kde(jax.random.fold_in(key, 10 * w_index + h_index), chain, generations=mc_grid,
                              chains=mc_chains)
            exact_at_mc = kde_exact_values(chain, mc_grid)["variance_mean"]
            z = [0.0 if s == 0 else (v - e) / s
                 for v, e, s in zip(mc["variance_mean"], exact_at_mc, mc["variance_mean_se"])]
            z_all += [abs(x) for x in z[1:]]
            rows.append({"bandwidth": h, "exact": exact["variance_mean"], "limit": exact["limits"]["variance_mean"],
                         "mc_generations": mc_grid, "mc": mc["variance_mean"], "mc_se": mc["variance_mean_se"],
                         "z": z, "chains": mc_chains})
        out["workflows"][workflow] = rows
    out["gaussian_mle"] = [(1 - 1 / SAMPLE_SIZE) ** g for g in exact_grid]
    decomposition = kde_decomposition(KDEChain(DECOMPOSED_BANDWIDTH, SAMPLE_SIZE), exact_grid)
    out["decomposition"] = {"bandwidth": DECOMPOSED_BANDWIDTH, **decomposition["variance"]}
    rep = {r["bandwidth"]: r for r in out["workflows"]["replace"]}
    acc = {r["bandwidth"]: r for r in out["workflows"]["accumulate"]}
    h_s = BANDWIDTHS[2]
    d = out["decomposition"]
    out["max_abs_z"] = max(z_all)
    out["z_count"] = len(z_all)
    out["caption"] = (
        f"Gaussian KDE chain, M = {SAMPLE_SIZE}, D_0 = N(0, 1). (a) replace: E V_n (lines: exact; bands: Monte "
        f"Carlo mean +- 2 SE, {chains} chains) tends to M h^2 (dotted): {rep[0.05]['exact'][-1]:.3g} at n = {top} "
        f"for h = 0.05 (collapse, but to 0.25, not to 0), exactly 1 for h = 0.1 = sigma/sqrt(M), and "
        f"{rep[h_s]['exact'][-1]:.3g} for Silverman's h = {h_s} (limit {rep[h_s]['limit']:.3g}: the chain spreads); "
        f"dashed: h -> 0, the MLE Gaussian chain's (1 - 1/M)^n = {out['gaussian_mle'][-1]:.3g}. "
        f"(b) accumulate ({pool_chains} chains up to n = {pool_top}): no fixed point, E V_n grows like h^2 log n "
        f"({acc[h_s]['exact'][-1]:.3g} at n = {top} for Silverman's h). "
        f"(c) replace, h = {DECOMPOSED_BANDWIDTH}: E V_n - 1 = statistical (h -> 0; {d['statistical'][-1]:.3g}) "
        f"+ approximation (M -> infinity: n h^2 = {d['approximation'][-1]:.3g}) + interaction "
        f"({d['interaction'][-1]:.3g}) at n = {top}; no expressivity part. Lower panels: z = (MC - exact)/SE, "
        f"max |z| = {out['max_abs_z']:.2f} over {len(z_all)} points.")
    return out


def plot(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12.0, 4.8), height_ratios=(3, 1), sharex="col")
    colours = ("C0", "C1", "C3")
    exact_n = array(data["exact_generations"])
    positive = exact_n > 0
    for col, (workflow, label) in enumerate((("replace", "(a) replace"), ("accumulate", "(b) accumulate"))):
        ax, axz = axes[0, col], axes[1, col]
        for colour, row in zip(colours, data["workflows"][workflow]):
            h = row["bandwidth"]
            ax.plot(exact_n[positive], array(row["exact"])[positive], color=colour, lw=1.2, label=f"h = {h:g}")
            n = array(row["mc_generations"])
            mc, se = array(row["mc"]), array(row["mc_se"])
            keep = n > 0
            ax.fill_between(n[keep], (mc - 2 * se)[keep], (mc + 2 * se)[keep], color=colour, alpha=0.25, lw=0)
            if workflow == "replace" and row["limit"] is not None:
                ax.axhline(row["limit"], color=colour, ls=":", lw=0.9)
            axz.plot(n[keep], array(row["z"])[keep], "o", ms=2.5, color=colour)
        if workflow == "replace":
            ax.plot(exact_n[positive], array(data["gaussian_mle"])[positive], color="0.4", ls="--", lw=1,
                    label="h -> 0 (MLE Gaussian)")
        ax.set_xscale("log")
        if workflow == "replace":
            ax.set_yscale("log")
        ax.set_title(label)
        ax.set_ylabel("$E\\,V_n$ (model variance)")
        ax.legend(loc="lower left" if workflow == "replace" else "upper left", fontsize="small")
        axz.axhspan(-3, 3, color="0.9", lw=0)
        axz.axhline(0, color="black", lw=0.8)
        axz.set_ylim(-5, 5)
        axz.set_ylabel("z (SE)")
        axz.set_xlabel("generation n")
    ax = axes[0, 2]
    d = data["decomposition"]
    styles = (("total", "black", "-"), ("statistical", "C0", "--"), ("approximation", "C1", "--"),
              ("interaction", "C2", ":"))
    for part, colour, ls in styles:
        ax.plot(exact_n[positive], array(d[part])[positive], color=colour, ls=ls, lw=1.2, label=part)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xscale("log")
    ax.tick_params(labelbottom=True)
    ax.set_xlabel("generation n")
    ax.set_title(f"(c) replace, h = {d['bandwidth']:g}: $E\\,V_n - \\sigma^2$ split")
    ax.legend(loc="lower left", fontsize="small")
    axes[1, 2].axis("off")
    return fig
