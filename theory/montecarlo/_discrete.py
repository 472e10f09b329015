r"""``simulate_discrete``: Monte Carlo of the discrete chain (multinomial resampling, Wright-Fisher) in JAX.

Each chain is literally the process of :class:`theory.chain.DiscreteChain`: at step ``i`` (generation ``i`` ->
``i + 1``) the training counts are drawn from model ``i`` (and, under ``mix``, from ``p_0``) with an exact
multinomial sampler: :func:`._categorical.multinomial` (a binary tree of conditional binomials: ``O(K)`` work and
memory per chain whatever ``M``) or, for ``M + 1 <= 16 K'`` where it is faster,
:func:`._categorical.spacings_multinomial` (exponential spacings, ``O(M)``); and model ``i + 1`` is the learner map of those counts, :func:`learner_map`
(the JAX twin of :meth:`theory.chain.DiscreteLearner.fit`, equal to it in float64 up to the order of a sum; tested):

* ``replace``: ``c ~ Multinomial(M, p_i)``, ``p_{i+1} = fit(c)``;
* ``mix:LAMBDA``: ``r ~ Multinomial(R, p_0)`` fresh every step, ``s ~ Multinomial(M - R, p_i)``,
  ``p_{i+1} = fit(s, real_counts=r, real_weight=w)``;
* ``mix-fixed:LAMBDA``: the same with ``r`` drawn once per chain;
* ``accumulate``: the pool ``P_i = P_{i-1} + Multinomial(M, p_i)`` (``P_{-1} = 0``, so ``P_0`` is ``M`` real draws),
  ``p_{i+1} = fit(P_i)`` (pool counts in int64: ``(i + 1) M`` may pass ``2**31``).

Per chain and reported generation ``n`` the five values of :data:`theory.quantities.DISCRETE_QUANTITIES` are
formed: surviving ``#{k: not lost}``, tail mass lost ``sum_k p_{0,k} 1{lost_k}``, Gini-Simpson
``1 - sum_k p_{n,k}^2``, collapsed ``1{some category fixed}``, entropy ``-sum_k p_{n,k} log p_{n,k}`` (nats), with
``lost_k = {p_{n,k} = 0}`` and ``fixed_k = {p_{n,k} > 0`` and no other category has ``p_{n,j} > 0}`` (the same as
``p_{n,k} = 1``, counted without rounding: a temperature can round a tiny share into ``p = 1.0``); under add-alpha smoothing (``alpha > 0``: no probability
is ever 0) ``lost_k`` = count 0 in the training set ``T_{n-1}`` and ``fixed_k`` = all of ``T_{n-1}`` in ``k``
(generation 0, which has no training set, uses ``p_0``). Per group of equal source probabilities (ascending, as
:class:`theory.numeric.CategoryExact`), each chain also gives the group's average of ``p_{n,k}``,
``p_{n,k}(1 - p_{n,k})``, ``1{lost_k}`` and ``1{fixed_k}``. Each block of chains reduces these inside the scan
over generations to ``(count, mean, C2, C3, C4)`` (groups: ``(count, mean, C2)``), merged across blocks on the host
(:func:`._summary.merge_moments`, Pebay 2008); the estimate is the mean over chains and its standard error
``sqrt(s^2 / chains)``.

Keys: chain ``c`` (global index) draws from ``fold_in(fold_in(key(seed), 0), c)``, step ``i`` from
``fold_in(chain key, i)`` (``mix``'s real draws from ``fold_in(step key, 1)``; ``mix-fixed``'s once from
``fold_in(fold_in(key(seed), 1), c)``), so every chain's path is a function of ``(seed, c)`` alone: the same
seed gives the same chains whatever the block size (``block_elements``); only the floating-point order of the
merged sums changes (tested: equal to ~1e-12).

Precision: the binomials of the sampler are always float64 (x64 switched on locally for the run: BTRS in float32
at ``M = 10**7`` has a spacing of 0.5 near the mean, so it would not be exact); ``dtype="float32"`` stores and
refits the probabilities in float32 (the learner map and the five values), halving their memory.
"""

from __future__ import annotations

