"""Counter-based standard normals for samples mode: Threefry-2x32 written out so that XLA fuses it.

``jax.random.normal`` uses the same hash (Threefry-2x32, 20 rounds, Salmon et al. 2011), but on CPU JAX
lowers it as a rolled ``while`` loop over whole arrays: every round reads and writes the full array, so
the draws cannot be fused into the fit, and the bits cost about 15 ns each on this project's 2-core CPU.
Here the 20 rounds are unrolled into plain elementwise ``jnp`` ops, so XLA emits one vectorised loop in
which the hash, the transform to a normal and the sums of the fit are fused; and both 32-bit output words of
a counter are used (JAX's 32-bit path keeps their XOR).

The stream is a pure function of the JAX key: :func:`stream_key` takes two 32-bit words from
``jax.random.bits(key, (2,))`` (any key implementation), and the normal with index ``(chain, s)`` comes from
``threefry2x32(words, (s // per, chain))``, with ``per = 2`` draws per counter in float32 (one per word) and
``per = 1`` in float64 (both words form one 64-bit uniform). Counters are built from ``iota`` over the chain
axis, which the SPMD partitioner offsets per device, so a chain's draws do not depend on the device count.

The transform is JAX's own: ``u`` uniform on ``(-1, 1)`` from the top mantissa bits, ``z = sqrt(2) erfinv(u)``.
:func:`threefry2x32` is checked bit for bit against ``jax``'s implementation in the tests.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA

#: Name of the generator, as reported by the benchmark.
GENERATOR = "threefry2x32-20, unrolled and fused (counter = (sample // per, chain)), erfinv transform"


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 with 20 rounds of the key ``(k0, k1)`` on counters ``(x0, x1)`` (uint32, broadcast)."""
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(_PARITY))
    x0 = x0 + ks[0]
    x1 = x1 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def stream_key(key) -> jax.Array:
    """The two uint32 key words of the stream, derived from a JAX PRNG key (any implementation)."""
    return jax.random.bits(key, (2,), jnp.uint32)


def draws_per_counter(dtype) -> int:
    return 2 if jnp.dtype(dtype) == jnp.float32 else 1


def _normal32(bits):
    # jax.random.uniform(minval=-1, maxval=1) then sqrt(2) erfinv, as in jax.random.normal
    one_two = jax.lax.bitcast_convert_type((bits >> np.uint32(9)) | np.uint32(0x3F800000), jnp.float32)
    u = jnp.maximum(one_two * 2 - 3, np.nextafter(np.float32(-1), np.float32(0)))
    return np.float32(np.sqrt(2)) * jax.lax.erf_inv(u)


def _normal64(hi, lo):
    bits = (hi.astype(jnp.uint64) << np.uint64(32)) | lo.astype(jnp.uint64)
    one_two = jax.lax.bitcast_convert_type((bits >> np.uint64(12)) | np.uint64(0x3FF0000000000000), jnp.float64)
    u = jnp.maximum(one_two * 2 - 3, np.nextafter(np.float64(-1), np.float64(0)))
    return np.sqrt(2) * jax.lax.erf_inv(u)


def normals(words, counter, chain, dtype):
    """Standard normals at uint32 ``counter`` and ``chain`` indices (broadcast together).

    Returns a tuple of :func:`draws_per_counter` arrays: draws ``per * counter + j`` of each chain.
    """
    x0, x1 = threefry2x32(words[0], words[1], counter, chain)
    if jnp.dtype(dtype) == jnp.float32:
        return _normal32(x0), _normal32(x1)
    return (_normal64(x0, x1),)
