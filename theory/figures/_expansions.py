"""Exact E W2^2 and Var W2^2 against the published leading-order expansions, over n / M.

For the unbiased 1-D Gaussian chain with constant M, ``W2^2(p_n, p_0) = (mu_n - mu)^2 + (sigma_n - sigma)^2``.
Drawn: the exact values (:func:`theory.exact_values`), the two published expansions of E W2^2 (supplementary
information: (3/2) sigma^2 sum_i 1/M_i; arXiv v2: sigma^2 (1/M_0 + ... + 1/M_{n-1} + 3/(2 M_n))), arXiv v2's
Var W2^2, and the toolkit's own leading order (:func:`theory.leading_order`), each as a ratio to the exact
value, against n / M; and a Monte Carlo check of the exact values (:func:`theory.montecarlo.simulate`,
sufficient statistics) at a few n. The data file records, per M and expansion, the smallest n / M at which the
expansion is off by more than 10%.
"""

from __future__ import annotations

import numpy as np

from ._gaussian_common import z_scores
from ._io import array

NAME = "expansions"
TITLE = "Exact E W2^2 and Var W2^2 against the published and leading-order expansions, over n / M"
REPRODUCES = "Theorem 3.1's expansions (Nature 2024 Supplementary Information; arXiv:2305.17493 v2)"

SAMPLE_SIZES = (10, 100, 1_000)
QUICK_SAMPLE_SIZES = (10, 100)
MAX_RATIO = 20.0  # largest n / M
MC_RATIOS = (0.1, 0.3, 1.0)  # n / M of the Monte Carlo points
THRESHOLD = 0.10  # relative error that counts as "no longer accurate"
#: Top panels: the curves of the i-th M are multiplied by OFFSET**i, so that the three M, whose exact curves
#: nearly coincide over n / M, can be told apart (the bottom panels are ratios and need no offset).
OFFSET = 10.0
MARKERS = ("o", "s", "^", "D")

MEAN_CURVES = {
    "w2_sq_mean_supplementary": ("supplementary: $(3/2)\\sigma^2\\sum 1/M_i$", "-."),
    "w2_sq_mean_arxiv_v2": ("arXiv v2: $\\sigma^2(\\sum_{i<n} 1/M_i + 3/(2M_n))$", ":"),
    "leading_order": ("toolkit leading order", "--"),
}
VAR_CURVES = {
    "w2_sq_var_arxiv_v2": ("arXiv v2 Var $W_2^2$", ":"),
    "leading_order": ("toolkit leading order", "--"),
}


