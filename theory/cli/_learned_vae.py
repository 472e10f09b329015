"""``collapse-theory simulate --learner vae[:LATENT[,HIDDEN[,STEPS]]]``: the VAE chain on scikit-learn's 8x8
digits (theory.chain._vae, theory.montecarlo._vae), mean +- SE over seeds per generation, beside the Gaussian
chain's prediction for the same M; with ``--decompose`` the statistical part switched off
(theory.decomposition._vae)."""

from __future__ import annotations

from .._errors import ParameterError
from ._args import finite_or_none, print_json

DESCRIPTION = (
    "--learner vae[:LATENT[,HIDDEN[,STEPS]]] runs a small VAE chain on scikit-learn's 8x8 digits (--source digits, "
    "the only one; defaults latent 4, hidden 64, 2000 Adam steps of batch 64 per generation; samples are decoder "
    "means; -M in [64, 1797], e.g. -M 1797): each generation a fresh VAE is trained on the workflow's training set, "
    "--chains independent seeds run vectorised (default 5). Per generation, mean ± SE over seeds: pixel variance, "
    "mean pairwise distance, effective rank, Frechet distance (W2^2 of Gaussian fits) to the real digits, the "
    "latent (norm of the mean and variance of the encoder means) and the final loss; beside the pixel variance, "
    "the Gaussian chain's E tr Sigma_n / 64 for the digits' covariance and the same M (no exact value exists for a "
    "VAE). Cost, measured on 2 CPU cores: -M 1797 -n 1 2 3 5 --chains 5 --decompose (two runs, 50 seed-generations at "
    "the defaults, compilation included) took 36 s. --decompose (replace only) reruns "
    "with the statistical error switched off (each model trained on 10 M samples) and reports the difference.")

DEFAULT_SEEDS = 5
#: Refuse runs above this many Adam steps x seeds x generations (about an hour on 2 CPU cores at the defaults).
MAX_WORK = 5e6
#: Refuse pooling runs whose pool holds more pixels than this (float32: 1.2 GB).
MAX_POOL = 3e8

#: The quantities printed, in order, with a short description.
DESCRIPTIONS = {
    "pixel_variance": "mean over pixels of the across-image variance",
    "pairwise_distance": "mean Euclidean distance between two images (diversity)",
    "effective_rank": "exp entropy of the covariance's normalised eigenvalues",
    "frechet": "W2^2 between Gaussian fits of the images and of the 1,797 real digits",
    "latent_mean_norm": "|mean of the encoder means| over the training set (prior: 0)",
    "latent_variance": "variance of the encoder means, mean over latent dims (prior: 1)",
    "loss": "negative ELBO per image, last tenth of training",
}


def gaussian_prediction(sample_size: int, workflow, generations) -> list:
    """The Gaussian chain's ``E tr Sigma_n / 64`` (mle, ``A = 1``) with the digits' covariance restricted to the
    61 pixels that vary (the trace is the same), the same ``M`` and workflow."""
    import numpy as np

    from ..chain import MultivariateGaussianChain
    from ..chain._vae import PIXELS, load_digits_source
    from ..numeric import multivariate_exact_values

    real = np.asarray(load_digits_source())
    varying = np.var(real, axis=0) > 0
    covariance = np.cov(real[:, varying], rowvar=False, bias=True)
    chain = MultivariateGaussianChain(sample_size, covariance, learner="mle", workflow=workflow)
    return [float(v) / PIXELS for v in multivariate_exact_values(chain, list(generations))["trace_mean"]]


