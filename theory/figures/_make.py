"""Make the figures: for each, compute (seeded, float64) -> save the data -> plot from the saved data -> save.

Each figure module exposes ``NAME``, ``TITLE`` (what it shows), ``REPRODUCES`` (which paper figure),
``compute(key, *, quick) -> dict`` and ``plot(data) -> matplotlib Figure``. The key of figure ``NAME`` is
``jax.random.fold_in(jax.random.key(seed), crc32(NAME))``, so a figure's numbers do not depend on which other
figures are made with it (``--only``).
"""

from __future__ import annotations

import operator
import sys
import tempfile
import zlib
from pathlib import Path

import jax

from .._errors import ParameterError
from . import (
    _decomposition,
    _expansions,
    _f1_gaussian_drift,
    _f2_mean_error,
    _f3_pooling,
    _f4_gmm_scatter,
    _f5_gmm_distance,
    _f6_discrete,
    _kde,
    _multivariate,
    _tail_loss,
    _vae_digits,
    _workflows,
)
from ._io import load_data, save_data
from ._style import save_figure, style

#: Every figure, in gallery order.
FIGURE_MODULES = (
    _f1_gaussian_drift,
    _f2_mean_error,
    _f3_pooling,
    _workflows,
    _multivariate,
    _f4_gmm_scatter,
    _f5_gmm_distance,
    _kde,
    _vae_digits,
    _f6_discrete,
    _tail_loss,
    _expansions,
    _decomposition,
)
FIGURES: dict[str, object] = {m.NAME: m for m in FIGURE_MODULES}


def figure_key(seed: int, name: str):
    """The PRNG key of one figure: the run's seed folded with a stable hash of the figure's name."""
    return jax.random.fold_in(jax.random.key(seed), zlib.crc32(name.encode()) & 0x7FFFFFFF)


def default_output_dir() -> Path:
    """``figures/`` of the source checkout when running from one, else ``./figures``."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "theory").is_dir():
        return root / "figures"
    return Path.cwd() / "figures"


def check_output_dir(out) -> Path:
    """``out`` as a folder that exists (created if needed) and can be written, before anything is computed.

    Raises :class:`~theory.ParameterError` (parameter ``out``) for an existing file, a folder that cannot be
    created, or one that cannot be written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", "a folder (this is an existing file)", str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ParameterError("out", f"a folder that can be created ({err.strerror or err})", str(out)) from None
    try:
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ParameterError("out", f"a writable folder ({err.strerror or err})", str(out)) from None
    return out


def _check_seed(seed) -> int:
    try:
        value = operator.index(seed)
    except TypeError:
        raise ParameterError("seed", "an integer in [0, 2**63)", seed) from None
    if isinstance(seed, bool) or not 0 <= value < 2**63:
        raise ParameterError("seed", "an integer in [0, 2**63)", seed)
    return int(value)


def make_figure(name: str, out: Path, *, seed: int = 0, quick: bool = False) -> list[Path]:
    """Make one figure into ``out``: ``NAME.json`` (data), ``NAME.pdf``, ``NAME.png``; return the paths."""
    if name not in FIGURES:
        raise ParameterError("figure", "one of " + ", ".join(FIGURES), name)
    module = FIGURES[name]
    seed = _check_seed(seed)
    out = check_output_dir(out)
    with jax.enable_x64(True):
        data = module.compute(figure_key(seed, name), quick=quick)
    data = {
        "figure": name,
        "title": module.TITLE,
        "reproduces": module.REPRODUCES,
        "seed": int(seed),
        "quick": bool(quick),
        "jax_backend": jax.default_backend(),
        **data,
    }
    data_path = save_data(data, out / f"{name}.json")
    with style():
        fig = module.plot(load_data(data_path))
        paths = save_figure(fig, out / name)
    return [data_path, *paths]


def make_figures(
    out: Path | None = None,
    *,
    only: list[str] | None = None,
    seed: int = 0,
    quick: bool = False,
    progress: bool | None = None,
) -> list[Path]:
    """Make the figures named in ``only`` (default: all) into ``out``; a tqdm bar when stderr is a terminal.

    Every input is checked (names, seed, output folder) before anything is computed.
    """
    from tqdm.auto import tqdm

    if isinstance(only, str):
        only = [only]
    names = list(FIGURES) if not only else list(dict.fromkeys(only))
    for name in names:
        if name not in FIGURES:
            raise ParameterError("figure", "one of " + ", ".join(FIGURES), name)
    seed = _check_seed(seed)
    out = check_output_dir(default_output_dir() if out is None else out)
    if progress is None:
        progress = sys.stderr.isatty()
    paths: list[Path] = []
    bar = tqdm(names, desc="figures", unit="fig", disable=not progress, file=sys.stderr)
    for name in bar:
        bar.set_postfix_str(name)
        paths.extend(make_figure(name, out, seed=seed, quick=quick))
    bar.close()
    return paths
