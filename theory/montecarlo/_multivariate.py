"""Monte Carlo of the multivariate Gaussian chain (full covariance), under every workflow of the chain model.

Generation ``i + 1`` is fitted (mean; ``A * scatter / divisor``, or the weighted fit of ``mix`` with a real weight)
to the training set of the chain's workflow, points in ``R^d`` (:class:`theory.chain.MultivariateGaussianChain`):
``replace`` (``M`` points of model ``i``), ``mix:LAMBDA`` (``R = round(LAMBDA M)`` fresh points of ``p_0`` and
``M - R`` of model ``i``), ``mix-fixed:LAMBDA`` (the ``R`` real points drawn once per chain), ``accumulate`` (model
``i + 1`` fits the pool of all ``N_i = (i + 1) M`` points so far), ``accumulate-subsample:K`` (``K`` points of the
pool drawn without replacement).

State of a chain (as in :mod:`._engine`, in a form that survives collapse):

* ``error = mu_n - mu`` (kept as the difference, so that it does not cancel against ``mu``);
* the Cholesky factor ``L_n`` of ``Sigma_n``, stored as ``exp(log_scale) * Lt`` with ``max |Lt| = 1`` (renormalised
  every step, so that ``Sigma_n -> 0`` does not underflow ``L_n``);
* ``log_diag = log diag L_n``, kept exactly, so that ``log det Sigma_n = 2 sum log_diag`` is never the log of an
  underflowed determinant (``E log det Sigma_n`` falls linearly in ``n`` under replace: the volume collapses
  almost surely);
* the workflow's own part: ``mix-fixed`` the fixed real set (its mean minus ``mu`` and its centred points, or their
  Bartlett factor, times ``Sigma``'s Cholesky factor) and ``(mu_n - rbar)/exp(log_scale)`` (with ``R <= d`` real
  points the model collapses onto their affine hull, and with ``R = 1`` onto the point: this keeps the difference
  exact, as the 1-D kernel does); ``accumulate-subsample`` the pool's points minus ``mu``, ``(chains, n M, d)``.

Both learners are affine-equivariant, so a group of points of model ``i`` is drawn standardised: ``x_j = mu_i +
L_i z_j`` (``z_j ~ N(0, I_d)``), its mean ``mu_i + L_i zbar`` and its scatter ``L_i scatter(z) L_i^T``; a group of
real points is ``mu + C z_j`` with ``C`` the Cholesky factor of ``Sigma``. In each ``mode`` a group of ``k`` points
is summarised by ``zbar`` and a factor ``F`` of ``scatter(z) = F^T F``:

* ``samples``: the literal points: ``k x d`` standard normals, ``zbar`` their mean, ``F`` the centred points
  (cost ``O(k d**2)``);
* ``sufficient``: their exact joint law, ``zbar ~ N(0, I/k)`` independent of ``scatter(z) ~ Wishart_d(k - 1, I)``,
  the latter by the Bartlett decomposition ``F = T^T``: ``T`` lower triangular, ``T_jj**2 ~ chi2_{k-1-j}``
  (drawn as ``log T_jj = (log 2 + log Gamma((k-1-j)/2)) / 2`` by the 1-D engine's sampler,
  :func:`._gamma.sufficient_draws`: Marsaglia-Tsang in log space, with the boost ``Gamma(a) = Gamma(a + 1)
  U**(1/a)`` at shape 1/2, so that no draw underflows; the columns of all of a step's groups in one ``lax.map``),
  ``T_jl ~ N(0, 1)`` below the diagonal, zero above; for ``k - 1 < d`` only the first ``k - 1`` columns (cost
  ``O(d**3)`` whatever ``k``; :func:`jax.random.loggamma`, a per-element while loop with per-element key
  splits, made sufficient mode slower than samples mode at ``M = d + 1``).

A step, by workflow (``c = A / divisor``):

* ``replace``: ``T`` the Bartlett factor (sufficient) or ``cholesky(scatter(z))`` (samples);
  ``L_{i+1} = sqrt(c) L_i T`` is lower triangular with a positive diagonal: it *is* the Cholesky factor of
  ``Sigma_{i+1}``, with ``log diag L_{i+1} = log diag L_i + log diag T + log(c) / 2``; no factorisation, and
  ``mu_{i+1} = mu_i + L_i zbar``.
* ``accumulate``: the pool's scatter ``Q_i = Q_{i-1} + S + (N_{i-1} M / N_i)(xbar - m)(xbar - m)^T`` (Chan, Golub and
  LeVeque's exact pooled update; ``m = mu_i``, the pool's mean, ``S`` and ``xbar`` the new points' scatter and
  mean) and ``Sigma_i = c_i Q_{i-1}`` with ``c_i = A / div(N_{i-1})`` (``div(N) = N - 1`` or ``N``) give
  ``Sigma_{i+1} = (A / div(N_i)) / c_i  L_i G L_i^T``, ``G = gamma I + c_i (scatter(z) + beta zbar zbar^T)``,
  ``beta = N_{i-1} M / N_i`` (``gamma = 0``, ``c_0 = 1``, ``beta = 0`` at step 0, which is replace's step). So
  ``L_{i+1} = sqrt((A / div(N_i)) / c_i) L_i chol(G)``: lower triangular, ``log diag`` adds; ``G >= I`` is well
  conditioned. ``mu_{i+1} = mu_i + (M / N_i) L_i zbar``. ``O(d**3)`` per chain and step whatever ``M``.
* ``mix`` and ``mix-fixed``: the weighted fit, with weight ``w`` on the real group (``R`` points; ``w = R/M`` for
  the plain fit) and ``1 - w`` on the synthetic group (``M - R`` points): mean ``w rbar + (1 - w) sbar``, scatter
  ``w S_r / R + (1 - w) S_s / (M - R) + w (1 - w)(rbar - sbar)(rbar - sbar)^T``, times ``A`` and divided by
  ``1 - w**2/R - (1 - w)**2/(M - R)`` for the unbiased learner (the 1-D definition, :mod:`theory.chain._workflow`).
  That is ``F^T F`` for the rows ``F`` stacked from ``sqrt(c w/R)`` times the real group's factor times ``C^T``,
  ``sqrt(c (1 - w)/(M - R))`` times the synthetic group's factor times ``L_i^T``, and ``sqrt(c w (1 - w))
  (rbar - sbar)^T``, all divided by ``exp(log_scale)``; the new Cholesky factor is ``R^T`` (signs made positive)
  from the QR decomposition ``F = Q R``: no matrix is squared, so small directions keep their relative accuracy
  (``O((M + 1) d**2)`` in samples mode, ``O(d**3)`` in sufficient mode). ``mix-fixed``'s real group is drawn
  once per chain (stream ``fold_in(fold_in(block_key, 0), 4)``); ``mix``'s afresh every step.
* ``accumulate-subsample`` (samples mode only: which points of the pool a subsample takes is not a function of the
  pool's sufficient statistics): step ``i`` writes ``M`` points of model ``i`` into the pool at ``i M``, draws
  ``K`` distinct indices of ``[0, (i + 1) M)`` uniformly by Robert Floyd's algorithm (for ``j = N - K .. N - 1``
  draw ``t`` uniform on ``[0, j]``, take ``t``, or ``j`` if ``t`` is taken; Bentley and Floyd, *CACM* 30, 1987)
  and fits the ``K`` points (``cholesky`` of their scatter). Memory ``n M d`` numbers per chain: refused when one
  chain does not fit ``max_block_elements``.

Streams: step ``i`` uses the key ``fold_in(block_key, i)``; ``mix``'s real group ``fold_in(., 1)``, the synthetic
group ``fold_in(., 2)``; the subsample's new points ``fold_in(., 2)``, its indices ``fold_in(., 3)``.

Reported values, per chain, at every reported generation ``n``:

==================  ======================================================================================
``mean_sq_error``   ``||mu_n - mu||**2``
``trace``           ``tr Sigma_n`` (its mean is ``trace_mean``, its across-chain variance ``trace_var``)
``det``             ``det Sigma_n = exp(2 sum log_diag)``
``log_det``         ``log det Sigma_n - log det Sigma``
``w2_sq``           Bures-Wasserstein ``W2**2(p_n, p_0) = ||mu_n - mu||**2 + tr Sigma_n + tr Sigma
                    - 2 tr (Sigma^{1/2} Sigma_n Sigma^{1/2})^{1/2}``
``effective_rank``  ``exp(H)``, ``H = -sum_k p_k log p_k`` the entropy of ``p = lambda / sum lambda`` (``lambda``
                    the eigenvalues of ``Sigma_n``; Roy and Vetterli 2007): ``d`` for an isotropic ``Sigma_n``,
                    ``1`` when one direction carries everything (its mean is ``effective_rank_mean``)
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
        ``E log det Sigma_n - log det Sigma``, ``w2_sq_mean`` ``E W2**2(p_n, p_0)`` (Bures-Wasserstein),
        ``effective_rank_mean`` ``E exp(H)`` with ``H`` the entropy of ``Sigma_n``'s normalised eigenvalues.
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


def _bartlett(dofs: tuple, d: int, chains: int, dt, chain_index):
    """``[(k_tri, k_gamma), ...] -> [(T, log diag T), ...]``, one pair per degrees of freedom in ``dofs``: ``T``
    lower triangular ``(chains, d, d)`` with ``T T^T ~ Wishart_d(dof, I)``.

    The Bartlett decomposition: ``T_kk**2 ~ chi2_{dof-k}`` (``log T_kk = (log 2 + log Gamma((dof-k)/2))/2``, the
    engine's log-space sampler with the key ``fold_in(k_gamma, k)``; the columns of every group in one
    ``lax.map``, one column's shape per step, so the sampler is compiled once), ``T_kl ~ N(0, 1)`` below the
    diagonal. For ``dof < d`` (a singular Wishart: the scatter of ``dof + 1 <= d`` points) only the first ``dof``
    columns are nonzero (``Z = QR`` of the ``dof x d`` normal matrix ``Z`` gives ``R``'s first ``dof`` rows that
    law); the other columns and their log diagonal are ``0`` and ``-inf``.
    """
    actives = [min(dof, d) for dof in dofs]
    shapes = np.concatenate([(dof - np.arange(a, dtype=np.float64)) / 2 for dof, a in zip(dofs, actives)])
    if len(shapes):
        *params, log_d = gamma_parameters(shapes, dt)
        params = tuple(jnp.asarray(q) for q in params)  # (columns,) each: scalars inside the map
        log_d = jnp.asarray(log_d, dt)

    def log_gammas(gamma_keys):
        keys = [jax.random.fold_in(key, k) for key, a in zip(gamma_keys, actives) for k in range(a)]

        def column(args):
            key, column_params = args
            return sufficient_draws(stream_key(key), chain_index, column_params, dt)[1]  # log(G/d)

        return jax.lax.map(column, (jnp.stack(keys), params)).T + log_d  # (chains, columns)

    def draw(pairs):
        logs = log_gammas([k_gamma for _, k_gamma in pairs]) if len(shapes) else None
        out, start = [], 0
        for (k_tri, _), active in zip(pairs, actives):
            if active == 0:
                out.append((jnp.zeros((chains, d, d), dt), jnp.full((chains, d), -jnp.inf, dt)))
                continue
            # T_kk**2 ~ chi2_{dof-k} = 2 Gamma((dof-k)/2)
            log_t = 0.5 * (math.log(2.0) + logs[:, start:start + active])
            start += active
            rows, cols = np.tril_indices(d, k=-1)
            keep = cols < active
            rows, cols = rows[keep], cols[keep]
            t = jnp.zeros((chains, d, d), dt)
            if len(rows):  # only the normals below the diagonal are drawn
                t = t.at[:, rows, cols].set(jax.random.normal(k_tri, (chains, len(rows)), dt))
            diag = jnp.arange(active)
            t = t.at[:, diag, diag].set(jnp.exp(log_t))
            if active < d:
                log_t = jnp.concatenate([log_t, jnp.full((chains, d - active), -jnp.inf, dt)], axis=1)
            out.append((t, log_t))
        return out

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

    def groups(keys_counts):
        """``[(zbar, rows, log diag T), ...]`` of groups of ``count`` standard normal points in ``R^d`` per chain,
        one per ``(key, count)``: their mean and a ``(chains, k, d)`` factor of their scatter, ``rows^T rows =
        sum_j (z_j - zbar)(z_j - zbar)^T``. Samples mode: the centred points themselves (``k = count``; ``log diag
        T`` is ``None``); sufficient mode: ``zbar ~ N(0, I/count)`` and ``rows = T^T`` with ``T`` the Bartlett
        factor of ``Wishart_d(count - 1, I)`` (``k = d``), all groups' diagonals in one ``lax.map``."""
        splits = [jax.random.split(key, 3) for key, _ in keys_counts]
        out = []
        if mode == "samples":
            for (k_mean, _, _), (_, count) in zip(splits, keys_counts):
                if count == 0:
                    out.append((jnp.zeros((chains, d), dt), jnp.zeros((chains, 0, d), dt), None))
                    continue
                z = jax.random.normal(k_mean, (chains, count, d), dt)
                zbar = jnp.mean(z, axis=1)
                out.append((zbar, z - zbar[:, None, :], None))
            return out
        present = [(split, count) for split, (_, count) in zip(splits, keys_counts) if count > 0]
        draw = _bartlett(tuple(count - 1 for _, count in present), d, chains, dt, chain_index)
        triangles = iter(draw([(k_tri, k_gamma) for (_, k_tri, k_gamma), _ in present]))
        for (k_mean, _, _), (_, count) in zip(splits, keys_counts):
            if count == 0:
                out.append((jnp.zeros((chains, d), dt), jnp.zeros((chains, 0, d), dt), None))
                continue
            zbar = jax.random.normal(k_mean, (chains, d), dt) / math.sqrt(count)
            t, log_t = next(triangles)
            out.append((zbar, jnp.swapaxes(t, -1, -2), log_t))
        return out

    def group(key, count):
        return groups([(key, count)])[0]

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
        if kind == "mix":  # both groups' Bartlett diagonals in one lax.map
            (zs, rows_s, _), (zr, rows_r, _) = groups([(jax.random.fold_in(key, 2), s_count),
                                                       (jax.random.fold_in(key, 1), r_count)])
        else:
            zs, rows_s, _ = group(jax.random.fold_in(key, 2), s_count)
        sbar_rel = jnp.einsum("cij,cj->ci", lt, zs)  # (sbar - m_i)/scale
        blocks = []
        if kind == "mix":
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
    mode = resolve_mode(chain.workflow, mode)
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


def resolve_mode(workflow, mode: str | None) -> str:
    """The mode :func:`simulate_multivariate` runs for ``mode`` under ``workflow`` (a
    :class:`~theory.chain.Workflow`): ``None`` is ``"sufficient"``, or ``"samples"`` for ``accumulate-subsample``
    (its only mode); raises :class:`~theory.ParameterError` on ``mode`` for anything else that does not exist.

    >>> from theory.chain import Workflow
    >>> resolve_mode(Workflow.parse("accumulate-subsample:5"), None), resolve_mode(Workflow(), None)
    ('samples', 'sufficient')
    """
    kind = workflow.kind
    if mode is None:
        return "samples" if kind == "accumulate-subsample" else "sufficient"
    if mode not in MODES:
        raise ParameterError("mode", " or ".join(repr(m) for m in MODES) + " (or None: the workflow's default)",
                             mode)
    if mode == "sufficient" and kind == "accumulate-subsample":
        raise ParameterError("mode", "'samples' for accumulate-subsample (which points of the pool a subsample "
                             "takes is not a function of the pool's sufficient statistics)", mode)
    return mode


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
