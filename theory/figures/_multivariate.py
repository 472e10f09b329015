"""Figure ``multivariate``: the d-dimensional Gaussian chain keeps its trace while its volume collapses.

The chain is :class:`theory.chain.MultivariateGaussianChain` (replace workflow): each generation fits the sample
mean and covariance of ``M = 10 d`` points of the current model. For ``d = 2, 10, 100``, an isotropic source
(``Sigma = I``) and an anisotropic one (eigenvalues geometric from 1 down to ``1e-2``, rotated by a fixed Haar
orthogonal matrix drawn from ``numpy.random.default_rng(ROTATION_SEED)``: :func:`anisotropic_covariance`). Panels:

(a) ``E tr Sigma_n / tr Sigma`` against ``n``: exact lines (:func:`theory.numeric.multivariate_exact_values`) for
    the unbiased learner (``= 1``) and the MLE (``(1 - 1/M)^n``), over Monte Carlo mean +- 2 SE
    (:func:`theory.montecarlo.simulate_multivariate`, sufficient mode: the Bartlett decomposition);
(b) ``(E log det Sigma_n - log det Sigma) / d`` against ``n``: exact lines, linear in ``n`` (``log det Sigma_n`` is a
    random walk; its drift, :func:`theory.numeric.log_det_drift`, is its almost-sure rate), over Monte Carlo bands:
    the volume collapses while the trace is kept;
(c) the mean effective rank ``E exp(H(Sigma_n)) / d`` (``H`` the entropy of the normalised eigenvalues; Roy and
    Vetterli 2007), unbiased learner, Monte Carlo only: there is no exact value (the MLE's ``Sigma_n`` is the
    unbiased one times ``((M - 1)/M)^n`` in law, so its effective rank has the same law);
(d), (e) the spectrum of one setting (``d = 10``, unbiased learner; isotropic, anisotropic): the Monte Carlo mean of
    each ascending eigenvalue of ``Sigma_n`` (``MultivariateSimulation.eigenvalues``) +- 2 SE against ``n``, log
    scale, with the eigenvalues of the exact ``E Sigma_n = Sigma`` (the ``covariance_mean`` of
    ``multivariate_exact_values``) as dotted lines: the mean stays, the spectrum spreads, the smallest directions
    die first.

The exact values drawn in (a) and (b), ``E tr Sigma_n / tr Sigma = r^n`` and ``E log det Sigma_n - log det Sigma =
n * drift``, do not depend on ``Sigma`` (the fit is affine-equivariant), so one exact line per ``d`` and learner
serves both sources; the two sources' Monte Carlo runs are independent (separate seeds).

The figure only plots: every number comes from the library.
"""

from __future__ import annotations

import numpy as np

from ._io import array

NAME = "multivariate"
TITLE = ("The multivariate Gaussian chain (d = 2, 10, 100; M = 10 d; Sigma = I and a rotated anisotropic Sigma): "
         "E tr Sigma_n kept, E log det Sigma_n falling linearly, the spectrum spreading; exact and Monte Carlo")
REPRODUCES = ("new: the multivariate chain's exact trace and volume (log-determinant drift) over Monte Carlo, and "
              "the eigenvalue spectrum over generations (cf. the isotropic simulations of Kazdan, Schaeffer et al. "
              "2024 up to d = 100)")

