"""Fixtures shared by the test modules."""

import pytest

from theory.cli import main


@pytest.fixture
def x64():
    """JAX's float64 switched on for one test, and back to what it was after it."""
    import jax

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def run_cli(capsys):
    """``run_cli(argv) -> (status, stdout, stderr)`` of the command line, in-process (``--help`` exits via
    SystemExit, whose code is the status)."""

    def run(argv):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
        out = capsys.readouterr()
        return status, out.out, out.err

    return run