import dataclasses
import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ParameterError, check_integer
from ..chain import DiscreteChain, check_generations
from ..quantities import DISCRETE_QUANTITIES
from ._categorical import multinomial, spacings_multinomial, tree_sums
from ._summary import merge_moments

__all__ = ["DEFAULT_BLOCK_ELEMENTS", "DiscreteSimulation", "learner_map", "simulate_discrete"]

#: Default bound on a block's per-chain arrays: chains per block x padded categories <= this (2**22: a block of
#: 32 chains at K = 1e5, each chain holding about 20 float64 arrays of K, about 0.7 GB in all at the peak).
DEFAULT_BLOCK_ELEMENTS = 2**22

#: Arrays of ``K`` numbers one chain holds at the peak of a step (tree levels, binomial temporaries, counts,
#: probabilities, sort): used for the memory check.
_ARRAYS_PER_CHAIN = 24

GROUP_STATS = ("mean", "heterozygosity", "lost", "fixed")

#: ``sampler="auto"`` draws ``M`` points over ``K`` categories by exponential spacings (``O(M)`` per chain) when
#: ``M + 1 <= SPACINGS_RATIO * K'`` (``K'`` = ``K`` padded to a power of two), else by the conditional-binomial tree
#: (``O(K)``). Measured on this project's 2-core CPU, shared (``/tmp/h2_sampbench.py`` in the session report: Zipf
#: weights, float64, ms per chain and multinomial draw, tree / spacings): K = 1e4: M = 1e5 10.5 / 2.7, M = 1e6
#: 11.9 / 36.8, M = 1e7 7.5 / 387; K = 1e5: M = 1e5 117 / 5.4, M = 1e6 77 / 34, M = 1e7 132 / 549. The crossover is
#: near M = 20 K'. Both samplers are exact.
SPACINGS_RATIO = 16

SAMPLERS = ("auto", "tree", "spacings")


# ---------------------------------------------------------------------------------------------------------------
# the learner map


def _sequential_cumsum(x):
    """Cumulative sum in index order, one addition at a time (as ``np.cumsum``), so that top-p's threshold test
    sees the same rounded numbers as :meth:`DiscreteLearner.fit` (``jnp.cumsum`` sums in a tree on CPU/GPU)."""

    def body(total, value):
        total = total + value
        return total, total

    return jax.lax.scan(body, jnp.zeros((), x.dtype), x)[1]


def _div(a, b):
    """``a / b`` for a scalar ``b``, as NumPy rounds it: XLA rewrites a division by a broadcast scalar as a
    multiplication by its reciprocal (one more rounding), which moved top-k/top-p ties against
    :meth:`DiscreteLearner.fit`; a broadcast hidden behind an optimization barrier keeps the true division."""
    return a / jax.lax.optimization_barrier(jnp.broadcast_to(jnp.asarray(b, a.dtype), a.shape))


def learner_map(learner, counts, real_counts=None, real_weight=None, *, dtype=jnp.float64):
    """The next model's probabilities ``(K,)`` from one chain's training ``counts (K,)``: the JAX twin of
    :meth:`theory.chain.DiscreteLearner.fit` (same steps in the same order: mixing, add-alpha, temperature in
    log space, top-k and top-p on the ranks of a stable sort, largest first, ties by the lower index,
    renormalisation). ``learner`` is static (a :class:`~theory.chain.DiscreteLearner`); vmap it over chains.
    """
    c = counts.astype(dtype)
    if real_counts is not None:
        r = real_counts.astype(dtype)
        if real_weight is None:
            c = c + r
        else:
            rn, cn = r.sum(), c.sum()
            total = rn + cn
            ok = (rn > 0) & (cn > 0)
            safe_rn = jnp.where(rn > 0, rn, 1)
            safe_cn = jnp.where(cn > 0, cn, 1)
            mixed = (_div(real_weight * r, safe_rn) + _div((1 - real_weight) * c, safe_cn)) * total
            return _shape(learner, _smooth(learner, jnp.where(ok, mixed, r + c), total))
    return _shape(learner, _smooth(learner, c, c.sum()))


def _smooth(learner, c, total):
    if learner.alpha == 0:
        return _div(c, total)
    return _div(c + learner.alpha, total + c.shape[0] * learner.alpha)


