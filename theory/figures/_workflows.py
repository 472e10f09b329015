"""Figure ``workflows``: what the training workflow does to the Gaussian chain over 1000 generations.

For one sample size ``M`` and each workflow (``replace``; ``mix`` with fresh real data and ``mix-fixed`` with a
fixed set of real data, at two fractions ``LAMBDA``; ``accumulate``; ``accumulate-subsample`` with ``K = M``),
three panels over generations (log x): ``E W2^2(p_n, p_0)``, ``E sigma_n^2`` and ``E(mu_n - mu)^2``, one row per
learner. Lines: the exact values of :func:`theory.exact_values` where the workflow has them (a key that is
``None`` there has no exact value: only the Monte Carlo is drawn, and the exact bounds where ``exact_values``
gives them); bands: Monte Carlo mean +- 2 SE of :func:`theory.simulate` (``sufficient`` mode, exact in law,
wherever it applies; ``samples`` mode for ``accumulate-subsample``); horizontal dotted lines: the limits
n -> infinity of :func:`theory.numeric.workflow_limits` where they exist.

It shows the contrast of Kazdan, Schaeffer et al. (2024) and Gerstgrasser et al. (2024): replacing the data
collapses the chain (maximum-likelihood learner: ``E sigma_n^2 = (1 - 1/M)^n sigma^2 -> 0`` and
``E W2^2 -> 2 sigma^2``), accumulating keeps the error within ``pi^2/6`` of one generation's; and the fixed
points that mixing in real data reaches (Bertrand et al. 2024).
"""

from __future__ import annotations

import numpy as np

from ._io import array

NAME = "workflows"
TITLE = "Training workflows (replace, mix real data, accumulate, accumulate-subsample): exact moments and Monte Carlo"
REPRODUCES = ("new: the replace-versus-accumulate contrast (Kazdan, Schaeffer et al. 2024; Gerstgrasser et al. "
              "2024) and the fixed points of mixing in real data (Bertrand et al. 2024), exactly")

SAMPLE_SIZE = 100
#: The maximum-likelihood fit (divisor M), as the papers compared here fit (Kazdan et al., Gerstgrasser et al.,
#: Bertrand et al.); the unbiased learner's numbers are one ``theory.exact_values`` / ``theory.simulate`` call away.
LEARNERS = ("mle",)
WORKFLOWS = ("replace", "mix:0.1", "mix:0.5", "mix-fixed:0.1", "mix-fixed:0.5", "accumulate",
             f"accumulate-subsample:{SAMPLE_SIZE}")
PANELS = ("w2_sq_mean", "variance_mean", "mean_sq_error")
GENERATIONS, QUICK_GENERATIONS = 1000, 100
CHAINS, QUICK_CHAINS = 4000, 1000
#: accumulate-subsample runs in samples mode and keeps each chain's pool (M (n + 1) points): fewer chains.
SUBSAMPLE_CHAINS, QUICK_SUBSAMPLE_CHAINS = 200, 200
POINTS = 60  # reported generations, about evenly spaced on the log axis

#: colour and line style of each workflow (the style's Okabe-Ito colours; mix-fixed dashed).
STYLE = {
    "replace": ("C7", "-"),
    "mix:0.1": ("C0", "-"),
    "mix:0.5": ("C5", "-"),
    "mix-fixed:0.1": ("C3", "--"),
    "mix-fixed:0.5": ("C4", "--"),
    "accumulate": ("C2", "-"),
    f"accumulate-subsample:{SAMPLE_SIZE}": ("C1", "-"),
}


def report_generations(generations: int, points: int = POINTS) -> list[int]:
    """``0`` and about ``points`` generations in ``1..generations``, evenly spaced in log n (all of them when few)."""
    grid = np.unique(np.round(np.geomspace(1, generations, points)).astype(int))
    return [0, *(int(g) for g in grid)]


def _plain_or_none(values):
    return None if values is None else np.asarray(values, dtype=np.float64)


def _exact(chain, gens) -> dict:
    """The panels' exact values (``None`` where the workflow has none), bounds and notes, from exact_values."""
    from ..numeric import exact_values

    ex = exact_values(chain, gens)
    bounds = ex.get("bounds") or {}
    notes = ex.get("notes") or {}
    return {
        "values": {q: _plain_or_none(ex.get(q)) for q in PANELS},
        "bounds": {q: [np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)]
                   for q, (lo, hi) in bounds.items() if q in PANELS},
        "notes": {q: str(v) for q, v in notes.items() if q in PANELS},
    }


