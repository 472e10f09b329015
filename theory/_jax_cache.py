"""JAX's persistent compilation cache for the command line (opt-out, never switched on by an import).

Each ``collapse-theory`` process compiles the same XLA programs again (the figures alone compile about a hundred);
with the persistent cache on, a second run loads them from disk instead. The cache lives in the user cache
directory, ``$XDG_CACHE_HOME/collapse-theory/jax`` (``~/.cache/collapse-theory/jax`` when ``XDG_CACHE_HOME`` is not
set), and is turned off by the environment variable ``COLLAPSE_THEORY_NO_CACHE=1`` (or by not calling
:func:`enable_compilation_cache`: the library itself never flips global JAX configuration; the CLI calls it).

The cache only saves compile time: a cached executable is the same program, so results are unchanged. As JAX
warns, the cache directory is trusted code: do not point it at a folder that others can write.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._user_cache import NO_CACHE_ENV as NO_CACHE_ENV  # re-exported: the one switch for every cache
from ._user_cache import disabled, root

#: Programs that compile faster than this are not written to disk (reading a file costs a few milliseconds).
MIN_COMPILE_TIME_SECS = 0.1


def cache_disabled_by_environment() -> bool:
    """True when ``COLLAPSE_THEORY_NO_CACHE`` asks for no cache (:func:`theory._user_cache.disabled`)."""
    return disabled()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/collapse-theory/jax``, or ``~/.cache/collapse-theory/jax``."""
    return root() / "jax"


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache in ``path`` (default :func:`default_cache_dir`).

    Returns the cache folder, or ``None`` when the cache stays off: ``COLLAPSE_THEORY_NO_CACHE`` is set, or the
    folder cannot be created or written (the cache is an optimisation, never a reason to fail). When the user
    already set ``JAX_COMPILATION_CACHE_DIR`` (or ``jax_compilation_cache_dir``) and no ``path`` is given, that
    setting is kept. Calling it again is harmless.
    """
    if cache_disabled_by_environment():
        return None
    import jax

    current = jax.config.jax_compilation_cache_dir
    if path is None and current:
        return Path(current)
    folder = Path(path) if path is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
    except OSError:
        return None
    if current and Path(current) != folder:
        # The cache object is created once per process, at the first compilation: start it afresh.
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_SECS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder
