"""A cache of symbolic results across processes, so that each process does not repeat the SymPy derivation.

A derivation (e.g. the numeric transition matrix of :mod:`theory.numeric._exact`) is stored as the
:func:`sympy.srepr` text of its result in ``$XDG_CACHE_HOME/collapse-theory/`` (``~/.cache/collapse-theory/`` when
``XDG_CACHE_HOME`` is unset), in a file whose name carries a key made of the package version, the SymPy version and a
SHA-256 of the source files that derive or read the cached results (:mod:`theory.symbolic`,
``theory/numeric/_exact.py``, ``theory/cli/_cmd_closed_form.py``), so any edit of that code, or another SymPy, gives
a new key and a fresh derivation. Each entry also stores the SHA-256 of its text and the key; an entry that cannot be
read, whose checksum or key does not match, that does not evaluate to SymPy objects of the expected shape (the
caller's ``check``), is ignored and recomputed, and the fresh result rewritten (atomically: a temporary file, then
:func:`os.replace`). Writing is best effort: an unwritable cache directory only costs the derivation time.

Set the environment variable ``COLLAPSE_THEORY_NO_CACHE=1`` to neither read nor write the cache.
The proofs (:func:`theory.symbolic.derive`, ``tests/test_proofs.py``) never read it: they always derive.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
from collections.abc import Callable
from functools import lru_cache

import sympy as sp

from .._user_cache import disabled as _caches_disabled
from .._user_cache import root as _caches_root

_PACKAGE = pathlib.Path(__file__).resolve().parents[1]
_SOURCES = ("symbolic/*.py", "numeric/_exact.py", "cli/_cmd_closed_form.py")
"""The files whose code produces or consumes cached derivations: any edit to them gives a new key."""


def enabled() -> bool:
    """False when ``COLLAPSE_THEORY_NO_CACHE`` turns the caches off (:func:`theory._user_cache.disabled`)."""
    return not _caches_disabled()


def directory() -> pathlib.Path:
    """``$XDG_CACHE_HOME/collapse-theory`` or ``~/.cache/collapse-theory`` (:func:`theory._user_cache.root`)."""
    return _caches_root()


@lru_cache(maxsize=None)
def key() -> str:
    """Package version, SymPy version and the SHA-256 of the source files in :data:`_SOURCES`."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("collapse-theory")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        __version__ = "0+unknown"
    digest = hashlib.sha256()
    for path in sorted(p for pattern in _SOURCES for p in _PACKAGE.glob(pattern)):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return f"{__version__}-sympy{sp.__version__}-{digest.hexdigest()[:16]}"


def _namespace() -> dict:
    namespace: dict = {}
    exec("from sympy import *", namespace)  # noqa: S102 - the names srepr writes (Symbol, Integer, Mul, ...)
    namespace["__builtins__"] = {}
    return namespace


def _load(path: pathlib.Path, check: Callable[[object], bool]):
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        text = entry["srepr"]
        if entry["key"] != key() or entry["sha256"] != hashlib.sha256(text.encode()).hexdigest():
            return None
        value = eval(text, _namespace())  # noqa: S307 - srepr text in the user's own cache, checksummed above
    except Exception:  # noqa: BLE001 - unreadable, truncated, malformed: recompute
        return None
    try:
        return value if check(value) else None
    except Exception:  # noqa: BLE001
        return None


def _store(path: pathlib.Path, name: str, value) -> None:
    text = sp.srepr(value)
    entry = {"key": key(), "sha256": hashlib.sha256(text.encode()).hexdigest(), "srepr": text}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(f.name, path)
        for stale in path.parent.glob(f"{name}-*.json"):  # entries of older keys: never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:  # read-only home, full disk: the cache is an optimisation only
        try:
            os.unlink(f.name)
        except (OSError, NameError, UnboundLocalError):
            pass


def cached(name: str, compute: Callable[[], object], check: Callable[[object], bool]):
    """``compute()``, or its stored result from an earlier process when a valid entry exists.

    ``name`` identifies the derivation (letters, digits, ``_``); ``check(value)`` must return True for a
    well-formed result (e.g. a list of SymPy expressions of the right length in the right symbols).
    """
    if not enabled():
        return compute()
    path = directory() / f"{name}-{key()}.json"
    value = _load(path, check) if path.exists() else None
    if value is None:
        value = compute()
        _store(path, name, value)
    return value
