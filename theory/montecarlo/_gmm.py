"""Monte Carlo of the Gaussian-mixture chain (:class:`theory.chain.GMMChain`): EM in JAX, vectorised over runs.

* :class:`GMM` holds ``weights (K,)``, ``means (K, d)``, ``covariances (K, d, d)`` (a NamedTuple, so a pytree).
* :func:`fit_em` is full-covariance EM for ``K`` components in ``d`` dimensions with scikit-learn's rule (an
  E-step at the current parameters, then an M-step; stop when the mean log-likelihood changes by less than ``tol``;
  at most ``max_iter`` iterations; ``reg_covar`` on every covariance diagonal), optionally with point weights.
  Each fit works on the points centred at their mean and on the ``F = 1 + d + d (d + 1)/2`` rows ``1, x_i,
  x_i x_j (i <= j)``: ``log(w_k N(x; m_k, S_k))`` is a fixed linear combination of them, so an E-step is one
  ``(K, F) x (F, n)`` product and the M-step needs only the responsibility-weighted row sums (for ``K = 2`` the
  responsibilities are a logistic function of one log-ratio: one ``exp`` per point).
* :func:`simulate_gmm` runs ``chains`` independent chains of a :class:`~theory.chain.GMMChain` under its workflow
  (``jax.vmap`` over chains of a ``jax.lax.scan`` over generations; one EM ``while_loop`` per generation that runs
  until every chain's fit has stopped, each chain keeping its own stopping point). It returns every generation's
  fitted mixture and EM iteration count.
* Sampling: components by one float32 uniform a point, or (from :data:`BINOMIAL_COUNTS_FROM` points) as
  multinomial counts (``K - 1`` binomials: faster to run, slower to compile); the standard normals in float32
  (half the random bits of float64: JAX's threefry is the cost here) and then used in float64; the normals are
  quantised at about ``1e-7`` and none falls beyond ``5.4`` standard deviations (probability ``7e-8`` a draw).
* Distances to generation 0: :func:`l2_distance_squared` (closed form of ``int (p - q)^2`` for Gaussian mixtures,
  from ``int N(x; a, A) N(x; b, B) dx = N(a; b, A + B)``); :func:`w2_bracket` brackets ``W2^2(p, q)`` exactly:
  below by Gelbrich's bound (the W2 between the moment-matched Gaussians), above by the mixture-W2 (optimal
  transport restricted to couplings of the components, with cost the Gaussian W2^2 of component pairs; a ``K x K``
  linear programme, solved in closed form for ``K <= 2``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer

#: Largest number of float64 values a pooled workflow's pool may hold over all chains (the points and their
#: rows: ``(d + F + 2) * generations * M * chains``): 2**27 values, 1 GiB.
MAX_POOL_VALUES = 2**27


#: From this many points a draw takes its component counts as ``K - 1`` binomials (the points sorted by
#: component); below it, each point's component comes from one float32 uniform (compiles 1-3 s faster, runs about
#: 20% slower at 2e5 points).
BINOMIAL_COUNTS_FROM = 20_000


class GMM(NamedTuple):
    """A Gaussian mixture: ``weights (K,)``, ``means (K, d)``, ``covariances (K, d, d)``."""

    weights: jax.Array
    means: jax.Array
    covariances: jax.Array


def gmm_of_source(source) -> GMM:
    """A :class:`~theory.chain.GMMSource`'s arrays as a :class:`GMM` (float64 when x64 is on)."""
    return GMM(jnp.asarray(source.weights), jnp.asarray(source.means), jnp.asarray(source.covariances))


def _padded(source: GMM) -> GMM:
    """A one-component source as two identical halves (the same distribution), so that every source of a given
    dimension has the same shapes and the chains of the two 2-D set-ups share one compiled program."""
    if source.weights.shape[0] > 1:
        return source
    return GMM(jnp.concatenate([source.weights, source.weights]) / 2, jnp.concatenate([source.means] * 2),
               jnp.concatenate([source.covariances] * 2))


# ---------------------------------------------------------------------------------------------------- densities
def _cholesky(covariances):
    """Cholesky factors of ``(..., d, d)`` covariances; for ``d = 2`` written out (no LAPACK call: on CPU the
    small-matrix calls inside EM's loop cost more than the arithmetic)."""
    if covariances.shape[-1] != 2:
        return jnp.linalg.cholesky(covariances)
    a, b, c = covariances[..., 0, 0], covariances[..., 0, 1], covariances[..., 1, 1]
    l11 = jnp.sqrt(a)
    l21 = b / l11
    l22 = jnp.sqrt(c - l21 * l21)
    zero = jnp.zeros_like(l11)
    return jnp.stack([jnp.stack([l11, zero], -1), jnp.stack([l21, l22], -1)], -2)


def _cholesky_parts(covariances):
    chol = _cholesky(covariances)
    logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return chol, logdet


