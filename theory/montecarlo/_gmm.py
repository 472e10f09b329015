"""A 2-D Gaussian mixture fitted by EM, in JAX, and the recursive GMM chain of the paper's GMM experiment.

* :class:`GMM` holds ``weights (K,)``, ``means (K, d)``, ``covariances (K, d, d)`` (a pytree, a NamedTuple).
* :func:`fit_em` is full-covariance EM with scikit-learn's stopping rule (stop when the change of the mean
  log-likelihood between iterations is below ``tol``; at most ``max_iter`` iterations; ``reg_covar`` added to
  every covariance diagonal), the set-up of the authors' notebook (``GaussianMixture(2, tol=1e-5,
  max_iter=2000)``).
* :func:`gmm_chain` runs the chain: D_0 drawn from the real distribution, G_n = EM fit to D_n, D_{n+1} drawn
  from G_n (N samples each generation). Generation 0's fit starts from a split of D_0 along its principal axis;
  later fits are warm-started from the previous generation's model (the notebook re-runs k-means each time;
  warm starts keep 2000 generations at N = 2e5 within minutes on a CPU). :func:`chain_data` redraws any
  generation's data after a run; :func:`run_gmm_chains` runs several chains in threads (two cores) with
  the distance of every generation to generation 0.
* :func:`l2_distance_squared` is the closed form of ``int (p - q)^2`` for Gaussian mixtures, from
  ``int N(x; a, A) N(x; b, B) dx = N(a; b, A + B)``; :func:`distances_to_first` applies it along a chain.

The figures ``f4_gmm_scatter`` and ``f5_gmm_distance`` (:mod:`theory.figures`) plot what these return.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp


class GMM(NamedTuple):
    """A Gaussian mixture: ``weights (K,)``, ``means (K, d)``, ``covariances (K, d, d)``."""

    weights: jax.Array
    means: jax.Array
    covariances: jax.Array


def _log_gauss(x, mean, cov):
    """log N(x; mean, cov) for 2-D points ``x (n, 2)``, with the 2x2 inverse written out (fast on CPU)."""
    a, b, c = cov[0, 0], cov[0, 1], cov[1, 1]
    det = a * c - b * b
    dx, dy = x[:, 0] - mean[0], x[:, 1] - mean[1]
    quad = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
    return -0.5 * quad - 0.5 * jnp.log(det) - jnp.log(2 * jnp.pi)


def _component_logs(gmm: GMM, x):
    return jax.vmap(_log_gauss, in_axes=(None, 0, 0))(x, gmm.means, gmm.covariances) + jnp.log(gmm.weights)[:, None]


def log_density(gmm: GMM, x):
    """log p(x) of the mixture at 2-D points ``x (n, 2)``."""
    return jax.scipy.special.logsumexp(_component_logs(gmm, x), axis=0)


def _sample_coordinates(key, gmm: GMM, n: int):
    """``n`` i.i.d. points from the mixture as two coordinate arrays ``(X, Y)``.

    Component ``i`` is the first with ``u * sum(w) < w_0 + ... + w_i`` for a uniform ``u``; the point is
    ``mean + L z`` with the written-out 2x2 Cholesky factor ``L`` of the component's covariance and two standard
    normals ``z`` (keys: ``split(key, 3)`` for ``u``, ``z_0``, ``z_1``). Returned as two arrays, not stacked:
    on CPU, XLA would otherwise recompute the normals inside the stacking loop (three times slower).
    """
    k_comp, k_x, k_y = jax.random.split(key, 3)
    u = jax.random.uniform(k_comp, (n,), dtype=gmm.weights.dtype) * jnp.sum(gmm.weights)
    z0 = jax.random.normal(k_x, (n,), dtype=gmm.means.dtype)
    z1 = jax.random.normal(k_y, (n,), dtype=gmm.means.dtype)
    a, b, c = gmm.covariances[:, 0, 0], gmm.covariances[:, 0, 1], gmm.covariances[:, 1, 1]
    l11 = jnp.sqrt(a)  # 2x2 Cholesky factor written out
    l21 = b / l11
    l22 = jnp.sqrt(jnp.maximum(c - l21 * l21, 0.0))
    if gmm.weights.shape[0] == 2:  # a select instead of a gather (same component as the search below)
        second = u >= gmm.weights[0]

        def pick(values):
            return jnp.where(second, values[1], values[0])
    else:
        comp = jnp.searchsorted(jnp.cumsum(gmm.weights)[:-1], u, side="right")  # component i w.p. weights[i]

        def pick(values):
            return values[comp]

    mx, my = pick(gmm.means[:, 0]), pick(gmm.means[:, 1])
    return mx + pick(l11) * z0, my + pick(l21) * z0 + pick(l22) * z1


def sample(key, gmm: GMM, n: int):
    """``n`` i.i.d. points ``(n, 2)`` from the mixture (the points :func:`gmm_chain` draws with the same key)."""
    return jnp.stack(_sample_coordinates(key, gmm, n), -1)


def _m_step(x, resp, reg_covar):
    """M-step from responsibilities ``resp (K, n)``: weights, means and centred (stable) covariances."""
    nk = resp.sum(axis=1) + 10 * jnp.finfo(x.dtype).eps
    means = resp @ x / nk[:, None]
    dx = x[None, :, 0] - means[:, 0:1]
    dy = x[None, :, 1] - means[:, 1:2]
    cxx = jnp.sum(resp * dx * dx, axis=1) / nk + reg_covar
    cxy = jnp.sum(resp * dx * dy, axis=1) / nk
    cyy = jnp.sum(resp * dy * dy, axis=1) / nk + reg_covar
    covs = jnp.stack([jnp.stack([cxx, cxy], -1), jnp.stack([cxy, cyy], -1)], -2)
    return GMM(nk / x.shape[0], means, covs)


class _Features(NamedTuple):
    """The data of one EM fit, centred at their mean ``centre``: ``rows (6, n)`` = 1, X, Y, X^2, XY, Y^2."""

    centre: jax.Array
    rows: jax.Array
    sums: jax.Array


def _features(x_coordinate, y_coordinate) -> _Features:
    centre = jnp.stack([x_coordinate.mean(), y_coordinate.mean()])
    big_x, big_y = x_coordinate - centre[0], y_coordinate - centre[1]
    rows = jnp.stack([jnp.ones_like(big_x), big_x, big_y, big_x * big_x, big_x * big_y, big_y * big_y])
    return _Features(centre, rows, rows.sum(axis=1))


def _log_coefficients(gmm: GMM):
    """``log(w_k N(x; m_k, S_k)) = q_k . (1, X, Y, X^2, XY, Y^2)`` for two components: ``q (2, 6)``."""
    a, b, c = gmm.covariances[:, 0, 0], gmm.covariances[:, 0, 1], gmm.covariances[:, 1, 1]
    det = a * c - b * b
    pxx, pxy, pyy = c / det, -b / det, a / det  # precision matrix
    mx, my = gmm.means[:, 0], gmm.means[:, 1]
    constant = (jnp.log(gmm.weights) - 0.5 * jnp.log(det) - jnp.log(2 * jnp.pi)
                - 0.5 * (pxx * mx * mx + 2 * pxy * mx * my + pyy * my * my))
    return jnp.stack([constant, pxx * mx + pxy * my, pxy * mx + pyy * my, -0.5 * pxx, -pxy, -0.5 * pyy], -1)


def _em_step_features(gmm: GMM, data: _Features, reg_covar):
    """One EM iteration on centred data (``gmm`` in the same coordinates): the E-step's mean log-likelihood
    at ``gmm``, then the M-step.

    The log-ratio of the two components is a quadratic in (X, Y); with ``e = exp(-|ratio|)`` the
    responsibilities are ``1 / (1 + e)`` and ``e / (1 + e)`` and ``log(p_0 + p_1) = log p_0 + max(ratio, 0) +
    log1p(e)``, where ``sum log p_0`` is the coefficients times the column sums. The M-step needs the
    responsibility-weighted sums of the six rows (two matrix-vector products); the covariances are the second
    moments about the data mean minus the squared component mean (the data are centred, so no large
    cancellation).
    """
    n = data.rows.shape[1]
    q = _log_coefficients(gmm)
    d = q[1] - q[0]
    big_x, big_y = data.rows[1], data.rows[2]
    ratio = d[0] + big_x * (d[1] + d[3] * big_x + d[4] * big_y) + big_y * (d[2] + d[5] * big_y)
    e = jnp.exp(-jnp.abs(ratio))
    large = 1 / (1 + e)
    small = e * large
    positive = ratio >= 0
    mean_loglik = (q[0] @ data.sums + jnp.sum(jnp.maximum(ratio, 0) + jnp.log1p(e))) / n
    sums = jnp.stack([data.rows @ jnp.where(positive, small, large), data.rows @ jnp.where(positive, large, small)])
    nk = sums[:, 0] + 10 * jnp.finfo(data.rows.dtype).eps
    mx, my = sums[:, 1] / nk, sums[:, 2] / nk
    cxx = sums[:, 3] / nk - mx * mx + reg_covar
    cxy = sums[:, 4] / nk - mx * my
    cyy = sums[:, 5] / nk - my * my + reg_covar
    covs = jnp.stack([jnp.stack([cxx, cxy], -1), jnp.stack([cxy, cyy], -1)], -2)
    return mean_loglik, GMM(nk / n, jnp.stack([mx, my], -1), covs)


def _em(data: _Features, init: GMM, tol: float, max_iter: int, reg_covar: float):
    """EM on the features of one data set from ``init`` (data coordinates); returns (GMM, iterations)."""
    def cond(state):
        _, previous, current, it = state
        return (it < max_iter) & (jnp.abs(current - previous) >= tol)

    def body(state):
        gmm, _, current, it = state
        lower_bound, new = _em_step_features(gmm, data, reg_covar)
        return new, current, lower_bound, it + 1

    inf = jnp.asarray(jnp.inf, data.rows.dtype)
    start = init._replace(means=init.means - data.centre)
    gmm, _, _, iterations = jax.lax.while_loop(cond, body, (start, -inf, inf, jnp.asarray(0)))
    return gmm._replace(means=gmm.means + data.centre), iterations


@functools.partial(jax.jit, static_argnames=("tol", "max_iter", "reg_covar"))
def fit_em(x, init: GMM, *, tol: float = 1e-5, max_iter: int = 2000, reg_covar: float = 1e-6):
    """EM for a two-component 2-D GMM from ``init``; returns (GMM, iterations).

    Each iteration is an E-step at the current parameters then an M-step (scikit-learn's order); EM stops when
    the E-step's mean log-likelihood changes by less than ``tol`` between consecutive iterations, or after
    ``max_iter`` iterations; ``reg_covar`` is added to the covariance diagonals. The iterations run on the data
    centred at their mean, with the sums the M-step needs taken in one pass (see ``_em_step_features``).
    """
    if init.weights.shape[0] != 2:
        raise ValueError("fit_em fits two components")
    return _em(_features(x[:, 0], x[:, 1]), init, tol, max_iter, reg_covar)


def split_init(x, components: int = 2) -> GMM:
    """A deterministic start for the first fit: hard split of the points along their principal axis.

    Two components: points with positive / negative projection on the top principal direction (the split
    k-means finds on a single blob).
    """
    if components != 2:
        raise ValueError("split_init makes two components")
    centred = x - x.mean(axis=0)
    scatter = centred.T @ centred
    angle = 0.5 * jnp.arctan2(2 * scatter[0, 1], scatter[0, 0] - scatter[1, 1])  # top eigenvector of 2x2
    side = (centred @ jnp.stack([jnp.cos(angle), jnp.sin(angle)])) > 0
    resp = jnp.stack([side, ~side]).astype(x.dtype)
    return _m_step(x, resp, 1e-6)


#: Longest run of generations in one compiled call (Ctrl-C and progress act between calls).
MAX_SEGMENT = 250


def segment_length(generations: int) -> int:
    """The largest divisor of ``generations`` that is at most :data:`MAX_SEGMENT` (one compiled segment)."""
    return max(d for d in range(1, min(generations, MAX_SEGMENT) + 1) if generations % d == 0)


@functools.partial(jax.jit, static_argnames=("sample_size", "length", "tol", "max_iter"))
def _chain_segment(key, real: GMM, gmm: GMM, start, *, sample_size: int, length: int, tol: float, max_iter: int):
    """Generations ``start .. start + length - 1`` of the chain from ``gmm`` = G_{start-1} (ignored at 0)."""
    def step(previous, n):
        first = n == 0
        source = jax.tree.map(lambda r, g: jnp.where(first, r, g), real, previous)
        x = _sample_coordinates(jax.random.fold_in(key, n), source, sample_size)
        init = jax.lax.cond(first, lambda: split_init(jnp.stack(x, -1)), lambda: previous)
        new, it = _em(_features(*x), init, tol, max_iter, 1e-6)
        return new, (new, it)

    return jax.lax.scan(step, gmm, start + jnp.arange(length))


def gmm_chain(key, real: GMM, *, sample_size: int, generations: int, tol: float = 1e-5, max_iter: int = 2000,
              callback=None):
    """The recursive GMM chain; returns the stacked fitted GMMs ``G_0..G_{generations-1}`` and EM iterations.

    ``D_n`` is drawn with key ``jax.random.fold_in(key, n)``, so :func:`chain_data` can redraw any generation's
    data after the run without storing it. ``D_0`` comes from ``real`` and its fit starts from
    :func:`split_init`; every later fit is warm-started from the previous generation's model. The generations
    run in compiled segments of :func:`segment_length` (one compilation per sample size and segment length);
    ``callback(generations_done)`` is called after each segment.
    """
    length = segment_length(generations)
    gmm, models, iterations = real, [], []
    for start in range(0, generations, length):
        gmm, (new, it) = _chain_segment(key, real, gmm, start, sample_size=sample_size, length=length, tol=tol,
                                        max_iter=max_iter)
        models.append(new)
        iterations.append(it)
        if callback is not None:
            jax.block_until_ready(it)
            callback(start + length)
    stacked = jax.tree.map(lambda *parts: jnp.concatenate(parts), *models)
    return stacked, jnp.concatenate(iterations)


def chain_data(key, real: GMM, models: GMM, generation: int, sample_size: int):
    """Redraw ``D_n`` of a chain run by :func:`gmm_chain` with the same key (``D_0`` from ``real``)."""
    return _chain_data(key, real, models, jnp.asarray(generation), sample_size=sample_size)


@functools.partial(jax.jit, static_argnames=("sample_size",))
def _chain_data(key, real: GMM, models: GMM, generation, *, sample_size: int):
    previous = jax.tree.map(lambda a: a[jnp.maximum(generation - 1, 0)], models)
    source = jax.tree.map(lambda r, g: jnp.where(generation == 0, r, g), real, previous)
    return sample(jax.random.fold_in(key, generation), source, sample_size)


def _gauss_overlap(a: GMM, b: GMM):
    """sum_ij w_i v_j N(m_i; n_j, S_i + T_j) = int p_a p_b."""
    cov = a.covariances[:, None] + b.covariances[None, :]  # (K, L, d, d)
    diff = a.means[:, None] - b.means[None, :]  # (K, L, d)
    d = diff.shape[-1]
    chol = jnp.linalg.cholesky(cov)
    sol = jax.scipy.linalg.solve_triangular(chol, diff[..., None], lower=True)[..., 0]
    logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    dens = jnp.exp(-0.5 * jnp.sum(sol**2, axis=-1) - 0.5 * logdet - 0.5 * d * jnp.log(2 * jnp.pi))
    return jnp.einsum("k,l,kl->", a.weights, b.weights, dens)


def l2_distance_squared(p: GMM, q: GMM):
    """``int (p(x) - q(x))^2 dx`` of two Gaussian mixtures, in closed form."""
    return _gauss_overlap(p, p) + _gauss_overlap(q, q) - 2 * _gauss_overlap(p, q)


@jax.jit
def distances_to_first(models: GMM):
    """``int (G_0 - G_n)^2`` for every generation n of a chain (one compiled program per chain length)."""
    first = jax.tree.map(lambda a: a[0], models)
    return jax.vmap(l2_distance_squared, in_axes=(None, 0))(first, models)


class _Stopped(Exception):
    """Raised inside a worker thread when the main thread was interrupted."""


def run_gmm_chains(jobs, workers: int = 2):
    """Run the chains ``jobs`` = ``[(key, real, sample_size, generations), ...]`` of :func:`gmm_chain` in
    ``workers`` threads; return ``[(models, iterations, distances_to_first(models)), ...]`` on the host, in the
    order of ``jobs``.

    The compiled segments release the GIL, so two chains use two cores; the numbers do not depend on the
    scheduling. On Ctrl-C every chain stops at its next segment boundary (seconds) before re-raising.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    x64 = bool(jax.config.jax_enable_x64)  # a thread-local setting (jax.enable_x64): carry it to the workers

    def check(_done):
        if stop.is_set():
            raise _Stopped

    def run(job):
        key, real, sample_size, generations = job
        with jax.enable_x64(x64):
            models, iterations = gmm_chain(key, real, sample_size=sample_size, generations=generations,
                                           callback=check)
            return jax.device_get((models, iterations, distances_to_first(models)))

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result() for future in futures]
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
