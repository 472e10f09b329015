"""The peers of the benchmark: the same Monte Carlo written the best ways a researcher could without this engine.

Every peer does the work the engine does in :mod:`._bench`: ``chains`` independent chains of the unbiased
learner at constant ``M``, ``generations`` steps, in ``dtype``, keeping per chain ``mu_n`` and
``log sigma_n**2`` (start ``mu = 0``, ``sigma = 1``). A step either draws the ``M`` points and fits them
(*samples*: ``z = standard_normal``, ``mu += sigma mean(z)``, ``log sigma**2 += log(SS(z)/(M - 1))`` with
``SS = sum z**2 - (sum z)**2/M``, the same standardised fit as the engine), or draws the fit's statistics
from their law (*sufficient*: ``mu += sigma N(0, 1)/sqrt(M)``, ``log sigma**2 += log(2 Gamma((M - 1)/2)/(M - 1))``).

* ``notebook``: the authors' loop, one chain at a time, ``x = rng.normal(mu, sigma, M)``,
  ``mu, sigma = x.mean(), x.std(ddof=1)`` with NumPy's legacy ``RandomState`` (what ``np.random.normal``
  uses; float64 only, as ``np.random.normal`` has no float32).
* NumPy vectorised: ``np.random.Generator(SFC64)`` (its fastest bit generator), ziggurat
  ``standard_normal(out=buffer, dtype=dtype)`` into a preallocated buffer of a few rows of chains (sized to
  stay in cache), ``sum`` and a fused ``einsum('ij,ij->i')`` for ``sum z**2``, in-place updates. With
  ``threads = 2`` the chains are split in two halves run by two threads with independent generators
  (NumPy's generators and reductions release the GIL), the best wall time on two cores.
* NumPy sufficient statistics: ``standard_normal`` and ``standard_gamma`` (Marsaglia-Tsang on ziggurat
  normals) for all chains of a step at once, chunked, in place; one or two threads likewise.
* PyTorch (when installed; never a dependency): ``Tensor.normal_(generator=...)`` into a preallocated
  buffer, sums as BLAS matrix-vector products, on one thread and on ``torch.get_num_threads()`` threads (its
  default pool; on a loaded machine its threads can be several times slower than one).
* Floors: the bare generators alone on the same number of draws: NumPy ``standard_normal`` (one and two
  threads), ``torch`` ``normal_``, and for sufficient mode NumPy's ``standard_normal`` + ``standard_gamma``.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Elements per chunk buffer of the NumPy peers (256 KiB in float32: stays in a core's L2 cache).
NUMPY_CHUNK = 2**16
#: Elements per chunk of the PyTorch peer (its intra-op threads need larger pieces).
TORCH_CHUNK = 2**20

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(2)
    return _POOL


def generators(seed: int, threads: int) -> list:
    """Independent SFC64 generators, one per thread (``SeedSequence.spawn``)."""
    return [np.random.Generator(np.random.SFC64(s)) for s in np.random.SeedSequence(seed).spawn(threads)]


def _split(n: int, parts: int):
    step = -(-n // parts)
    return [(i * step, min(n, (i + 1) * step)) for i in range(parts) if i * step < n]


def _in_threads(fn, n: int, rngs: list):
    if len(rngs) == 1:
        fn(rngs[0], 0, n)
        return
    futures = [_pool().submit(fn, rng, lo, hi) for rng, (lo, hi) in zip(rngs, _split(n, len(rngs)))]
    for f in futures:
        f.result()


def notebook(seed: int, chains: int, m: int, generations: int):
    """The authors' per-chain loop (float64)."""
    rs = np.random.RandomState(seed % 2**32)
    out = np.empty((chains, 2))
    for c in range(chains):
        mu, sigma = 0.0, 1.0
        for _ in range(generations):
            x = rs.normal(mu, sigma, m)
            mu, sigma = x.mean(), x.std(ddof=1)
        out[c] = mu, sigma
    return out