def _shape(learner, p):
    size = p.shape[0]
    if learner.temperature != 1.0:
        positive = p > 0
        logs = jnp.where(positive, _div(jnp.log(jnp.where(positive, p, 1.0)), learner.temperature), -jnp.inf)
        q = jnp.exp(logs - logs.max())
        p = _div(q, q.sum())
    if learner.truncates(size):
        order = jnp.argsort(-p, stable=True)  # largest first, ties by the lower index (all zeros are -0.0: equal)
        keep_sorted = jnp.ones(size, bool)
        if learner.top_k is not None:
            keep_sorted = jnp.arange(size) < learner.top_k
        if learner.top_p is not None and learner.top_p < 1:
            ranked = p[order]
            before = jnp.concatenate([jnp.zeros(1, p.dtype), _sequential_cumsum(ranked)[:-1]])
            keep_sorted = keep_sorted & (before < learner.top_p)
        keep = jnp.zeros(size, bool).at[order].set(keep_sorted)
        p = jnp.where(keep, p, 0.0)
        p = _div(p, p.sum())
    return p


# ---------------------------------------------------------------------------------------------------------------
# one chain's state and step


@dataclasses.dataclass(frozen=True)
class _Static:
    learner: object
    kind: str
    size: int
    sample_size: int
    real_count: int
    real_weight: float | None
    dtype: str
    groups: int
    track: bool
    sampler: str


def uses_spacings(sample_size: int, size: int, sampler: str = "auto") -> bool:
    """Whether ``sample_size`` draws over ``size`` categories use :func:`spacings_multinomial` (``"auto"``: when
    ``M + 1 <= SPACINGS_RATIO * 2**ceil(log2 K)``, where it was measured faster) rather than the tree."""
    if sampler != "auto":
        return sampler == "spacings"
    return sample_size + 1 <= SPACINGS_RATIO * 2 ** max(1, (size - 1).bit_length())


def _draw(cfg: _Static, keys, p, n, *, levels=None):
    """Counts ``(B, K)`` int32 of ``n`` (static) draws from each row of ``p``, chain ``b`` with key ``b`` alone."""
    if n == 0:
        return jnp.zeros(p.shape, jnp.int32)
    if uses_spacings(n, cfg.size, cfg.sampler):
        return spacings_multinomial(keys, p, n)
    return multinomial(keys, p, n, levels=levels)


def _step(cfg: _Static, p0, p0_levels, state, chain_keys, real_keys, step):
    """``(p, train, extra) -> (p', train', extra')`` for a block of chains (arrays ``(B, K)``, keys ``(B,)``) at
    step ``step``; the multinomials are drawn batched (row ``b`` with chain ``b``'s key alone), the learner map is
    vmapped."""
    p, _, extra = state
    dtype = jnp.dtype(cfg.dtype)
    keys = jax.vmap(jax.random.fold_in, (0, None))(chain_keys, step)
    m, r = cfg.sample_size, cfg.real_count
    fit = jax.vmap(lambda c: learner_map(cfg.learner, c, dtype=dtype))
    if cfg.kind == "replace":
        counts = _draw(cfg, keys, p, m)
        return fit(counts), counts, extra
    if cfg.kind == "accumulate":
        pool = extra + _draw(cfg, keys, p, m).astype(extra.dtype)
        return fit(pool), pool, pool
    # mix, mix-fixed
    if cfg.kind == "mix":
        real_step_keys = jax.vmap(jax.random.fold_in, (0, None))(keys, 1)
        real = _draw(cfg, real_step_keys, jnp.broadcast_to(p0, p.shape), r, levels=p0_levels)
    else:
        real = extra
    synthetic = _draw(cfg, jax.vmap(jax.random.fold_in, (0, None))(keys, 0), p, m - r)
    new_p = jax.vmap(lambda s, q: learner_map(cfg.learner, s, q, cfg.real_weight, dtype=dtype))(synthetic, real)
    return new_p, synthetic + real, extra


