"""The committed figure style and deterministic saving (same inputs, same bytes).

Every figure is drawn inside :func:`style` (the committed ``collapse.mplstyle``) and written by
:func:`save_figure` as PDF and PNG with the time stamps and software strings that would make two runs differ
removed from the metadata.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402

STYLE_PATH = Path(__file__).with_name("collapse.mplstyle")

#: Metadata for PDF: no creation date, no producer/creator strings with versions in them.
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
#: Metadata for PNG: no "Software: matplotlib version x" chunk.
PNG_METADATA = {"Software": None}

#: Colours of the theory curves, the simulation summaries and the single runs.
THEORY_COLOR = "black"


@contextlib.contextmanager
def _bundled_fonts_only():
    """Resolve every font to the files that ship with matplotlib (DejaVu Sans), never to a system copy.

    Machines that also have DejaVu installed (``/usr/share/fonts``) may resolve "DejaVu Sans" (and the oblique
    face mathtext uses for ``$M_i$``) to another version of the font, which moves a few pixels; inside this
    context the font list holds only matplotlib's own files.
    """
    from matplotlib import font_manager

    bundled = (Path(matplotlib.get_data_path()) / "fonts" / "ttf").resolve()
    manager = font_manager.fontManager
    saved = manager.ttflist
    manager.ttflist = [f for f in saved if Path(f.fname).resolve().parent == bundled] or saved
    manager._findfont_cached.cache_clear()
    try:
        yield
    finally:
        manager.ttflist = saved
        manager._findfont_cached.cache_clear()


@contextlib.contextmanager
def style():
    """Draw inside the committed style (and nothing from the user's matplotlibrc), with matplotlib's own fonts."""
    with plt.style.context(["default", str(STYLE_PATH)]), _bundled_fonts_only():
        yield


def save_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` with fixed metadata (each through a temporary file, so an interrupted
    run leaves no half-written picture); close the figure; return the paths."""
    from ._io import write_atomically

    stem = Path(stem)
    pdf, png = stem.with_name(stem.name + ".pdf"), stem.with_name(stem.name + ".png")
    try:
        write_atomically(pdf, lambda path: fig.savefig(path, format="pdf", metadata=PDF_METADATA))
        write_atomically(png, lambda path: fig.savefig(path, format="png", metadata=PNG_METADATA))
    finally:
        plt.close(fig)
    return [pdf, png]