def numpy_samples(rngs: list, chains: int, m: int, generations: int, dtype):
    """Samples mode, vectorised NumPy (one thread per generator in ``rngs``); returns ``(mu, log_variance)``."""
    dtype = np.dtype(dtype)
    mu = np.zeros(chains, dtype)
    lv = np.zeros(chains, dtype)
    rows = max(1, NUMPY_CHUNK // m)
    inv_m = dtype.type(1 / m)
    scale = dtype.type(1 / (m - 1))

    def part(rng, lo, hi):
        buf = np.empty((min(rows, hi - lo), m), dtype)
        for _ in range(generations):
            for start in range(lo, hi, rows):
                r = min(rows, hi - start)
                b = buf[:r]
                rng.standard_normal(out=b, dtype=dtype)
                s = b.sum(axis=1)
                q = np.einsum("ij,ij->i", b, b)
                ss = q - s * s * inv_m
                sl = slice(start, start + r)
                mu[sl] += np.exp(dtype.type(0.5) * lv[sl]) * s * inv_m
                lv[sl] += np.log(ss * scale)

    _in_threads(part, chains, rngs)
    return mu, lv


def numpy_normal_floor(rngs: list, chains: int, m: int, generations: int, dtype):
    """The bare generator: ``chains * m * generations`` standard normals written into the chunk buffer."""
    dtype = np.dtype(dtype)
    rows = max(1, NUMPY_CHUNK // m)

    def part(rng, lo, hi):
        buf = np.empty((min(rows, hi - lo), m), dtype)
        for _ in range(generations):
            for start in range(lo, hi, rows):
                rng.standard_normal(out=buf[: min(rows, hi - start)], dtype=dtype)

    _in_threads(part, chains, rngs)


def numpy_sufficient(rngs: list, chains: int, m: int, generations: int, dtype):
    """Sufficient statistics with NumPy's ``standard_normal`` and ``standard_gamma``, in place, chunked."""
    dtype = np.dtype(dtype)
    mu = np.zeros(chains, dtype)
    lv = np.zeros(chains, dtype)
    shape = (m - 1) / 2
    offset = dtype.type(math.log(2 / (m - 1)))
    inv_sqrt_m = dtype.type(1 / math.sqrt(m))
    half = dtype.type(0.5)

    def part(rng, lo, hi):
        n = min(NUMPY_CHUNK, hi - lo)
        z, g, t = (np.empty(n, dtype) for _ in range(3))
        for _ in range(generations):
            for start in range(lo, hi, NUMPY_CHUNK):
                r = min(NUMPY_CHUNK, hi - start)
                zz, gg, tt = z[:r], g[:r], t[:r]
                rng.standard_normal(out=zz, dtype=dtype)
                rng.standard_gamma(shape, out=gg, dtype=dtype)
                sl = slice(start, start + r)
                np.multiply(lv[sl], half, out=tt)
                np.exp(tt, out=tt)
                tt *= zz
                tt *= inv_sqrt_m
                mu[sl] += tt
                np.log(gg, out=gg)
                gg += offset
                lv[sl] += gg

    _in_threads(part, chains, rngs)
    return mu, lv


def numpy_sufficient_floor(rngs: list, chains: int, m: int, generations: int, dtype):
    """The bare pair: ``standard_normal`` and ``standard_gamma`` for every chain and step, nothing else."""
    dtype = np.dtype(dtype)
    shape = (m - 1) / 2

    def part(rng, lo, hi):
        n = min(NUMPY_CHUNK, hi - lo)
        z, g = np.empty(n, dtype), np.empty(n, dtype)
        for _ in range(generations):
            for start in range(lo, hi, NUMPY_CHUNK):
                r = min(NUMPY_CHUNK, hi - start)
                rng.standard_normal(out=z[:r], dtype=dtype)
                rng.standard_gamma(shape, out=g[:r], dtype=dtype)

    _in_threads(part, chains, rngs)


def torch_module():
    """``torch`` if it can be imported, else ``None``."""
    try:
        import torch
    except Exception:  # noqa: BLE001 - any failure to import means "not available"
        return None
    return torch


class _torch_threads:
    """``torch.set_num_threads(n)`` for the duration of a ``with`` block (``None``: leave torch's default)."""

    def __init__(self, torch, threads):
        self.torch, self.threads = torch, threads

    def __enter__(self):
        self.previous = self.torch.get_num_threads()
        if self.threads is not None:
            self.torch.set_num_threads(self.threads)

    def __exit__(self, *exc):
        self.torch.set_num_threads(self.previous)


def torch_samples(torch, seed: int, chains: int, m: int, generations: int, dtype, threads=None):
    """Samples mode in PyTorch (``threads`` intra-op threads, default torch's); returns ``(mu, log_variance)``.

    Sums as matrix-vector products with a ones vector (BLAS), the square in place: the fastest of the variants
    tried here (``sum``, ``linalg.vecdot``, ``einsum``, ``(b*b).sum``).
    """
    tdtype = getattr(torch, np.dtype(dtype).name)
    g = torch.Generator().manual_seed(seed)
    mu = torch.zeros(chains, dtype=tdtype)
    lv = torch.zeros(chains, dtype=tdtype)
    rows = max(1, TORCH_CHUNK // m)
    buf = torch.empty((min(rows, chains), m), dtype=tdtype)
    ones = torch.ones(m, dtype=tdtype)
    with torch.no_grad(), _torch_threads(torch, threads):
        for _ in range(generations):
            for start in range(0, chains, rows):
                r = min(rows, chains - start)
                b = buf[:r]
                b.normal_(generator=g)
                s = torch.mv(b, ones)
                b.square_()
                q = torch.mv(b, ones)
                ss = q - s * s / m
                mu[start : start + r] += torch.exp(0.5 * lv[start : start + r]) * s / m
                lv[start : start + r] += torch.log(ss / (m - 1))
    return mu, lv


def torch_normal_floor(torch, seed: int, chains: int, m: int, generations: int, dtype, threads=None):
    """``normal_`` alone into the same buffers."""
    tdtype = getattr(torch, np.dtype(dtype).name)
    g = torch.Generator().manual_seed(seed)
    rows = max(1, TORCH_CHUNK // m)
    buf = torch.empty((min(rows, chains), m), dtype=tdtype)
    with _torch_threads(torch, threads):
        for _ in range(generations):
            for start in range(0, chains, rows):
                buf[: min(rows, chains - start)].normal_(generator=g)
