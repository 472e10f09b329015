"""Figure ``tail_loss``: a real English vocabulary resampled generation after generation loses its tail.

The source is the ``K`` most common English words of the ``wordfreq`` package (``words:en:K``, shipped data),
and the chain is the discrete chain of :class:`theory.chain.DiscreteChain`: each generation draws ``M`` words
from the current model and refits it (replace workflow). Four panels:

(a) rank-frequency curves (log-log) of one chain (:func:`theory.montecarlo.simulate_discrete` with
    ``track_chain=True``) at generations 0, 1, 5, 20 and 100: the rare words go first, the curve ends earlier
    every generation;
(b) the expected surviving vocabulary ``E #{k : p_{n,k} > 0}`` against n (log n) for a few ``M``, maximum-likelihood
    learner: exact lines (:func:`theory.numeric.discrete_exact_values`) over Monte Carlo bands (mean +- 2 SE of
    :func:`theory.montecarlo.simulate_discrete`);
(c) the same at one ``M`` for learners that sample like a language model (temperature, nucleus top-p): these couple
    the categories, so there is no exact value at this ``K`` (``discrete_exact_values`` returns ``None``) and only
    the Monte Carlo is drawn, labelled "Monte Carlo" in the legend; the MLE's exact line is drawn for reference;
(d) the expected generation-0 probability mass of the lost words, exact over Monte Carlo, as in (b).

The figure only plots: every number comes from the library (``discrete_exact_values``, ``simulate_discrete``).
"""

from __future__ import annotations

import numpy as np

from ._io import array

NAME = "tail_loss"
TITLE = "The disappearing tail: a real English vocabulary (wordfreq) resampled over generations, exact and Monte Carlo"
REPRODUCES = ("new: the paper's early collapse (the tails vanish first) on a real vocabulary, exactly (Wright-Fisher "
              "chain; Shumailov et al. 2024, Suresh et al. 2024)")

SOURCE, QUICK_SOURCE = "words:en:10000", "words:en:1000"
#: (b) and (d): the sample sizes M (words drawn per generation), maximum-likelihood learner. (Not 1e4:
#: ``discrete_exact_values`` takes its full count chain up to M = 1e4, 25 s for this source, against 1-2 s on the
#: truncated route at 3e4 and 1e5; not 1e6: its Monte Carlo alone took 38 s.)
SAMPLE_SIZES, QUICK_SAMPLE_SIZES = (1_000, 30_000, 100_000), (100, 1_000)
#: (a): the chain whose rank-frequency curves are drawn is chain 0 of this M's run in (b).
SNAPSHOT_SAMPLE_SIZE, QUICK_SNAPSHOT_SAMPLE_SIZE = 100_000, 1_000
SNAPSHOTS, QUICK_SNAPSHOTS = (0, 1, 5, 20, 100), (0, 1, 5, 20)
#: (c): learners at one M (the maximum-likelihood run of (b) at that M is reused as the exact reference);
#: (spelling, DiscreteLearner keyword arguments). Each learner and each M is one compiled program of
#: ``simulate_discrete`` (a few seconds each): the lists are kept short.
LEARNER_SAMPLE_SIZE, QUICK_LEARNER_SAMPLE_SIZE = 100_000, 1_000
LEARNERS = (
    ("MLE", {}),
    ("temperature 0.7", {"temperature": 0.7}),
    ("temperature 1.5", {"temperature": 1.5}),
    ("top-p 0.9", {"top_p": 0.9}),
)
QUICK_LEARNERS = (LEARNERS[0], LEARNERS[1], LEARNERS[3])
#: Monte Carlo chains per curve of (b) and (d), and per learner of (c): the bands are a check on the exact lines,
#: whose accuracy does not depend on them (at K = 1e4 one chain-generation costs a few milliseconds on a CPU core).
CHAINS, QUICK_CHAINS = 16, 100
LEARNER_CHAINS, QUICK_LEARNER_CHAINS = 8, 100
POINTS = 16  # reported generations besides the snapshots, about evenly spaced in log n
PANEL_QUANTITIES = ("surviving_mean", "tail_mass_lost_mean")

