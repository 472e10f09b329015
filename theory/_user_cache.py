"""Where collapse-theory keeps its caches, and the one switch that turns them all off.

Both caches (the SymPy derivations, :mod:`theory.symbolic._cache`, and JAX's compiled programs,
:mod:`theory._jax_cache`) live under :func:`root`: ``$XDG_CACHE_HOME/collapse-theory`` when ``XDG_CACHE_HOME`` is an
absolute path (the XDG rule: a relative one is ignored), else ``~/.cache/collapse-theory``. The environment
variable ``COLLAPSE_THEORY_NO_CACHE`` turns both off when set to anything but ``""``, ``"0"``, ``"false"``,
``"no"`` or ``"off"`` (any case).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that turns every cache off.
NO_CACHE_ENV = "COLLAPSE_THEORY_NO_CACHE"


def disabled() -> bool:
    """True when ``COLLAPSE_THEORY_NO_CACHE`` asks for no cache."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def root() -> Path:
    """``$XDG_CACHE_HOME/collapse-theory`` (absolute ``XDG_CACHE_HOME`` only), else ``~/.cache/collapse-theory``."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base and os.path.isabs(base) else Path.home() / ".cache") / "collapse-theory"
