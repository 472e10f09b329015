"""Figure ``vae_digits``: a small VAE trained generation after generation on scikit-learn's 8x8 digits.

Modelled on the paper's VAE figure (Shumailov et al., Nature 2024, Fig. on VAEs: samples of later generations lose
the digits' variety). Top: samples of generation 0 (the real digits), 5, 10 and 20 of one seed, under ``replace``
(each VAE trained on the previous one's samples) and ``accumulate`` (trained on the pool of the real digits and every
generation's samples). Bottom, over generations, mean +- 2 SE over seeds (:func:`theory.montecarlo._vae.simulate_vae`):
the Frechet distance (``W2^2`` between Gaussian fits of the 64-pixel vectors) to the real digits, the pixel variance,
the sample diversity (mean pairwise distance) and the variance of the encoder means (the latent; the prior's is 1).
Last panel: the same chains when a sample is a Bernoulli draw of every pixel from the decoder's mean instead of the
mean image itself (fewer seeds and generations; the jump at n = 1 is the binarisation of the grey digits).

What to notice. With samples = decoder means (what a VAE is shown by, and what the paper's figure shows), the chain
collapses under replace to one blurred image within about 5 generations, and under accumulate too, only more
slowly: accumulating real data does not hold it. The reason is the sampler, not the finite data: a decoder mean
averages over the posterior, so each fit keeps only A_hat ~ 0.46 of the pixel variance (the functional-approximation
bias), and a Gaussian chain with such a bias collapses under accumulate as well (as a power of n instead of
geometrically). --decompose of ``simulate --learner vae`` confirms it: the statistical part is within its standard
error of 0. With Bernoulli samples (no such shrinkage: the pixel marginals are kept) replace drifts slowly and
accumulate holds, the contrast of the Gaussian chain.

Theory beside it: the multivariate Gaussian chain (:class:`theory.chain.MultivariateGaussianChain`, learner ``mle``)
with the digits' mean and covariance, the same ``M`` and workflow, through
:func:`theory.numeric.multivariate_exact_values`: ``E tr Sigma_n / 64`` over the pixel variance and the exact
bounds on ``E W2^2`` over the Frechet distance. The covariance is restricted to the 61 pixels that are not always 0
(the other 3 have variance 0, so the trace is the same; the restricted matrix is positive definite, smallest
eigenvalue 1.6e-6). Two Gaussian chains: ``A = 1`` (finite samples only: at ``M = 1797`` it predicts a 1 % loss of
variance in 20 generations) and ``A = A_hat``, the VAE's one-generation shrinkage of the pixel variance (generation 1
over generation 0 of the replace runs, one number), i.e. the Gaussian chain with the VAE's functional-approximation
bias as its ``variance_scale``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._io import array

NAME = "vae_digits"
TITLE = "A VAE trained on its own samples (8x8 digits): samples over generations, distance and diversity"
REPRODUCES = ("the paper's VAE figure (Shumailov et al. 2024), on scikit-learn's 8x8 digits, replace vs accumulate, "
              "with the Gaussian chain's prediction for the same M")

WORKFLOWS = ("replace", "accumulate")
SHOWN = (0, 5, 10, 20)
SEEDS, QUICK_SEEDS = 5, 2
GENERATIONS, QUICK_GENERATIONS = 20, 2
#: The same chains with Bernoulli samples (each pixel drawn 0/1 from the decoder's mean): fewer seeds and
#: generations (the last panel; it shows what the mean-image sampler's bias does).
BERNOULLI_SEEDS, QUICK_BERNOULLI_SEEDS = 3, 2
BERNOULLI_GENERATIONS, QUICK_BERNOULLI_GENERATIONS = 10, 1
SAMPLE_SIZE, QUICK_SAMPLE_SIZE = 1797, 200
IMAGES = 16  # per mosaic (4 x 4)
PANELS = ("frechet", "pixel_variance", "pairwise_distance", "latent_variance")
LABELS = {
    "frechet": "distance to the digits\n(Frechet, $W_2^2$ of Gaussian fits)",
    "pixel_variance": "pixel variance\n(log scale)",
    "pairwise_distance": "diversity: mean distance\nbetween two samples (log scale)",
    "latent_variance": "latent: variance of the\nencoder means (prior: 1)",
}
COLOURS = {"replace": "C7", "accumulate": "C2"}
BERNOULLI_QUANTITIES = ("frechet", "pixel_variance", "pairwise_distance")


def _learner(quick: bool):
    from ..chain._vae import VAELearner

    return VAELearner(latent=2, hidden=16, steps=30, batch=32) if quick else VAELearner()


def _gaussian_theory(sample_size: int, workflow: str, scale: float, generations: list[int]) -> dict:
    """``E tr Sigma_n / 64`` and the bounds on ``E W2^2`` of the Gaussian chain fitted to the digits' moments."""
    from ..chain import MultivariateGaussianChain
    from ..chain._vae import PIXELS, load_digits_source
    from ..numeric import multivariate_exact_values

    real = np.asarray(load_digits_source())
    varying = np.var(real, axis=0) > 0
    covariance = np.cov(real[:, varying], rowvar=False, bias=True)
    chain = MultivariateGaussianChain(sample_size, covariance, learner="mle", variance_scale=scale,
                                      workflow=workflow)
    values = multivariate_exact_values(chain, generations)
    lower, upper = values["bounds"]["w2_sq_mean"]
    return {"variance_scale": scale, "pixel_variance": np.asarray(values["trace_mean"]) / PIXELS,
            "frechet_lower": np.asarray(lower), "frechet_upper": np.asarray(upper),
            "pixels": int(varying.sum())}


