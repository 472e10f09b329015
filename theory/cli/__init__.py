"""The ``collapse-theory`` command line.

Each sub-command lives in its own module ``theory/cli/_cmd_<name>.py`` exposing

* ``NAME`` (the sub-command, e.g. ``"closed-form"``), ``HELP`` (one line),
* ``add_arguments(parser)`` and ``run(args) -> int``.

``main`` finds them all, so adding a command never touches this file. Bad input
(:class:`theory.ParameterError`) is reported as one line on stderr with exit status 2; Ctrl-C as one line with
exit status 130 (the shell's convention for SIGINT).

Commands that run JAX (``USES_JAX = True`` in their module, or one of :data:`JAX_COMMANDS`) get JAX's persistent
compilation cache (:func:`theory._jax_cache.enable_compilation_cache`; off with ``COLLAPSE_THEORY_NO_CACHE=1``)
before they run; the others never import JAX.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys

from .._errors import ParameterError
from ._args import seed_argument

__all__ = ["main", "build_parser", "seed_argument"]

#: Commands that compile JAX programs (a module may also say so with ``USES_JAX = True``). ``figures`` is not in
#: the list: it turns the cache on itself, after its own checks, and has ``--no-cache``.
JAX_COMMANDS = frozenset({"simulate", "verify", "bench", "decompose"})


class _UsageError(Exception):
    """Bad command-line syntax or value, already reported on stderr: ``main`` returns 2."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse takes '-1e100' for an option (its default pattern has no exponent); read it as a number, so
        # that the value's own check names the rule ('sigma: must be a finite number > 0')
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|nan)$", re.I)

    def error(self, message: str) -> None:  # one line on stderr, exit 2 (main returns 2, so callers in-process see it)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise _UsageError(message)


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
        p.set_defaults(_run=module.run, _uses_jax=getattr(module, "USES_JAX", module.NAME in JAX_COMMANDS))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        if getattr(args, "_uses_jax", False):
            from .._jax_cache import enable_compilation_cache

            enable_compilation_cache()
        return int(args._run(args) or 0)
    except _UsageError:
        return 2
    except ParameterError as err:
        command = f" {args.command}" if args is not None else ""
        sys.stderr.write(f"collapse-theory{command}: error: {err}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("collapse-theory: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