@jax.jit
def log_density(gmm: GMM, x):
    """``log p(x)`` of the mixture at the points ``x (n, d)``."""
    diff = x[None, :, :] - gmm.means[:, None, :]  # (K, n, d)
    logs = _log_gauss_pairs(diff, gmm.covariances[:, None]) + jnp.log(gmm.weights)[:, None]
    return jax.scipy.special.logsumexp(logs, axis=0)


def total_covariance(gmm: GMM):
    """The mixture's covariance ``sum_k w_k (S_k + m_k m_k^T) - mean mean^T`` (batched over leading axes)."""
    w = gmm.weights / jnp.sum(gmm.weights, axis=-1, keepdims=True)
    mean = jnp.einsum("...k,...ki->...i", w, gmm.means)
    second = jnp.einsum("...k,...kij->...ij", w, gmm.covariances + gmm.means[..., :, None] * gmm.means[..., None, :])
    return second - mean[..., :, None] * mean[..., None, :]


# ---------------------------------------------------------------------------------------------------- sampling
def _component_counts(key, weights, n: int):
    """Multinomial counts ``(K,)`` of ``n`` draws with probabilities ``weights`` (``K - 1`` binomials)."""
    k = weights.shape[0]
    p = weights / jnp.sum(weights)
    if k == 1:
        return jnp.full((1,), n, dtype=p.dtype)
    counts, remaining, left = [], jnp.asarray(n, p.dtype), jnp.asarray(1.0, p.dtype)
    for i, sub in enumerate(jax.random.split(key, k - 1)):
        share = jnp.clip(p[i] / jnp.maximum(left, jnp.finfo(p.dtype).tiny), 0.0, 1.0)
        c = jnp.minimum(jax.random.binomial(sub, remaining, share, dtype=p.dtype), remaining)
        counts.append(c)
        remaining, left = remaining - c, left - p[i]
    counts.append(remaining)
    return jnp.stack(counts)


def _sample_columns(key, gmm: GMM, n: int):
    """``n`` i.i.d. points of the mixture as columns ``(d, n)``: from :data:`BINOMIAL_COUNTS_FROM` points, the first
    ``c_0`` from component 0, the next ``c_1`` from component 1, ... with multinomial counts ``c`` (the order is
    irrelevant to every fit); below, point ``j``'s component is the first ``k`` with ``u_j < w_0 + ... + w_k`` for a
    float32 uniform ``u_j`` (probabilities exact to ``2^-24``)."""
    k_count, k_normal = jax.random.split(key)
    dtype = gmm.means.dtype
    d = gmm.means.shape[-1]
    # materialised once: XLA on CPU would otherwise fuse the (expensive) normal draws into every consumer
    z = jax.lax.optimization_barrier(jax.random.normal(k_normal, (d, n), dtype=jnp.float32))
    z = [z[j].astype(dtype) for j in range(d)]
    chol = _cholesky(gmm.covariances)
    k = gmm.weights.shape[0]
    if k == 1:
        def pick(values):
            return values[0]
    elif n >= BINOMIAL_COUNTS_FROM:
        bounds = jnp.cumsum(_component_counts(k_count, gmm.weights, n))[:-1]
        comp = jnp.sum(jnp.arange(n, dtype=dtype)[None, :] >= bounds[:, None], axis=0)
    else:
        u = jax.random.uniform(k_count, (n,), dtype=jnp.float32).astype(dtype)
        bounds = jnp.cumsum(gmm.weights / jnp.sum(gmm.weights))[:-1]
        comp = jnp.sum(u[None, :] >= bounds[:, None], axis=0)
    if k > 1:
        def pick(values):
            out = values[0]
            for i in range(1, k):
                out = jnp.where(comp == i, values[i], out)
            return out
    rows = []
    for i in range(d):
        x = pick(gmm.means[:, i])
        for j in range(i + 1):
            x = x + pick(chol[:, i, j]) * z[j]
        rows.append(x)
    return jax.lax.optimization_barrier(jnp.stack(rows))


@functools.partial(jax.jit, static_argnames=("n",))
def sample(key, gmm: GMM, n: int):
    """``n`` i.i.d. points ``(n, d)`` of the mixture."""
    return _sample_columns(key, gmm, n).T


# ---------------------------------------------------------------------------------------------------- EM
def _pairs(d: int):
    return [(i, j) for i in range(d) for j in range(i, d)]


def _rows(x, centre):
    """The rows ``1, y_i, y_i y_j (i <= j)`` of the centred points ``y = x - centre``: ``(F, n)``."""
    y = x - centre[:, None]
    d = x.shape[0]
    return jnp.concatenate([jnp.ones_like(y[:1]), y, jnp.stack([y[i] * y[j] for i, j in _pairs(d)])])