DIMENSIONS = (2, 10, 100)
#: The --quick preview's dimensions: each dimension is one compiled program of simulate_multivariate (measured at
#: load 8 on the 2-core machine: about 6 s of CPU at d = 2, 9 s at d = 10, 20 s at d = 100), the bulk of the
#: figure's cost; the preview leaves d = 100 out.
QUICK_DIMENSIONS = (2, 10)
#: ``M = SAMPLE_SIZE_FACTOR * d``: the per-dimension drift of log det is then about ``-(d + 1)/(2 (M - 1))``, near
#: ``-1/20`` for every ``d``, so the three dimensions share the axes.
SAMPLE_SIZE_FACTOR = 10
LEARNERS = ("unbiased", "mle")
COVARIANCES = ("isotropic", "anisotropic")
#: The anisotropic source: eigenvalues ``geomspace(1, SMALLEST_EIGENVALUE, d)``, rotated by a Haar orthogonal matrix
#: from ``numpy.random.default_rng(ROTATION_SEED)`` (fixed: the source does not change with ``--seed``).
SMALLEST_EIGENVALUE = 1e-2
ROTATION_SEED = 20241111
GENERATIONS, QUICK_GENERATIONS = 100, 20
#: Per dimension: (Monte Carlo chains per run, stride of the reported generations). Each reported generation of a
#: run costs two SVDs of Sigma_n's factor per chain (eigenvalues, W2): cheap for d <= 10, the bulk of a d = 100
#: run, so d = 100 reports every 25th generation from 16 chains (about 2 s of CPU a run, after its compilation):
#: its bands are still narrow, since tr Sigma_n / d and log det Sigma_n / d concentrate as d grows.
RUNS = {2: (4000, 1), 10: (500, 1), 100: (16, 25)}
QUICK_RUNS = {2: (1000, 1), 10: (400, 1)}
#: The setting of the spectrum panels (d), (e): dimension and learner.
SPECTRUM_DIMENSION, SPECTRUM_LEARNER = 10, "unbiased"

#: colours of the dimensions, in the order of ``data["dimensions"]`` (the style's Okabe-Ito cycle)
DIMENSION_COLOURS = ("C0", "C1", "C2", "C3")
LEARNER_STYLES = {"unbiased": "-", "mle": "--"}


def anisotropic_covariance(dimension: int) -> np.ndarray:
    """The figure's anisotropic ``Sigma``: ``Q diag(geomspace(1, SMALLEST_EIGENVALUE, d)) Q^T`` with ``Q`` a Haar
    orthogonal matrix (QR of a standard normal matrix, signs fixed by ``R``'s diagonal) drawn from
    ``numpy.random.default_rng(ROTATION_SEED)``; exactly symmetric. For ``d = 1``: ``[[1.0]]``."""
    eigenvalues = np.geomspace(1.0, SMALLEST_EIGENVALUE, dimension)
    rng = np.random.default_rng(ROTATION_SEED)
    q, r = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    q = q * np.sign(np.diag(r))
    sigma = (q * eigenvalues) @ q.T
    return 0.5 * (sigma + sigma.T)


def covariance_of(kind: str, dimension: int) -> np.ndarray:
    """``Sigma`` of the source ``kind`` (``"isotropic"``: the identity; ``"anisotropic"``:
    :func:`anisotropic_covariance`)."""
    if kind == "isotropic":
        return np.eye(dimension)
    if kind == "anisotropic":
        return anisotropic_covariance(dimension)
    raise ValueError(f"unknown covariance kind {kind!r}")


def simulation_seed(key, index: int) -> int:
    """A 31-bit integer seed for ``simulate_multivariate`` from the figure's key and a run index."""
    import jax

    return int(jax.random.randint(jax.random.fold_in(key, index), (), 0, 2**31 - 1))


def monte_carlo_generations(stride: int, generations: int) -> list[int]:
    """The generations a Monte Carlo run reports: ``0, stride, 2 stride, ...`` and the last."""
    return sorted({*range(0, generations + 1, stride), generations})


def _run(chain, gens_exact, gens_mc, *, chains, seed, keep_spectrum) -> dict:
    from ..montecarlo import simulate_multivariate
    from ..numeric import log_det_drift, multivariate_exact_values

    ex = multivariate_exact_values(chain, gens_exact)
    sim = simulate_multivariate(chain, gens_mc, chains=chains, seed=seed, mode="sufficient")
    if list(sim.generations) != list(gens_mc):
        raise AssertionError("simulate_multivariate returned other generations than asked")
    at_mc = [gens_exact.index(n) for n in gens_mc]
    mc, z = {}, {}
    for q in ("trace_mean", "log_det_mean", "effective_rank_mean"):
        mean, se = np.asarray(sim.mean[q], dtype=np.float64), np.asarray(sim.se[q], dtype=np.float64)
        mc[q] = {"mean": mean, "se": se}
        if q in ex:  # no exact value of the effective rank: Monte Carlo only
            with np.errstate(invalid="ignore", divide="ignore"):
                z[q] = np.where(se > 0, (mean - np.asarray(ex[q])[at_mc]) / se, np.nan)
    out = {
        "dimension": chain.dimension,
        "sample_size": chain.sample_size,
        "learner": chain.learner,
        "chains": int(sim.chains),
        "seed": int(seed),
        "mode": sim.mode,
        "trace": float(np.trace(chain.covariance)),
        "log_det": float(np.linalg.slogdet(chain.covariance)[1]),
        "drift": log_det_drift(chain),
        "monte_carlo_generations": list(gens_mc),
        "exact": {q: np.asarray(ex[q], dtype=np.float64) for q in ("trace_mean", "trace_var", "log_det_mean")},
        "monte_carlo": mc,
        "z": z,
    }
    if keep_spectrum:
        out["eigenvalues_mean"] = np.asarray(sim.eigenvalues, dtype=np.float64)
        out["eigenvalues_se"] = np.asarray(sim.eigenvalues_se, dtype=np.float64)
        # the eigenvalues of the exact E Sigma_n, ascending, at the Monte Carlo generations
        out["exact_mean_covariance_eigenvalues"] = np.array(
            [np.linalg.eigvalsh(np.asarray(ex["covariance_mean"][i])) for i in at_mc])
    return out


