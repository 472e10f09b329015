"""The VAE chain on the 8x8 digits in JAX (optax Adam), vectorised over seeds: :func:`simulate_vae`.

The model and the workflows are those of :mod:`theory.chain._vae`. One generation (train a fresh VAE on each seed's
training set, draw ``M`` samples, encode the training set) is one jitted function, ``vmap``-ed over the seeds, with
``lax.scan`` over the Adam steps; the generations run in a Python loop that builds each training set (also in JAX,
from the seed's key) and hands the samples to the per-generation numbers below, computed in float64 NumPy.

Per generation ``n`` (generation 0 is the ``M`` real images a seed starts from), from the ``M`` images ``X_n`` of
generation ``n`` (its samples; for ``n = 0`` the real images):

* ``pixel_variance``: the mean over the 64 pixels of the across-image variance (divisor ``M - 1``), i.e.
  ``tr Cov(X_n) / 64``;
* ``pairwise_distance``: the mean Euclidean distance between two different images of ``X_n`` (sample diversity);
* ``effective_rank``: ``exp`` of the entropy of the normalised eigenvalues of the covariance of ``X_n``
  (how many directions the images vary in; scale-free, so once the samples have collapsed to one image it measures
  the shape of the leftover jitter, not diversity: read it with the pixel variance);
* ``frechet``: ``W2^2`` between the Gaussian fits (mean, covariance with divisor ``M``) of ``X_n`` and of all
  1,797 real digits, ``||m_n - m||^2 + tr(S_n + S - 2 (S^{1/2} S_n S^{1/2})^{1/2})`` (the Frechet distance of
  the 64-pixel vectors; matrix roots by ``eigh`` with negative round-off eigenvalues set to 0);
* ``latent_mean_norm``, ``latent_variance``: for ``n >= 1`` the norm of the mean and the mean over latent
  dimensions of the variance of the encoder means of model ``n`` over its training set ``T_{n-1}`` (the
  aggregated posterior; the prior has 0 and 1), and ``loss``: the negative ELBO per image over the last tenth of
  its training steps (``nan`` at ``n = 0``, which has no model).

Every number is a mean over seeds with its standard error (``std / sqrt(seeds)``); the per-seed values are
returned too.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._errors import ParameterError, check_integer, check_key
from ..chain._vae import PIXELS, VAEChain, load_digits_source

#: At most this many encoder means are kept per generation (``keep_codes``).
MAX_CODES = 256
#: The per-generation quantities of :func:`simulate_vae`.
QUANTITIES: tuple[str, ...] = ("pixel_variance", "pairwise_distance", "effective_rank", "frechet",
                               "latent_mean_norm", "latent_variance", "loss")


# ----------------------------------------------------------------------------------------------------- the model
def init_params(key, learner, dtype=None):
    """Fresh encoder and decoder weights (a dict pytree): weights ``N(0, 1/fan_in)``, biases 0, in ``dtype``
    (float32 by default, also under float64 mode)."""
    import jax
    import jax.numpy as jnp

    dtype = jnp.float32 if dtype is None else dtype
    h, z = learner.hidden, learner.latent
    shapes = {"enc_w1": (PIXELS, h), "enc_w2": (h, 2 * z), "dec_w1": (z, h), "dec_w2": (h, PIXELS)}
    keys = jax.random.split(key, len(shapes))
    params = {}
    for k, (name, shape) in zip(keys, shapes.items()):
        params[name] = jax.random.normal(k, shape, dtype) / math.sqrt(shape[0])
        params[name.replace("_w", "_b")] = jnp.zeros(shape[1], dtype)
    return params


def encode(params, x):
    """Encoder means and log-variances ``(n, latent)`` of images ``x (n, 64)``."""
    import jax.numpy as jnp

    hidden = jnp.tanh(x @ params["enc_w1"] + params["enc_b1"])
    out = hidden @ params["enc_w2"] + params["enc_b2"]
    z = out.shape[-1] // 2
    return out[..., :z], out[..., z:]


def decode_logits(params, z):
    """Decoder logits ``(n, 64)`` of codes ``z (n, latent)``."""
    import jax.numpy as jnp

    hidden = jnp.tanh(z @ params["dec_w1"] + params["dec_b1"])
    return hidden @ params["dec_w2"] + params["dec_b2"]


def negative_elbo(params, key, x):
    """The negative ELBO per image, averaged over ``x (n, 64)``: Bernoulli cross-entropy of the grey levels under
    the decoder's logits at one reparameterised draw ``z = mean + exp(logvar/2) eps`` (``eps ~ N(0, I)`` from
    ``key``), plus ``KL(N(mean, diag exp(logvar)) || N(0, I))``."""
    import jax

    latent = params["dec_w1"].shape[0]
    return negative_elbo_at(params, jax.random.normal(key, (x.shape[0], latent), x.dtype), x)


def negative_elbo_at(params, eps, x):
    """:func:`negative_elbo` at given standard normal draws ``eps (n, latent)``."""
    import jax
    import jax.numpy as jnp

    mean, logvar = encode(params, x)
    logits = decode_logits(params, mean + jnp.exp(0.5 * logvar) * eps)
    cross_entropy = jnp.sum(jax.nn.softplus(logits) - x * logits, axis=-1)
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mean**2 - 1.0 - logvar, axis=-1)
    return jnp.mean(cross_entropy + kl)


def train(key, data, count, learner):
    """Train a fresh VAE (:func:`init_params`) for ``learner.steps`` Adam steps on minibatches of
    ``learner.batch`` rows drawn uniformly with replacement from the first ``count`` rows of ``data (P, 64)``
    (``count`` may be traced; the rows past it are ignored). Returns ``(params, losses)`` with the negative ELBO
    of every step ``(steps,)``. Pure; jit and vmap it.

    Every step's rows and normal draws are drawn before the loop (one call each; the loop body holds no PRNG)."""
    import jax
    import optax

    init_key, index_key, noise_key = jax.random.split(key, 3)
    params = init_params(init_key, learner, data.dtype)
    optimiser = optax.adam(learner.learning_rate)
    state = optimiser.init(params)
    grad = jax.value_and_grad(negative_elbo_at)
    rows = jax.random.randint(index_key, (learner.steps, learner.batch), 0, count)
    noise = jax.random.normal(noise_key, (learner.steps, learner.batch, learner.latent), data.dtype)

    def step(carry, draws):
        params, state = carry
        rows_, eps = draws
        loss, g = grad(params, eps, data[rows_])
        updates, state = optimiser.update(g, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, state), (rows, noise))
    return params, losses