def _coefficients(gmm: GMM):
    """``q (K, F)`` with ``log(w_k N(y; m_k, S_k)) = q_k . rows(y)``."""
    d = gmm.means.shape[-1]
    if d == 2:  # the 2x2 inverse written out
        a, b, c = gmm.covariances[:, 0, 0], gmm.covariances[:, 0, 1], gmm.covariances[:, 1, 1]
        det = a * c - b * b
        logdet = jnp.log(det)
        precision = jnp.stack([jnp.stack([c, -b], -1), jnp.stack([-b, a], -1)], -2) / det[:, None, None]
    else:
        chol, logdet = _cholesky_parts(gmm.covariances)
        eye = jnp.broadcast_to(jnp.eye(d, dtype=chol.dtype), chol.shape)
        inv_chol = jax.scipy.linalg.solve_triangular(chol, eye, lower=True)
        precision = jnp.swapaxes(inv_chol, -1, -2) @ inv_chol
    pm = jnp.einsum("kij,kj->ki", precision, gmm.means)
    constant = (jnp.log(gmm.weights) - 0.5 * logdet - 0.5 * d * jnp.log(2 * jnp.pi)
                - 0.5 * jnp.sum(gmm.means * pm, axis=-1))
    quad = jnp.stack([(-0.5 if i == j else -1.0) * precision[:, i, j] for i, j in _pairs(d)], -1)
    return jnp.concatenate([constant[:, None], pm, quad], -1)


def _em_step(gmm: GMM, rows, row_sums, point_weights, reg_covar):
    """One EM iteration on centred rows: the mean log-likelihood at ``gmm`` and the M-step's mixture.

    ``point_weights`` is ``None`` (every point weight ``1/n``; sums are counts, scikit-learn's arithmetic) or
    ``(n,)`` weights summing to 1; ``row_sums`` is ``rows @ 1`` or ``rows @ point_weights``.
    """
    k = gmm.weights.shape[0]
    n = rows.shape[1]
    q = _coefficients(gmm)
    if k == 1:
        resp_w = [jnp.ones((n,), rows.dtype) if point_weights is None else point_weights]
        lse = jnp.zeros((n,), rows.dtype)  # q_0 . rows, added below from the row sums
    elif k == 2:
        ratio = (q[1] - q[0]) @ rows
        e = jnp.exp(-jnp.abs(ratio))
        large = 1 / (1 + e)
        small = e * large
        positive = ratio >= 0
        resp = [jnp.where(positive, small, large), jnp.where(positive, large, small)]
        lse = jnp.maximum(ratio, 0) + jnp.log1p(e)  # plus q_0 . rows, added below from the row sums
        resp_w = resp if point_weights is None else [r * point_weights for r in resp]
    else:
        logits = (q - q[0]) @ rows
        lse = jax.scipy.special.logsumexp(logits, axis=0)  # plus q_0 . rows, added below from the row sums
        resp = jnp.exp(logits - lse)
        resp_w = list(resp if point_weights is None else resp * point_weights)
    if point_weights is None:
        mean_loglik = q[0] @ row_sums / n + jnp.mean(lse)
    else:
        mean_loglik = q[0] @ row_sums + jnp.sum(lse * point_weights)
    total = n if point_weights is None else 1.0
    sums = jnp.stack([rows @ r for r in resp_w])  # (K, F)
    nk = sums[:, 0] + 10 * jnp.finfo(rows.dtype).eps
    return mean_loglik, _from_sums(sums, nk, total, reg_covar)


def _second_index(d: int) -> np.ndarray:
    """``(d, d)`` positions of ``y_i y_j`` among the rows."""
    index = np.zeros((d, d), dtype=np.int32)
    for f, (i, j) in enumerate(_pairs(d)):
        index[i, j] = index[j, i] = 1 + d + f
    return index


def _from_sums(sums, nk, total, reg_covar) -> GMM:
    """The M-step's mixture from the weighted row sums ``(K, F)`` and component masses ``nk``."""
    d = round((-3 + (9 + 8 * (sums.shape[1] - 1)) ** 0.5) / 2)  # F - 1 = d + d (d + 1)/2
    means = sums[:, 1:1 + d] / nk[:, None]
    second = sums[:, _second_index(d)] / nk[:, None, None]
    covariances = second - means[:, :, None] * means[:, None, :] + reg_covar * jnp.eye(d, dtype=sums.dtype)
    return GMM(nk / total, means, covariances)