def compute(key, *, quick: bool) -> dict:
    import jax

    from ..chain._vae import VAEChain
    from ..montecarlo._vae import QUANTITIES, simulate_vae

    learner = _learner(quick)
    m = QUICK_SAMPLE_SIZE if quick else SAMPLE_SIZE
    last = QUICK_GENERATIONS if quick else GENERATIONS
    seeds = QUICK_SEEDS if quick else SEEDS
    gens = list(range(last + 1))
    shown = [g for g in SHOWN if g <= last]
    runs = {}
    for i, workflow in enumerate(WORKFLOWS):
        out = simulate_vae(jax.random.fold_in(key, i), VAEChain(learner, m, workflow), seeds=seeds,
                           generations=gens, keep_images=IMAGES)
        runs[workflow] = {
            **{q: out[q] for q in QUANTITIES}, **{q + "_se": out[q + "_se"] for q in QUANTITIES},
            "per_seed": out["per_seed"],
            "images": {str(g): out["images"][g] for g in shown},
        }
        real = out["real"]
    bernoulli_learner = dataclasses.replace(learner, sampling="bernoulli")
    bernoulli_gens = list(range((QUICK_BERNOULLI_GENERATIONS if quick else BERNOULLI_GENERATIONS) + 1))
    bernoulli = {}
    for i, workflow in enumerate(WORKFLOWS):
        out = simulate_vae(jax.random.fold_in(key, 10 + i), VAEChain(bernoulli_learner, m, workflow),
                           seeds=QUICK_BERNOULLI_SEEDS if quick else BERNOULLI_SEEDS, generations=bernoulli_gens)
        bernoulli[workflow] = {q: out[q] for q in BERNOULLI_QUANTITIES}
        bernoulli[workflow].update({q + "_se": out[q + "_se"] for q in BERNOULLI_QUANTITIES})
    ratio = runs["replace"]["per_seed"]["pixel_variance"]
    scale = float(np.mean(ratio[:, 1] / ratio[:, 0]))
    theory = {workflow: {"A=1": _gaussian_theory(m, workflow, 1.0, gens),
                         "A=A_hat": _gaussian_theory(m, workflow, scale, gens)} for workflow in WORKFLOWS}
    comparison = _comparison(runs, theory, gens, scale)
    return {
        "comparison": comparison,
        "caption": (
            f"A VAE (latent {learner.latent}, hidden {learner.hidden}, {learner.steps} Adam steps of batch "
            f"{learner.batch} per generation, samples = decoder means) trained on M = {m} images a generation, "
            f"starting from the real 8x8 digits, {seeds} seeds. Bands: mean +- 2 SE over seeds. Dashed: the "
            "Gaussian chain with the digits' moments and the same M (mle, A = 1: finite samples only); dotted: "
            f"the same with A = {scale:.3f}, the VAE's one-generation shrinkage of the pixel variance. Shaded "
            "bands over the distance: the Gaussian chain's exact bounds on E W2^2 (A = A_hat). Last panel: the same "
            f"chains with Bernoulli samples (each pixel 0 or 1 with the decoder's mean; "
            f"{QUICK_BERNOULLI_SEEDS if quick else BERNOULLI_SEEDS} seeds). " + comparison
        ),
        "learner": {"latent": learner.latent, "hidden": learner.hidden, "steps": learner.steps,
                    "batch": learner.batch, "learning_rate": learner.learning_rate},
        "sample_size": m,
        "seeds": seeds,
        "generations": gens,
        "shown": shown,
        "workflows": list(WORKFLOWS),
        "runs": runs,
        "real": real,
        "variance_scale_hat": scale,
        "bernoulli": {"seeds": QUICK_BERNOULLI_SEEDS if quick else BERNOULLI_SEEDS, "generations": bernoulli_gens,
                      "runs": bernoulli},
        "theory": theory,
    }


