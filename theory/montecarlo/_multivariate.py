"""Monte Carlo of the multivariate Gaussian chain (full covariance, ``replace`` workflow).

Generation ``i + 1`` fits ``M`` points of ``N(mu_i, Sigma_i)`` in ``d`` dimensions: ``mu_{i+1}`` is their sample
mean and ``Sigma_{i+1} = A * scatter / divisor`` (``divisor`` ``M - 1`` or ``M``; see
:class:`theory.chain.MultivariateGaussianChain`).

State of a chain (as in :mod:`._engine`, in a form that survives collapse):

* ``error = mu_n - mu`` (kept as the difference, so that it does not cancel against ``mu``);
* the Cholesky factor ``L_n`` of ``Sigma_n``, stored as ``exp(log_scale) * Lt`` with ``max |Lt| = 1`` (renormalised
  every step, so that ``Sigma_n -> 0`` does not underflow ``L_n``);
* ``log_diag = log diag L_n``, kept exactly, so that ``log det Sigma_n = 2 sum log_diag`` is never the log of an
  underflowed determinant (``E log det Sigma_n`` falls linearly in ``n``: the volume collapses almost surely).

Both learners are affine-equivariant, so a step is computed on standardised draws: with ``x_j = mu_i + L_i z_j``
(``z_j ~ N(0, I_d)``), ``mu_{i+1} = mu_i + L_i zbar`` and ``scatter(x) = L_i scatter(z) L_i^T``. Writing
``scatter(z) = T T^T`` with ``T`` lower triangular with a positive diagonal, ``L_{i+1} = sqrt(A / divisor) L_i T`` is
lower triangular with a positive diagonal: it *is* the Cholesky factor of ``Sigma_{i+1}``, with
``log diag L_{i+1} = log diag L_i + log diag T + log(A / divisor) / 2``. Only ``T`` and ``zbar`` differ by mode:

* ``samples``: draw the ``M x d`` standard normals, ``zbar`` their mean, ``T = cholesky(scatter(z))``
  (cost ``O(M d**2 + d**3)`` per chain and generation);
* ``sufficient``: their exact joint law, ``zbar ~ N(0, I/M)`` independent of ``scatter(z) ~ Wishart_d(M - 1, I)``,
  the latter by the Bartlett decomposition ``T = B``: ``B_kk**2 ~ chi2_{M-1-k}`` (``k = 0..d-1``; drawn as
  ``log B_kk = (log 2 + log Gamma((M-1-k)/2)) / 2`` by the 1-D engine's sampler, :func:`._gamma.sufficient_draws`:
  Marsaglia-Tsang in log space, with the boost ``Gamma(a) = Gamma(a + 1) U**(1/a)`` at shape 1/2, so that no draw
  underflows; one column's shape per ``lax.map`` step), ``B_kl ~ N(0, 1)`` below the diagonal, zero above (cost
  ``O(d**3)`` whatever ``M``; :func:`jax.random.loggamma`, a per-element while loop with per-element key splits,
  made sufficient mode slower than samples mode at ``M = d + 1``).

Reported values, per chain, at every reported generation ``n``:

==================  ======================================================================================
``mean_sq_error``   ``||mu_n - mu||**2``
``trace``           ``tr Sigma_n`` (its mean is ``trace_mean``, its across-chain variance ``trace_var``)
``det``             ``det Sigma_n = exp(2 sum log_diag)``
``log_det``         ``log det Sigma_n - log det Sigma``
``w2_sq``           Bures-Wasserstein ``W2**2(p_n, p_0) = ||mu_n - mu||**2 + tr Sigma_n + tr Sigma
                    - 2 tr (Sigma^{1/2} Sigma_n Sigma^{1/2})^{1/2}``
``eigenvalues``     the ``d`` eigenvalues of ``Sigma_n``, ascending
==================  ======================================================================================

``Sigma^{1/2}`` is the symmetric square root (``eigh`` of ``Sigma`` on the host, float64), and
``tr (Sigma^{1/2} Sigma_n Sigma^{1/2})^{1/2}`` is the nuclear norm (sum of singular values) of
``Sigma^{1/2} L_n``, because ``Sigma^{1/2} Sigma_n Sigma^{1/2} = (Sigma^{1/2} L_n)(Sigma^{1/2} L_n)^T``: no matrix is
squared before its root is taken, so small directions keep their relative accuracy. The eigenvalues of
``Sigma_n`` are the squared singular values of ``L_n`` for the same reason.

Reduction, as in the engine: reported generations are reduced across a block's chains inside the
:func:`jax.lax.scan` over generations (a :func:`jax.lax.cond` on the step's slot) to ``(count, mean, C2, C3, C4)``
of each per-chain value; blocks (memory-bounded, each with its key ``fold_in(key(seed), block)``, step keys
``fold_in(block_key, step)``) are merged on the host in float64 (:func:`._summary.merge_moments`). A mean's standard
error is ``sqrt(s**2/K)``; ``trace_var`` is the sample variance with the fourth-moment standard error of
:func:`._summary.summarise`.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer
from ..chain._model import check_generations
from ._gamma import gamma_parameters, sufficient_draws
from ._normals import stream_key
from ._summary import merge_moments

MODES = ("sufficient", "samples")

#: The scalar per-chain values reduced at each reported generation (the ``d`` eigenvalues follow them).
SCALARS = ("mean_sq_error", "trace", "det", "log_det", "w2_sq")

#: Keys of :attr:`MultivariateSimulation.mean` and ``.se``.
KEYS = ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean", "w2_sq_mean")

_KEY_SOURCE = {
    "mean_sq_error": ("mean_sq_error", "mean"),
    "trace_mean": ("trace", "mean"),
    "trace_var": ("trace", "var"),
    "det_mean": ("det", "mean"),
    "log_det_mean": ("log_det", "mean"),
    "w2_sq_mean": ("w2_sq", "mean"),
}

#: Default bound on the floating-point numbers in flight per block of chains (2**23: 64 MiB in float64).
DEFAULT_BLOCK_ELEMENTS = 2**23


@dataclasses.dataclass(frozen=True)
class MultivariateSimulation:
    """What :func:`simulate_multivariate` returns: MC means and standard errors aligned with ``generations``.

    Attributes
    ----------
    generations:
        the reported generation indices ``n`` (int64, ascending, unique).
    mean, se:
        ``{key: float64 array}`` for each key of :data:`KEYS`: ``mean_sq_error`` ``E||mu_n - mu||**2``,
        ``trace_mean`` ``E tr Sigma_n``, ``trace_var`` ``Var tr Sigma_n`` (the across-chain sample variance; its
        ``se`` from the fourth central moment), ``det_mean`` ``E det Sigma_n``, ``log_det_mean``
        ``E log det Sigma_n - log det Sigma``, ``w2_sq_mean`` ``E W2**2(p_n, p_0)`` (Bures-Wasserstein).
    eigenvalues, eigenvalues_se:
        ``(len(generations), d)``: the mean over chains of the ascending eigenvalues of ``Sigma_n``, and its
        standard error.
    chains, mode, dtype, dimension:
        how it was run.
    notes:
        ``{key: reason}`` for every estimate or standard error that is not finite (overflow of the dtype).
    """

    generations: np.ndarray
    mean: dict
    se: dict
    eigenvalues: np.ndarray
    eigenvalues_se: np.ndarray
    chains: int
    mode: str
    dtype: str
    dimension: int
    notes: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``"generations"``, every key of :data:`KEYS` and its ``"_se"`` twin as lists (a
        non-finite value as ``None``), ``"eigenvalues"`` (a list per generation) and ``"notes"``."""

        def clean(values):
            return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).ravel()]

        out: dict = {"generations": [int(g) for g in self.generations]}
        for key in KEYS:
            out[key] = clean(self.mean[key])
            out[key + "_se"] = clean(self.se[key])
        out["eigenvalues"] = [clean(row) for row in self.eigenvalues]
        out["notes"] = dict(self.notes)
        return out