def _em(x, init: GMM, point_weights, tol, max_iter, reg_covar):
    """EM on the points ``x (d, n)`` from ``init``; returns (GMM, iterations)."""
    centre = jnp.mean(x, axis=1) if point_weights is None else x @ point_weights
    rows = jax.lax.optimization_barrier(_rows(x, centre))
    row_sums = jnp.sum(rows, axis=1) if point_weights is None else rows @ point_weights

    def cond(state):
        _, previous, current, it = state
        return (it < max_iter) & (jnp.abs(current - previous) >= tol)

    def body(state):
        gmm, _, current, it = state
        lower_bound, new = _em_step(gmm, rows, row_sums, point_weights, reg_covar)
        return new, current, lower_bound, it + 1

    inf = jnp.asarray(jnp.inf, x.dtype)
    start = init._replace(means=init.means - centre)
    gmm, _, _, iterations = jax.lax.while_loop(cond, body, (start, -inf, inf, jnp.asarray(0)))
    return gmm._replace(means=gmm.means + centre), iterations


def _split_init(x, components: int) -> GMM:
    """The first fit's start: the points ``x (d, n)`` cut along their principal axis into ``components`` slabs at
    the projection's mean plus its standard deviation times the standard normal quantiles ``Phi^{-1}(j / K)``
    (equal groups for Gaussian data; for ``K = 2`` the sign of the centred projection), then one M-step.

    The principal axis for ``d = 2`` is written out (angle ``atan2(2 s_xy, s_xx - s_yy) / 2``), otherwise it is
    ``eigh``'s top eigenvector (no sort: cheaper to compile).
    """
    n = x.shape[1]
    d = x.shape[0]
    centred = x - jnp.mean(x, axis=1, keepdims=True)
    scatter = centred @ centred.T
    if d == 1:
        axis = jnp.ones((1,), x.dtype)
    elif d == 2:
        angle = 0.5 * jnp.arctan2(2 * scatter[0, 1], scatter[0, 0] - scatter[1, 1])
        axis = jnp.stack([jnp.cos(angle), jnp.sin(angle)])
    else:
        axis = jnp.linalg.eigh(scatter)[1][:, -1]
    projection = axis @ centred
    spread = jnp.sqrt(jnp.mean(projection**2))
    cuts = jnp.asarray(_normal_quantiles(components), x.dtype) * spread
    group = jnp.sum(projection[None, :] > cuts[:, None], axis=0)
    resp = (group[None, :] == jnp.arange(components)[:, None]).astype(x.dtype)
    sums = resp @ _rows(x, jnp.zeros(d, x.dtype)).T
    return _from_sums(sums, sums[:, 0] + 10 * jnp.finfo(x.dtype).eps, n, 1e-6)


def _normal_quantiles(components: int) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(np.arange(1, components) / components)


def split_init(x, components: int = 2) -> GMM:
    """:func:`_split_init` for points ``x (n, d)``."""
    return _split_init_jit(jnp.asarray(x), components=check_integer("components", components, minimum=1))


@functools.partial(jax.jit, static_argnames=("components",))
def _split_init_jit(x, *, components: int) -> GMM:
    return _split_init(x.T, components)


def fit_em(x, init: GMM, *, tol: float = 1e-5, max_iter: int = 2000, reg_covar: float = 1e-6, weights=None):
    """EM for a full-covariance mixture of ``init``'s ``K`` components on the points ``x (n, d)``.

    Returns ``(GMM, iterations)``. ``weights (n,)`` (summing to 1) weights every point's log-likelihood; ``None``
    is the plain fit. One compiled program per shape (the stopping rule is traced).
    """
    x = jnp.asarray(x)
    return _fit_em(x, GMM(*(jnp.asarray(a, x.dtype) for a in init)), jnp.asarray(tol, x.dtype),
                   jnp.asarray(max_iter, jnp.int32), jnp.asarray(reg_covar, x.dtype), weights)


@jax.jit
def _fit_em(x, init: GMM, tol, max_iter, reg_covar, weights):
    return _em(x.T, init, weights, tol, max_iter, reg_covar)


# ---------------------------------------------------------------------------------------------------- the chain
class _Plan(NamedTuple):
    """The static description of one compiled chain."""

    kind: str
    sample_size: int
    real_count: int
    real_weight: float | None
    subsample: int
    components: int
    generations: int
    given_start: bool


def _plan(chain, generations: int, given_start: bool = False) -> _Plan:
    wf = chain.workflow
    return _Plan(wf.kind, chain.sample_size, wf.real_count(chain.sample_size), wf.real_weight,
                 wf.subsample or 0, chain.components, generations, given_start)


def _rule(chain, dtype=None):
    """The learner's stopping rule as traced values ``(tol, max_iter, reg_covar)`` (one compiled program serves
    every tolerance)."""
    learner = chain.learner
    dtype = dtype or jnp.result_type(float)
    return (jnp.asarray(learner.tol, dtype), jnp.asarray(learner.max_iter, jnp.int32),
            jnp.asarray(learner.reg_covar, dtype))


def _mix_weights(plan: _Plan, dtype):
    """The point weights of a mixed training set (real points first); ``None`` for the plain fit."""
    if plan.real_weight is None:
        return None
    m, r, w = plan.sample_size, plan.real_count, plan.real_weight
    return jnp.concatenate([jnp.full((r,), w / r, dtype), jnp.full((m - r,), (1 - w) / (m - r), dtype)])


