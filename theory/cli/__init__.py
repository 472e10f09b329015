"""The ``collapse-theory`` command line.

Each sub-command lives in its own module ``theory/cli/_cmd_<name>.py`` exposing

* ``NAME`` (the sub-command, e.g. ``"closed-form"``), ``HELP`` (one line),
* ``add_arguments(parser)`` and ``run(args) -> int``.

``main`` finds them all, so adding a command never touches this file. Bad input
(:class:`theory.ParameterError`) is reported as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .._errors import ParameterError
from ._args import seed_argument

__all__ = ["main", "build_parser", "seed_argument"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_cmd_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="collapse-theory",
        description=(
            "Exact theory and Monte Carlo of model collapse in the recursive Gaussian fitting chain "
            "(Shumailov et al., 'AI models collapse when trained on recursively generated data', Nature 2024)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except ParameterError as err:
        sys.stderr.write(f"collapse-theory {args.command}: error: {err}\n")
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