def _check_chain(chain):
    from ..chain._multivariate import MultivariateGaussianChain

    if not isinstance(chain, MultivariateGaussianChain):
        raise ParameterError("chain", "a theory.MultivariateGaussianChain", chain)
    return chain


def _check_dtype(dtype) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ParameterError("dtype", "float32 or float64", dtype) from None
    if name not in ("float32", "float64"):
        raise ParameterError("dtype", "float32 or float64", name)
    return name


def _block_values(error, lt, log_scale, log_diag, log_det0, trace0, root):
    """Per-chain values ``(chains, 5 + d)``: :data:`SCALARS` then the ascending eigenvalues of ``Sigma_n``."""
    scale = jnp.exp(log_scale)
    mse = jnp.sum(error * error, axis=-1)
    singular = jnp.linalg.svd(lt, compute_uv=False)  # of Lt: Sigma_n's eigenvalues are (scale * s)**2
    eig = (scale[:, None] * singular[:, ::-1]) ** 2  # ascending
    trace = scale**2 * jnp.sum(lt * lt, axis=(-2, -1))
    log_det = 2.0 * jnp.sum(log_diag, axis=-1) - log_det0
    det = jnp.exp(2.0 * jnp.sum(log_diag, axis=-1))
    nuclear = scale * jnp.sum(jnp.linalg.svd(root @ lt, compute_uv=False), axis=-1)
    w2 = mse + trace + trace0 - 2.0 * nuclear
    w2 = jnp.maximum(w2, 0.0)  # >= 0 exactly; rounding of the cancellation can make it a tiny negative
    return jnp.concatenate([jnp.stack([mse, trace, det, log_det, w2], axis=-1), eig], axis=-1)


