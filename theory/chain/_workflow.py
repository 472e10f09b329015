"""Training workflows: what generation ``i + 1`` is fitted to.

Generation 0 is the source ``D_0``. Step ``i`` (generation ``i`` -> ``i + 1``) fits the learner to a training set
``T_i``; ``M_i`` is the chain's sample size at step ``i``:

=========================  ==========================================================================================
``replace``                ``T_i`` = ``M_i`` samples of model ``i`` (the paper's chain).
``mix:LAMBDA``             ``T_i`` = ``R_i = round(LAMBDA M_i)`` fresh real points (new draws from ``D_0`` every step)
                           and ``M_i - R_i`` samples of model ``i``.
``mix-fixed:LAMBDA``       the same, but the ``R`` real points are drawn once and reused at every step (Bertrand et
                           al.'s setting); ``R = round(LAMBDA M_i)`` must be the same at every step.
``accumulate``             a pool: ``P_0`` = ``M_0`` real points, ``P_i = P_{i-1}`` plus ``M_i`` samples of model
                           ``i``; model ``i + 1`` is fitted to the whole pool ``P_i`` (``N_i = M_0 + ... + M_i``
                           points).
``accumulate-subsample:K`` the same pool, but model ``i + 1`` is fitted to ``K`` points drawn without replacement
                           from ``P_i`` (``2 <= K <= M_0``).
=========================  ==========================================================================================

``round`` rounds half up (``round(0.5 * 5) = 3``). Under ``mix`` an optional weight ``w`` in ``(0, 1)`` on the real
points (He, Xu & Cheng's weighted scheme) gives each real point the weight ``w / R`` and each synthetic one
``(1 - w)/(M - R)`` in the fit: mean ``sum_j omega_j x_j``; ``mle`` variance ``A sum_j omega_j (x_j - mean)^2``;
``unbiased`` variance the same divided by ``1 - sum_j omega_j^2`` (reliability weights: unbiased for i.i.d.
points). ``w = R/M`` is the plain fit (``omega_j = 1/M``, divisors ``M`` and ``M - 1``).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from fractions import Fraction

from .._errors import ParameterError

#: The workflow names, as ``--workflow`` spells them (``mix``, ``mix-fixed`` and ``accumulate-subsample`` take a
#: parameter after a colon).
WORKFLOWS: tuple[str, ...] = ("replace", "mix", "mix-fixed", "accumulate", "accumulate-subsample")

_SPELLING = "replace, mix:LAMBDA, mix-fixed:LAMBDA, accumulate or accumulate-subsample:K"


def _text(x: float) -> str:
    """The shortest decimal that reads back as ``x`` (``0.1``, ``1``, ``0.999999999``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ParameterError(name, "a finite number", value)
    return float(value)


@dataclasses.dataclass(frozen=True)
class Workflow:
    """One training workflow (see the module doc).

    Parameters
    ----------
    kind:
        one of :data:`WORKFLOWS`.
    real_fraction:
        ``LAMBDA`` in ``[0, 1]`` for ``mix`` and ``mix-fixed`` (``0`` otherwise).
    real_weight:
        ``w`` in ``(0, 1)``, the weight of the real points in the fit, for ``mix`` and ``mix-fixed``; ``None``
        (default) is the plain fit (``w = R/M``).
    subsample:
        ``K`` for ``accumulate-subsample`` (``None`` otherwise).

    Examples
    --------
    >>> Workflow.parse("mix:0.25").real_count(10)
    3
    >>> Workflow.parse("accumulate-subsample:50")
    Workflow(kind='accumulate-subsample', real_fraction=0.0, real_weight=None, subsample=50)
    >>> str(Workflow.parse("mix-fixed:0.5", real_weight=0.6))
    'mix-fixed:0.5 (real weight 0.6)'
    """

    kind: str = "replace"
    real_fraction: float = 0.0
    real_weight: float | None = None
    subsample: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in WORKFLOWS:
            raise ParameterError("workflow", _SPELLING, self.kind)
        mixing = self.kind in ("mix", "mix-fixed")
        if mixing:
            lam = _number("real_fraction", self.real_fraction)
            if not 0 <= lam <= 1:
                raise ParameterError("real_fraction", "a number in [0, 1] (the fraction of real data)", lam)
            object.__setattr__(self, "real_fraction", lam)
        elif self.real_fraction:
            raise ParameterError("real_fraction", f"0 for workflow {self.kind} (only mix and mix-fixed take one)",
                                 self.real_fraction)
        if self.real_weight is not None:
            if not mixing:
                raise ParameterError("real_weight", "None (the weight applies to mix and mix-fixed only)",
                                     self.real_weight)
            w = _number("real_weight", self.real_weight)
            if not 0 < w < 1:
                raise ParameterError("real_weight", "a number in (0, 1) (the total weight of the real points)", w)
            object.__setattr__(self, "real_weight", w)
        if self.kind == "accumulate-subsample":
            k = self.subsample
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
                raise ParameterError("subsample", "an integer K >= 2 (the size of the subsample)", k)
            object.__setattr__(self, "subsample", int(k))
        elif self.subsample is not None:
            raise ParameterError("subsample", "None (only accumulate-subsample takes K)", self.subsample)

    # ------------------------------------------------------------------ spelling
    @classmethod
    def parse(cls, text: str, *, real_weight: float | None = None) -> "Workflow":
        """A workflow from its command-line spelling (``replace``, ``mix:0.1``, ``mix-fixed:0.1``, ``accumulate``,
        ``accumulate-subsample:100``); ``real_weight`` as :class:`Workflow`'s."""
        if isinstance(text, Workflow):
            return text if real_weight is None else dataclasses.replace(text, real_weight=real_weight)
        if not isinstance(text, str):
            raise ParameterError("workflow", _SPELLING, text)
        name, sep, arg = text.strip().partition(":")
        if name not in WORKFLOWS:
            raise ParameterError("workflow", _SPELLING, text)
        if name in ("mix", "mix-fixed"):
            if not sep:
                raise ParameterError("workflow", f"{name}:LAMBDA with LAMBDA in [0, 1]", text)
            try:
                lam = float(arg)
            except ValueError:
                raise ParameterError("workflow", f"{name}:LAMBDA with LAMBDA a number in [0, 1]", text) from None
            if not 0 <= lam <= 1:
                raise ParameterError("workflow", f"{name}:LAMBDA with LAMBDA in [0, 1] (the fraction of real data)",
                                     text)
            return cls(name, real_fraction=lam, real_weight=real_weight)
        if real_weight is not None:
            raise ParameterError("real_weight", "given only with workflow mix or mix-fixed", real_weight)
        if name == "accumulate-subsample":
            if not sep:
                raise ParameterError("workflow", "accumulate-subsample:K with K an integer >= 2", text)
            try:
                k = int(arg)
            except ValueError:
                raise ParameterError("workflow", "accumulate-subsample:K with K an integer >= 2", text) from None
            if k < 2:
                raise ParameterError("workflow", "accumulate-subsample:K with K an integer >= 2", text)
            return cls(name, subsample=k)
        if sep:
            raise ParameterError("workflow", f"'{name}' with no parameter (one of {_SPELLING})", text)
        return cls(name)

    def __str__(self) -> str:
        if self.kind in ("mix", "mix-fixed"):
            text = f"{self.kind}:{_text(self.real_fraction)}"
            return text if self.real_weight is None else f"{text} (real weight {_text(self.real_weight)})"
        if self.kind == "accumulate-subsample":
            return f"{self.kind}:{self.subsample}"
        return self.kind

    # ------------------------------------------------------------------ sizes
    @property
    def is_replace(self) -> bool:
        return self.kind == "replace"

    @property
    def pools(self) -> bool:
        """True for ``accumulate`` and ``accumulate-subsample`` (the training data grow into a pool)."""
        return self.kind in ("accumulate", "accumulate-subsample")

    def real_count(self, m: int) -> int:
        """``R = round(LAMBDA M)`` (half up) real points in a training set of ``M``; ``0`` without mixing."""
        if self.kind not in ("mix", "mix-fixed"):
            return 0
        # on the decimal the fraction was written as, not its binary float: 0.29 * 50 is 14.499999999999998 in
        # float64, but round(14.5) = 15
        return math.floor(Fraction(repr(self.real_fraction)) * int(m) + Fraction(1, 2))

    def weight(self, m: int) -> float:
        """The total weight ``w`` of the real points in a fit to ``M`` points (``R/M`` for the plain fit)."""
        return self.real_weight if self.real_weight is not None else self.real_count(m) / m

    def check_sizes(self, sizes) -> None:
        """Check the workflow against the sample sizes ``M_0 .. M_{n-1}`` (Python ints) it will run with.

        Raises :class:`~theory.ParameterError` naming the parameter: a mix with fewer than one real point
        (``LAMBDA M < 1/2`` while ``LAMBDA > 0``), a weight with no real or no synthetic points, a fixed real set
        whose size changes with ``M_i``, or a subsample larger than the first pool.
        """
        sizes = list(sizes)
        if not sizes:
            return
        if self.kind in ("mix", "mix-fixed"):
            for i, m in enumerate(sizes):
                r = self.real_count(m)
                if self.real_fraction > 0 and r < 1:
                    raise ParameterError(
                        "workflow", f"a real fraction LAMBDA with round(LAMBDA M) >= 1 real point (M_{i} = {m}: "
                        f"LAMBDA >= {0.5 / m:.3g})", str(self))
                if self.real_weight is not None and not 0 < r < m:
                    raise ParameterError(
                        "real_weight", f"given only when the training set holds both real and synthetic points (M_{i} = "
                        f"{m} has {r} real)", self.real_weight)
            if self.kind == "mix-fixed":
                counts = {self.real_count(m) for m in sizes}
                if len(counts) > 1:
                    raise ParameterError(
                        "sample_size", "a schedule with the same number of real points round(LAMBDA M_i) at every "
                        f"step for mix-fixed (got {sorted(counts)})", sizes[:8])
        if self.kind == "accumulate-subsample" and self.subsample > sizes[0]:
            raise ParameterError(
                "workflow", f"accumulate-subsample:K with K at most the first pool's size M_0 = {sizes[0]}",
                str(self))

    def pool_sizes(self, sizes):
        """``N_i = M_0 + ... + M_i`` for the pooling workflows (the pool step ``i`` fits to or draws from)."""
        out, total = [], 0
        for m in sizes:
            total += int(m)
            out.append(total)
        return out


REPLACE = Workflow()
