"""The 1-D Gaussian recursive-fitting chain (Shumailov et al., Nature 2024, "learning with generational data").

Generation 0 is ``N(mu, sigma**2)``. Generation ``i + 1`` is the Gaussian fitted to ``M_i`` i.i.d. samples of
generation ``i``: its mean is the sample mean, its variance is the sum of squared deviations divided by ``M_i - 1``
(learner ``"unbiased"``, the paper's theory) or by ``M_i`` (learner ``"mle"``, what the authors' notebook ran),
then multiplied by a fixed ``variance_scale`` ``A`` (the simplest functional-approximation bias; ``A = 1`` is none).
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Literal, Union

import numpy as np
import sympy as sp

from .._errors import ParameterError, check_finite, check_integer, check_positive
from ._workflow import REPLACE, Workflow

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
        an integer ``>= 2`` of any size (constant ``M``; kept as a Python ``int``, so ``10**20`` is exact); a SymPy symbol (symbolic ``M``, for closed forms);
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
    workflow:
        what each generation is fitted to: a :class:`~theory.chain.Workflow` or its spelling (``"replace"``, the
        default and the paper's chain; ``"mix:0.1"``, ``"mix-fixed:0.1"``, ``"accumulate"``,
        ``"accumulate-subsample:100"``). See :mod:`theory.chain._workflow`.

    Examples
    --------
    >>> GaussianChain(100).sample_sizes(3)
    array([100, 100, 100])
    >>> GaussianChain(lambda i: 10 * 2**i, learner="mle").sample_sizes(4)
    array([10, 20, 40, 80])
    >>> GaussianChain(lambda i: 10 * 2**i).sample_size_runs(70)[-1]  # Python ints: no overflow beyond 2**63
    (5902958103587056517120, 1)
    >>> GaussianChain((5, 5, 7, 5)).sample_size_runs(4)
    [(5, 2), (7, 1), (5, 1)]
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
    workflow: Workflow = REPLACE

    def __post_init__(self) -> None:
        if self.learner not in LEARNERS:
            raise ParameterError("learner", "'unbiased' or 'mle'", self.learner)
        if not isinstance(self.workflow, Workflow):
            object.__setattr__(self, "workflow", Workflow.parse(self.workflow))
        size = self.sample_size
        if callable(size) and not isinstance(size, sp.Basic):
            pass  # checked entry by entry in sample_size_at
        elif isinstance(size, sp.Basic) and size.free_symbols:
            pass  # symbolic M: assumed an integer >= 2 (the symbolic module declares it so)
        elif isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, str):
            if len(size) == 0:
                raise ParameterError("sample_size", "a non-empty schedule of integers >= 2", list(size))
            object.__setattr__(self, "sample_size", tuple(_check_size(f"sample_size[{i}]", m) for i, m in enumerate(size)))
        else:
            object.__setattr__(self, "sample_size", _check_size("sample_size", size))
        for name in ("variance_scale", "sigma"):
            value = getattr(self, name)
            if not _is_symbolic(value):
                check_positive(name, value)
        check_finite("mu", self.mu)
        if not self.workflow.is_replace:
            if self.is_symbolic and not isinstance(self.sample_size, (int, tuple)):
                pass  # symbolic M: the symbolic module assumes what the workflow needs
            elif isinstance(self.sample_size, int):
                self.workflow.check_sizes([self.sample_size])
            elif isinstance(self.sample_size, tuple):
                self.workflow.check_sizes(self.sample_size)

    def check_workflow(self, generations: int) -> None:
        """Check the workflow against ``M_0 .. M_{n-1}`` (for a schedule function, which is only known when called):
        raises :class:`~theory.ParameterError` as :meth:`Workflow.check_sizes`."""
        if self.workflow.is_replace or generations <= 0:
            return
        if isinstance(self.sample_size, int):
            self.workflow.check_sizes([self.sample_size])
        else:
            self.workflow.check_sizes(self.sample_size_at(i) for i in range(generations))

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
        """``M_i``, the number of samples generation ``i + 1`` is fitted to (a Python ``int``: no size limit)."""
        size = self.sample_size
        if isinstance(size, (int, sp.Basic)):
            return size
        if isinstance(size, tuple):
            if i >= len(size):
                raise ParameterError(
                    "generations", f"at most {len(size)} for a schedule of {len(size)} sample sizes", i + 1
                )
            return size[i]
        return _check_size(f"sample_size({i})", size(i))

    def sample_sizes(self, generations: int) -> np.ndarray:
        """``[M_0, ..., M_{n-1}]`` for a numeric chain: an int64 array when every ``M_i < 2**63``, else an
        ``object`` array of Python ints (exact; ``.astype(float)`` gives float64, ``inf``-free up to ~1.8e308).

        This builds an ``n``-long array; :meth:`sample_size_runs` gives the same schedule in O(#runs) memory.
        """
        if self.is_symbolic:
            raise ParameterError("sample_size", "numeric for sample_sizes()", self.sample_size)
        generations = _check_whole("generations", generations, 0)
        _check_memory(generations)
        if isinstance(self.sample_size, int):
            return np.full(generations, self.sample_size, dtype=np.int64 if self.sample_size < 2**63 else object)
        sizes = [self.sample_size_at(i) for i in range(generations)]
        if sizes and max(sizes) >= 2**63:
            out = np.empty(len(sizes), dtype=object)
            out[:] = sizes
            return out
        return np.array(sizes, dtype=np.int64)

    def sample_size_runs(self, generations: int, *, max_seconds: float | None = None) -> list[tuple[int, int]]:
        """The schedule ``M_0 .. M_{n-1}`` as runs of equal sizes, ``[(M, count), ...]`` (Python ints), in order.

        Constant ``M`` costs O(1) for any ``n``; a tuple schedule O(n) time and O(#runs) memory; a function
        ``i -> M_i`` is called once per generation. With ``max_seconds``, a function schedule whose ``n`` calls
        are estimated (from the first calls) to take longer is refused with the estimate
        (:class:`~theory.ParameterError` naming ``generations``).
        """
        if self.is_symbolic:
            raise ParameterError("sample_size", "numeric for sample_size_runs()", self.sample_size)
        generations = _check_whole("generations", generations, 0)
        size = self.sample_size
        if generations == 0:
            return []
        if isinstance(size, int):
            return [(size, generations)]
        if isinstance(size, tuple):
            if generations > len(size):
                self.sample_size_at(generations - 1)  # raises the schedule-length error
            values = itertools.islice(size, generations)
        else:
            values = self._timed_calls(generations, max_seconds)
        return [(m, sum(1 for _ in group)) for m, group in itertools.groupby(values)]

    def _timed_calls(self, generations: int, max_seconds: float | None):
        probe = min(generations, 256)
        start = time.perf_counter()
        first = [self.sample_size_at(i) for i in range(probe)]
        per_call = (time.perf_counter() - start) / probe
        if max_seconds is not None and per_call * generations > max_seconds:
            raise ParameterError(
                "generations",
                f"at most about {int(max_seconds / max(per_call, 1e-9)):.3g} for this schedule function (refused: "
                f"{generations:.3g} calls at {per_call * 1e6:.3g} us each would take about "
                f"{per_call * generations:.3g} s, over the {max_seconds:g} s limit)",
                generations,
            )
        yield from first
        for i in range(probe, generations):
            yield self.sample_size_at(i)

    def variance_divisor(self, m):
        """The learner's divisor: ``M - 1`` (unbiased) or ``M`` (mle)."""
        return m - 1 if self.learner == "unbiased" else m


_MAX_ARRAY_ENTRIES = 10**9  # 8 GB of int64: an n-long array beyond this is refused with its size


def _check_memory(generations: int) -> None:
    if generations > _MAX_ARRAY_ENTRIES:
        raise ParameterError(
            "generations",
            f"at most {_MAX_ARRAY_ENTRIES:.0e} for an array of sample sizes (refused: {generations:.3g} entries "
            f"would take {8 * generations / 2**30:.3g} GiB; use sample_size_runs)",
            generations,
        )


def _check_size(name: str, value) -> int:
    """A sample size: a whole number ``>= 2`` as a Python ``int`` (integers of any size; ``1e7`` accepted)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalar
        value = value.item()
    return _check_whole(name, value, 2)


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
    return [_check_whole(name, g, 0) for g in items]


def _check_whole(name: str, value, minimum: int) -> int:
    """Like :func:`check_integer`, also for Python ints beyond float64 (``math.isfinite`` overflows on them)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, sp.Basic)):
        if int(value) < minimum:
            raise ParameterError(name, f"an integer >= {minimum}", value)
        return int(value)
    return check_integer(name, value, minimum=minimum)


def check_chain(chain, name: str = "chain") -> GaussianChain:
    """Return ``chain`` if it is a :class:`GaussianChain`; raise :class:`~theory.ParameterError` otherwise."""
    if not isinstance(chain, GaussianChain):
        raise ParameterError(name, "a theory.GaussianChain", chain)
    return chain
