"""Writing the generated proof documents (``proofs/*.md``): one place for every generator, with no heavy imports so
that a generator in a higher layer can use it."""

from __future__ import annotations

import pathlib


def write_documents(directory: pathlib.Path, docs: dict) -> list[pathlib.Path]:
    """Write each ``{file name: text}`` of ``docs`` into ``directory`` (created if needed); the paths written. Every
    proof generator (this module's, and theory.numeric's ``_workflow_proofs``, ``_discrete_proofs``,
    ``_multivariate_proofs``) writes through it."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in docs.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def target_directory(argv: list) -> pathlib.Path:
    """A generator's output folder: its first command-line argument, else the checkout's ``proofs/``."""
    return pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2] / "proofs"