def _pad(gmm: GMM, components: int) -> GMM:
    """``gmm`` with zero-weight components (mean 0, covariance I) appended up to ``components``."""
    extra = components - gmm.weights.shape[0]
    if extra <= 0:
        return gmm
    d = gmm.means.shape[-1]
    dtype = gmm.means.dtype
    return GMM(jnp.concatenate([gmm.weights, jnp.zeros((extra,), dtype)]),
               jnp.concatenate([gmm.means, jnp.zeros((extra, d), dtype)]),
               jnp.concatenate([gmm.covariances, jnp.broadcast_to(jnp.eye(d, dtype=dtype), (extra, d, d))]))


def _drawn_points(key, model: GMM, plan: _Plan, generation):
    """The points drawn from the model at generation ``n`` (``M - R`` of them, ``M`` without mixing): from the
    source at ``n = 0`` (``D_0``), from ``G_{n-1}`` after; stream ``fold_in(fold_in(key, n), 0)``."""
    count = plan.sample_size - (plan.real_count if plan.kind in ("mix", "mix-fixed") else 0)
    return _sample_columns(jax.random.fold_in(jax.random.fold_in(key, generation), 0), model, count)


def _run_one(key, source: GMM, rule, start: GMM | None, plan: _Plan):
    """One chain: the stacked mixtures ``G_0 .. G_{G-1}`` and EM iteration counts.

    Every generation, generation 0 included, goes through the same scan step (one compiled sampler, one compiled
    EM): the model drawn from is the source at ``n = 0`` and ``G_{n-1}`` after (both padded with zero-weight
    components to the same number); the fit at ``n = 0`` starts from the principal-axis split of ``T_0``, later
    fits from ``G_{n-1}`` (with ``plan.given_start``, the fit at ``n = 0`` starts from ``start`` instead).
    ``mix-fixed``'s real set is the source's ``R`` points of stream
    ``fold_in(fold_in(key, 0), 1)``, the same points ``mix`` draws as its real part at ``n = 0``.
    """
    m, g_total, dtype = plan.sample_size, plan.generations, source.means.dtype
    d = source.means.shape[-1]
    r = plan.real_count if plan.kind in ("mix", "mix-fixed") else 0
    padded = max(source.weights.shape[0], plan.components)
    source_padded = _pad(source, padded)
    pooled = plan.kind in ("accumulate", "accumulate-subsample")
    pool = jnp.zeros((d, g_total * m if pooled else 0), dtype)
    weights = _mix_weights(plan, dtype)

    def real_points(n):
        return _sample_columns(jax.random.fold_in(jax.random.fold_in(key, n), 1), source, r)

    fixed = real_points(0) if plan.kind == "mix-fixed" else None

    def step(carry, n):
        previous, pool = carry
        model = jax.tree.map(lambda a, b: jnp.where(n == 0, a, b), source_padded, _pad(previous, padded))
        drawn = _drawn_points(key, model, plan, n)
        point_weights = weights
        if plan.kind == "replace" or r == 0 and not pooled:
            x = drawn
        elif not pooled:
            x = jnp.concatenate([fixed if plan.kind == "mix-fixed" else real_points(n), drawn], axis=1)
        else:
            pool = jax.lax.dynamic_update_slice(pool, drawn, (0, n * m))
            valid = jnp.arange(g_total * m) < (n + 1) * m
            if plan.kind == "accumulate":
                x, point_weights = pool, valid.astype(dtype) / ((n + 1) * m)
            else:
                u = jax.random.uniform(jax.random.fold_in(jax.random.fold_in(key, n), 2), (g_total * m,), dtype)
                _, chosen = jax.lax.top_k(-jnp.where(valid, u, 2.0), plan.subsample)
                x = pool[:, chosen]
        first_set = pool[:, :m] if plan.kind == "accumulate" else x  # not the pool's empty slots
        first = (lambda: start) if plan.given_start else (lambda: _split_init(first_set, plan.components))
        init = jax.lax.cond(n == 0, first, lambda: previous)
        new, it = _em(x, init, point_weights, *rule)
        return (new, pool), (new, it)

    dummy = _pad(GMM(jnp.ones((1,), dtype), jnp.zeros((1, d), dtype), jnp.eye(d, dtype=dtype)[None]),
                 plan.components)
    dummy = dummy._replace(weights=jnp.full((plan.components,), 1 / plan.components, dtype))
    _, (models, iterations) = jax.lax.scan(step, (dummy, pool), jnp.arange(g_total))
    return models, iterations


@functools.partial(jax.jit, static_argnames=("plan",))
def _run_chains(keys, source: GMM, rule, start, plan: _Plan):
    return jax.vmap(_run_one, in_axes=(0, None, None, None, None))(keys, source, rule, start, plan)