def _init(cfg: _Static, p0, p0_levels, real_keys):
    dtype = jnp.dtype(cfg.dtype)
    batch = real_keys.shape[0]
    p = jnp.broadcast_to(p0.astype(dtype), (batch, cfg.size))
    # generation 0: lost iff p_0 = 0 (the indicator stands for "training counts")
    train = jnp.broadcast_to((p0 > 0).astype(jnp.int64 if cfg.kind == "accumulate" else jnp.int32), (batch, cfg.size))
    if cfg.kind == "accumulate":
        extra = jnp.zeros((batch, cfg.size), jnp.int64)
    elif cfg.kind == "mix-fixed":
        extra = _draw(cfg, real_keys, jnp.broadcast_to(p0, (batch, cfg.size)), cfg.real_count,
                      levels=p0_levels)
    else:
        extra = jnp.zeros((batch, 0), jnp.int32)
    return p, train, extra


def _values(cfg: _Static, p0, group_id, state):
    """The five per-chain values (5,) and the group averages (4, G) of one chain's state."""
    p, train, _ = state
    positive = p > 0
    if cfg.learner.alpha == 0:
        lost = ~positive
        fixed = positive & (jnp.sum(positive) == 1)
    else:
        lost = train == 0
        fixed = train == train.sum()
    lost_f = lost.astype(p.dtype)
    fixed_f = fixed.astype(p.dtype)
    safe = jnp.where(positive, p, 1.0)
    values = jnp.stack([
        cfg.size - lost_f.sum(),
        jnp.dot(p0.astype(p.dtype), lost_f),
        1.0 - jnp.dot(p, p),
        jnp.any(fixed).astype(p.dtype),
        -jnp.sum(jnp.where(positive, p * jnp.log(safe), 0.0)),
    ])
    per_cat = jnp.stack([p, p * (1 - p), lost_f, fixed_f])
    groups = jax.ops.segment_sum(per_cat.T, group_id, cfg.groups).T  # (4, G): sums; divided by size on the host
    return values, groups