def sample(key, params, count: int, latent: int, sampling="mean"):
    """``count`` images of the model: ``z ~ N(0, I)``, the image is the decoder mean ``sigmoid(logits)``
    (``sampling="mean"``) or a Bernoulli draw of every pixel with that mean (``"bernoulli"``). ``sampling`` may
    also be a (traced) boolean: true for Bernoulli."""
    import jax
    import jax.numpy as jnp

    dtype = params["dec_w1"].dtype
    code_key, pixel_key = jax.random.split(key)
    means = jax.nn.sigmoid(decode_logits(params, jax.random.normal(code_key, (count, latent), dtype)))
    if isinstance(sampling, str):
        if sampling == "mean":
            return means
        return jax.random.bernoulli(pixel_key, means).astype(dtype)
    return jnp.where(sampling, jax.random.bernoulli(pixel_key, means).astype(dtype), means)


def mean_pairwise_distance(x):
    """The mean Euclidean distance between two different rows of ``x (n, 64)``."""
    import jax.numpy as jnp

    n = x.shape[0]
    norms = jnp.sum(x * x, axis=1)
    squared = jnp.maximum(norms[:, None] + norms[None, :] - 2.0 * (x @ x.T), 0.0)
    distances = jnp.sqrt(squared) * (1.0 - jnp.eye(n, dtype=x.dtype))  # sqrt(0) has no useful gradient; none taken
    return jnp.sum(distances) / (n * (n - 1))


#: Trainings of at most this many steps compile without XLA's backend optimisation: measured on 2 CPU cores, the
#: vmapped training loop compiles in 1.9 s instead of 6.5 s but runs 4.8x slower (2000 steps x 5 seeds: 4.8 s
#: instead of 1.0 s), which only pays for short trainings (tests, --quick).
FAST_COMPILE_STEPS = 200