def _comparison(runs: dict, theory: dict, gens: list[int], scale: float) -> str:
    """One sentence, with the run's numbers, on where the VAE follows the Gaussian chain and where it departs."""
    last = gens[-1]
    early = min(2, last)
    middle = min(5, last)

    def vae(workflow, q, n):
        return float(runs[workflow][q][n])

    def gauss(workflow, key, n):
        return float(theory[workflow][key]["pixel_variance"][n])

    kept = gauss("replace", "A=1", last) / gauss("replace", "A=1", 0)
    return (
        f"Pixel variance, VAE against the Gaussian chain: with A = 1 (finite samples only) the Gaussian chain keeps "
        f"{100 * kept:.1f} % of it by n = {last} under replace; with the VAE's one-step shrinkage A_hat = "
        f"{scale:.3f} it predicts replace's geometric collapse (n = {early}: VAE {vae('replace', 'pixel_variance', early):.4f}, "
        f"Gaussian {gauss('replace', 'A=A_hat', early):.4f}) and accumulate's slower, power-law decline "
        f"(n = {middle}: {vae('accumulate', 'pixel_variance', middle):.4f} vs "
        f"{gauss('accumulate', 'A=A_hat', middle):.4f}); later they part (n = {last}, VAE vs Gaussian: replace "
        f"{vae('replace', 'pixel_variance', last):.2g} vs {gauss('replace', 'A=A_hat', last):.2g}, accumulate "
        f"{vae('accumulate', 'pixel_variance', last):.2g} vs {gauss('accumulate', 'A=A_hat', last):.2g}): the "
        f"VAE's samples become one image whose pixel variance stays at a floor, and its encoder stops using the code (variance of the encoder means at n = {last}: replace "
        f"{vae('replace', 'latent_variance', last):.2g}, accumulate {vae('accumulate', 'latent_variance', last):.2g}; "
        "the prior's is 1)."
    )


