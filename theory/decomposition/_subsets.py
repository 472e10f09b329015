"""The subsets of error sources the decomposition switches on, and the schedule after the first fit (shared by
the exact decomposition, :mod:`._decompose`, and its Monte Carlo check, :mod:`._montecarlo`)."""

from __future__ import annotations

import itertools

#: Every subset of the sources ``S`` (statistical), ``X`` (expressivity), ``P`` (approximation), as strings.
SUBSETS: tuple[str, ...] = tuple(
    "".join(c) for r in range(4) for c in itertools.combinations("SXP", r)
)


def shifted(sample_size):
    """The schedule of the Gaussian chain after generation 1 (``M_1, M_2, ...``)."""
    if isinstance(sample_size, tuple):
        return sample_size[1:] if len(sample_size) > 1 else 2  # a placeholder: only generation 0 is needed
    if callable(sample_size):
        return lambda i: sample_size(i + 1)
    return sample_size