def _moments(values, valid):
    """``(values.shape[1], 5)`` of ``(count, mean, C2, C3, C4)`` over the valid rows of ``values``."""
    w = valid.astype(values.dtype)[:, None]
    count = jnp.sum(w[:, 0])
    mean = jnp.sum(values * w, axis=0) / count
    d = (values - mean) * w
    d2 = d * d
    return jnp.stack([jnp.broadcast_to(count, mean.shape), mean, d2.sum(0), (d2 * d).sum(0), (d2 * d2).sum(0)],
                     axis=-1)


@functools.lru_cache(maxsize=32)
def _build(mode: str, chains: int, dimension: int, sample_size: int, steps: int, slots: int, dtype: str):
    """The jitted block run: ``run(block_key, slots_of_step, valid, init, constants) -> (slots, 5 + d, 5)``."""
    d, m = dimension, sample_size
    dt = jnp.dtype(dtype)
    rows, cols = np.tril_indices(d, k=-1)
    below = len(rows)
    diag_idx = jnp.arange(d)

    # log Gamma((M - 1 - k)/2) for the Bartlett diagonal, column k: the engine's sampler (:mod:`._gamma`: Marsaglia
    # and Tsang in log space, its parameters on the host in float64), one column of shape per lax.map iteration
    shapes = (m - 1 - np.arange(d, dtype=np.float64)) / 2
    *params, log_d = gamma_parameters(shapes, dt)
    params = tuple(jnp.asarray(q) for q in params)  # (d,) each: scalars inside the map
    log_d = jnp.asarray(log_d, dt)
    chain_index = jnp.arange(chains, dtype=jnp.uint32)

    def log_gamma(key):
        """``log G``, ``G ~ Gamma((M - 1 - k)/2)`` in column ``k``, shape ``(chains, d)``."""

        def column(args):
            k, column_params = args
            words = stream_key(jax.random.fold_in(key, k))
            return sufficient_draws(words, chain_index, column_params, dt)[1]  # log(G/d)

        return jax.lax.map(column, (jnp.arange(d), params)).T + log_d

    def triangle(key):
        """``(T, log diag T, zbar)`` for every chain of the block."""
        k_mean, k_tri, k_gamma = jax.random.split(key, 3)
        if mode == "sufficient":
            zbar = jax.random.normal(k_mean, (chains, d), dt) / math.sqrt(m)
            log_t = 0.5 * (math.log(2.0) + log_gamma(k_gamma))  # B_kk**2 ~ chi2_{M-1-k} = 2 Gamma((M-1-k)/2)
            t = jnp.zeros((chains, d, d), dt)
            if below:  # only the d (d - 1)/2 normals below the diagonal are drawn
                t = t.at[:, rows, cols].set(jax.random.normal(k_tri, (chains, below), dt))
            t = t.at[:, diag_idx, diag_idx].set(jnp.exp(log_t))
            return t, log_t, zbar
        z = jax.random.normal(k_mean, (chains, m, d), dt)
        zbar = jnp.mean(z, axis=1)
        centred = z - zbar[:, None, :]
        scatter = jnp.einsum("cmi,cmj->cij", centred, centred)
        t = jnp.linalg.cholesky(scatter)
        return t, jnp.log(jnp.diagonal(t, axis1=-2, axis2=-1)), zbar

    def run(block_key, slot_of_step, valid, init, constants):
        log_half_factor, log_det0, trace0, root = constants

        def record(moments, slot, state):
            def write(ops):
                moments, state = ops
                values = _block_values(*state, log_det0, trace0, root)
                return jax.lax.dynamic_update_index_in_dim(moments, _moments(values, valid), slot, axis=0)

            return jax.lax.cond(slot >= 0, write, lambda ops: ops[0], (moments, state))

        def step(carry, xs):
            (error, lt, log_scale, log_diag), moments = carry
            index, slot = xs
            t, log_t, zbar = triangle(jax.random.fold_in(block_key, index))
            error = error + jnp.exp(log_scale)[:, None] * jnp.einsum("cij,cj->ci", lt, zbar)
            lt = jnp.matmul(lt, t)
            top = jnp.max(jnp.abs(lt), axis=(-2, -1))
            lt = lt / top[:, None, None]
            log_scale = log_scale + jnp.log(top) + log_half_factor
            log_diag = log_diag + log_t + log_half_factor
            state = (error, lt, log_scale, log_diag)
            return (state, record(moments, slot, state)), None

        moments = jnp.zeros((slots, len(SCALARS) + d, 5), dt)
        error0, lt0, log_scale0, log_diag0 = init
        state = (jnp.broadcast_to(error0, (chains, d)), jnp.broadcast_to(lt0, (chains, d, d)),
                 jnp.broadcast_to(log_scale0, (chains,)), jnp.broadcast_to(log_diag0, (chains, d)))
        moments = record(moments, slot_of_step[0], state)  # generation 0
        xs = (jnp.arange(steps, dtype=jnp.int32), slot_of_step[1:])
        (_, moments), _ = jax.lax.scan(step, (state, moments), xs)
        return moments

    return jax.jit(run)


