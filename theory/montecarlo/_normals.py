"""Counter-based uniforms and standard normals, written out in plain ``jnp`` ops so that XLA fuses them.

**Bits.** Threefry-2x32 (Salmon, Moraes, Dror and Shaw, *Parallel random numbers: as easy as 1, 2, 3*, SC 2011)
with :data:`ROUNDS` ``= 13`` rounds, keyed by two 32-bit words and applied to a 32-bit counter pair. Salmon et
al. report Threefry-2x32 with 13 rounds as Crush-resistant (it passes TestU01's SmallCrush, Crush and BigCrush
with every tested key and counter pattern, their Table 2), 20 rounds being their default with a safety margin.
The 13-round variant is what Random123 ships as ``threefry2x32_13``; JAX's ``jax.random`` uses 20 rounds.
:func:`threefry2x32` is checked bit for bit against JAX's implementation at 20 rounds and against Random123's
published known-answer vectors at 13 and 20 rounds (tests). Why not JAX's own generator: on CPU JAX lowers it
as a rolled ``while`` loop over whole arrays (each round reads and writes the array), so draws cannot fuse
with the arithmetic that consumes them. Here the rounds are unrolled into elementwise ops and XLA emits one
vectorised loop: hash, transform and the statistics of the fit.

**Uniforms** (:func:`uniforms`), on ``(0, 1]``: float32 ``(w + 1/2) 2**-32`` from a 32-bit word ``w`` (computed
as ``float32(w) + 0.5`` then scaled, so the smallest is ``2**-33``, and the largest rounds to 1), two per
counter; float64 ``(b + 1/2) 2**-53`` from 53 of the counter's 64 output bits (the top 31 of the first word,
the top 22 of the second), one per counter.

**Normals** (:func:`normal_pair`): the Box-Muller transform (Box and Muller, *Ann. Math. Statist.* 29, 1958),
an exact transformation of two independent uniforms into two independent standard normals:
``R = sqrt(-2 log u)``, ``theta`` uniform on a full turn, ``(z0, z1) = R (cos theta, sin theta)``. The angle
is reduced exactly, with integer arithmetic on its bits: the top two bits of its word pick the quadrant
``q``, the remaining bits a signed offset ``phi`` in ``[-pi/4, pi/4)``, so ``theta = q pi/2 + phi`` is
uniform on ``[-pi/4, 7 pi/4)`` (a full turn; where it starts does not matter), and
``(cos theta, sin theta)`` is ``(cos phi, sin phi)`` rotated by ``q`` quarter turns, which only swaps and
negates. ``sin phi`` and ``cos phi`` on ``[-pi/4, pi/4]`` are the minimax polynomials of Cephes
(S. L. Moshier, ``sinf.c``/``cosf.c`` in float32, ``sin.c`` in float64), accurate to about one unit in the
last place (checked against NumPy in the tests). Nothing is approximated beyond floating-point rounding:
float32 normals use one counter (two 32-bit words: ``u`` and the angle) per pair; float64 normals use two
counters per pair (53 bits of ``u``, 61 bits of angle). The radius reaches ``sqrt(2 * 33 log 2) = 6.8``
in float32 and ``sqrt(2 * 54 log 2) = 8.7`` in float64 (JAX's ``erfinv`` transform of a 23-bit uniform
stops at 5.3).

**Streams.** A stream is keyed by the two words of :func:`stream_key` (from ``jax.random.bits`` of a JAX key,
any implementation) and indexed by a counter pair ``(slot, chain)``: samples mode uses ``slot = sample // 2``
(float32) or ``sample // 2 * 2 + {0, 1}`` (float64) and draws samples ``2 slot`` and ``2 slot + 1`` of the
chain from one pair; sufficient mode uses a few fixed slots per step (:mod:`._gamma`). The chain index comes
from ``iota`` over the chain axis, which the SPMD partitioner offsets per device, so a chain's draws do not
depend on the device count.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

#: Threefry rotation constants for 2x32 (Salmon et al. 2011, Table 4; Random123 ``R_32x2_*``).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA

#: Rounds of Threefry-2x32 used by the engine (13: Crush-resistant per Salmon et al. 2011).
ROUNDS = 13

#: Name of the generator, as reported by the benchmark.
GENERATOR = (
    f"threefry2x32-{ROUNDS} (Salmon et al. 2011), unrolled and fused, counter = (sample // 2, chain); "
    "Box-Muller with exact quadrant reduction and Cephes sin/cos polynomials"
)

# Cephes single-precision sinf/cosf on [-pi/4, pi/4]
_SIN32 = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_COS32 = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
# Cephes double-precision sin/cos on [-pi/4, pi/4]
_SIN64 = (
    1.58962301576546568060e-10,
    -2.50507477628578072866e-8,
    2.75573136213857245213e-6,
    -1.98412698295895385996e-4,
    8.33333333332211858878e-3,
    -1.66666666666666307295e-1,
)
_COS64 = (
    -1.13585365213876817300e-11,
    2.08757008419747316778e-9,
    -2.75573141792967388112e-7,
    2.48015872888517045348e-5,
    -1.38888888888730564116e-3,
    4.16666666666665929218e-2,
)


# fdlibm e_log.c (Sun Microsystems, 1993): minimax R(z) ~ log((1 + s)/(1 - s)) - 2 s in z = s**2, |error| < 2**-58.45
_LG64 = (
    1.479819860511658591e-01,
    1.531383769920937332e-01,
    1.818357216161805012e-01,
    2.222219843214978396e-01,
    2.857142874366239149e-01,
    3.999999999940941908e-01,
    6.666666666666735130e-01,
)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0, k1, x0, x1, rounds: int = ROUNDS):
    """Threefry-2x32 with ``rounds`` rounds (a multiple of 4 plus 0-3) of the key ``(k0, k1)`` on the counter
    ``(x0, x1)`` (uint32 arrays or scalars, broadcast). Returns the two output words.

    The key schedule is injected after every 4 rounds, as in Random123 and JAX (at 20 rounds this is
    ``jax.extend.random.threefry_2x32``).
    """
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(_PARITY))
    x0 = x0 + ks[0]
    x1 = x1 + ks[1]
    for r in range(rounds):
        x0 = x0 + x1
        x1 = _rotl(x1, _ROTATIONS[(r // 4) % 2][r % 4]) ^ x0
        if r % 4 == 3:
            i = r // 4
            x0 = x0 + ks[(i + 1) % 3]
            x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def stream_key(key) -> jax.Array:
    """The two uint32 key words of a stream, derived from a JAX PRNG key (any implementation)."""
    return jax.random.bits(key, (2,), jnp.uint32)


def draws_per_counter(dtype) -> int:
    """Normals per counter slot in samples mode: 2 (a Box-Muller pair) in both precisions."""
    return 2


def _hash(words, slot, chain):
    return threefry2x32(words[0], words[1], jnp.asarray(slot, jnp.uint32), chain)


def _uniform32(w):
    return (w.astype(jnp.float32) + np.float32(0.5)) * np.float32(2.0**-32)


def _uniform64(hi, lo):
    # 53 bits: the top 31 of hi and the top 22 of lo, each exact through int32 (int64 -> float64 conversion does
    # not vectorise on every x86 target, and one scalar op de-vectorises the whole fused loop)
    top = (hi >> np.uint32(1)).astype(jnp.int32).astype(jnp.float64)
    low = (lo >> np.uint32(10)).astype(jnp.int32).astype(jnp.float64)
    return (top * 2.0**22 + (low + 0.5)) * 2.0**-53


def uniforms(words, slot, chain, dtype) -> tuple:
    """Uniforms on ``(0, 1]`` at counter ``(slot, chain)``: two in float32, one in float64."""
    x0, x1 = _hash(words, slot, chain)
    if jnp.dtype(dtype) == jnp.float32:
        return _uniform32(x0), _uniform32(x1)
    return (_uniform64(x0, x1),)


def _poly(coefficients, z):
    p = coefficients[0]
    for c in coefficients[1:]:
        p = p * z + c
    return p


def _rotate(q, c, s):
    """``(cos, sin)`` of ``q pi/2 + phi`` from ``c = cos phi``, ``s = sin phi`` and ``q`` in 0..3 (uint32)."""
    odd = (q & np.uint32(1)) == 1
    a = jnp.where(odd, s, c)
    b = jnp.where(odd, c, s)
    a = jnp.where(((q + np.uint32(1)) & np.uint32(2)) != 0, -a, a)  # cos < 0 in quadrants 1, 2
    b = jnp.where((q & np.uint32(2)) != 0, -b, b)  # sin < 0 in quadrants 2, 3
    return a, b


def _box_muller32(wu, wa):
    radius = jnp.sqrt(np.float32(-2) * jnp.log(_uniform32(wu)))
    q = wa >> np.uint32(30)
    offset = (wa & np.uint32(0x3FFFFFFF)).astype(jnp.int32) - np.int32(1 << 29)
    phi = offset.astype(jnp.float32) * np.float32(math.pi / 2 / 2**30)
    z = phi * phi
    s = phi + phi * z * _poly(_SIN32, z)
    c = np.float32(1) - np.float32(0.5) * z + z * z * _poly(_COS32, z)
    a, b = _rotate(q, c, s)
    return radius * a, radius * b


#: Quadratic start for 1/y on [1.70, 2.42] (relative error below 1.4e-3), refined by two Newton steps.
_RCP0 = (1.1682229e-01, -7.2247796e-01, 1.47801299)


def reciprocal(y):
    """``1/y`` for float64 ``y`` in ``[1.70, 2.42]`` without a division, to about 1 ulp.

    XLA CPU will not duplicate a division into two loops, so a quotient used twice splits the fused loop in
    two (and each part re-hashes its counters); multiplications and additions fuse. A quadratic start
    ``r0`` (relative error ``e0 = 1 - y r0`` below ``1.4e-3`` on the interval), one cubic Newton step
    ``r + r (e + e**2)`` (error ``e0**3 < 2.7e-9``) and one quadratic step ``r + r e`` (error below ``1e-17``,
    far under float64's ``1.1e-16``): what remains is the rounding of the last step.
    """
    r = _poly(_RCP0, y)
    e = 1.0 - y * r
    r = r + r * (e + e * e)
    e = 1.0 - y * r
    return r + r * e


def log64(x):
    """Natural log of positive normal float64 ``x``, fdlibm's algorithm in vectorisable ops (about 1 ulp).

    XLA CPU's float64 ``log`` does not vectorise when fused with the hash (it cost 6 ns a draw here).
    ``x = 2**k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))``, ``f = m - 1``, ``s = f/(2 + f)``,
    ``log(1 + f) = f - f**2/2 + s (f**2/2 + R(s**2))``, ``log x = k log 2 + log(1 + f)`` (log 2 in two parts).
    """
    bits = jax.lax.bitcast_convert_type(x, jnp.int64)
    k = (bits >> np.int64(52)) - np.int64(1023)
    mant = bits & np.int64(0x000FFFFFFFFFFFFF)
    big = mant > np.int64(0x6A09E667F3BCD)  # m > sqrt(2): use m/2 and k + 1
    m = jax.lax.bitcast_convert_type(mant | jnp.where(big, np.int64(0x3FE0000000000000), np.int64(0x3FF0000000000000)),
                                     jnp.float64)
    k = (k + big.astype(jnp.int64)).astype(jnp.int32).astype(jnp.float64)  # via int32: vectorises everywhere
    f = m - 1.0
    s = f * reciprocal(2.0 + f)  # no division: see reciprocal
    z = s * s
    r = z * _poly(_LG64, z)
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _box_muller64(u_hi, u_lo, a_hi, a_lo):
    radius = jnp.sqrt(-2.0 * log64(_uniform64(u_hi, u_lo)))
    q = a_hi >> np.uint32(30)
    top = ((a_hi & np.uint32(0x3FFFFFFF)).astype(jnp.int32) - np.int32(1 << 29)).astype(jnp.float64)
    low = (a_lo >> np.uint32(1)).astype(jnp.int32).astype(jnp.float64)
    phi = (top * 2.0**31 + low) * (math.pi / 2 / 2.0**61)  # 61 bits of angle, rounded once to float64
    z = phi * phi
    s = phi + phi * z * _poly(_SIN64, z)
    c = 1.0 - 0.5 * z + z * z * _poly(_COS64, z)
    a, b = _rotate(q, c, s)
    return radius * a, radius * b


def normal_pair(words, slot, chain, dtype) -> tuple:
    """Two independent standard normals at counter ``(slot, chain)`` (float32) or at the counters
    ``(slot, chain)`` and ``(slot + 1, chain)`` (float64: radius from the first, angle from the second)."""
    if jnp.dtype(dtype) == jnp.float32:
        return _box_muller32(*_hash(words, slot, chain))
    slot = jnp.asarray(slot, jnp.uint32)
    u_hi, u_lo = _hash(words, slot, chain)
    a_hi, a_lo = _hash(words, slot + np.uint32(1), chain)
    return _box_muller64(u_hi, u_lo, a_hi, a_lo)


def normals(words, counter, chain, dtype):
    """Standard normals of samples mode at uint32 ``counter`` and ``chain`` indices (broadcast together).

    Returns the :func:`draws_per_counter` ``= 2`` arrays: draws ``2 counter`` and ``2 counter + 1`` of each
    chain (float64 hashes the counters ``2 counter`` and ``2 counter + 1``).
    """
    if jnp.dtype(dtype) == jnp.float32:
        return normal_pair(words, counter, chain, dtype)
    return normal_pair(words, counter * np.uint32(2), chain, dtype)