def _moments(x, valid, count):
    """``(count, mean, C2, C3, C4)`` over axis 0 of ``x`` (masked by ``valid``), shape ``x.shape[1:] + (5,)``."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    v = valid.reshape(shape)
    mean = jnp.where(v, x, 0).sum(axis=0) / count
    d = jnp.where(v, x - mean, 0)
    d2 = d * d
    return jnp.stack([jnp.full_like(mean, count), mean, d2.sum(0), (d2 * d).sum(0), (d2 * d2).sum(0)], axis=-1)


@functools.lru_cache(maxsize=32)
def _build(cfg: _Static, block: int, slots: int, length: int):
    """``(init, segment)`` jitted for a block of ``block`` chains and segments of ``length`` steps."""
    vstep = functools.partial(_step, cfg)
    vvalues = jax.vmap(functools.partial(_values, cfg), in_axes=(None, None, 0))
    vinit = functools.partial(_init, cfg)

    def record(carry, slot, valid, count, p0, group_id):
        state, whole, groups, traj = carry

        def write(ops):
            whole, groups, traj = ops
            values, group_values = vvalues(p0, group_id, state)
            w = _moments(values.astype(jnp.float64), valid, count)
            g = _moments(group_values.astype(jnp.float64), valid, count)[..., :3]
            whole = jax.lax.dynamic_update_index_in_dim(whole, w, slot, 0)
            groups = jax.lax.dynamic_update_index_in_dim(groups, g, slot, 0)
            if traj is not None:
                traj = jax.lax.dynamic_update_index_in_dim(traj, state[0][0].astype(traj.dtype), slot, 0)
            return whole, groups, traj

        whole, groups, traj = jax.lax.cond(slot >= 0, write, lambda o: o, (whole, groups, traj))
        return state, whole, groups, traj

    def keys(seed_key, first_chain):
        index = first_chain + jnp.arange(block, dtype=jnp.uint32)
        chain_keys = jax.vmap(jax.random.fold_in, (None, 0))(jax.random.fold_in(seed_key, 0), index)
        real_keys = jax.vmap(jax.random.fold_in, (None, 0))(jax.random.fold_in(seed_key, 1), index)
        return chain_keys, real_keys

    def init(seed_key, first_chain, count, slot0, p0, group_id):
        p0_levels = tree_sums(p0)
        _, real_keys = keys(seed_key, first_chain)
        state = vinit(p0, p0_levels, real_keys)
        whole = jnp.zeros((slots, len(DISCRETE_QUANTITIES), 5), jnp.float64)
        groups = jnp.zeros((slots, len(GROUP_STATS), cfg.groups, 3), jnp.float64)
        traj = jnp.zeros((slots, cfg.size), jnp.float64) if cfg.track else None
        valid = jnp.arange(block) < count
        return record((state, whole, groups, traj), slot0, valid, count.astype(jnp.float64), p0, group_id)

    def segment(carry, seed_key, first_chain, count, first_step, slot_of_step, active, p0, group_id):
        p0_levels = tree_sums(p0)
        chain_keys, real_keys = keys(seed_key, first_chain)
        valid = jnp.arange(block) < count
        count_f = count.astype(jnp.float64)

        def body(c, xs):
            offset, slot, on = xs
            step = first_step + offset
            state = jax.lax.cond(on, lambda s: vstep(p0, p0_levels, s, chain_keys, real_keys, step),
                                 lambda s: s, c[0])
            return record((state, *c[1:]), slot, valid, count_f, p0, group_id), None

        xs = (jnp.arange(length, dtype=jnp.int32), slot_of_step, active)
        return jax.lax.scan(body, carry, xs)[0]

    return jax.jit(init), jax.jit(segment, donate_argnums=0)


# ---------------------------------------------------------------------------------------------------------------
# the public function


@dataclasses.dataclass(frozen=True)
class DiscreteSimulation:
    """What :func:`simulate_discrete` returns (see there). ``mean[key]``/``se[key]`` for every key of
    :data:`theory.quantities.DISCRETE_QUANTITIES`; ``group_mean[name]``/``group_se[name]`` ``(G, n_gens)`` for
    ``name`` in :data:`GROUP_STATS`; ``notes`` says what "lost" and "collapsed" mean for this learner."""

    generations: np.ndarray
    chains: int
    mean: dict
    se: dict
    group_probabilities: np.ndarray
    group_multiplicities: np.ndarray
    group_mean: dict
    group_se: dict
    first_chain: np.ndarray | None
    dtype: str
    notes: dict

    def to_json(self) -> dict:
        """``{key + "_mc": list, key + "_se": list}`` for every key of DISCRETE_QUANTITIES (non-finite -> None)."""

        def clean(values):
            return [float(v) if np.isfinite(v) else None for v in values]

        out = {}
        for key in DISCRETE_QUANTITIES:
            out[key + "_mc"] = clean(self.mean[key])
            out[key + "_se"] = clean(self.se[key])
        return out


def _memory_bytes() -> int:
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 * 2**30


def _groups(p0: np.ndarray):
    """Distinct source probabilities ascending, their multiplicities and each category's group index."""
    values, group_id = np.unique(p0, return_inverse=True)
    return values, np.bincount(group_id, minlength=values.size).astype(np.int64), group_id.astype(np.int32)


