"""The data behind every figure: one JSON file with the arrays, the seed, the sizes and the package versions.

The JSON is written with sorted keys and floats rounded to ``SIGNIFICANT_DIGITS``, so the same data give the
same bytes; the plots are
drawn from the file read back, never from the in-memory arrays (compute -> save -> plot).
"""

from __future__ import annotations

import json
import math
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

#: Floats are written with this many significant digits (plenty for plots; keeps the files small).
SIGNIFICANT_DIGITS = 9

_PACKAGES = ("collapse-theory", "jax", "jaxlib", "numpy", "scipy", "sympy", "matplotlib")


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers and the pictures."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def _plain(value):
    """Numpy/JAX arrays and scalars -> lists and Python numbers; non-finite floats -> None (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__array__") and not isinstance(value, (str, bytes)):
        arr = np.asarray(value)
        if arr.ndim == 0:
            return _plain(arr.item())
        return [_plain(v) for v in arr.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return None
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def write_atomically(path: Path, write) -> Path:
    """Call ``write(temporary_path)``, then move the file onto ``path``: an interrupted run (Ctrl-C, full disk)
    leaves the old file or none, never half of one. The temporary file sits in the same folder (same file
    system, so the move is atomic) and is removed if ``write`` fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def save_data(data: dict, path: Path) -> Path:
    """Write ``data`` (plus the package versions) as deterministic JSON."""
    payload = dict(_plain(data))
    payload["versions"] = package_versions()
    text = json.dumps(payload, indent=1, sort_keys=True, allow_nan=False) + "\n"
    return write_atomically(path, lambda temporary: temporary.write_text(text))


def load_data(path: Path) -> dict:
    """Read a figure's data file back (lists stay lists; plot code wraps them in ``np.asarray``)."""
    return json.loads(Path(path).read_text())


def _none_to_nan(value):
    if isinstance(value, list):
        return [_none_to_nan(v) for v in value]
    return math.nan if value is None else value


def array(values) -> np.ndarray:
    """A float array from a JSON (nested) list, with ``None`` (non-finite) back to ``nan``."""
    return np.asarray(_none_to_nan(values), dtype=float)