def _compiler_options(steps: int) -> dict | None:
    """XLA options for a computation that trains ``steps`` steps (``None``: the defaults)."""
    if steps > FAST_COMPILE_STEPS:
        return None
    return {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _choose(key, real, count: int):
    """``count`` distinct rows of ``real``, in random order."""
    import jax

    return real[jax.random.permutation(key, real.shape[0])[:count]]


@functools.lru_cache(maxsize=4)
def _seed_key_function(seeds: int):
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda key: jax.vmap(lambda s: jax.random.fold_in(key, s))(jnp.arange(seeds)))


def _seed_keys(key, seeds: int):
    """``fold_in(key, s)`` for ``s = 0 .. seeds - 1`` (one compiled call)."""
    return _seed_key_function(seeds)(key)


@functools.lru_cache(maxsize=16)
def _start_function(sample_size: int, real_count: int):
    """Jitted: ``(keys, real) -> (samples, fixed_real, pairwise)`` at generation 0: ``M`` distinct real images per
    seed, the ``R`` fixed real images of ``mix-fixed`` (drawn for every workflow, used by that one only) and the
    images' mean pairwise distance. Shared by the workflows with the same ``M`` and ``R``."""
    import jax

    def start(keys, real):
        samples = jax.vmap(lambda k: _choose(jax.random.fold_in(k, 0x5EED), real, sample_size))(keys)
        fixed = jax.vmap(lambda k: _choose(jax.random.fold_in(k, 0xF1ED), real, real_count))(keys)
        return samples, fixed, jax.vmap(mean_pairwise_distance)(samples)

    return jax.jit(start, compiler_options=_compiler_options(0))


@functools.lru_cache(maxsize=16)
def _generation_function(chain: VAEChain, training_multiple: int = 1):
    """:func:`_compiled_generation` shared by the samplings: ``(keys, samples, fixed, pool, step, real)``."""
    import dataclasses

    import jax.numpy as jnp

    plain = dataclasses.replace(chain, learner=dataclasses.replace(chain.learner, sampling="mean"))
    generate = _compiled_generation(plain, training_multiple)
    bernoulli = jnp.asarray(chain.learner.sampling == "bernoulli")
    return lambda keys, samples, fixed, pool, step, real: generate(keys, samples, fixed, pool, step, real,
                                                                   bernoulli)


@functools.lru_cache(maxsize=16)
def _compiled_generation(chain: VAEChain, training_multiple: int):
    """Jitted, vmapped over seeds: ``(keys, samples, fixed_real, pool, step, real) -> (samples, pool, losses,
    latent_mean_norm, latent_variance, pairwise, codes)`` (``codes``: the encoder means of the first
    :data:`MAX_CODES` rows of the training set): step ``i`` (generation ``i`` -> ``i + 1``) of the
    workflow: build ``T_i``, train a fresh VAE on it, draw ``M`` samples, encode ``T_i``."""
    import jax
    import jax.numpy as jnp

    learner, m, workflow, r = chain.learner, chain.sample_size, chain.workflow, chain.real_count
    kind = workflow.kind

    def one(key, samples, fixed, pool, step, real, bernoulli):
        data_key, model_key = jax.random.split(jax.random.fold_in(key, step + 1))
        count = m
        if kind == "replace":
            data, count = samples, samples.shape[0]  # F M rows under a training multiple F (copies at step 0)
        elif kind == "mix":
            data = jnp.concatenate([_choose(data_key, real, r), samples[: m - r]], axis=0)
        elif kind == "mix-fixed":
            data = jnp.concatenate([fixed, samples[: m - r]], axis=0)
        else:
            pool = jax.lax.dynamic_update_slice(pool, samples, (step * m, 0))
            size = m * (step + 1)
            if kind == "accumulate":
                data, count = pool, size
            else:  # K distinct points of the pool's first `size` rows
                valid = jnp.arange(pool.shape[0]) < size
                scores = jnp.where(valid, jax.random.uniform(data_key, (pool.shape[0],), real.dtype), 2.0)
                data, count = pool[jnp.argsort(scores)[: workflow.subsample]], workflow.subsample
        train_key, sample_key = jax.random.split(model_key)
        params, losses = train(train_key, data, count, learner)
        images = sample(sample_key, params, m * training_multiple, learner.latent, bernoulli)
        mean, _ = encode(params, data)
        mask = (jnp.arange(data.shape[0]) < count).astype(data.dtype)[:, None]
        total = jnp.sum(mask)
        code_mean = jnp.sum(mean * mask, axis=0) / total
        code_var = jnp.sum((mean - code_mean) ** 2 * mask, axis=0) / (total - 1)
        return (images, pool, losses, jnp.linalg.norm(code_mean), jnp.mean(code_var),
                mean_pairwise_distance(images[:m]), mean[:MAX_CODES])

    return jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None, None, None)),
                   compiler_options=_compiler_options(learner.steps))


