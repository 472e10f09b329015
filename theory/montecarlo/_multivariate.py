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
SCALARS = ("mean_sq_error", "trace", "det", "log_det", "w2_sq", "effective_rank")

#: Keys of :attr:`MultivariateSimulation.mean` and ``.se``.
KEYS = ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean", "w2_sq_mean", "effective_rank_mean")

_KEY_SOURCE = {
    "mean_sq_error": ("mean_sq_error", "mean"),
    "trace_mean": ("trace", "mean"),
    "trace_var": ("trace", "var"),
    "det_mean": ("det", "mean"),
    "log_det_mean": ("log_det", "mean"),
    "w2_sq_mean": ("w2_sq", "mean"),
    "effective_rank_mean": ("effective_rank", "mean"),
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
    """Per-chain values ``(chains, len(SCALARS) + d)``: :data:`SCALARS` then the ascending eigenvalues of
    ``Sigma_n``."""
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
    # effective rank exp(H), H the entropy of lambda / sum lambda (Roy and Vetterli 2007); from Lt's singular
    # values, so that the scale cancels and a collapsed Sigma_n does not underflow it
    share = singular**2 / jnp.sum(singular**2, axis=-1, keepdims=True)
    entropy = -jnp.sum(jnp.where(share > 0, share * jnp.log(jnp.where(share > 0, share, 1.0)), 0.0), axis=-1)
    rank = jnp.exp(entropy)
    return jnp.concatenate([jnp.stack([mse, trace, det, log_det, w2, rank], axis=-1), eig], axis=-1)


def _moments(values, valid):
    """``(values.shape[1], 5)`` of ``(count, mean, C2, C3, C4)`` over the valid rows of ``values``."""
    w = valid.astype(values.dtype)[:, None]
    count = jnp.sum(w[:, 0])
    mean = jnp.sum(values * w, axis=0) / count
    d = (values - mean) * w
    d2 = d * d
    return jnp.stack([jnp.broadcast_to(count, mean.shape), mean, d2.sum(0), (d2 * d).sum(0), (d2 * d2).sum(0)],
                     axis=-1)


def _bartlett(dof: int, d: int, chains: int, dt, chain_index):
    """``key -> (T, log diag T)``: ``T`` lower triangular ``(chains, d, d)`` with ``T T^T ~ Wishart_d(dof, I)``.

    The Bartlett decomposition: ``T_kk**2 ~ chi2_{dof-k}`` (``log T_kk = (log 2 + log Gamma((dof-k)/2))/2``, the
    engine's log-space sampler, one column's shape per ``lax.map`` step), ``T_kl ~ N(0, 1)`` below the diagonal.
    For ``dof < d`` (a singular Wishart: the scatter of ``dof + 1 <= d`` points) only the first ``dof`` columns are
    nonzero (``Z = QR`` of the ``dof x d`` normal matrix ``Z`` gives ``R``'s first ``dof`` rows the same law);
    the other columns and their log diagonal are ``0`` and ``-inf``.
    """
    active = min(dof, d)
    rows, cols = np.tril_indices(d, k=-1)
    keep = cols < active
    rows, cols = rows[keep], cols[keep]
    below = len(rows)
    if active == 0:
        def zero(k_tri, k_gamma):
            return jnp.zeros((chains, d, d), dt), jnp.full((chains, d), -jnp.inf, dt)

        return zero
    shapes = (dof - np.arange(active, dtype=np.float64)) / 2
    *params, log_d = gamma_parameters(shapes, dt)
    params = tuple(jnp.asarray(q) for q in params)  # (active,) each: scalars inside the map
    log_d = jnp.asarray(log_d, dt)
    diag_idx = jnp.arange(active)

    def log_gamma(key):
        def column(args):
            k, column_params = args
            words = stream_key(jax.random.fold_in(key, k))
            return sufficient_draws(words, chain_index, column_params, dt)[1]  # log(G/d)

        return jax.lax.map(column, (jnp.arange(active), params)).T + log_d

    def draw(k_tri, k_gamma):
        log_t = 0.5 * (math.log(2.0) + log_gamma(k_gamma))  # T_kk**2 ~ chi2_{dof-k} = 2 Gamma((dof-k)/2)
        t = jnp.zeros((chains, d, d), dt)
        if below:  # only the normals below the diagonal are drawn
            t = t.at[:, rows, cols].set(jax.random.normal(k_tri, (chains, below), dt))
        t = t.at[:, diag_idx, diag_idx].set(jnp.exp(log_t))
        if active < d:
            log_t = jnp.concatenate([log_t, jnp.full((chains, d - active), -jnp.inf, dt)], axis=1)
        return t, log_t

    return draw


def _renormalise(lt, log_scale):
    """``exp(log_scale) * lt`` with ``max |lt| = 1`` again."""
    top = jnp.max(jnp.abs(lt), axis=(-2, -1))
    return lt / top[:, None, None], log_scale + jnp.log(top)


@functools.lru_cache(maxsize=32)
def _build(kind: str, mode: str, chains: int, dimension: int, sample_size: int, real_count: int, subsample: int,
           steps: int, slots: int, dtype: str):
    """The jitted block run: ``run(block_key, slots_of_step, per_step, valid, init, constants)``
    ``-> (slots, len(SCALARS) + d, 5)``. ``kind`` is the workflow's kind; ``real_count`` is ``R`` (mix, mix-fixed),
    ``subsample`` is ``K`` (accumulate-subsample)."""
    d, m = dimension, sample_size
    dt = jnp.dtype(dtype)
    chain_index = jnp.arange(chains, dtype=jnp.uint32)
    bartletts = {}

    def group(key, count):
        """``(zbar, rows)`` of ``count`` standard normal points in ``R^d`` per chain: their mean and a
        ``(chains, k, d)`` factor of their scatter, ``rows^T rows = sum_j (z_j - zbar)(z_j - zbar)^T``. Samples
        mode: the centred points themselves (``k = count``); sufficient mode: ``zbar ~ N(0, I/count)`` and
        ``rows = T^T`` with ``T`` the Bartlett factor of ``Wishart_d(count - 1, I)`` (``k = d``), and ``log diag
        T`` (``None`` in samples mode)."""
        k_mean, k_tri, k_gamma = jax.random.split(key, 3)
        if count == 0:
            return jnp.zeros((chains, d), dt), jnp.zeros((chains, 0, d), dt), None
        if mode == "samples":
            z = jax.random.normal(k_mean, (chains, count, d), dt)
            zbar = jnp.mean(z, axis=1)
            return zbar, z - zbar[:, None, :], None
        if count not in bartletts:
            bartletts[count] = _bartlett(count - 1, d, chains, dt, chain_index)
        zbar = jax.random.normal(k_mean, (chains, d), dt) / math.sqrt(count)
        t, log_t = bartletts[count](k_tri, k_gamma)
        return zbar, jnp.swapaxes(t, -1, -2), log_t

    def scatter(rows):
        return jnp.einsum("cki,ckj->cij", rows, rows)

    def replace_step(state, key, per_step, constants):
        error, lt, log_scale, log_diag, extra = state
        log_half_factor = constants["log_half_factor"]
        zbar, rows, log_t = group(key, m)
        if mode == "samples":  # T = cholesky(scatter) of the M points
            t = jnp.linalg.cholesky(scatter(rows))
            log_t = jnp.log(jnp.diagonal(t, axis1=-2, axis2=-1))
        else:
            t = jnp.swapaxes(rows, -1, -2)
        error = error + jnp.exp(log_scale)[:, None] * jnp.einsum("cij,cj->ci", lt, zbar)
        lt, log_scale = _renormalise(jnp.matmul(lt, t), log_scale)
        return error, lt, log_scale + log_half_factor, log_diag + log_t + log_half_factor, extra

    def accumulate_step(state, key, per_step, constants):
        # Sigma_{i+1} = (A/div_i)/c_i L_i (gamma I + c_i (S + beta zbar zbar^T)) L_i^T (module doc)
        error, lt, log_scale, log_diag, extra = state
        gamma, c, beta, half, weight = (per_step[j] for j in range(5))
        zbar, rows, _ = group(key, m)
        inner = gamma * jnp.eye(d, dtype=dt) + c * (scatter(rows) + beta * zbar[:, :, None] * zbar[:, None, :])
        j = jnp.linalg.cholesky(inner)
        error = error + weight * jnp.exp(log_scale)[:, None] * jnp.einsum("cij,cj->ci", lt, zbar)
        lt, log_scale = _renormalise(jnp.matmul(lt, j), log_scale)
        log_j = jnp.log(jnp.diagonal(j, axis1=-2, axis2=-1))
        return error, lt, log_scale + half, log_diag + log_j + half, extra

    r_count, s_count = real_count, m - real_count

    def mix_step(state, key, per_step, constants):
        # the weighted fit's scatter as a stack of rows F (F^T F = the new Sigma / scale**2), its Cholesky factor
        # from the QR decomposition of F: no matrix is squared (module doc)
        error, lt, log_scale, log_diag, extra = state
        w, root_real, root_synth, root_between = (constants[k] for k in ("weight", "root_real", "root_synth",
                                                                           "root_between"))
        chol = constants["chol"]
        scale = jnp.exp(log_scale)
        inv_scale = jnp.exp(-log_scale)
        zs, rows_s, _ = group(jax.random.fold_in(key, 2), s_count)
        sbar_rel = jnp.einsum("cij,cj->ci", lt, zs)  # (sbar - m_i)/scale
        blocks = []
        if kind == "mix":
            zr, rows_r, _ = group(jax.random.fold_in(key, 1), r_count)
            rbar_off = jnp.einsum("ij,cj->ci", chol, zr) - error  # rbar - m_i
            if r_count >= 2:
                blocks.append(root_real * inv_scale[:, None, None] * jnp.einsum("cki,ji->ckj", rows_r, chol))
            between_rel = rbar_off * inv_scale[:, None] - sbar_rel
            error = error + w * rbar_off + (1 - w) * scale[:, None] * sbar_rel
        else:  # mix-fixed: extra = (rbar - mu, the fixed real rows times Sigma^{1/2}'s factor, (m_i - rbar)/scale)
            rbar_err, real_rows, u_rel = extra
            if r_count >= 2:
                blocks.append(root_real * inv_scale[:, None, None] * real_rows)
            between_rel = -(u_rel + sbar_rel)
        if s_count >= 1:
            blocks.append(root_synth * jnp.einsum("cki,cji->ckj", rows_s, lt))
        if r_count >= 1 and s_count >= 1:
            blocks.append(root_between * between_rel[:, None, :])
        r = jnp.linalg.qr(jnp.concatenate(blocks, axis=1), mode="r")[:, :d, :]
        diag = jnp.diagonal(r, axis1=-2, axis2=-1)
        new = jnp.swapaxes(r, -1, -2) * jnp.where(diag < 0, -1.0, 1.0).astype(dt)[:, None, :]
        new_lt, new_log_scale = _renormalise(new, log_scale)
        log_diag = log_scale[:, None] + jnp.log(jnp.abs(diag))
        if kind == "mix-fixed":
            # m_{i+1} - rbar = (1 - w)(m_i - rbar + scale sbar_rel), kept relative to the new scale
            u_rel = (1 - w) * (u_rel + sbar_rel) * jnp.exp(log_scale - new_log_scale)[:, None]
            error = rbar_err + u_rel * jnp.exp(new_log_scale)[:, None]
            extra = (rbar_err, real_rows, u_rel)
        return error, new_lt, new_log_scale, log_diag, extra

    def subsample_step(state, key, per_step, constants, index):
        # the pool (points minus mu) gets M points of model i; model i + 1 fits K of its (i + 1) M points drawn
        # without replacement (Robert Floyd's algorithm)
        error, lt, log_scale, log_diag, (pool,) = state
        k_new, k_pick = jax.random.fold_in(key, 2), jax.random.fold_in(key, 3)
        z = jax.random.normal(k_new, (chains, m, d), dt)
        new = error[:, None, :] + jnp.exp(log_scale)[:, None, None] * jnp.einsum("cki,cji->ckj", z, lt)
        pool = jax.lax.dynamic_update_slice(pool, new, (jnp.int32(0), index * m, jnp.int32(0)))
        valid = (index + 1) * m

        def floyd(k, chosen):
            j = valid - subsample + k
            t = jax.random.randint(jax.random.fold_in(k_pick, k), (chains,), 0, j + 1, dtype=jnp.int32)
            taken = jnp.any(chosen == t[:, None], axis=1)
            return chosen.at[:, k].set(jnp.where(taken, j, t))

        chosen = jax.lax.fori_loop(0, subsample, floyd, jnp.full((chains, subsample), -1, jnp.int32))
        points = jnp.take_along_axis(pool, chosen[:, :, None], axis=1)
        mean = jnp.mean(points, axis=1)
        factor = jnp.linalg.cholesky(scatter(points - mean[:, None, :]))
        half = constants["log_half_factor"]
        lt, log_scale = _renormalise(factor, jnp.zeros((chains,), dt))
        log_diag = jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)) + half
        return mean, lt, log_scale + half, log_diag, (pool,)

    def run(block_key, slot_of_step, per_step, valid, init, constants):
        log_det0, trace0, root = constants["log_det0"], constants["trace0"], constants["root"]

        def record(moments, slot, state):
            def write(ops):
                moments, state = ops
                values = _block_values(*state[:4], log_det0, trace0, root)
                return jax.lax.dynamic_update_index_in_dim(moments, _moments(values, valid), slot, axis=0)

            return jax.lax.cond(slot >= 0, write, lambda ops: ops[0], (moments, state))

        def step(carry, xs):
            state, moments = carry
            index, slot, inputs = xs
            key = jax.random.fold_in(block_key, index)
            if kind == "replace":
                state = replace_step(state, key, inputs, constants)
            elif kind == "accumulate":
                state = accumulate_step(state, key, inputs, constants)
            elif kind in ("mix", "mix-fixed"):
                state = mix_step(state, key, inputs, constants)
            else:
                state = subsample_step(state, key, inputs, constants, index)
            return (state, record(moments, slot, state)), None

        moments = jnp.zeros((slots, len(SCALARS) + d, 5), dt)
        error0, lt0, log_scale0, log_diag0 = init
        state = (jnp.broadcast_to(error0, (chains, d)), jnp.broadcast_to(lt0, (chains, d, d)),
                 jnp.broadcast_to(log_scale0, (chains,)), jnp.broadcast_to(log_diag0, (chains, d)),
                 initial_extra(block_key, constants, log_scale0))
        moments = record(moments, slot_of_step[0], state)  # generation 0
        xs = (jnp.arange(steps, dtype=jnp.int32), slot_of_step[1:], per_step)
        (_, moments), _ = jax.lax.scan(step, (state, moments), xs)
        return moments

    def initial_extra(block_key, constants, log_scale0):
        if kind == "accumulate-subsample":
            return (jnp.zeros((chains, steps * m, d), dt),)
        if kind != "mix-fixed":
            return ()
        # the fixed real set: R points of p_0 drawn once per chain (stream fold_in(fold_in(block_key, 0), 4))
        chol = constants["chol"]
        zr, rows_r, _ = group(jax.random.fold_in(jax.random.fold_in(block_key, 0), 4), r_count)
        rbar_err = jnp.einsum("ij,cj->ci", chol, zr)
        real_rows = jnp.einsum("cki,ji->ckj", rows_r, chol)
        return rbar_err, real_rows, -rbar_err * jnp.exp(-log_scale0)  # (m_0 - rbar)/scale_0

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
    mode: str | None = None,
    dtype="float64",
    max_block_elements: int = DEFAULT_BLOCK_ELEMENTS,
) -> MultivariateSimulation:
    """Monte Carlo of ``chains`` independent runs of the multivariate Gaussian ``chain``, under its workflow.

    Each run starts at ``p_0 = N(mu, Sigma)`` and fits generation ``i + 1`` (mean; ``A * scatter / divisor``, or
    the weighted fit of ``mix`` with a real weight) to the training set of its workflow (``replace``, ``mix:LAMBDA``,
    ``mix-fixed:LAMBDA``, ``accumulate``, ``accumulate-subsample:K``; see the module doc for how a step is drawn in
    each ``mode``: ``"samples"`` draws the points, the literal process; ``"sufficient"`` draws each group's mean
    and scatter from their exact joint law, ``O(d**3)`` per chain and generation whatever ``M``).

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
        ``"sufficient"``, ``"samples"`` or ``None`` (default: ``"sufficient"``, except ``"samples"`` for
        ``accumulate-subsample``, which has no sufficient mode: which pool points enter a subsample is not a
        function of the pool's sufficient statistics).
    dtype:
        ``"float64"`` (default; x64 is switched on locally for the run, never globally) or ``"float32"`` (faster;
        unlike :func:`theory.simulate` it does not split the step's constants for float32 accuracy at huge ``M``,
        so use float64 for the drift of ``log det`` at large ``M``).
    max_block_elements:
        a bound on the floating-point numbers in flight per block of chains (chains are run in blocks of equal
        size; the last block's surplus chains are masked out of the moments). Samples mode holds a chain's
        ``M x d`` draws at once, and refuses (``ParameterError`` on ``mode``) a chain that does not fit;
        ``accumulate-subsample`` holds a chain's whole pool, ``n M d`` numbers after ``n`` generations, and refuses
        (``ParameterError`` on ``max_block_elements``) a pool that does not fit.

    Returns
    -------
    MultivariateSimulation
        ``.mean[key]`` and ``.se[key]`` for ``key`` in :data:`KEYS`, and ``.eigenvalues``.
    """
    chain = _check_chain(chain)
    kind = chain.workflow.kind
    requested = sorted(set(check_generations(generations)))
    chains = check_integer("chains", chains, minimum=2)
    seed = check_integer("seed", seed, minimum=0)
    if mode is None:
        mode = "samples" if kind == "accumulate-subsample" else "sufficient"
    if mode not in MODES:
        raise ParameterError("mode", " or ".join(repr(m) for m in MODES) + " (or None: the workflow's default)",
                             mode)
    if mode == "sufficient" and kind == "accumulate-subsample":
        raise ParameterError("mode", "'samples' for accumulate-subsample (which points of the pool a subsample "
                             "takes is not a function of the pool's sufficient statistics)", mode)
    dtype = _check_dtype(dtype)
    max_block_elements = check_integer("max_block_elements", max_block_elements, minimum=1)
    d, m = chain.dimension, chain.sample_size
    steps = max(requested)
    if mode == "samples" and _elements_per_chain("replace", mode, d, m, 0, 0, 0) > max_block_elements:
        raise ParameterError(
            "mode", f"'sufficient' when one chain's M * d = {m * d} draws exceed the block budget (samples mode "
            f"holds a chain's M points at once; max_block_elements = {max_block_elements})", mode)
    need = _elements_per_chain(kind, mode, d, m, chain.workflow.real_count(m), chain.workflow.subsample or 0, steps)
    if need > max_block_elements:
        raise ParameterError(
            "max_block_elements", f"at least {need} for one chain of this run ({kind} keeps a chain's pool of "
            f"n M d = {steps * m * d} numbers for n = {steps} generations; or fewer generations)",
            max_block_elements)
    if dtype == "float64" and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):
            return _run(chain, requested, chains, seed, mode, dtype, max_block_elements)
    return _run(chain, requested, chains, seed, mode, dtype, max_block_elements)


