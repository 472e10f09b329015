"""Fixtures shared by the test modules."""

import pytest

from theory.cli import main


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