def _summarise(moments: np.ndarray, d: int):
    n, mean, c2, _, c4 = np.moveaxis(moments, -1, 0)  # each (gens, 5 + d)
    with np.errstate(invalid="ignore", divide="ignore"):
        sample_var = c2 / (n - 1)
        mean_se = np.sqrt(sample_var / n)
        m2, m4 = c2 / n, c4 / n
        var_se = np.sqrt(np.maximum(m4 - m2**2 * (n - 3) / (n - 1), 0.0) / n)
    means, ses = {}, {}
    for key, (value, statistic) in _KEY_SOURCE.items():
        i = SCALARS.index(value)
        if statistic == "mean":
            means[key], ses[key] = mean[:, i].copy(), mean_se[:, i].copy()
        else:
            means[key], ses[key] = sample_var[:, i].copy(), var_se[:, i].copy()
    k = len(SCALARS)
    return means, ses, mean[:, k:].copy(), mean_se[:, k:].copy()


def simulate_multivariate(
    chain,
    generations,
    *,
    chains: int,
    seed: int = 0,
    mode: str = "sufficient",
    dtype="float64",
    max_block_elements: int = DEFAULT_BLOCK_ELEMENTS,
) -> MultivariateSimulation:
    """Monte Carlo of ``chains`` independent runs of the multivariate Gaussian ``chain`` (``replace`` workflow).

    Each run starts at ``p_0 = N(mu, Sigma)`` and fits generation ``i + 1`` (sample mean; ``A * scatter /
    divisor``) to ``M`` points of generation ``i``; see the module doc for how a step is drawn in each ``mode``
    (``"samples"``: the ``M`` points; ``"sufficient"``: the sample mean's normal law and the scatter's Wishart
    law by the Bartlett decomposition, ``O(d**3)`` per chain and generation whatever ``M``).

    Parameters
    ----------
    chain:
        a :class:`theory.chain.MultivariateGaussianChain`.
    generations:
        an integer ``>= 0`` or a list of them: the generations ``n`` reported (sorted, duplicates dropped).
    chains:
        the number of independent runs (``>= 2``, so that a standard error exists).
    seed:
        an integer ``>= 0``: block ``b`` uses the key ``fold_in(jax.random.key(seed), b)``, its step ``i``
        ``fold_in(block_key, i)``. The same seed, chains and block size give the same numbers.
    mode:
        ``"sufficient"`` (default) or ``"samples"``.
    dtype:
        ``"float64"`` (default; x64 is switched on locally for the run, never globally) or ``"float32"`` (faster;
        unlike :func:`theory.simulate` it does not split the step's constants for float32 accuracy at huge ``M``,
        so use float64 for the drift of ``log det`` at large ``M``).
    max_block_elements:
        a bound on the floating-point numbers in flight per block of chains (chains are run in blocks of equal
        size; the last block's surplus chains are masked out of the moments). Samples mode holds a chain's
        ``M x d`` draws at once, and refuses (``ParameterError`` on ``mode``) a chain that does not fit.

    Returns
    -------
    MultivariateSimulation
        ``.mean[key]`` and ``.se[key]`` for ``key`` in :data:`KEYS`, and ``.eigenvalues``.
    """
    chain = _check_chain(chain)
    if not chain.workflow.is_replace:  # until the workflows' kernels land: never a replace run for another workflow
        raise ParameterError("workflow", "replace (the other workflows' Monte Carlo is not implemented yet)",
                             str(chain.workflow))
    requested = sorted(set(check_generations(generations)))
    chains = check_integer("chains", chains, minimum=2)
    seed = check_integer("seed", seed, minimum=0)
    if mode not in MODES:
        raise ParameterError("mode", " or ".join(repr(m) for m in MODES), mode)
    dtype = _check_dtype(dtype)
    max_block_elements = check_integer("max_block_elements", max_block_elements, minimum=1)
    if _elements_per_chain(mode, chain.dimension, chain.sample_size) > max_block_elements:
        raise ParameterError(
            "mode", f"'sufficient' when one chain's M * d = {chain.sample_size * chain.dimension} draws exceed the "
            f"block budget (samples mode holds a chain's M points at once; max_block_elements = "
            f"{max_block_elements})", mode)
    if dtype == "float64" and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):
            return _run(chain, requested, chains, seed, mode, dtype, max_block_elements)
    return _run(chain, requested, chains, seed, mode, dtype, max_block_elements)