class GMMRun(NamedTuple):
    """What :func:`simulate_gmm` returns: ``models`` (a :class:`GMM` of arrays ``(chains, generations, ...)``) and
    ``iterations (chains, generations)``, the EM iterations of every fit; ``keys (chains,)`` are the runs' keys."""

    models: GMM
    iterations: jax.Array
    keys: jax.Array


def check_pool(chain, generations: int, chains: int) -> None:
    """Raise :class:`~theory.ParameterError` naming ``generations`` when a pooled workflow's pool would not fit
    in :data:`MAX_POOL_VALUES`."""
    if not chain.workflow.pools:
        return
    d = chain.dimension
    per_point = d + 1 + d + d * (d + 1) // 2 + 2
    values = per_point * generations * chain.sample_size * chains
    if values > MAX_POOL_VALUES:
        most = max(1, MAX_POOL_VALUES // (per_point * chain.sample_size * chains))
        raise ParameterError(
            "generations", f"at most {most} generations under {chain.workflow} with sample_size {chain.sample_size} "
            f"and {chains} chains (the pool of (n + 1) M points per chain must fit in memory: "
            f"{MAX_POOL_VALUES} float64 values)", generations)


def simulate_gmm(key, chain, *, generations: int, chains: int = 1, start: GMM | None = None) -> GMMRun:
    """Run ``chains`` independent GMM chains for generations ``0 .. generations - 1``.

    Run ``r`` uses the key ``jax.random.split(key, chains)[r]``; within it generation ``n``'s draws come from
    ``fold_in(run_key, n)`` (``D_0`` and the draws from ``G_{n-1}``: sub-stream 0; ``mix``'s fresh real points: 1;
    ``accumulate-subsample``'s choice: 2), so :func:`drawn_points` can redraw them after the run. The chains are
    vectorised (``vmap``); the result does not depend on ``chains`` for a given run key. ``start`` (a mixture of
    the learner's ``K`` components) replaces the principal-axis split as the first fit's start.
    """
    generations = check_integer("generations", generations, minimum=1)
    chains = check_integer("chains", chains, minimum=1)
    check_pool(chain, generations, chains)
    keys = jax.random.split(key, chains)
    source = _padded(gmm_of_source(chain.source))
    if start is not None:
        start = GMM(*(jnp.asarray(a, source.means.dtype) for a in start))
        if start.means.shape != (chain.components, chain.dimension):
            raise ParameterError("start", f"a mixture of {chain.components} components in {chain.dimension} "
                                 "dimensions", f"means of shape {start.means.shape}")
    models, iterations = _run_chains(keys, source, _rule(chain, source.means.dtype), start,
                                     _plan(chain, generations, start is not None))
    return GMMRun(models, iterations, keys)


def drawn_points(run: GMMRun, chain, run_index: int, generation: int):
    """The points ``(n, d)`` a run drew from the model at ``generation``: ``D_0`` at 0 (its last ``M - R`` points
    under ``mix``), the draws from ``G_{n-1}`` after."""
    previous = jax.tree.map(lambda a: a[run_index, max(generation - 1, 0)], run.models)
    return _drawn_from(run.keys[run_index], _padded(gmm_of_source(chain.source)), previous, jnp.asarray(generation),
                       plan=_plan(chain, 1))


@functools.partial(jax.jit, static_argnames=("plan",))
def _drawn_from(key, source: GMM, previous: GMM, generation, *, plan: _Plan):
    padded = max(source.weights.shape[0], plan.components)
    model = jax.tree.map(lambda a, b: jnp.where(generation == 0, a, b), _pad(source, padded), _pad(previous, padded))
    return _drawn_points(key, model, plan, generation).T


def training_set(run: GMMRun, chain, run_index: int, generation: int):
    """``(T_n, weights)``: the training set ``(N, d)`` the run's fit at ``generation`` used, and its point weights
    (``None``: equal), redrawn from the run's keys and models (for checks; the pools are rebuilt draw by draw)."""
    n = check_integer("generation", generation, minimum=0)
    total = int(run.iterations.shape[1])
    plan = _plan(chain, total)
    key = run.keys[run_index]
    source = _padded(gmm_of_source(chain.source))
    dtype = source.means.dtype
    r = plan.real_count if plan.kind in ("mix", "mix-fixed") else 0
    pooled = chain.workflow.pools
    drawn = [jnp.asarray(drawn_points(run, chain, run_index, g)).T for g in range(0 if pooled else n, n + 1)]
    weights = _mix_weights(plan, dtype)
    if plan.kind == "replace" or (r == 0 and not pooled):
        x = drawn[-1]
    elif not pooled:
        at = 0 if plan.kind == "mix-fixed" else n
        real = _sample_columns(jax.random.fold_in(jax.random.fold_in(key, at), 1), source, r)
        x = jnp.concatenate([real, drawn[-1]], axis=1)
    else:
        x = jnp.concatenate(drawn, axis=1)
        weights = None
        if plan.kind == "accumulate-subsample":
            m = plan.sample_size
            u = jax.random.uniform(jax.random.fold_in(jax.random.fold_in(key, n), 2), (total * m,), dtype)
            valid = jnp.arange(total * m) < (n + 1) * m
            _, chosen = jax.lax.top_k(-jnp.where(valid, u, 2.0), plan.subsample)
            x = x[:, chosen]
    return x.T, weights


# ---------------------------------------------------------------------------------------------------- distances
def _log_gauss_pairs(diff, cov):
    """``log N(diff; 0, cov)`` over leading axes; for ``d = 2`` written out (no LAPACK call: jaxlib's batched
    triangular solve on CPU was seen to deadlock in its thread pool while another computation ran)."""
    d = diff.shape[-1]
    if d == 2:
        a, b, c = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
        det = a * c - b * b
        dx, dy = diff[..., 0], diff[..., 1]
        quad = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
        return -0.5 * quad - 0.5 * jnp.log(det) - jnp.log(2 * jnp.pi)
    chol, logdet = _cholesky_parts(cov)
    sol = jax.scipy.linalg.solve_triangular(chol, diff[..., None], lower=True)[..., 0]
    return -0.5 * jnp.sum(sol**2, axis=-1) - 0.5 * logdet - 0.5 * d * jnp.log(2 * jnp.pi)


def _gauss_overlap(a: GMM, b: GMM):
    """``sum_ij w_i v_j N(m_i; n_j, S_i + T_j) = int p_a p_b``."""
    cov = a.covariances[:, None] + b.covariances[None, :]  # (K, L, d, d)
    diff = a.means[:, None] - b.means[None, :]  # (K, L, d)
    dens = jnp.exp(_log_gauss_pairs(diff, cov))
    return jnp.einsum("k,l,kl->", a.weights, b.weights, dens)


@jax.jit
def l2_distance_squared(p: GMM, q: GMM):
    """``int (p(x) - q(x))^2 dx`` of two Gaussian mixtures, in closed form."""
    return _gauss_overlap(p, p) + _gauss_overlap(q, q) - 2 * _gauss_overlap(p, q)


@jax.jit
def distances_to_first(models: GMM):
    """``int (G_0 - G_n)^2`` for every generation of every run: ``models`` of shape ``(chains, generations, ...)``
    -> ``(chains, generations)``."""
    def one_run(run):
        first = jax.tree.map(lambda a: a[0], run)
        return jax.vmap(l2_distance_squared, in_axes=(None, 0))(first, run)

    return jax.vmap(one_run)(models)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(0.5 * (a + np.swapaxes(a, -1, -2)))
    return (vecs * np.sqrt(np.clip(vals, 0, None))[..., None, :]) @ np.swapaxes(vecs, -1, -2)


def gaussian_w2_squared(mean_a, cov_a, mean_b, cov_b) -> np.ndarray:
    """``W2^2(N(a, A), N(b, B)) = |a - b|^2 + tr A + tr B - 2 tr (A^{1/2} B A^{1/2})^{1/2}`` (NumPy, batched)."""
    mean_a, cov_a, mean_b, cov_b = (np.asarray(v, dtype=np.float64) for v in (mean_a, cov_a, mean_b, cov_b))
    root = _sqrtm_psd(cov_a)
    cross = _sqrtm_psd(root @ cov_b @ root)
    value = (np.sum((mean_a - mean_b) ** 2, axis=-1) + np.trace(cov_a, axis1=-2, axis2=-1)
             + np.trace(cov_b, axis1=-2, axis2=-1) - 2 * np.trace(cross, axis1=-2, axis2=-1))
    return np.maximum(value, 0.0)


def _mixture_w2_squared(p, q) -> float:
    """The mixture-W2 squared between two mixtures given as NumPy ``(weights, means, covariances)``."""
    wp, mp, cp = p
    wq, mq, cq = q
    wp, wq = wp / wp.sum(), wq / wq.sum()
    cost = gaussian_w2_squared(mp[:, None], cp[:, None], mq[None, :], cq[None, :])  # (K, L)
    if len(wp) == 1 or len(wq) == 1:
        return float(np.sum(np.outer(wp, wq) * cost))
    if len(wp) == 2 and len(wq) == 2:  # couplings t = pi_00 on [max(0, a + b - 1), min(a, b)]: linear in t
        a, b = wp[0], wq[0]
        values = []
        for t in (max(0.0, a + b - 1), min(a, b)):
            plan = np.array([[t, a - t], [b - t, 1 - a - b + t]])
            values.append(float(np.sum(np.clip(plan, 0, None) * cost)))
        return min(values)
    from scipy.optimize import linprog

    k, l_ = cost.shape
    rows = np.zeros((k + l_, k * l_))
    for i in range(k):
        rows[i, i * l_:(i + 1) * l_] = 1
    for j in range(l_):
        rows[k + j, j::l_] = 1
    result = linprog(cost.ravel(), A_eq=rows[:-1], b_eq=np.concatenate([wp, wq])[:-1], bounds=(0, None),
                     method="highs")
    return float(result.fun)


def w2_bracket(p: GMM, q: GMM) -> tuple[float, float]:
    """``(lower, upper)`` with ``lower <= W2^2(p, q) <= upper``: Gelbrich's bound (the W2^2 between the Gaussians
    with the mixtures' means and covariances) and the mixture-W2 squared (see the module doc), each rounded outward
    by ``64 eps`` times ``tr Sigma_p + tr Sigma_q + |mean_p - mean_q|^2``. NumPy, one pair."""
    p = tuple(np.asarray(a, dtype=np.float64) for a in p)
    q = tuple(np.asarray(a, dtype=np.float64) for a in q)
    means, covs = [], []
    for w, m, c in (p, q):
        w = w / w.sum()
        mean = w @ m
        means.append(mean)
        covs.append(np.einsum("k,kij->ij", w, c + m[:, :, None] * m[:, None]) - np.outer(mean, mean))
    lower = float(gaussian_w2_squared(means[0], covs[0], means[1], covs[1]))
    upper = _mixture_w2_squared(p, q)
    # both are differences of terms of size ~ scale (a cancellation at p = q): rounded outward by 64 ulp of it
    scale = float(np.trace(covs[0]) + np.trace(covs[1]) + np.sum((means[0] - means[1]) ** 2))
    slack = 64 * np.finfo(np.float64).eps * scale
    return max(lower - slack, 0.0), upper + slack


def run_in_threads(jobs, workers: int = 2) -> list[GMMRun]:
    """:func:`simulate_gmm` for ``jobs = [(key, chain, generations, chains), ...]`` in ``workers`` threads (the
    compiled chains release the GIL, so two jobs use two cores); results on the host, in the order of ``jobs``.
    The numbers do not depend on the scheduling."""
    from concurrent.futures import ThreadPoolExecutor

    x64 = bool(jax.config.jax_enable_x64)  # a thread-local setting (jax.enable_x64): carry it to the workers

    def run(job):
        key, chain, generations, chains = job
        with jax.enable_x64(x64):
            return jax.device_get(simulate_gmm(key, chain, generations=generations, chains=chains))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


# ---------------------------------------------------------------------------------------------------- summaries
#: What :func:`summarise` reports per generation (each with a ``_se`` twin: the standard error over runs).
SUMMARY_QUANTITIES = ("l2_squared", "w2_sq_lower", "w2_sq_upper", "trace", "em_iterations")


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    return float(np.mean(values)), se


def summarise(run: GMMRun, generations) -> dict:
    """Per requested generation ``n``, the mean over runs and its standard error of

    * ``l2_squared``: ``int (G_0 - G_n)^2`` (closed form);
    * ``w2_sq_lower`` / ``w2_sq_upper``: the bracket of ``W2^2(G_n, G_0)`` of :func:`w2_bracket` (each run's
      ``lower <= W2^2 <= upper``, so the means bracket ``E W2^2``);
    * ``trace``: ``tr`` of the mixture's total covariance;
    * ``em_iterations``: EM iterations of the fit.

    Returns ``{"generations": [...], q: [...], q + "_se": [...]}`` (standard errors ``nan`` for one run).
    """
    models = jax.tree.map(np.asarray, jax.device_get(run.models))
    iterations = np.asarray(run.iterations)
    chains = iterations.shape[0]
    gens = [int(n) for n in generations]
    l2 = np.asarray(distances_to_first(GMM(*(jnp.asarray(a[:, :max(gens) + 1]) for a in models))))
    traces = np.trace(np.asarray(total_covariance(GMM(*models))), axis1=-2, axis2=-1)
    out: dict = {"generations": gens}
    for q in SUMMARY_QUANTITIES:
        out[q], out[q + "_se"] = [], []
    for n in gens:
        lower, upper = np.zeros(chains), np.zeros(chains)
        for r in range(chains):
            first = tuple(a[r, 0] for a in models)
            current = tuple(a[r, n] for a in models)
            lower[r], upper[r] = w2_bracket(GMM(*current), GMM(*first))
        for q, values in (("l2_squared", l2[:, n]), ("w2_sq_lower", lower), ("w2_sq_upper", upper),
                          ("trace", traces[:, n]), ("em_iterations", iterations[:, n])):
            mean, se = _mean_se(values)
            out[q].append(mean)
            out[q + "_se"].append(se)
    return out
