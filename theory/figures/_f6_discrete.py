"""F6: the discrete illustration. Resampling a histogram loses every bin whose count falls below one.

Two distributions A and B over the same bins agree where the expected count M p_k is at least one and differ in
the tails below it. One generation of resampling (M draws, refit = empirical frequencies: the Wright-Fisher chain)
loses a bin with probability (1 - p_k)^M exactly, so both lose their tails and become (nearly) the same
distribution; over generations the chain is absorbed at a single bin. Exact facts drawn over the simulation:
P(bin k survives one generation) = 1 - (1 - p_k)^M, and the Gini-Simpson diversity
E sum_k p_{n,k}(1 - p_{n,k}) = (1 - 1/M)^n sum_k p_{0,k}(1 - p_{0,k}); and, from the exact chain
(:func:`theory.numeric.discrete_exact_values`), the expected number of surviving bins and the probability of
absorption. The chains are :func:`theory.montecarlo.simulate_discrete` (the one discrete engine; the survival
frequency of a bin after one generation is its equal-probability group's, ``group_mean["lost"]``, and chain 0 is
tracked for the single runs); this module sets up A and B, summarises and plots.
"""

from __future__ import annotations

import numpy as np

from ._io import array

NAME = "f6_discrete"
TITLE = "Discrete resampling: bins below one expected count vanish, two distributions become one"
REPRODUCES = "arXiv:2305.17493 v2 discrete illustration (log count against x, a line at the cut)"

SAMPLE_SIZE = 200  # M draws per generation
BIN_EDGES = np.linspace(-5.0, 5.0, 42)