def _mosaic(images: np.ndarray) -> np.ndarray:
    """``(16, 8, 8)`` -> one ``(4*9-1, 4*9-1)`` picture with one-pixel white gaps."""
    side = int(np.ceil(np.sqrt(len(images))))
    out = np.ones((side * 9 - 1, side * 9 - 1))
    for j, image in enumerate(images):
        r, c = divmod(j, side)
        out[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = 1.0 - image  # dark ink on white
    return out


def plot(data: dict):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    shown = data["shown"]
    workflows = data["workflows"]
    # fixed margins (constrained layout clips the outer panels of nested grids)
    fig = plt.figure(figsize=(9.6, 5.0))
    fig.set_layout_engine("none")  # explicit: the style's constrained layout would come back between saves
    grid = fig.add_gridspec(2, 1, height_ratios=[1.0, 1.55], hspace=0.42, left=0.06, right=0.985, top=0.87,
                            bottom=0.15)
    ratios = ([1.0] * len(shown) + [0.25]) * len(workflows)  # a narrow gap between the workflows' mosaics
    top = grid[0].subgridspec(1, len(ratios) - 1, wspace=0.08, width_ratios=ratios[:-1])
    for r, workflow in enumerate(workflows):
        for c, g in enumerate(shown):
            ax = fig.add_subplot(top[0, r * (len(shown) + 1) + c])
            ax.imshow(_mosaic(array(data["runs"][workflow]["images"][str(g)])), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title("real (n = 0)" if g == 0 else f"n = {g}", fontsize=7, pad=2)
            if c == 0:
                ax.text(0.0, 1.22, workflow, transform=ax.transAxes, fontsize=8, fontweight="bold",
                        color=COLOURS.get(workflow, "0.3"))
    bottom = grid[1].subgridspec(1, len(PANELS) + 1, wspace=0.5)
    gens = np.asarray(data["generations"], dtype=float)
    for c, q in enumerate(PANELS):
        ax = fig.add_subplot(bottom[0, c])
        for workflow in workflows:
            run = data["runs"][workflow]
            colour = COLOURS.get(workflow, "0.3")
            mean, se = array(run[q]), array(run[q + "_se"])
            ok = np.isfinite(mean)
            ax.fill_between(gens[ok], (mean - 2 * se)[ok], (mean + 2 * se)[ok], color=colour, alpha=0.35, lw=0)
            ax.plot(gens[ok], mean[ok], color=colour, lw=0.9, label=f"VAE, {workflow}")
            theory = data["theory"][workflow]
            if q == "pixel_variance":
                ax.plot(gens, array(theory["A=1"]["pixel_variance"]), "--", color=colour, lw=0.8)
                ax.plot(gens, array(theory["A=A_hat"]["pixel_variance"]), ":", color=colour, lw=1.0)
            if q == "frechet":
                hat = theory["A=A_hat"]
                ax.fill_between(gens, array(hat["frechet_lower"]), array(hat["frechet_upper"]), color=colour,
                                alpha=0.15, lw=0.6, ls=":", edgecolor=colour)
                if workflow == "replace":  # A = 1 under accumulate has only a loose upper bound (3.5): not drawn
                    ax.plot(gens, array(theory["A=1"]["frechet_upper"]), "--", color=colour, lw=0.8)
        if q == "latent_variance":
            ax.axhline(1.0, color="0.5", lw=0.6, ls="-.")
        if q in ("pixel_variance", "pairwise_distance"):
            ax.set_yscale("log")
        ax.set_title(LABELS[q], fontsize=7)
        ax.set_xlabel("generation n", fontsize=7)
        ax.tick_params(labelsize=6)
    ax = fig.add_subplot(bottom[0, len(PANELS)])
    b_gens = np.asarray(data["bernoulli"]["generations"], dtype=float)
    for workflow in workflows:
        run = data["bernoulli"]["runs"][workflow]
        colour = COLOURS.get(workflow, "0.3")
        mean, se = array(run["frechet"]), array(run["frechet_se"])
        later = b_gens >= 1  # n = 0 is the real digits (distance 0); the binarisation jumps it at n = 1
        ax.fill_between(b_gens[later], (mean - 2 * se)[later], (mean + 2 * se)[later], color=colour, alpha=0.35,
                        lw=0)
        ax.plot(b_gens[later], mean[later], color=colour, lw=0.9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Bernoulli samples: distance\nto the digits (n >= 1)", fontsize=7)
    ax.set_xlabel("generation n", fontsize=7)
    ax.tick_params(labelsize=6)
    ax0 = fig.axes[len(workflows) * len(shown)]  # the first curve panel
    ax0.plot([], [], "--", color="0.3", lw=0.8, label="Gaussian chain, A = 1")
    ax0.plot([], [], ":", color="0.3", lw=1.0, label=f"Gaussian chain, A = {data['variance_scale_hat']:.2f}")
    ax0.fill_between([], [], color="0.5", alpha=0.3, lw=0, label="VAE: mean $\\pm$ 2 SE over seeds")
    ax0.fill_between([], [], color="0.5", alpha=0.15, lw=0.6, ls=":", edgecolor="0.3",
                     label=f"Gaussian chain's bounds on E $W_2^2$, A = {data['variance_scale_hat']:.2f}")
    fig.legend(*ax0.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=6,
               frameon=False)
    fig.suptitle(f"A VAE trained on its own samples: 8x8 digits, M = {data['sample_size']}, "
                 f"{data['seeds']} seeds", fontsize=9)
    return fig