def _limits(chain) -> dict:
    """``{quantity: limit}`` of :func:`theory.numeric.workflow_limits` for the panels (``None``: no limit / not
    derived); ``{}`` for replace."""
    if chain.workflow.is_replace:  # no finite limit for replace (E(mu_n - mu)^2 grows, sigma_n -> 0 a.s.)
        return {}
    from ..numeric import workflow_limits

    limits = workflow_limits(chain)
    out = {}
    for q in PANELS:
        value = limits.get(q)
        try:
            out[q] = None if value is None else float(value)
        except (TypeError, ValueError):
            out[q] = None
    return out


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..chain import GaussianChain
    from ..montecarlo import simulate

    generations = QUICK_GENERATIONS if quick else GENERATIONS
    gens = report_generations(generations)
    rows = {}
    for li, learner in enumerate(LEARNERS):
        curves = []
        for wi, workflow in enumerate(WORKFLOWS):
            chain = GaussianChain(SAMPLE_SIZE, learner=learner, workflow=workflow)
            subsample = workflow.startswith("accumulate-subsample")
            mode = "samples" if subsample else "sufficient"
            if subsample:
                chains = QUICK_SUBSAMPLE_CHAINS if quick else SUBSAMPLE_CHAINS
            else:
                chains = QUICK_CHAINS if quick else CHAINS
            sim = simulate(jax.random.fold_in(key, 100 * li + wi), chain, chains=chains, generations=gens,
                           mode=mode, progress=False)
            exact = _exact(chain, gens)
            mc = {q: {"mean": np.asarray(sim[q]), "se": np.asarray(sim[q + "_se"])} for q in PANELS}
            z = {}
            for q in PANELS:
                value = exact["values"][q]
                if value is not None:
                    se = mc[q]["se"]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        z[q] = np.where(se > 0, (mc[q]["mean"] - value) / se, np.nan)
            curves.append({
                "workflow": workflow,
                "mode": mode,
                "chains": chains,
                "exact": exact["values"],
                "exact_bounds": exact["bounds"],
                "exact_notes": exact["notes"],
                # the limits' SymPy derivation (about 9 s without the cache) is left out of the --quick preview
                "limits": {} if quick else _limits(chain),
                "monte_carlo": mc,
                "z": z,
            })
        rows[learner] = curves
    return {
        "caption": (
            f"1-D Gaussian chain (mu = 0, sigma = 1), M = {SAMPLE_SIZE} points a generation, {generations} "
            "generations, for each training workflow: replace (the paper's chain), mix with a fraction LAMBDA of "
            "fresh real data (solid) or of a fixed real set (mix-fixed, dashed), LAMBDA = 0.1 and 0.5, accumulate "
            f"(fit the whole pool) and accumulate-subsample (fit K = {SAMPLE_SIZE} points drawn without replacement "
            "from the pool). Lines: exact values (theory.exact_values), drawn only where the workflow has them; "
            "thin lines: the Monte Carlo mean where there is no exact value (E W2^2 needs E sigma_n, which has "
            "no closed form under mixing or pooling; its exact bounds are in the data file); bands: Monte Carlo "
            "mean +- 2 SE "
            f"(theory.simulate; {QUICK_CHAINS if quick else CHAINS} chains in sufficient mode, "
            f"{QUICK_SUBSAMPLE_CHAINS if quick else SUBSAMPLE_CHAINS} in samples mode for accumulate-subsample); "
            + ("no limits in the --quick preview. " if quick else
               "horizontal dotted lines: limits n -> infinity (theory.numeric.workflow_limits). ")
            + "Replace lets the error "
            "grow without bound, accumulating keeps it bounded, mixing in real data reaches a fixed point. Where "
            "sigma_n^2 is heavy-tailed (replace, n >> M) the Monte Carlo mean falls below the exact value and its "
            "standard error is unreliable."
        ),
        "mu": 0.0,
        "sigma": 1.0,
        "sample_size": SAMPLE_SIZE,
        "generations": generations,
        "reported_generations": gens,
        "learners": list(LEARNERS),
        "workflows": list(WORKFLOWS),
        "quantities": list(PANELS),
        "curves": rows,
    }


def plot(data: dict):
    import matplotlib.pyplot as plt

    from ..quantities import REGISTRY

    learners = data["learners"]
    fig, axes = plt.subplots(len(learners), len(PANELS), figsize=(8.4, 2.7 * len(learners) + 0.7), sharex=True,
                             squeeze=False)
    gens = np.asarray(data["reported_generations"], dtype=float)
    shown = gens >= 1
    for r, learner in enumerate(learners):
        for c, q in enumerate(data["quantities"]):
            ax = axes[r, c]
            for curve in data["curves"][learner]:
                colour, ls = STYLE.get(curve["workflow"], ("0.3", "-"))
                mc = curve["monte_carlo"][q]
                mean, se = array(mc["mean"]), array(mc["se"])
                ax.fill_between(gens[shown], (mean - 2 * se)[shown], (mean + 2 * se)[shown], color=colour,
                                alpha=0.3, lw=0)
                exact = curve["exact"].get(q)
                if exact is not None:
                    ax.plot(gens[shown], array(exact)[shown], ls, color=colour, lw=1.0)
                else:
                    ax.plot(gens[shown], mean[shown], ls, color=colour, lw=0.5, alpha=0.8)
                limit = curve["limits"].get(q)
                if limit is not None and np.isfinite(limit) and limit > 0:
                    ax.axhline(limit, color=colour, ls=":", lw=0.7)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"${REGISTRY[q].latex}$, {learner}", fontsize=8)
            if r == len(learners) - 1:
                ax.set_xlabel("generation n")
    for workflow in data["workflows"]:
        colour, ls = STYLE.get(workflow, ("0.3", "-"))
        axes[0, 0].plot([], [], ls, color=colour, lw=1.0, label=workflow)
    axes[0, 0].fill_between([], [], color="0.5", alpha=0.3, lw=0, label="Monte Carlo $\\pm$ 2 SE")
    axes[0, 0].plot([], [], ":", color="0.3", lw=0.7, label="limit $n\\to\\infty$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=6)
    fig.suptitle(f"Training workflows, M = {data['sample_size']}: exact (lines) and Monte Carlo (bands)",
                 fontsize=9)
    return fig
