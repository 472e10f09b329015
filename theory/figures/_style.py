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
def style():
    """Draw inside the committed style (and nothing from the user's matplotlibrc)."""
    with plt.style.context(["default", str(STYLE_PATH)]):
        yield


def save_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` with fixed metadata; close the figure; return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    pdf, png = stem.with_suffix(".pdf"), stem.with_suffix(".png")
    fig.savefig(pdf, format="pdf", metadata=PDF_METADATA)
    fig.savefig(png, format="png", metadata=PNG_METADATA)
    plt.close(fig)
    return [pdf, png]