def _first_exceeding(ratio_over_m, relative_error):
    bad = np.flatnonzero(np.abs(relative_error) > THRESHOLD)
    return float(ratio_over_m[bad[0]]) if bad.size else None


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..numeric import exact_values, leading_order, published_expansions
    from ..chain import GaussianChain
    from ..montecarlo import simulate

    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    chains = 4_000 if quick else 100_000
    out = []
    for i, m in enumerate(sizes):
        chain = GaussianChain(m, learner="unbiased", sigma=1.0)
        gens = np.unique(np.round(np.geomspace(1, MAX_RATIO * m, 80)).astype(int)).tolist()
        exact = exact_values(chain, gens)
        published = published_expansions(chain, gens)
        leading = leading_order(chain, gens)
        x = np.asarray(gens, dtype=float) / m
        ex_mean = np.asarray(exact["w2_sq_mean"], dtype=float)
        ex_var = np.asarray(exact["w2_sq_var"], dtype=float)
        mean_curves = {k: np.asarray(published[k], dtype=float) for k in MEAN_CURVES if k in published}
        mean_curves["leading_order"] = np.asarray(leading["w2_sq_mean"], dtype=float)
        var_curves = {k: np.asarray(published[k], dtype=float) for k in VAR_CURVES if k in published}
        var_curves["leading_order"] = np.asarray(leading["w2_sq_var"], dtype=float)
        mc_gens = sorted({max(1, int(round(r * m))) for r in MC_RATIOS})
        sim = simulate(jax.random.fold_in(key, i), chain, chains=chains, generations=mc_gens, mode="sufficient",
                       progress=False)
        ex_mc = exact_values(chain, mc_gens)
        out.append({
            "sample_size": m,
            "generations": gens,
            "n_over_m": x,
            "exact_w2_sq_mean": ex_mean,
            "exact_w2_sq_var": ex_var,
            "mean_expansions": mean_curves,
            "var_expansions": var_curves,
            "mean_relative_error": {k: v / ex_mean - 1 for k, v in mean_curves.items()},
            "var_relative_error": {k: v / ex_var - 1 for k, v in var_curves.items()},
            "first_n_over_m_off_by_10pct_mean": {k: _first_exceeding(x, v / ex_mean - 1) for k, v in mean_curves.items()},
            "first_n_over_m_off_by_10pct_var": {k: _first_exceeding(x, v / ex_var - 1) for k, v in var_curves.items()},
            "mc": {
                "chains": chains,
                "generations": mc_gens,
                "w2_sq_mean": sim["w2_sq_mean"],
                "w2_sq_mean_se": sim["w2_sq_mean_se"],
                "w2_sq_var": sim["w2_sq_var"],
                "w2_sq_var_se": sim["w2_sq_var_se"],
                "exact_w2_sq_mean": ex_mc["w2_sq_mean"],
                "exact_w2_sq_var": ex_mc["w2_sq_var"],
                "z_w2_sq_mean": z_scores(sim["w2_sq_mean"], sim["w2_sq_mean_se"], ex_mc["w2_sq_mean"]),
                "z_w2_sq_var": z_scores(sim["w2_sq_var"], sim["w2_sq_var_se"], ex_mc["w2_sq_var"]),
            },
        })
    return {
        "caption": (
            "Unbiased 1-D Gaussian chain, sigma = 1, constant M. Top: E W2^2(p_n, p_0) and Var W2^2 over n / M, "
            f"exact (solid) and expansions, the curves of the i-th M multiplied by {OFFSET:g}^i (they nearly "
            "coincide over n / M); points: Monte Carlo (sufficient statistics, "
            f"{chains} chains, +-2 SE, lower bars clipped on the log axis; the SE of a variance is unreliable once "
            "sigma_n^2 is heavy-tailed, n / M of order one). Bottom: expansion / exact - 1; the grey band is +-10%."
        ),
        "sigma": 1.0,
        "learner": "unbiased",
        "sample_sizes": list(sizes),
        "threshold": THRESHOLD,
        "plot_offset_per_sample_size": OFFSET,
        "curves": out,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    offset = data.get("plot_offset_per_sample_size", OFFSET)
    fig, axes = plt.subplots(2, 2, figsize=(7.6, 6.2), sharex=True, height_ratios=(3, 2))
    for i, curve in enumerate(data["curves"]):
        colour = f"C{i}"
        scale = offset**i
        x = array(curve["n_over_m"])
        for c, (kind, styles) in enumerate((("mean", MEAN_CURVES), ("var", VAR_CURVES))):
            ax, axr = axes[0, c], axes[1, c]
            ax.plot(x, scale * array(curve[f"exact_w2_sq_{kind}"]), "-", color=colour, lw=1.4)
            for name, values in curve[f"{kind}_expansions"].items():
                ls = styles[name][1]
                ax.plot(x, scale * array(values), ls, color=colour, lw=0.9)
                axr.plot(x, array(curve[f"{kind}_relative_error"][name]), ls, color=colour, lw=0.9)
            mc = curve["mc"]
            mx = np.asarray(mc["generations"], dtype=float) / curve["sample_size"]
            value, se = scale * array(mc[f"w2_sq_{kind}"]), scale * array(mc[f"w2_sq_{kind}_se"])
            ax.errorbar(mx, value, yerr=[np.minimum(2 * se, 0.9 * value), 2 * se], fmt=MARKERS[i % len(MARKERS)],
                        ms=3.5, color=colour, mfc="white", capsize=2, lw=0.8, zorder=3)
    for c, name in enumerate(("$E\\,W_2^2(p_n, p_0)/\\sigma^2$", "$\\mathrm{Var}\\,W_2^2(p_n, p_0)/\\sigma^4$")):
        axes[0, c].set_xscale("log")
        axes[0, c].set_yscale("log")
        axes[0, c].set_ylabel(name + " (offset per M)")
        axes[1, c].axhspan(-data["threshold"], data["threshold"], color="0.88", lw=0)
        axes[1, c].axhline(0, color="black", lw=0.6)
        axes[1, c].set_yscale("symlog", linthresh=0.1)
        axes[1, c].set_xlabel("n / M")
        axes[1, c].set_ylabel("expansion / exact $-$ 1")
    axes[0, 0].set_title("mean")
    axes[0, 1].set_title("variance")
    # one legend for the sample sizes (colour, marker, offset), one per panel for the line styles
    size_handles = [
        Line2D([], [], color=f"C{i}", lw=1.4, marker=MARKERS[i % len(MARKERS)], ms=3.5, mfc="white",
               label=f"M = {curve['sample_size']}" + ("" if i == 0 else f" (curves $\\times${offset**i:g})"))
        for i, curve in enumerate(data["curves"])
    ]
    for c, styles in enumerate((MEAN_CURVES, VAR_CURVES)):
        style_handles = [Line2D([], [], color="black", lw=1.4, ls="-", label="exact")]
        style_handles += [Line2D([], [], color="black", lw=0.9, ls=ls, label=label) for label, ls in styles.values()]
        style_handles.append(Line2D([], [], color="black", lw=0.8, marker="o", ls="none", mfc="white",
                                    label="Monte Carlo $\\pm$ 2 SE"))
        axes[0, c].legend(handles=style_handles, loc="upper left", fontsize=6, labelspacing=1.0, handlelength=2.6)
    fig.legend(handles=size_handles, loc="outside lower center", ncol=len(size_handles), fontsize=7)
    return fig
