"""The one exception type for bad input, so that callers and the CLI can tell it from bugs."""

from __future__ import annotations

import math
import numbers
import sys


class ParameterError(ValueError):
    """A parameter is outside what is allowed.

    The message always starts with the parameter's name and says what is allowed,
    e.g. ``sample_size: must be an integer >= 2, got 1.5``.
    """

    def __init__(self, parameter: str, allowed: str, got: object):
        self.parameter = parameter
        self.allowed = allowed
        self.got = got
        super().__init__(f"{parameter}: must be {allowed}, got {got!r}")


def _is_sympy(value: object) -> bool:
    """Whether ``value`` is a SymPy object, without importing SymPy (``import theory`` stays light)."""
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(value, sympy.Basic)


def _is_real_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_integer(name: str, value: object, *, minimum: int) -> int:
    """Return ``value`` as an ``int`` if it is a whole number ``>= minimum``; raise otherwise.

    Floats that are whole (``100.0``, ``1e7``) are accepted; ``2.5``, ``nan``, ``inf`` and
    booleans are not.
    """
    allowed = f"an integer >= {minimum}"
    if _is_sympy(value):
        if not (value.is_Integer and int(value) >= minimum):
            raise ParameterError(name, allowed, value)
        return int(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / jax scalar
        value = value.item()
    if not _is_real_number(value):
        raise ParameterError(name, allowed, value)
    if not isinstance(value, int) and (not math.isfinite(value) or value != int(value)):  # ints of any size
        raise ParameterError(name, allowed, value)
    if int(value) < minimum:
        raise ParameterError(name, allowed, value)
    return int(value)


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a ``float`` if it is finite and ``> 0``; raise otherwise."""
    allowed = "a finite number > 0"
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if _is_sympy(value):
        if not (value.is_number and value.is_positive and value.is_finite):
            raise ParameterError(name, allowed, value)
        return float(value)
    if not _is_real_number(value) or not math.isfinite(value) or value <= 0:
        raise ParameterError(name, allowed, value)
    return float(value)


def check_finite(name: str, value: object) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number; raise otherwise."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if not _is_real_number(value) or not math.isfinite(value):
        raise ParameterError(name, "a finite real number", value)
    return float(value)


def check_key(value: object, name: str = "key"):
    """Return ``value`` as a typed JAX PRNG key (``jax.random.key(seed)``; a legacy ``uint32[2]`` key is wrapped).

    Anything else (an int, ``None``, an array of the wrong shape) is a :class:`ParameterError` naming ``name``,
    not an error from inside JAX.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    allowed = "a JAX PRNG key (jax.random.key(seed))"
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.integer, np.floating)):
        raise ParameterError(name, allowed, value)
    try:
        key = value if isinstance(value, jax.Array) else jnp.asarray(value)
    except (TypeError, ValueError):
        raise ParameterError(name, allowed, type(value).__name__) from None
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ParameterError(name, allowed + ", one key (shape ())", f"keys of shape {key.shape}")
        return key
    if key.dtype == jnp.uint32 and key.shape == (2,):  # legacy jax.random.PRNGKey
        return jax.random.wrap_key_data(key)
    raise ParameterError(name, allowed, f"an array of dtype {key.dtype} and shape {key.shape}")
