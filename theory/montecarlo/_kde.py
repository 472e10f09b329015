r"""Monte Carlo of the kernel-density-estimate chain (:class:`theory.chain._kde.KDEChain`): the literal process.

Every chain keeps its training set; a draw from model ``i + 1`` (the Gaussian KDE on that set) picks a training
point (uniformly, or with the weighted KDE's weights: the real group with probability ``w``, then uniformly within
the group) and adds ``h Z``. Per workflow the carry of the ``lax.scan`` over generations is:

* ``replace``, ``mix``, ``mix-fixed``: the current training set ``(chains, M)`` (real points first; one compiled
  program for the three, the real count, weight and fresh/fixed switch traced);
* ``accumulate``, ``accumulate-subsample:K``: the pool, a buffer ``(chains, n M)`` of which the first ``N_i =
  (i + 1) M`` entries are filled, with its running sum and sum of squares (so the pool's mean and variance cost
  ``O(M)`` per step); a subsample is the ``K`` smallest of ``N_i`` uniform keys (``lax.top_k``), i.e. ``K`` points
  without replacement.

Points are stored as ``x - mu``. Per chain, at the reported generations only (rows of the scan's carry, so memory
does not grow with ``n``), the model's mean ``m_n`` and variance ``V_n`` (weighted biased variance of the training
set plus ``h^2``) are recorded; :func:`simulate_kde` reduces them to means and
standard errors of the quantities of :data:`theory.numeric._kde_exact.KDE_QUANTITIES` (``E m_n``,
``E (m_n - mu)^2``, ``E V_n``, ``Var V_n``; the SE of a variance is the fourth-moment one,
``sqrt((m4 - s^4 (K - 3)/(K - 1)) / K)``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer

#: Chains when none are given.
DEFAULT_CHAINS = 2000
#: The largest pool buffer (chains x n M floats) the pooling workflows may allocate.
MAX_POOL_BYTES = 2 * 2**30


def _weighted_stats(x, weights):
    """Mean and weighted biased variance along the last axis (``weights`` sum to 1)."""
    mean = jnp.sum(x * weights, axis=-1)
    var = jnp.sum(weights * (x - mean[..., None]) ** 2, axis=-1)
    return mean, var


def _record(buffers, slot, mean, var):
    """Write ``(mean, var)`` into row ``slot`` of the report buffers (nothing when ``slot < 0``)."""
    means, variances = buffers
    row = jnp.maximum(slot, 0)
    keep = slot >= 0
    return (means.at[row].set(jnp.where(keep, mean, means[row])),
            variances.at[row].set(jnp.where(keep, var, variances[row])))


@functools.partial(jax.jit, static_argnames=("kind", "M", "K", "steps", "chains", "reports"))
def _run(key, h, sigma, w, real, fresh, slots, *, kind, M, K, steps, chains, reports):
    """``(m_n - mu, V_n)`` at the reported generations, each ``(reports, chains)``: step ``i`` (model ``i + 1``)
    is written to row ``slots[i]`` (``-1``: not reported), so memory is ``O(reports x chains)`` whatever ``steps``.
    ``kind`` is ``"set"`` (replace, mix, mix-fixed: one program, with the real count ``real``, the weight ``w``
    and ``fresh`` (mix) traced, so that the three share a compilation; replace is ``real = 0``), ``"accumulate"``
    or ``"accumulate-subsample"``."""
    dtype = jnp.result_type(float)
    h2 = h * h
    key_init, key_scan = jax.random.split(key)
    first = sigma * jax.random.normal(key_init, (chains, M), dtype)  # T_0: M draws of D_0 (real and synthetic alike)
    buffers = (jnp.zeros((reports, chains), dtype), jnp.zeros((reports, chains), dtype))

    if kind == "set":
        position = jnp.arange(M)
        is_real = position < real
        synthetic = M - real
        weights = jnp.where(is_real, w / jnp.maximum(real, 1), (1 - w) / jnp.maximum(synthetic, 1)).astype(dtype)

        real_share = jnp.where(w > 0, w, 1.0)
        synthetic_share = jnp.where(w < 1, 1 - w, 1.0)

        def step(carry, inputs):
            train, buffers = carry
            k, slot = inputs
            mean, var = _weighted_stats(train, weights)
            k_real, k_idx, k_noise = jax.random.split(k, 3)
            # a draw of the (weighted) KDE: the real group with probability w, then a point uniformly in the group,
            # both from one uniform u (u < w: real, u / w uniform in it; else (u - w)/(1 - w) in the synthetic one)
            u = jax.random.uniform(k_idx, (chains, M), dtype)
            from_real = u < w
            idx = jnp.where(from_real, jnp.floor(u / real_share * real),
                            real + jnp.floor((u - w) / synthetic_share * synthetic)).astype(jnp.int32)
            idx = jnp.clip(idx, 0, M - 1)
            drawn = jnp.take_along_axis(train, idx, axis=1) + h * jax.random.normal(k_noise, (chains, M), dtype)
            real_points = jax.lax.cond(fresh, lambda: sigma * jax.random.normal(k_real, (chains, M), dtype),
                                       lambda: train)
            return (jnp.where(is_real, real_points, drawn), _record(buffers, slot, mean, var + h2)), None

        (_, buffers), _ = jax.lax.scan(step, (first, buffers), (jax.random.split(key_scan, steps), slots))
        return buffers

    # pooling workflows
    size = M * steps
    pool = jnp.zeros((chains, size), dtype).at[:, :M].set(first)
    total, squares = jnp.sum(first, axis=1), jnp.sum(first * first, axis=1)

    def pool_step(carry, inputs):
        pool, total, squares, buffers = carry
        i, k, slot = inputs
        n_pool = (i + 1) * M
        k_sub, k_idx, k_noise = jax.random.split(k, 3)
        if kind == "accumulate":
            mean = total / n_pool
            var = squares / n_pool - mean * mean
            idx = jnp.floor(jax.random.uniform(k_idx, (chains, M), dtype) * n_pool).astype(jnp.int32)
            idx = jnp.minimum(idx, n_pool - 1)
        else:
            keys = jax.random.uniform(k_sub, (chains, size), dtype)
            keys = jnp.where(jnp.arange(size) < n_pool, keys, 2.0)
            _, chosen = jax.lax.top_k(-keys, K)  # the K smallest keys: K points without replacement
            sub = jnp.take_along_axis(pool, chosen, axis=1)
            mean, var = _weighted_stats(sub, jnp.full((K,), 1.0 / K, dtype))
            pick = jnp.minimum(jnp.floor(jax.random.uniform(k_idx, (chains, M), dtype) * K).astype(jnp.int32), K - 1)
            idx = jnp.take_along_axis(chosen, pick, axis=1)
        new = jnp.take_along_axis(pool, idx, axis=1) + h * jax.random.normal(k_noise, (chains, M), dtype)
        # (at the last step n_pool = size: the write is clamped onto the last M entries, which are never read again)
        pool = jax.lax.dynamic_update_slice_in_dim(pool, new, n_pool, axis=1) if size > M else pool
        buffers = _record(buffers, slot, mean, var + h2)
        return (pool, total + jnp.sum(new, axis=1), squares + jnp.sum(new * new, axis=1), buffers), None

    steps_in = (jnp.arange(steps), jax.random.split(key_scan, steps), slots)
    (_, _, _, buffers), _ = jax.lax.scan(pool_step, (pool, total, squares, buffers), steps_in)
    return buffers


def _moments(values):
    """Mean, its SE, sample variance, its SE along axis 1 (chains) of ``(G, chains)`` float64 values."""
    k = values.shape[1]
    mean = values.mean(axis=1)
    centred = values - mean[:, None]
    m2 = np.mean(centred**2, axis=1)
    m4 = np.mean(centred**4, axis=1)
    var = m2 * k / (k - 1)
    var_se = np.sqrt(np.maximum(m4 - m2**2 * (k - 3) / (k - 1), 0.0) / k)
    return mean, np.sqrt(var / k), var, var_se


def simulate_kde(key, chain, *, generations, chains: int = DEFAULT_CHAINS, per_chain: bool = False) -> dict:
    """Monte Carlo of a KDE chain: ``chains`` independent chains, reported at ``generations``.

    Returns ``{"generations", "chains", q, q + "_se" for q in KDE_QUANTITIES}`` (lists aligned with
    ``generations``; generation 0 is ``D_0`` itself, SE 0), and with ``per_chain=True`` also ``"means"`` and
    ``"variances"``: the per-chain ``m_n`` and ``V_n``, ``(len(generations), chains)`` NumPy arrays.
    The run is literal (see the module doc): a reported generation ``n`` costs ``O(chains n M)``
    (``O(chains n^2 M)`` under accumulate-subsample, whose subsample is drawn from the whole pool).
    """
    from .._errors import check_key
    from ..chain._kde import KDEChain
    from ..numeric._kde_exact import KDE_QUANTITIES, _generations

    key = check_key(key)
    if not isinstance(chain, KDEChain):
        raise ParameterError("chain", "a KDEChain", type(chain).__name__)
    chains = check_integer("chains", chains, minimum=2)
    gens = _generations(generations)
    wf = chain.workflow
    M, R = chain.sample_size, chain.real_count
    kind = wf.kind
    if kind in ("mix", "mix-fixed") and R == 0:
        kind = "replace"
    steps = max(gens)
    mu, sigma2 = chain.source.mean, chain.source.variance
    out = {"generations": gens, "chains": chains}
    means_all = np.zeros((len(gens), chains))
    vars_all = np.full((len(gens), chains), sigma2)
    if kind in ("accumulate", "accumulate-subsample"):
        pool_bytes = chains * M * steps * 8
        if pool_bytes > MAX_POOL_BYTES:
            raise ParameterError("chains", f"chains x generations x M at most {MAX_POOL_BYTES // 8:.3g} under {wf} "
                                 f"(each chain keeps its pool: {pool_bytes / 2**30:.3g} GiB asked)", chains)
    positive = sorted({g for g in gens if g > 0})
    if positive:
        dtype = jnp.result_type(float)
        slots = np.full(steps, -1, dtype=np.int32)
        for row, g in enumerate(positive):
            slots[g - 1] = row
        program = kind if kind in ("accumulate", "accumulate-subsample") else "set"
        real = 0 if kind == "replace" else R
        weight = 0.0 if kind == "replace" else chain.real_weight
        means, variances = _run(key, jnp.asarray(chain.bandwidth, dtype), jnp.asarray(np.sqrt(sigma2), dtype),
                                jnp.asarray(weight, dtype), jnp.asarray(real, jnp.int32), jnp.asarray(kind == "mix"),
                                jnp.asarray(slots), kind=program, M=M, K=wf.subsample or 0, steps=steps,
                                chains=chains, reports=len(positive))
        means, variances = np.asarray(means, dtype=np.float64), np.asarray(variances, dtype=np.float64)
        for i, g in enumerate(gens):
            if g > 0:
                row = positive.index(g)
                means_all[i], vars_all[i] = means[row], variances[row]
    m_mean, m_se, _, _ = _moments(means_all)
    e_mean, e_se, _, _ = _moments(means_all**2)
    v_mean, v_se, v_var, v_var_se = _moments(vars_all)
    values = {"mean_mean": (m_mean + mu, m_se), "mean_sq_error": (e_mean, e_se), "variance_mean": (v_mean, v_se),
              "variance_var": (v_var, v_var_se)}
    assert set(values) == set(KDE_QUANTITIES)
    for q, (value, se) in values.items():
        out[q] = [float(x) for x in value]
        out[q + "_se"] = [float(x) for x in se]
    if per_chain:
        out["means"], out["variances"] = means_all + mu, vars_all
    return out