def _elements_per_chain(kind: str, mode: str, d: int, m: int, real_count: int, subsample: int, steps: int) -> int:
    """Floating-point numbers in flight per chain of a block: the state, the triangle, the products and the
    reduction's temporaries (``~8 d**2``), plus in samples mode the ``M x d`` draws and their centred copy; the
    stacked rows of ``mix``'s QR step; ``mix-fixed``'s real rows; ``accumulate-subsample``'s pool."""
    base = 8 * d * d + 2 * d + (2 * m * d if mode == "samples" else 0)
    if kind in ("mix", "mix-fixed"):
        rows = m + 1 if mode == "samples" else 2 * d + 1
        base += 3 * rows * d + (real_count if mode == "samples" else d) * d
    elif kind == "accumulate-subsample":
        base += steps * m * d + 3 * subsample * d
    return base


def _mix_constants(chain) -> dict:
    """The weighted fit's weights (module doc): ``w``, and the roots of ``c w/R``, ``c (1 - w)/(M - R)``,
    ``c w (1 - w)`` with ``c = A / divisor`` (``divisor = 1 - w**2/R - (1 - w)**2/(M - R)`` for ``unbiased``,
    ``1`` for ``mle``; a term of an empty group dropped)."""
    m = chain.sample_size
    r = chain.workflow.real_count(m)
    s = m - r
    w = chain.workflow.weight(m) if 0 < r < m else (0.0 if r == 0 else 1.0)
    divisor = 1.0
    if chain.learner == "unbiased":
        divisor = 1.0 - (w * w / r if r else 0.0) - ((1 - w) ** 2 / s if s else 0.0)
    c = float(chain.variance_scale) / divisor
    return {"weight": w, "root_real": math.sqrt(c * w / r) if r else 0.0,
            "root_synth": math.sqrt(c * (1 - w) / s) if s else 0.0, "root_between": math.sqrt(c * w * (1 - w))}


