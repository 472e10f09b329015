"""The 1-D Gaussian recursive-fitting chain (Shumailov et al., Nature 2024, "learning with generational data").

Generation 0 is ``N(mu, sigma**2)``. Generation ``i + 1`` is the Gaussian fitted to ``M_i`` i.i.d. samples of
generation ``i``: its mean is the sample mean, its variance is the sum of squared deviations divided by ``M_i - 1``
(learner ``"unbiased"``, the paper's theory) or by ``M_i`` (learner ``"mle"``, what the authors' notebook ran),
then multiplied by a fixed ``variance_scale`` ``A`` (the simplest functional-approximation bias; ``A = 1`` is none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Literal, Union

import numpy as np
import sympy as sp

from .._errors import ParameterError, check_finite, check_integer, check_positive

Learner = Literal["unbiased", "mle"]
LEARNERS: tuple[str, ...] = ("unbiased", "mle")

SampleSize = Union[int, sp.Symbol, Sequence[int], Callable[[int], int]]


def _is_symbolic(value: object) -> bool:
    return isinstance(value, sp.Basic) and bool(value.free_symbols)


@dataclasses.dataclass(frozen=True)
class GaussianChain:
    """A 1-D Gaussian chain: what is fitted, to how many samples, with which learner.

    Parameters
    ----------
    sample_size:
        ``M``: the number of samples each generation is fitted to. One of
        an integer ``>= 2`` (constant ``M``); a SymPy symbol (symbolic ``M``, for closed forms);
        a sequence ``[M_0, M_1, ...]`` (a schedule; generation ``i + 1`` is fitted to ``M_i`` samples, so
        ``n`` generations need ``n`` entries); or a function ``i -> M_i``.
    learner:
        ``"unbiased"`` (variance divisor ``M - 1``) or ``"mle"`` (divisor ``M``).
    variance_scale:
        ``A > 0``, multiplies every fitted variance. Number or SymPy symbol.
    sigma:
        ``sigma > 0``, standard deviation of generation 0. Number or SymPy symbol.
    mu:
        mean of generation 0 (it enters no result but the simulated means).

    Examples
    --------
    >>> GaussianChain(100).sample_sizes(3)
    array([100, 100, 100])
    >>> GaussianChain(lambda i: 10 * 2**i, learner="mle").sample_sizes(4)
    array([10, 20, 40, 80])
    >>> GaussianChain(1)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sample_size: must be an integer >= 2, got 1
    """

    sample_size: SampleSize
    learner: Learner = "unbiased"
    variance_scale: float | sp.Expr = 1
    sigma: float | sp.Expr = 1
    mu: float = 0.0

    def __post_init__(self) -> None:
        if self.learner not in LEARNERS:
            raise ParameterError("learner", "'unbiased' or 'mle'", self.learner)
        size = self.sample_size
        if callable(size) and not isinstance(size, sp.Basic):
            pass  # checked entry by entry in sample_size_at
        elif isinstance(size, sp.Basic) and size.free_symbols:
            pass  # symbolic M: assumed an integer >= 2 (the symbolic module declares it so)
        elif isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, str):
            if len(size) == 0:
                raise ParameterError("sample_size", "a non-empty schedule of integers >= 2", list(size))
            object.__setattr__(
                self, "sample_size", tuple(check_integer(f"sample_size[{i}]", m, minimum=2) for i, m in enumerate(size))
            )
        else:
            object.__setattr__(self, "sample_size", check_integer("sample_size", size, minimum=2))
        for name in ("variance_scale", "sigma"):
            value = getattr(self, name)
            if not _is_symbolic(value):
                check_positive(name, value)
        check_finite("mu", self.mu)

    # ------------------------------------------------------------------ sample sizes
    @property
    def is_constant(self) -> bool:
        """True when every generation uses the same ``M`` (number or symbol)."""
        return isinstance(self.sample_size, (int, sp.Basic))

    @property
    def is_symbolic(self) -> bool:
        """True when any of ``sample_size``, ``variance_scale``, ``sigma`` is a SymPy expression with symbols."""
        return any(_is_symbolic(v) for v in (self.sample_size, self.variance_scale, self.sigma))

    def sample_size_at(self, i: int) -> int | sp.Expr:
        """``M_i``, the number of samples generation ``i + 1`` is fitted to."""
        size = self.sample_size
        if isinstance(size, (int, sp.Basic)):
            return size
        if isinstance(size, tuple):
            if i >= len(size):
                raise ParameterError(
                    "generations", f"at most {len(size)} for a schedule of {len(size)} sample sizes", i + 1
                )
            return size[i]
        return check_integer(f"sample_size({i})", size(i), minimum=2)

    def sample_sizes(self, generations: int) -> np.ndarray:
        """``[M_0, ..., M_{n-1}]`` as an int64 array, for a numeric chain."""
        if self.is_symbolic:
            raise ParameterError("sample_size", "numeric for sample_sizes()", self.sample_size)
        generations = check_integer("generations", generations, minimum=0)
        if isinstance(self.sample_size, int):
            return np.full(generations, self.sample_size, dtype=np.int64)
        return np.array([self.sample_size_at(i) for i in range(generations)], dtype=np.int64)

    def variance_divisor(self, m):
        """The learner's divisor: ``M - 1`` (unbiased) or ``M`` (mle)."""
        return m - 1 if self.learner == "unbiased" else m


def check_generations(generations, *, name: str = "generations") -> list[int]:
    """Validate a generation index or list of them (integers ``>= 0``) and return a list of ints."""
    if isinstance(generations, (int, np.integer, float)) or (
        hasattr(generations, "ndim") and getattr(generations, "ndim") == 0
    ):
        generations = [generations]
    try:
        items = list(generations)
    except TypeError:
        raise ParameterError(name, "an integer >= 0 or a list of them", generations) from None
    if not items:
        raise ParameterError(name, "a non-empty list of integers >= 0", items)
    return [check_integer(name, g, minimum=0) for g in items]
