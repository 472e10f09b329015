"""Argument types shared by every command, so that a value parses the same way everywhere.

Each type turns the command-line text into a Python value or raises ``argparse.ArgumentTypeError`` with a
message that starts with the parameter's name and says what is allowed (argparse prints it as one line and
exits 2). Numbers are read the same way in every command: ``1e3`` and ``1000`` are the same sample size.
"""

from __future__ import annotations

import argparse
import math


def _fail(name: str, allowed: str, text: str):
    raise argparse.ArgumentTypeError(f"{name}: must be {allowed}, got {text!r}")


def _float(name: str, text: str, allowed: str) -> float:
    try:
        value = float(text)
    except ValueError:
        _fail(name, allowed, text)
    return value


def integer(name: str, minimum: int, maximum: int | None = None):
    """An integer in ``[minimum, maximum]``; whole numbers in float notation (``1e7``, ``100.0``) are accepted."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            number = _float(name, text, allowed)
            if not math.isfinite(number) or number != int(number):
                _fail(name, allowed, text)
            value = int(number)
        if value < minimum or (maximum is not None and value > maximum):
            _fail(name, allowed, text)
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def positive(name: str):
    """A finite number > 0."""

    def parse(text: str) -> float:
        value = _float(name, text, "a finite number > 0")
        if not math.isfinite(value) or value <= 0:
            _fail(name, "a finite number > 0", text)
        return value

    parse.__name__ = name
    return parse


def finite(name: str):
    """A finite real number."""

    def parse(text: str) -> float:
        value = _float(name, text, "a finite real number")
        if not math.isfinite(value):
            _fail(name, "a finite real number", text)
        return value

    parse.__name__ = name
    return parse


def probability(name: str):
    """A number in the open interval (0, 1)."""

    def parse(text: str) -> float:
        value = _float(name, text, "a probability in (0, 1)")
        if not 0 < value < 1:
            _fail(name, "a probability in (0, 1)", text)
        return value

    parse.__name__ = name
    return parse


def seed_argument(text: str) -> int:
    """Type of every ``--seed``: an integer in ``[0, 2**63)``, what ``jax.random.key`` accepts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed: must be an integer in [0, 2**63), got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"seed: must be an integer in [0, 2**63), got {text!r}")
    return value


#: ``--sample-size/-M``: an integer >= 2 (``1e3`` accepted).
sample_size = integer("sample_size", 2)
#: ``--generations/-n``: an integer >= 0.
generation = integer("generations", 0)