def simulate_discrete(chain, generations, *, chains, seed=0, dtype="float64", progress=False, track_chain=False,
                      block_elements: int = DEFAULT_BLOCK_ELEMENTS, memory_limit: int | None = None,
                      sampler: str = "auto"):
    """Monte Carlo of ``chains`` independent runs of the discrete chain ``chain``, reported at ``generations``.

    Parameters
    ----------
    chain:
        a :class:`theory.chain.DiscreteChain` (any source, learner and discrete workflow).
    generations:
        generation indices ``n >= 0`` (``0`` is the source), in any order.
    chains:
        independent runs, ``>= 2`` (standard errors need two).
    seed:
        integer seed; the run is a function of it (and not of ``block_elements``; see the module doc).
    dtype:
        ``"float64"`` (default) or ``"float32"``: the dtype of the probabilities and of the learner map (the
        sampler's binomials are float64 always).
    progress:
        a tqdm bar on stderr over blocks x generations.
    track_chain:
        also return chain 0's probabilities at the reported generations (``first_chain``, ``(n_gens, K)``).
    block_elements:
        memory bound: chains per block x padded categories ``2**ceil(log2 K)`` at most this (at least one chain).
    memory_limit:
        bytes a block, the group summaries and ``first_chain`` may take (default half the machine's memory).
    sampler:
        ``"auto"`` (default), ``"tree"`` (:func:`._categorical.multinomial`, ``O(K)`` per chain and draw of ``M``)
        or ``"spacings"`` (:func:`._categorical.spacings_multinomial`, ``O(M)``); both exact, so they
        differ only in speed (and in the numbers a seed gives); ``"auto"`` picks by :data:`SPACINGS_RATIO`.

    Returns
    -------
    DiscreteSimulation
        float64 arrays aligned with ``generations``: ``mean[key]``, ``se[key]`` for the five quantities;
        ``group_mean[name]``, ``group_se[name]`` of shape ``(G, n_gens)`` with ``group_probabilities`` ascending.

    >>> from theory.chain import DiscreteChain
    >>> sim = simulate_discrete(DiscreteChain("zipf:1:20", 50), [0, 1], chains=8)
    >>> float(sim.mean["surviving_mean"][0]), sim.mean["gini_simpson_mean"].shape
    (20.0, (2,))
    """
    if not isinstance(chain, DiscreteChain):
        raise ParameterError("chain", "a theory.chain.DiscreteChain", chain)
    chains = check_integer("chains", chains, minimum=2)
    requested = check_generations(generations)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= int(seed) < 2**63:
        raise ParameterError("seed", "an integer in [0, 2**63)", seed)
    if dtype not in ("float64", "float32", np.float64, np.float32, jnp.float64, jnp.float32):
        raise ParameterError("dtype", "'float64' or 'float32'", dtype)
    dtype = np.dtype(dtype).name
    block_elements = check_integer("block_elements", block_elements, minimum=1)
    if sampler not in SAMPLERS:
        raise ParameterError("sampler", "'auto', 'tree' or 'spacings'", sampler)
    if chain.sample_size > np.iinfo(np.int32).max:
        raise ParameterError("sample_size", f"at most {np.iinfo(np.int32).max} in the Monte Carlo (int32 counts)",
                             chain.sample_size)
    if chains > 2**32 - 1:
        raise ParameterError("chains", "at most 2**32 - 1 (chain keys are folded in as uint32)", chains)
    reported = sorted(set(requested))
    n_max = reported[-1]
    if n_max >= 2**31 - 1:
        raise ParameterError("generations", "below 2**31 - 1", n_max)
    limit = memory_limit if memory_limit is not None else _memory_bytes() // 2
    size = chain.size
    padded = 2 ** max(1, (size - 1).bit_length())
    per_chain_bytes = _ARRAYS_PER_CHAIN * padded * 8
    if uses_spacings(chain.sample_size, size, sampler):
        per_chain_bytes += 4 * 8 * (chain.sample_size + 1)  # the draws, their categories, the scatter
    if per_chain_bytes > limit:
        raise ParameterError("source", f"at most about {limit // (_ARRAYS_PER_CHAIN * 8)} categories in the Monte "
                             f"Carlo (one chain's arrays must fit in memory_limit={limit} bytes)", size)
    p0 = np.asarray(chain.probabilities, np.float64)
    values, multiplicities, group_id = _groups(p0)
    slots = len(reported)
    if 2 * slots * len(GROUP_STATS) * values.size * 3 * 8 > limit:
        raise ParameterError("generations", "few enough that the per-group summaries fit in memory", slots)
    if track_chain and slots * size * 8 > limit:
        raise ParameterError("track_chain", "False for this many generations x categories (memory)", track_chain)
    if not isinstance(progress, bool):
        raise ParameterError("progress", "True or False", progress)
    block = max(1, min(chains, block_elements // (per_chain_bytes // (_ARRAYS_PER_CHAIN * 8)),
                       limit // per_chain_bytes))
    with jax.enable_x64(True):
        return _run(chain, requested, reported, chains, int(seed), dtype, progress, bool(track_chain), block,
                    p0, values, multiplicities, group_id, sampler)


def _run(chain, requested, reported, chains, seed, dtype, progress, track, block, p0, values, multiplicities,
         group_id, sampler):
    n_max = reported[-1]
    size = chain.size
    padded = 2 ** max(1, (size - 1).bit_length())
    cfg = _Static(chain.learner, chain.workflow.kind, size, chain.sample_size, chain.real_count, chain.real_weight,
                  dtype, int(values.size), track, sampler)
    slot_of = np.full(n_max + 1, -1, np.int32)
    slot_of[reported] = np.arange(len(reported))
    # segments of a few seconds' work on one CPU core (about 1e8 category-steps), so that Ctrl-C acts in between
    length = max(1, min(n_max, 2**26 // (block * padded))) if n_max else 1
    segments = -(-n_max // length) if n_max else 0
    total = segments * length
    slot_steps = np.full(total, -1, np.int32)
    slot_steps[:n_max] = slot_of[1:]
    active = np.arange(total) < n_max
    init, segment = _build(cfg, block, len(reported), length)
    seed_key = jax.random.key(seed)
    p0_j = jnp.asarray(p0)
    gid = jnp.asarray(group_id)
    n_blocks = -(-chains // block)
    whole = groups = None
    first = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_blocks * n_max, unit="gen", desc="simulate_discrete", file=sys.stderr, leave=False)
    try:
        for b in range(n_blocks):
            count = jnp.asarray(min(block, chains - b * block), jnp.int32)
            first_chain = jnp.asarray(b * block, jnp.uint32)
            carry = init(seed_key, first_chain, count, jnp.asarray(slot_of[0]), p0_j, gid)
            for s in range(segments):
                lo = s * length
                carry = segment(carry, seed_key, first_chain, count, jnp.asarray(lo, jnp.int32),
                                jnp.asarray(slot_steps[lo:lo + length]), jnp.asarray(active[lo:lo + length]),
                                p0_j, gid)
                jax.block_until_ready(carry[1])
                if bar is not None:
                    bar.update(min(length, n_max - lo))
            whole = merge_moments(whole, np.asarray(carry[1]))
            g = np.asarray(carry[2])
            groups = g if groups is None else _merge3(groups, g)
            if track and b == 0:
                first = np.asarray(carry[3], np.float64)
    finally:
        if bar is not None:
            bar.close()

    order = [reported.index(g) for g in requested]
    mean, se = {}, {}
    for i, key in enumerate(DISCRETE_QUANTITIES):
        n, mu, c2 = whole[order, i, 0], whole[order, i, 1], whole[order, i, 2]
        mean[key] = np.asarray(mu, np.float64)
        se[key] = np.sqrt(np.maximum(c2, 0) / (n - 1) / n)
    group_mean, group_se = {}, {}
    scale = multiplicities[:, None].astype(np.float64)
    for i, name in enumerate(GROUP_STATS):
        n, mu, c2 = (groups[order, i, :, j].T for j in range(3))  # (G, n_gens)
        group_mean[name] = mu / scale
        group_se[name] = np.sqrt(np.maximum(c2, 0) / (n - 1) / n) / scale
    lost = ("p_{n,k} = 0" if chain.learner.alpha == 0 else
            "count 0 in the training set T_{n-1} (add-alpha smoothing: no probability is ever 0; p_0 = 0 at n = 0)")
    fixed = ("p_{n,k} > 0 and no other category left" if chain.learner.alpha == 0 else
             "all of T_{n-1} in category k (add-alpha smoothing; p_{0,k} = 1 at n = 0)")
    notes = {"lost": "lost means " + lost, "collapsed": "collapsed means some category has " + fixed,
             "method": f"Monte Carlo: {chains} chains of literal multinomial resampling ("
                       f"{'spacings' if uses_spacings(chain.sample_size, chain.size, sampler) else 'tree'} sampler, "
                       f"exact), seed {seed}, {dtype} probabilities, blocks of {block} chains"}
    return DiscreteSimulation(
        generations=np.asarray(requested, np.int64), chains=chains, mean=mean, se=se,
        group_probabilities=values, group_multiplicities=multiplicities, group_mean=group_mean, group_se=group_se,
        first_chain=first[order] if first is not None else None, dtype=dtype, notes=notes)


def _merge3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Merge ``(..., 3)`` arrays of ``(count, mean, C2)`` (Chan et al.; the first terms of Pebay 2008)."""
    na, ma, a2 = np.moveaxis(a, -1, 0)
    nb, mb, b2 = np.moveaxis(b, -1, 0)
    n = na + nb
    delta = mb - ma
    return np.stack([n, ma + delta * nb / n, a2 + b2 + delta**2 * na * nb / n], axis=-1)