#: colours: one per M (panels b, d) and one per learner (panel c); the style's Okabe-Ito cycle.
SIZE_COLOURS = ("C0", "C1", "C2", "C3")
LEARNER_COLOURS = {"MLE": "C7", "temperature 0.7": "C3", "temperature 1.5": "C0", "top-p 0.9": "C5",
                   "top-p 0.99": "C2"}


def report_generations(last: int, snapshots, points: int = POINTS) -> list[int]:
    """``0``, the snapshots and about ``points`` generations in ``1..last`` evenly spaced in log n, sorted."""
    grid = np.round(np.geomspace(1, last, points)).astype(int)
    return sorted({0, *(int(g) for g in grid), *(int(s) for s in snapshots)})


def simulation_seed(key, index: int) -> int:
    """A 31-bit integer seed for ``simulate_discrete`` from the figure's key and a run index."""
    import jax

    return int(jax.random.randint(jax.random.fold_in(key, index), (), 0, 2**31 - 1))


def _grouped_descending(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero values of ``p``, distinct and descending, and how many entries have each (a rank-frequency
    curve, run-length encoded: exact, and small in the data file)."""
    values, counts = np.unique(p[p > 0], return_counts=True)
    return values[::-1], counts[::-1]


def _exact(chain, gens) -> dict:
    from ..numeric import discrete_exact_values

    ex = discrete_exact_values(chain, gens)
    if not np.array_equal(np.asarray(ex["generations"]), np.asarray(gens)):
        raise AssertionError("discrete_exact_values returned other generations than asked")
    bounds = ex.get("bounds") or {}
    notes = ex.get("notes") or {}
    return {
        "values": {q: None if ex.get(q) is None else np.asarray(ex[q], dtype=np.float64) for q in PANEL_QUANTITIES},
        "bounds": {q: [np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)]
                   for q, (lo, hi) in bounds.items() if q in PANEL_QUANTITIES},
        "notes": {q: str(notes[q]) for q in (*PANEL_QUANTITIES, "method") if q in notes},
    }


def _curve(chain, gens, *, chains, seed, label, track_chain=False) -> tuple[dict, object]:
    from ..montecarlo import simulate_discrete

    sim = simulate_discrete(chain, gens, chains=chains, seed=seed, track_chain=track_chain)
    exact = _exact(chain, gens)
    mc = {q: {"mean": np.asarray(sim.mean[q], dtype=np.float64), "se": np.asarray(sim.se[q], dtype=np.float64)}
          for q in PANEL_QUANTITIES}
    z = {}
    for q in PANEL_QUANTITIES:
        value = exact["values"][q]
        if value is not None:
            se = mc[q]["se"]
            with np.errstate(invalid="ignore", divide="ignore"):
                z[q] = np.where(se > 0, (mc[q]["mean"] - value) / se, np.nan)
    return {
        "label": label,
        "sample_size": chain.sample_size,
        "learner": str(chain.learner),
        "chains": int(sim.chains),
        "seed": int(seed),
        "exact": exact["values"],
        "exact_bounds": exact["bounds"],
        "exact_notes": exact["notes"],
        "monte_carlo": mc,
        "z": z,
    }, sim


def compute(key, *, quick: bool) -> dict:
    from ..chain import DiscreteChain, DiscreteLearner, parse_source

    spec = QUICK_SOURCE if quick else SOURCE
    source = parse_source(spec)
    sizes = QUICK_SAMPLE_SIZES if quick else SAMPLE_SIZES
    snapshot_size = QUICK_SNAPSHOT_SAMPLE_SIZE if quick else SNAPSHOT_SAMPLE_SIZE
    learner_size = QUICK_LEARNER_SAMPLE_SIZE if quick else LEARNER_SAMPLE_SIZE
    snapshots = QUICK_SNAPSHOTS if quick else SNAPSHOTS
    chains = QUICK_CHAINS if quick else CHAINS
    gens = report_generations(max(snapshots), snapshots)

    by_size = []
    snapshot_curves = None
    for i, m in enumerate(sizes):
        tracked = m == snapshot_size
        curve, sim = _curve(DiscreteChain(source, m), gens, chains=chains, seed=simulation_seed(key, i),
                            label=f"M = {m:,}", track_chain=tracked)
        by_size.append(curve)
        if tracked:
            first = np.asarray(sim.first_chain, dtype=np.float64)
            snapshot_curves = []
            for n in snapshots:
                values, mult = _grouped_descending(first[gens.index(n)])
                snapshot_curves.append({"generation": int(n), "probabilities": values, "multiplicities": mult,
                                        "surviving": int(mult.sum()),
                                        "surviving_mean_exact": (None if curve["exact"]["surviving_mean"] is None
                                                                 else curve["exact"]["surviving_mean"][gens.index(n)])})
    if snapshot_curves is None:
        raise AssertionError("SNAPSHOT_SAMPLE_SIZE must be one of SAMPLE_SIZES")

    by_learner = []
    for j, (label, kwargs) in enumerate(QUICK_LEARNERS if quick else LEARNERS):
        if not kwargs and learner_size in sizes:  # the MLE at this M is already in (b): reuse it
            curve = dict(by_size[sizes.index(learner_size)], label=label)
        else:
            chain = DiscreteChain(source, learner_size, learner=DiscreteLearner(**kwargs))
            curve, _ = _curve(chain, gens, chains=QUICK_LEARNER_CHAINS if quick else LEARNER_CHAINS,
                              seed=simulation_seed(key, 100 + j), label=label)
        by_learner.append(curve)

    k = source.size
    return {
        "caption": (
            f"The {k:,} most common English words (wordfreq {_wordfreq_version()}, source {spec}) as a categorical "
            "distribution; each generation draws M words from the current model and refits it (replace workflow). "
            f"(a) Rank-frequency curves of one chain (M = {snapshot_size:,}, maximum-likelihood refit) at "
            f"generations {', '.join(str(n) for n in snapshots)}: the rare words vanish first. (b) Expected number "
            "of surviving words against n for several M: exact (lines, theory.numeric.discrete_exact_values) over "
            f"Monte Carlo mean +- 2 SE ({chains} chains each, theory.montecarlo.simulate_discrete). (c) The same at "
            f"M = {learner_size:,} ({QUICK_LEARNER_CHAINS if quick else LEARNER_CHAINS} chains each) when the "
            "successor's data are sampled with a temperature or nucleus (top-p) truncation: these couple the "
            "words, there is no exact value at this K, and only the Monte Carlo is drawn (labelled); the exact maximum-likelihood line for reference. (d) Expected generation-0 "
            "probability mass of the lost words, exact over Monte Carlo."
        ),
        "source": spec,
        "categories": k,
        "labels_top": list(source.labels[:10]) if source.labels is not None else None,
        "source_probabilities": _grouped_descending(source.probabilities)[0],
        "source_multiplicities": _grouped_descending(source.probabilities)[1],
        "sample_sizes": list(sizes),
        "snapshot_sample_size": snapshot_size,
        "learner_sample_size": learner_size,
        "chains": chains,
        "reported_generations": gens,
        "snapshots": snapshot_curves,
        "by_sample_size": by_size,
        "by_learner": by_learner,
    }


def _wordfreq_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wordfreq")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def _band(ax, gens, curve, q, colour, *, label_exact, label_mc):
    """Monte Carlo band (mean +- 2 SE) and the exact line over it; the Monte Carlo mean as a thin line where
    there is no exact value. Returns whether the exact value was drawn."""
    mc = curve["monte_carlo"][q]
    mean, se = array(mc["mean"]), array(mc["se"])
    shown = gens >= 1
    ax.fill_between(gens[shown], (mean - 2 * se)[shown], (mean + 2 * se)[shown], color=colour, alpha=0.3, lw=0)
    exact = curve["exact"].get(q)
    if exact is not None:
        ax.plot(gens[shown], array(exact)[shown], "-", color=colour, lw=1.1, label=label_exact)
        return True
    ax.plot(gens[shown], mean[shown], "--", color=colour, lw=0.9, label=label_mc)
    return False


def plot(data: dict):
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    gens = np.asarray(data["reported_generations"], dtype=float)
    k = data["categories"]
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 6.6))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    # (a) rank-frequency curves of one chain
    last = max(s["generation"] for s in data["snapshots"])
    cmap = plt.get_cmap("viridis")
    norm = Normalize(vmin=0, vmax=np.log1p(last))
    for shot in data["snapshots"]:
        values = np.repeat(array(shot["probabilities"]), np.asarray(shot["multiplicities"], dtype=int))
        ranks = np.arange(1, values.size + 1)
        n = shot["generation"]
        colour = "black" if n == 0 else cmap(0.9 * norm(np.log1p(n)))
        ax_a.loglog(ranks, values, "-", color=colour, lw=1.0 if n == 0 else 0.9, drawstyle="steps-post",
                    label=f"n = {n}: {shot['surviving']:,} words")
        ax_a.plot([ranks[-1]], [values[-1]], "o", color=colour, ms=2.5)
    m_a = data["snapshot_sample_size"]
    ax_a.axhline(1.0 / m_a, color="black", lw=0.6, ls=":")
    ax_a.text(1.2, 1.25 / m_a, f"one count (1/M, M = {m_a:,})", fontsize=6)
    ax_a.set_xlabel("rank")
    ax_a.set_ylabel("probability $p_{n,k}$")
    ax_a.set_title(f"(a) one chain, M = {m_a:,}: rank-frequency", fontsize=8)
    ax_a.legend(loc="upper right", fontsize=6)

    # (b), (d) exact over Monte Carlo for several M
    for ax, q in ((ax_b, "surviving_mean"), (ax_d, "tail_mass_lost_mean")):
        for i, curve in enumerate(data["by_sample_size"]):
            colour = SIZE_COLOURS[i % len(SIZE_COLOURS)]
            _band(ax, gens, curve, q, colour, label_exact=f"{curve['label']}: exact",
                  label_mc=f"{curve['label']}: Monte Carlo mean (no exact value)")
        ax.fill_between([], [], [], color="0.5", alpha=0.3, lw=0, label="Monte Carlo mean $\\pm$ 2 SE")
        ax.set_xscale("log")
        ax.set_xlabel("generation n")
    ax_b.set_yscale("log")
    ax_b.axhline(k, color="black", lw=0.6, ls=":")
    ax_b.set_ylabel("E surviving words")
    ax_b.set_title(f"(b) surviving vocabulary (of {k:,}), MLE", fontsize=8)
    ax_b.legend(loc="lower left", fontsize=6)
    ax_d.set_ylabel("E generation-0 mass of lost words")
    ax_d.set_ylim(0, 1)
    ax_d.set_title("(d) tail mass lost, MLE", fontsize=8)
    ax_d.legend(loc="upper left", fontsize=6)

    # (c) learners that sample like a language model: Monte Carlo only where there is no exact value
    for curve in data["by_learner"]:
        colour = LEARNER_COLOURS.get(curve["label"], "0.3")
        _band(ax_c, gens, curve, "surviving_mean", colour, label_exact=f"{curve['label']}: exact",
              label_mc=f"{curve['label']}: Monte Carlo")
    ax_c.fill_between([], [], [], color="0.5", alpha=0.3, lw=0, label="Monte Carlo mean $\\pm$ 2 SE")
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    ax_c.axhline(k, color="black", lw=0.6, ls=":")
    ax_c.set_xlabel("generation n")
    ax_c.set_ylabel("E surviving words")
    ax_c.set_title(f"(c) sampling biases, M = {data['learner_sample_size']:,}", fontsize=8)
    ax_c.legend(loc="lower left", fontsize=6)
    fig.suptitle(f"{k:,} most common English words ({data['source']}), replace workflow", fontsize=9)
    return fig