# ------------------------------------------------------------------------------------------ numbers on the host
def _psd_root(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


class _Reference:
    """The Gaussian fit of all real digits, kept for the Frechet distances."""

    def __init__(self, real: np.ndarray):
        self.mean = real.mean(axis=0)
        self.covariance = np.cov(real, rowvar=False, bias=True)
        self.root = _psd_root(self.covariance)
        self.trace = float(np.trace(self.covariance))

    def frechet(self, images: np.ndarray) -> float:
        mean = images.mean(axis=0)
        covariance = np.cov(images, rowvar=False, bias=True)
        cross = _psd_root(self.root @ covariance @ self.root)
        value = np.sum((mean - self.mean) ** 2) + self.trace + np.trace(covariance) - 2.0 * np.trace(cross)
        return float(max(value, 0.0))


def _pairwise_numpy(x: np.ndarray) -> float:
    """:func:`mean_pairwise_distance` in float64 NumPy."""
    norms = np.sum(x * x, axis=1)
    squared = np.maximum(norms[:, None] + norms[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(squared, 0.0)
    n = x.shape[0]
    return float(np.sqrt(squared).sum() / (n * (n - 1)))


def effective_rank(images: np.ndarray) -> float:
    """``exp(-sum p_i log p_i)`` with ``p_i`` the eigenvalues of the covariance of ``images`` over their sum."""
    values = np.clip(np.linalg.eigvalsh(np.cov(images, rowvar=False)), 0.0, None)
    if values.sum() <= 0:
        return 1.0
    p = values[values > 0] / values.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def _image_numbers(images: np.ndarray, reference: _Reference) -> dict:
    """pixel_variance, effective_rank and frechet of each seed's images ``(S, M, 64)`` (float64)."""
    images = np.asarray(images, dtype=np.float64)
    return {
        "pixel_variance": np.array([np.var(x, axis=0, ddof=1).mean() for x in images]),
        "effective_rank": np.array([effective_rank(x) for x in images]),
        "frechet": np.array([reference.frechet(x) for x in images]),
    }


# ---------------------------------------------------------------------------------------------------- the chain
def _check_generations(generations) -> list[int]:
    try:
        gens = sorted({check_integer("generations", g, minimum=0) for g in generations})
    except TypeError:
        raise ParameterError("generations", "a list of integers >= 0", generations) from None
    if not gens:
        raise ParameterError("generations", "a non-empty list of integers >= 0", generations)
    return gens


def simulate_vae(key, chain: VAEChain, *, seeds: int, generations, keep_images: int = 0,
                 keep_codes: int = 0, training_multiple: int = 1) -> dict:
    """Run ``seeds`` independent VAE chains (vectorised) up to ``max(generations)`` and report per generation.

    Parameters
    ----------
    key:
        a JAX PRNG key; seed ``s`` runs on ``fold_in(key, s)``, so a seed's numbers do not depend on how many
        seeds run beside it.
    chain:
        a :class:`~theory.chain.VAEChain`.
    seeds:
        independent chains (``>= 2``: a standard error needs two).
    generations:
        the generations ``n >= 0`` to report (all generations up to the largest are run).
    keep_images:
        images of seed 0 kept per reported generation (for pictures).
    keep_codes:
        encoder means of seed 0 kept per reported generation ``n >= 1`` (the first ``keep_codes`` images of its
        training set).
    training_multiple:
        ``F >= 1``, replace only: each model from generation 1 on is trained on ``F M`` samples of the previous one
        (generation 0's training set stays the ``M`` real images), and the generation's numbers use the first
        ``M``. A large ``F`` switches the finite-sample (statistical) error of steps ``1, 2, ...`` off; see
        :func:`vae_decomposition`.

    Returns
    -------
    dict
        ``"generations"``, and for each quantity of :data:`QUANTITIES` the mean over seeds ``q`` and its standard
        error ``q + "_se"`` (arrays aligned with ``generations``) and the per-seed values ``"per_seed"[q]``
        ``(seeds, n_gens)``; ``"images"`` ``(n_gens, keep_images, 8, 8)``, ``"codes"`` ``(n_gens, keep_codes,
        latent)`` (``nan`` at ``n = 0``), ``"losses"`` ``(n_gens, steps)`` (seed 0's training curve of model ``n``),
        ``"real"``: the same numbers for all 1,797 real digits.
    """
    import jax.numpy as jnp

    key = check_key(key)
    if not isinstance(chain, VAEChain):
        raise ParameterError("chain", "a VAEChain", chain)
    seeds = check_integer("seeds", seeds, minimum=2)
    keep_images = check_integer("keep_images", keep_images, minimum=0)
    keep_codes = check_integer("keep_codes", keep_codes, minimum=0)
    if keep_codes > min(MAX_CODES, chain.sample_size):
        raise ParameterError("keep_codes", f"an integer in [0, {min(MAX_CODES, chain.sample_size)}]", keep_codes)
    gens = _check_generations(generations)
    training_multiple = check_integer("training_multiple", training_multiple, minimum=1)
    if training_multiple > 1 and not chain.workflow.is_replace:
        raise ParameterError("training_multiple", "1 unless the workflow is replace (the other workflows fix their "
                             "training sets)", training_multiple)
    last = gens[-1]
    learner, m, workflow = chain.learner, chain.sample_size, chain.workflow
    real_np = np.asarray(load_digits_source())
    real = jnp.asarray(real_np, jnp.float32)
    reference = _Reference(real_np)
    keys = _seed_keys(key, seeds)
    pool_length = m * (last + 1) if workflow.pools else 1
    samples, fixed, pairwise = _start_function(m, chain.real_count)(keys, real)
    pool = jnp.zeros((seeds, pool_length, PIXELS), jnp.float32)
    generate = _generation_function(chain, training_multiple)

    per_seed = {q: np.full((seeds, last + 1), np.nan) for q in QUANTITIES}
    images_kept, codes_kept, losses_kept = {}, {}, {}

    def record(n, x, pairwise):
        host = np.asarray(x)
        for q, values in _image_numbers(host, reference).items():
            per_seed[q][:, n] = values
        per_seed["pairwise_distance"][:, n] = np.asarray(pairwise, dtype=np.float64)
        if n in gens and keep_images:
            images_kept[n] = host[0, :keep_images].reshape(-1, 8, 8)

    record(0, samples, pairwise)
    if training_multiple > 1:  # step 0: F copies of the M real images (uniform minibatches: the same as the M)
        samples = jnp.tile(samples, (1, training_multiple, 1))
    tail = max(1, learner.steps // 10)
    for i in range(last):
        samples, pool, losses, code_norm, code_var, pairwise, codes = generate(keys, samples, fixed, pool, i, real)
        n = i + 1
        record(n, samples[:, :m], pairwise)
        losses = np.asarray(losses, dtype=np.float64)  # on the host: no eager device ops (each would compile)
        per_seed["latent_mean_norm"][:, n] = np.asarray(code_norm, dtype=np.float64)
        per_seed["latent_variance"][:, n] = np.asarray(code_var, dtype=np.float64)
        per_seed["loss"][:, n] = losses[:, -tail:].mean(axis=1)
        if n in gens:
            losses_kept[n] = losses[0]
            if keep_codes:
                codes_kept[n] = np.asarray(codes[0, :keep_codes], dtype=np.float64)
    out = {"generations": gens, "seeds": seeds, "per_seed": {}}
    index = np.asarray(gens)
    for q in QUANTITIES:
        values = per_seed[q][:, index]
        out["per_seed"][q] = values
        out[q] = values.mean(axis=0)
        out[q + "_se"] = values.std(axis=0, ddof=1) / math.sqrt(seeds)
    if keep_codes:
        nan = np.full((keep_codes, learner.latent), np.nan)
        out["codes"] = np.stack([codes_kept.get(g, nan) for g in gens])
    if keep_images:
        out["images"] = np.stack([images_kept[g] for g in gens])
    out["losses"] = {g: losses_kept[g] for g in gens if g in losses_kept}
    real_numbers = _image_numbers(real_np[None], reference)
    out["real"] = {q: float(v[0]) for q, v in real_numbers.items()}
    out["real"]["pairwise_distance"] = _pairwise_numpy(real_np)
    return out