def distributions(sample_size: int = SAMPLE_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres and the probabilities of A (a discretised standard normal) and B.

    B equals A on the bins whose expected count ``M p`` is at least one and has other tails below that cut
    (flat at 0.08 counts on the left, a bump of up to 0.3 counts on the right), renormalised.
    """
    centres = 0.5 * (BIN_EDGES[1:] + BIN_EDGES[:-1])
    a = np.exp(-0.5 * centres**2)
    a /= a.sum()
    bulk = a * sample_size >= 1.0
    b = a.copy()
    tail_left = (~bulk) & (centres < 0)
    tail_right = (~bulk) & (centres > 0)
    b[tail_left] = 0.08 / sample_size
    b[tail_right] = (0.02 + 0.3 * np.exp(-0.5 * ((centres[tail_right] - 4.0) / 0.4) ** 2)) / sample_size
    b /= b.sum()
    return centres, a, b


def _bin_groups(chain, group_probabilities) -> np.ndarray:
    """Index of each bin's equal-probability group in ``simulate_discrete``'s ``group_*`` arrays."""
    groups = np.asarray(group_probabilities, dtype=np.float64)
    p = chain.probabilities
    index = np.abs(p[:, None] - groups[None, :]).argmin(axis=1)
    if not np.allclose(groups[index], p, rtol=1e-12, atol=0):
        raise AssertionError("a bin's probability is not among the simulation's groups")
    return index


def compute(key, *, quick: bool) -> dict:
    from ..chain import CategoricalSource, DiscreteChain
    from ..montecarlo import simulate_discrete
    from ..numeric import discrete_exact_values
    from ._tail_loss import simulation_seed

    m = SAMPLE_SIZE
    chains = 200 if quick else 1000
    generations = 100 if quick else 1000
    centres, a, b = distributions(m)
    every = np.arange(generations + 1)
    out = {}
    for i, (name, p) in enumerate((("A", a), ("B", b))):
        chain = DiscreteChain(CategoricalSource(p), m)
        p = chain.probabilities
        sim = simulate_discrete(chain, every, chains=chains, seed=simulation_seed(key, i), track_chain=True)
        exact = discrete_exact_values(chain, every)
        groups = _bin_groups(chain, sim.group_probabilities)
        lost_first = np.asarray(sim.group_mean["lost"], dtype=np.float64)[groups, 1]
        lost_first_se = np.asarray(sim.group_se["lost"], dtype=np.float64)[groups, 1]
        first = np.asarray(sim.first_chain, dtype=np.float64)  # chain 0 at generations 0..N
        d0 = float(np.sum(p * (1 - p)))
        gens = every[1:]
        div_mean = np.asarray(sim.mean["gini_simpson_mean"], dtype=np.float64)[1:]
        div_se = np.asarray(sim.se["gini_simpson_mean"], dtype=np.float64)[1:]
        div_exact = d0 * (1 - 1 / m) ** gens
        out[name] = {
            "p0": p,
            "expected_count": m * p,
            "survive_one_generation_exact": 1 - (1 - p) ** m,
            "survive_one_generation_mc": 1 - lost_first,
            "survive_one_generation_se": lost_first_se,
            "one_generation_counts": np.round(first[1] * m),
            "diversity_mean": div_mean,
            "diversity_se": div_se,
            "diversity_exact": div_exact,
            "diversity_z": (div_mean - div_exact) / np.where(div_se > 0, div_se, np.nan),
            "surviving_bins_mean": np.asarray(sim.mean["surviving_mean"], dtype=np.float64)[1:],
            "surviving_bins_se": np.asarray(sim.se["surviving_mean"], dtype=np.float64)[1:],
            "surviving_bins_exact": np.asarray(exact["surviving_mean"], dtype=np.float64)[1:],
            "surviving_bins_one_run": np.sum(first[1:] > 0, axis=1),
            "absorbed_fraction": np.asarray(sim.mean["collapse_probability"], dtype=np.float64)[1:],
            "absorbed_se": np.asarray(sim.se["collapse_probability"], dtype=np.float64)[1:],
            "absorbed_exact": np.asarray(exact["collapse_probability"], dtype=np.float64)[1:],
            "lost_mass_one_generation_expected": float(np.sum(p * (1 - p) ** m)),
        }
    tv0 = 0.5 * float(np.abs(a - b).sum())
    return {
        "caption": (
            f"Two distributions A (discretised normal) and B (same bulk, different tails below one expected count) "
            f"resampled with M = {m} draws a generation (Wright-Fisher). (a) expected counts M p_k at generation 0 "
            f"and the cut at one count; total variation TV(A, B) = {tv0:.3f}. (b) probability a bin survives one "
            f"generation: exact 1 - (1 - p_k)^M (lines) and simulated frequency over {chains} chains "
            "(theory.montecarlo.simulate_discrete; bins of equal probability pooled) (points). "
            "(c) counts of one resample of each: both tails gone. (d) Gini-Simpson diversity over generations, "
            "simulated mean +- 2 SE (bands) and exact (1 - 1/M)^n d_0 (black dashed); inset: the bands relative to the "
            "exact value, simulated / exact - 1. (e) surviving bins: simulated mean +- 2 SE (bands), exact "
            "(theory.numeric.discrete_exact_values, black dashed) and one run each."
        ),
        "sample_size": m,
        "chains": chains,
        "generations": generations,
        "bin_edges": BIN_EDGES,
        "bin_centres": centres,
        "total_variation_generation_0": tv0,
        "distributions": out,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    insets = {}

    def inset_of_d(ax):
        if "d" not in insets:
            inset = ax.inset_axes([0.1, 0.12, 0.4, 0.42])
            inset.axhline(0.0, color="black", lw=0.6, ls="--", zorder=2)
            inset.set_xscale("log")
            inset.tick_params(labelsize=6)
            inset.set_title("simulated / exact $-$ 1 ($\\pm$ 2 SE)", fontsize=6, pad=2)
            insets["d"] = inset
        return insets["d"]

    x = array(data["bin_centres"])
    m = data["sample_size"]
    gens = np.arange(1, data["generations"] + 1)
    fig = plt.figure(figsize=(8.0, 5.2))
    axes = fig.subplot_mosaic([["a", "b", "c"], ["d", "d", "e"]])
    styles = {"A": ("C0", "o"), "B": ("C1", "s")}
    for name, d in data["distributions"].items():
        colour, marker = styles[name]
        axes["a"].semilogy(x, array(d["expected_count"]), marker, ms=3, color=colour, label=f"{name}: M p")
        axes["b"].plot(x, array(d["survive_one_generation_exact"]), "-", color=colour, lw=1,
                       label=f"{name}: exact")
        axes["b"].errorbar(x, array(d["survive_one_generation_mc"]), yerr=2 * array(d["survive_one_generation_se"]),
                           fmt=marker, ms=2.5, color=colour, mfc="none", lw=0.6)
        counts = array(d["one_generation_counts"])
        shown = np.where(counts > 0, counts, np.nan)
        axes["c"].semilogy(x, shown, marker, ms=3, color=colour, label=f"{name} resampled")
        mean, se = array(d["diversity_mean"]), array(d["diversity_se"])
        exact = array(d["diversity_exact"])
        axes["d"].plot(gens, exact, "--", color="black", lw=0.6, zorder=2)
        axes["d"].fill_between(gens, mean - 2 * se, mean + 2 * se, color=colour, alpha=0.6, lw=0, zorder=3,
                               label=f"{name}: simulated mean $\\pm$ 2 SE")
        # the bands are thinner than a line at this scale: the inset shows them relative to the exact value
        inset = inset_of_d(axes["d"])
        inset.fill_between(gens, (mean - 2 * se) / exact - 1, (mean + 2 * se) / exact - 1, color=colour,
                           alpha=0.5, lw=0, zorder=3)
        sb, sbse = array(d["surviving_bins_mean"]), array(d["surviving_bins_se"])
        axes["e"].fill_between(gens, sb - 2 * sbse, sb + 2 * sbse, color=colour, alpha=0.35, lw=0)
        axes["e"].plot(gens, sb, color=colour, lw=1, label=f"{name}: mean")
        axes["e"].plot(gens, array(d["surviving_bins_exact"]), "--", color="black", lw=0.6, zorder=4)
        axes["e"].plot(gens, array(d["surviving_bins_one_run"]), color=colour, lw=0.5, alpha=0.7,
                       drawstyle="steps-post")
    axes["d"].plot([], [], "--", color="black", label="exact $(1-1/M)^n d_0$")
    for key in ("a", "c"):
        axes[key].axhline(1.0, color="black", lw=0.8, ls=":")
        axes[key].text(x[0], 1.3, "one count", fontsize=7)
        axes[key].set_xlabel("x")
        axes[key].set_ylim(1e-3, 2 * m)
        axes[key].set_xlim(BIN_EDGES[0], BIN_EDGES[-1])
    axes["a"].set_ylabel("expected count")
    axes["a"].set_title(f"(a) generation 0, M = {m}")
    axes["a"].legend(loc="upper right")
    axes["b"].set_title("(b) P(bin survives one generation)")
    axes["b"].set_xlabel("x")
    axes["b"].legend(loc="center", fontsize=6, title="$1-(1-p_k)^M$", title_fontsize=6)
    axes["c"].set_title("(c) one resample: tails gone")
    axes["c"].legend(loc="upper right")
    axes["d"].set_xscale("log")
    axes["d"].set_xlabel("generation n")
    axes["d"].set_ylabel("Gini-Simpson $\\sum p(1-p)$")
    axes["d"].set_title("(d) diversity: simulation and exact")
    axes["d"].legend(loc="upper right")
    axes["e"].plot([], [], "--", color="black", lw=0.6, label="exact")
    axes["e"].set_xscale("log")
    axes["e"].set_xlabel("generation n")
    axes["e"].set_ylabel("bins with count > 0")
    axes["e"].set_title("(e) surviving bins")
    axes["e"].legend(loc="upper right")
    return fig