def run(args, learner) -> int:
    """Run ``simulate`` for a VAE learner (``args``: simulate's parsed arguments); print a table or one JSON
    object; return 0. Bad input is a :class:`~theory.ParameterError`."""
    import jax

    from ..chain._vae import VAEChain
    from ..montecarlo._vae import QUANTITIES, simulate_vae
    from ._args import workflow_of

    if getattr(args, "dimension", None) not in (None, 64):
        raise ParameterError("dimension", "left out (or 64) for the VAE chain: the digits have 64 pixels",
                             args.dimension)
    chain = VAEChain(learner, args.sample_size, workflow_of(args), args.source)
    seeds = DEFAULT_SEEDS if args.chains is None else args.chains
    gens = sorted(set(args.generations))
    work = learner.steps * seeds * max(gens)
    decompose = getattr(args, "decompose", False)
    if decompose and not chain.workflow.is_replace:
        raise ParameterError("decompose", "given with --workflow replace only (the statistical part is switched off "
                             "by training each model on 10 M samples of the previous one, which only replace "
                             f"defines; the workflow is {chain.workflow})", True)
    if work * (2 if decompose else 1) > MAX_WORK:
        raise ParameterError("generations", f"a run of at most {MAX_WORK:.0e} Adam steps for the VAE chain (steps x "
                             f"seeds x generations; got {work:.2g}): fewer --chains or generations", max(gens))
    pool = seeds * chain.sample_size * (max(gens) + 1) * 64
    if chain.workflow.pools and pool > MAX_POOL:
        raise ParameterError("generations", f"a pool of at most {MAX_POOL:.0e} pixels under {chain.workflow} (seeds x "
                             f"M x (generations + 1) x 64, float32; got {pool:.2g}): fewer --chains or generations",
                             max(gens))
    key = jax.random.key(args.seed)
    every = sorted(set(gens) | {0}) if decompose else gens  # generation 0 is free: no training
    mc = simulate_vae(key, chain, seeds=seeds, generations=every)
    decomposition = None
    if decompose:
        from ..decomposition._vae import vae_decomposition

        decomposition = vae_decomposition(key, chain, seeds=seeds, generations=gens, full=mc)
    gaussian = None if args.no_exact else gaussian_prediction(chain.sample_size, chain.workflow, gens)
    notes = {
        "exact": "no exact value for a VAE; gaussian_pixel_variance is the Gaussian chain's E tr Sigma_n / 64 "
                 "(mle, A = 1) for the digits' covariance and the same M and workflow: what finite samples alone "
                 "would do" if gaussian is not None else "not computed (--no-exact)",
        "generation 0": "the M real images a seed starts from (latent and loss: none, null)",
        "dtype": "the VAE trains and samples in float32 whatever --dtype; the numbers are computed in float64",
        "samples": ("decoder means sigmoid(logits) at z ~ N(0, I)" if learner.sampling == "mean" else
                    "a Bernoulli draw of every pixel with the decoder's mean sigmoid(logits), z ~ N(0, I)"),
    }
    pick = [every.index(g) for g in gens]
    per = {q: [finite_or_none(mc[q][i]) for i in pick] for q in QUANTITIES}
    per_se = {q: [finite_or_none(mc[q + "_se"][i]) for i in pick] for q in QUANTITIES}
    if args.json:
        out = {"learner": str(learner), "latent": learner.latent, "hidden": learner.hidden, "steps": learner.steps,
               "batch": learner.batch, "learning_rate": learner.learning_rate, "sample_size": chain.sample_size,
               "workflow": str(chain.workflow), "source": chain.source, "seed": args.seed, "seeds": seeds,
               "generations": gens}
        for q in QUANTITIES:
            out[q], out[q + "_se"] = per[q], per_se[q]
        out["exact"] = {q: [None] * len(gens) for q in QUANTITIES}
        out["z"] = {q: [None] * len(gens) for q in QUANTITIES}
        out["gaussian_pixel_variance"] = gaussian
        out["real"] = {q: finite_or_none(v) for q, v in mc["real"].items()}
        if decomposition is not None:
            out["decomposition"] = decomposition
        out["notes"] = notes
        print_json(out)
        return 0
    print(f"# VAE chain: {learner} (latent {learner.latent}, hidden {learner.hidden}, {learner.steps} steps, batch "
          f"{learner.batch}, lr {learner.learning_rate:g}) M={chain.sample_size} workflow={chain.workflow} "
          f"D_0={chain.source} seeds={seeds} seed={args.seed}")
    print("# each cell: mean over seeds ± standard error")
    real = mc["real"]
    for j, n in enumerate(gens):
        print(f"n = {n}")
        for q in QUANTITIES:
            value = per[q][j]
            if value is None:
                print(f"  {q:18s} {'-':>13s}")
                continue
            extra = ""
            if q in real:
                extra = f"   (all real digits {real[q]:.6g})"
            if q == "pixel_variance" and gaussian is not None:
                extra += f"   Gaussian chain {gaussian[j]:.6g}"
            print(f"  {q:18s} {value:>13.6g} ± {per_se[q][j]:<9.2g}{extra}")
    for q, text in DESCRIPTIONS.items():
        print(f"# {q}: {text}")
    for k, note in notes.items():
        print(f"# {k}: {note}")
    if decomposition is not None:
        print(f"# decomposition: {decomposition['method']}")
        print(f"  {'n':>4s} {'quantity':>18s} {'total':>11s} {'statistical':>22s} {'rest (approx.)':>22s}")
        for j, n in enumerate(gens):
            for q in decomposition["quantities"]:
                d = decomposition[q]
                print(f"  {n:>4d} {q:>18s} {d['total'][j]:>11.4g} {d['statistical'][j]:>11.4g} ± "
                      f"{d['statistical_se'][j]:<8.2g} {d['approximation'][j]:>11.4g} ± {d['approximation_se'][j]:<8.2g}")
    return 0