def compute(key, *, quick: bool) -> dict:
    from ..chain import MultivariateGaussianChain

    generations = QUICK_GENERATIONS if quick else GENERATIONS
    gens_exact = list(range(generations + 1))
    dimensions = QUICK_DIMENSIONS if quick else DIMENSIONS
    settings = QUICK_RUNS if quick else RUNS
    chains_by_d = {d: settings[d][0] for d in dimensions}
    runs = []
    index = 0
    for d in dimensions:
        gens_mc = monte_carlo_generations(settings[d][1], generations)
        for kind in COVARIANCES:
            sigma = covariance_of(kind, d)
            for learner in LEARNERS:
                chain = MultivariateGaussianChain(SAMPLE_SIZE_FACTOR * d, sigma, learner=learner)
                run = _run(chain, gens_exact, gens_mc, chains=chains_by_d[d], seed=simulation_seed(key, index),
                           keep_spectrum=(d == SPECTRUM_DIMENSION and learner == SPECTRUM_LEARNER))
                runs.append({"covariance": kind, **run})
                index += 1
    # where tr Sigma_n turns heavy-tailed: the first n with exact Var tr Sigma_n / (E tr Sigma_n)^2 > 1 (smallest d,
    # unbiased, Sigma = I)
    first = next(r for r in runs if r["dimension"] == dimensions[0] and r["learner"] == "unbiased"
                 and r["covariance"] == "isotropic")
    spread = first["exact"]["trace_var"] / first["exact"]["trace_mean"] ** 2
    heavy = next((n for n, v in zip(gens_exact, spread) if v > 1), None)
    heavy_text = (f"At d = {dimensions[0]} (M = {first['sample_size']}) tr Sigma_n becomes heavy-tailed within the "
                  f"plotted generations (its exact Var tr Sigma_n / (E tr Sigma_n)^2 exceeds 1 from n = {heavy}, "
                  "Sigma = I, unbiased), so the Monte Carlo mean falls below the exact line there and its SE is "
                  "unreliable. " if heavy is not None else "")
    chains_text = ", ".join(f"{chains_by_d[d]:,} chains at d = {d}" for d in dimensions)
    return {
        "caption": (
            f"The d-dimensional Gaussian chain (replace workflow), M = {SAMPLE_SIZE_FACTOR} d points a generation, "
            f"{generations} generations, for d = {', '.join(str(d) for d in dimensions)}; sources Sigma = I "
            "(Monte Carlo: filled bands) and an anisotropic Sigma (eigenvalues geometric from 1 to "
            f"{SMALLEST_EIGENVALUE:g}, rotated by a Haar orthogonal matrix from numpy.random.default_rng("
            f"{ROTATION_SEED}); Monte Carlo: error bars). (a) E tr Sigma_n / tr Sigma and (b) (E log det Sigma_n "
            "- log det Sigma)/d: exact lines (theory.numeric.multivariate_exact_values; unbiased solid, MLE "
            "dashed; they do not depend on Sigma) over Monte Carlo mean +- 2 SE (theory.montecarlo."
            f"simulate_multivariate, sufficient mode, {chains_text}). The unbiased learner keeps E tr Sigma_n = "
            "tr Sigma exactly while log det Sigma_n, a random walk, falls linearly: the volume collapses almost "
            "surely. " + heavy_text + "(c) The mean effective rank exp(H) / d (H the entropy of Sigma_n's "
            "normalised eigenvalues), unbiased learner: Monte Carlo only, no exact value (the MLE's Sigma_n is the "
            "unbiased one times ((M - 1)/M)^n in law: same effective rank). "
            f"(d), (e) d = {SPECTRUM_DIMENSION}, "
            f"{SPECTRUM_LEARNER} learner: the Monte Carlo mean of each ascending eigenvalue of Sigma_n +- 2 SE, "
            "with the eigenvalues of the exact E Sigma_n = Sigma dotted: the mean stays, the spectrum spreads and "
            "the smallest directions die first."
        ),
        "dimensions": list(dimensions),
        "heavy_tail_from": heavy,
        "sample_size_factor": SAMPLE_SIZE_FACTOR,
        "learners": list(LEARNERS),
        "covariances": list(COVARIANCES),
        "anisotropic": {"eigenvalues": f"geomspace(1, {SMALLEST_EIGENVALUE:g}, d)",
                        "rotation": f"Haar orthogonal, QR of numpy.random.default_rng({ROTATION_SEED})"
                                    ".standard_normal((d, d)), signs of R's diagonal"},
        "generations": generations,
        "exact_generations": gens_exact,
        "spectrum_dimension": SPECTRUM_DIMENSION,
        "spectrum_learner": SPECTRUM_LEARNER,
        "runs": runs,
    }