def _accumulate_inputs(chain, steps: int) -> np.ndarray:
    """``(steps, 5)``: per step ``i`` of ``accumulate``, ``(gamma, c, beta, half, weight)`` of the module doc:
    ``gamma = [i >= 1]``, ``c = A / div(i M)`` (``1`` at ``i = 0``), ``beta = i M / (i + 1)``,
    ``half = log((A / div((i + 1) M)) / c) / 2``, ``weight = 1/(i + 1)`` (``div(N) = N - 1`` or ``N``)."""
    m, a = chain.sample_size, float(chain.variance_scale)
    shift = 1 if chain.learner == "unbiased" else 0
    out = np.zeros((steps, 5))
    for i in range(steps):
        after = a / ((i + 1) * m - shift)
        c = 1.0 if i == 0 else a / (i * m - shift)
        out[i] = (float(i >= 1), c, i * m / (i + 1), 0.5 * math.log(after / c), 1.0 / (i + 1))
    return out


def _run(chain, requested, chains, seed, mode, dtype, max_block_elements) -> MultivariateSimulation:
    d = int(chain.dimension)
    m = int(chain.sample_size)
    workflow = chain.workflow
    kind = workflow.kind
    sigma = np.asarray(chain.covariance, dtype=np.float64)
    # host, float64: the Cholesky factor, the symmetric root and the constants of Sigma = p_0's covariance
    chol = np.linalg.cholesky(sigma)
    w, v = np.linalg.eigh(sigma)
    root = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    top = float(np.max(np.abs(chol)))
    log_diag0 = np.log(np.diag(chol))
    init = (np.zeros(d), chol / top, math.log(top), log_diag0)
    divisor = float(chain.divisor)
    if kind == "accumulate-subsample":
        divisor = float(workflow.subsample - 1 if chain.learner == "unbiased" else workflow.subsample)
    constants = {"log_half_factor": 0.5 * math.log(float(chain.variance_scale) / divisor),
                 "log_det0": 2.0 * float(log_diag0.sum()), "trace0": float(np.trace(sigma)), "root": root,
                 "chol": chol}
    steps = max(requested)
    per_step = np.zeros((steps, 5))
    if kind in ("mix", "mix-fixed"):
        constants |= _mix_constants(chain)
    elif kind == "accumulate":
        per_step = _accumulate_inputs(chain, steps)

    real = workflow.real_count(m)
    per_chain = _elements_per_chain(kind, mode, d, m, real, workflow.subsample or 0, steps)
    block = max(1, min(chains, max_block_elements // per_chain))
    blocks = -(-chains // block)
    slot_of_step = np.full(steps + 1, -1, dtype=np.int32)  # entry n: slot of generation n
    slot_of_step[requested] = np.arange(len(requested), dtype=np.int32)

    run = _build(kind, mode, block, d, m, real, workflow.subsample or 0, steps, len(requested), dtype)
    cast = functools.partial(jnp.asarray, dtype=dtype)
    init = tuple(cast(x) for x in init)
    constants = {key: cast(value) for key, value in constants.items()}
    per_step = cast(per_step)
    base = jax.random.key(seed)
    merged = None
    for b in range(blocks):
        valid = jnp.arange(block) < chains - b * block
        moments = run(jax.random.fold_in(base, b), jnp.asarray(slot_of_step), per_step, valid, init, constants)
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
