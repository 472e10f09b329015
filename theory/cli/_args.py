"""Argument types shared by every command, so that a value parses the same way everywhere.

Each type turns the command-line text into a Python value or raises ``argparse.ArgumentTypeError`` with a
message that starts with the parameter's name and says what is allowed (argparse prints it as one line and
exits 2). Numbers are read the same way in every command: ``1e3`` and ``1000`` are the same sample size.
"""

from __future__ import annotations

import argparse
import decimal
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
            # exact decimal reading: '1e23' is 10**23 (through float it would be 99999999999999991611392)
            try:
                number = decimal.Decimal(text.strip())
            except decimal.InvalidOperation:
                _fail(name, allowed, text)
            if not number.is_finite() or number != number.to_integral_value():
                _fail(name, allowed, text)
            if number.adjusted() > 308:  # as float notation always did: beyond float64, write the digits out
                _fail(name, f"{allowed} (in float notation at most 1e308; write larger integers in full)", text)
            value = int(number)
        if value < minimum or (maximum is not None and value > maximum):
            _fail(name, allowed, text)
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def _checked_float(name: str, allowed: str, accept):
    """A float for which ``accept(value)`` holds; otherwise one line saying what is ``allowed``."""

    def parse(text: str) -> float:
        value = _float(name, text, allowed)
        if not accept(value):
            _fail(name, allowed, text)
        return value

    parse.__name__ = name
    return parse


def positive(name: str):
    """A finite number > 0."""
    return _checked_float(name, "a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def finite(name: str):
    """A finite real number."""
    return _checked_float(name, "a finite real number", math.isfinite)


def probability(name: str):
    """A number in the open interval (0, 1)."""
    return _checked_float(name, "a probability in (0, 1)", lambda v: 0 < v < 1)


_seed = integer("seed", 0, 2**63 - 1)


def seed_argument(text: str) -> int:
    """Type of every ``--seed``: an integer in ``[0, 2**63)``, what ``jax.random.key`` accepts (``1e3`` too)."""
    try:
        return _seed(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"seed: must be an integer in [0, 2**63), got {text!r}") from None


#: ``--sample-size/-M``: an integer >= 2 (``1e3`` accepted).
sample_size = integer("sample_size", 2)
#: ``--generations/-n``: an integer >= 0.
generation = integer("generations", 0)