def _band(ax, gens, mean, se, colour, kind, *, scale=1.0, line=False):
    """Monte Carlo mean +- 2 SE: a filled band (isotropic) or error bars (anisotropic); with ``line``, the mean too
    (thin; dashed for anisotropic), with markers where the reported generations are sparse."""
    mean, se = mean / scale, se / scale
    sparse = gens.size > 1 and np.min(np.diff(gens)) > 1
    if kind == "isotropic":
        ax.fill_between(gens, mean - 2 * se, mean + 2 * se, color=colour, alpha=0.3, lw=0)
        if line:
            ax.plot(gens, mean, "-", color=colour, lw=0.7, marker="o" if sparse else None, ms=2.5)
    else:
        ax.errorbar(gens, mean, yerr=2 * se, fmt="o", color=colour, ms=1.6, lw=0.6, elinewidth=0.6, mfc="none",
                    mew=0.5, capsize=0)
        if line:
            ax.plot(gens, mean, "--", color=colour, lw=0.6)


def _run_of(data, d, learner, kind):
    return next(r for r in data["runs"] if (r["dimension"], r["learner"], r["covariance"]) == (d, learner, kind))


def plot(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplot_mosaic([["a", "a", "b", "b", "c", "c"], ["d", "d", "d", "e", "e", "e"]],
                                   figsize=(8.4, 7.0))
    ax_a, ax_b, ax_c, ax_d, ax_e = (axes[k] for k in "abcde")
    gens_exact = np.asarray(data["exact_generations"], dtype=float)

    def colour_of(d):
        return DIMENSION_COLOURS[data["dimensions"].index(d) % len(DIMENSION_COLOURS)]

    # (a), (b): exact lines (one per d and learner: Sigma-free) over the Monte Carlo of both sources
    drawn = set()
    for run in data["runs"]:
        d, learner, kind = run["dimension"], run["learner"], run["covariance"]
        colour, ls = colour_of(d), LEARNER_STYLES.get(learner, ":")
        gens_mc = np.asarray(run["monte_carlo_generations"], dtype=float)
        shown = gens_mc >= 1
        for ax, q, scale in ((ax_a, "trace_mean", run["trace"]), (ax_b, "log_det_mean", d)):
            mc = run["monte_carlo"][q]
            _band(ax, gens_mc[shown], array(mc["mean"])[shown], array(mc["se"])[shown], colour, kind, scale=scale)
            if (d, learner, q) not in drawn:
                drawn.add((d, learner, q))
                label = f"d = {d}, M = {run['sample_size']:,}, {learner}"
                if q == "log_det_mean":
                    label += f": {run['drift'] / d:+.3f} n"
                ax.plot(gens_exact, array(run["exact"][q]) / scale, ls, color=colour, lw=1.0, label=label)

    # (c): the effective rank exp(H) / d, Monte Carlo only (no exact value); the learners' laws are equal
    for d in data["dimensions"]:
        for kind in data["covariances"]:
            run = _run_of(data, d, "unbiased", kind)
            gens_mc = np.asarray(run["monte_carlo_generations"], dtype=float)
            mc = run["monte_carlo"]["effective_rank_mean"]
            _band(ax_c, gens_mc, array(mc["mean"]), array(mc["se"]), colour_of(d), kind, scale=d, line=True)
        ax_c.plot([], [], "s", color=colour_of(d), ms=4, label=f"d = {d}")
    for ax in (ax_a, ax_b, ax_c):
        ax.fill_between([], [], [], color="0.5", alpha=0.3, lw=0, label="Monte Carlo $\\pm$ 2 SE, $\\Sigma = I$")
        ax.errorbar([], [], yerr=[], fmt="o", color="0.3", ms=1.6, mfc="none", mew=0.5, elinewidth=0.6,
                    label="Monte Carlo $\\pm$ 2 SE, anisotropic $\\Sigma$")
        ax.set_xlabel("generation n")
        ax.set_xlim(0, data["generations"])
    # log scale: where tr Sigma_n is heavy-tailed (small d, late n) the band's lower edge reaches 0 (gaps)
    ax_a.set_yscale("log")
    ax_a.set_ylabel("E tr $\\Sigma_n$ / tr $\\Sigma$")
    ax_a.set_title("(a) trace: kept by the unbiased learner", fontsize=8)
    ax_a.legend(loc="lower left", fontsize=5)
    ax_b.set_ylabel("(E log det $\\Sigma_n$ $-$ log det $\\Sigma$) / d")
    ax_b.set_title("(b) volume: exact drift, linear in n", fontsize=8)
    ax_b.legend(loc="lower left", fontsize=5)
    ax_c.set_ylabel("E effective rank / d")
    ax_c.set_ylim(0, 1.05)
    ax_c.set_title("(c) effective rank, unbiased (MC only)", fontsize=8)
    ax_c.legend(loc="lower left", fontsize=5)

    # (d), (e): the spectrum of one setting
    for ax, kind, letter in ((ax_d, "isotropic", "(d)"), (ax_e, "anisotropic", "(e)")):
        run = _run_of(data, data["spectrum_dimension"], data["spectrum_learner"], kind)
        gens_mc = np.asarray(run["monte_carlo_generations"], dtype=float)
        mean, se = array(run["eigenvalues_mean"]), array(run["eigenvalues_se"])
        reference = array(run["exact_mean_covariance_eigenvalues"])
        d = mean.shape[1]
        cmap = plt.get_cmap("viridis")
        for j in range(d):
            colour = cmap(0.9 * j / max(d - 1, 1))
            ax.fill_between(gens_mc, mean[:, j] - 2 * se[:, j], mean[:, j] + 2 * se[:, j], color=colour, alpha=0.3,
                            lw=0)
            ax.plot(gens_mc, mean[:, j], "-", color=colour, lw=0.9)
            ax.plot(gens_mc, reference[:, j], ":", color=colour, lw=0.7)
        ax.plot([], [], "-", color="0.3", lw=0.9, label="E $\\lambda_j(\\Sigma_n)$, Monte Carlo $\\pm$ 2 SE")
        ax.plot([], [], ":", color="0.3", lw=0.7, label="$\\lambda_j$(E $\\Sigma_n$) (exact)")
        ax.set_yscale("log")
        ax.set_xlabel("generation n")
        ax.set_xlim(0, data["generations"])
        ax.set_ylabel("mean eigenvalue (ascending j)")
        source = "$\\Sigma = I$" if kind == "isotropic" else "anisotropic $\\Sigma$"
        ax.set_title(f"{letter} spectrum, d = {d}, M = {run['sample_size']}, {run['learner']}, {source}",
                     fontsize=8)
        ax.legend(loc="lower left", fontsize=6)
    fig.suptitle("Multivariate Gaussian chain, replace workflow: exact (lines) and Monte Carlo (bands, bars)",
                 fontsize=9)
    return fig