def _elements_per_chain(mode: str, d: int, m: int) -> int:
    """Floating-point numbers in flight per chain of a block: the state, the triangle, the products and the
    reduction's temporaries (``~8 d**2``), plus in samples mode the ``M x d`` draws and their centred copy."""
    return 8 * d * d + 2 * d + (2 * m * d if mode == "samples" else 0)


def _run(chain, requested, chains, seed, mode, dtype, max_block_elements) -> MultivariateSimulation:
    d = int(chain.dimension)
    m = int(chain.sample_size)
    sigma = np.asarray(chain.covariance, dtype=np.float64)
    factor = float(chain.variance_scale) / float(chain.divisor)
    # host, float64: the Cholesky factor, the symmetric root and the constants of Sigma = p_0's covariance
    chol = np.linalg.cholesky(sigma)
    w, v = np.linalg.eigh(sigma)
    root = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    top = float(np.max(np.abs(chol)))
    log_diag0 = np.log(np.diag(chol))
    init = (np.zeros(d), chol / top, math.log(top), log_diag0)
    constants = (0.5 * math.log(factor), 2.0 * float(log_diag0.sum()), float(np.trace(sigma)), root)

    per_chain = _elements_per_chain(mode, d, m)
    block = max(1, min(chains, max_block_elements // per_chain))
    blocks = -(-chains // block)
    steps = max(requested)
    slot_of_step = np.full(steps + 1, -1, dtype=np.int32)  # entry n: slot of generation n
    slot_of_step[requested] = np.arange(len(requested), dtype=np.int32)

    run = _build(mode, block, d, m, steps, len(requested), dtype)
    cast = functools.partial(jnp.asarray, dtype=dtype)
    init = tuple(cast(x) for x in init)
    constants = tuple(cast(x) for x in constants)
    base = jax.random.key(seed)
    merged = None
    for b in range(blocks):
        valid = jnp.arange(block) < chains - b * block
        moments = run(jax.random.fold_in(base, b), jnp.asarray(slot_of_step), valid, init, constants)
        merged = merge_moments(merged, np.asarray(moments, dtype=np.float64))

    means, ses, eig, eig_se = _summarise(merged, d)
    notes = {}
    for key in KEYS:
        for what, values in (("", means[key]), ("_se", ses[key])):
            bad = ~np.isfinite(values)
            if bad.any():
                where = ", ".join(str(g) for g in np.asarray(requested)[bad])
                notes[key + what] = f"overflow: not representable in {dtype} at n = {where}"
    return MultivariateSimulation(
        generations=np.asarray(requested, dtype=np.int64),
        mean=means,
        se=ses,
        eigenvalues=eig,
        eigenvalues_se=eig_se,
        chains=chains,
        mode=mode,
        dtype=dtype,
        dimension=d,
        notes=notes,
    )
