"""Sample-size schedules: the drift sums ``sum_{i<n} 1/M_i`` and whether they stay bounded.

To first order in ``1/M`` the chain's errors grow with ``sum_{i<n} 1/M_i`` (``E (mu_n - mu)^2 = sigma^2 sum 1/M_i``
exactly; ``E log sigma_n^2/sigma^2 ~ -sum 1/M_i`` for the unbiased learner; ``sum 1/M_i^2`` enters the next order).
With constant ``M`` this drift grows linearly in ``n``; it stays bounded only if ``sum_i 1/M_i`` converges, which
needs ``M_i`` to grow superlinearly (``M_i ~ i`` gives a harmonic, logarithmically divergent drift;
``M_i ~ i^{1+delta}`` or ``c^i`` a bounded one).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from .._errors import ParameterError, check_integer
from ..chain import GaussianChain, check_chain, check_generations

_EXAMINED = 10  # the first values of M_i are checked to be numbers >= 2
_MAX_SECONDS = 600.0  # a function schedule whose calls are estimated to take longer is refused


def _inverse(m: int, power: int) -> float:
    """``1/M^power`` for a Python int of any size (``0.0`` below float64's smallest subnormal)."""
    try:
        return 1.0 / float(m) ** power
    except OverflowError:
        return 0.0


def _times(count: int, value: float) -> float:
    """``count * value`` for a Python int ``count`` of any size (``inf`` when the product overflows float64)."""
    try:
        return float(count) * value
    except OverflowError:
        return math.inf if value else 0.0


def partial_sums(runs, generations) -> tuple[np.ndarray, np.ndarray]:
    """``sum_{i<n} 1/M_i`` and ``sum_{i<n} 1/M_i^2`` at each ``n`` from runs ``[(M, count), ...]`` (O(#runs))."""
    order = sorted(range(len(generations)), key=lambda k: generations[k])
    first, second = np.zeros(len(generations)), np.zeros(len(generations))
    pos, s1, s2, k = 0, 0.0, 0.0, 0
    runs = iter(runs)
    m, count = next(runs, (None, 0))
    while k < len(order):
        g = generations[order[k]]
        if g <= pos + count or m is None:
            step = g - pos  # within the current run (m is None only when g == pos: the schedule is exhausted)
            first[order[k]] = s1 + _times(step, _inverse(m, 1)) if step else s1
            second[order[k]] = s2 + _times(step, _inverse(m, 2)) if step else s2
            k += 1
            continue
        s1, s2, pos = s1 + _times(count, _inverse(m, 1)), s2 + _times(count, _inverse(m, 2)), pos + count
        m, count = next(runs, (None, 0))
    return first, second


def drift_partial_sums(chain: GaussianChain, generations) -> dict:
    """``sum_{i<n} 1/M_i`` and ``sum_{i<n} 1/M_i^2`` at each ``n`` in ``generations``, as float64 arrays.

    Returns ``{"generations": [...], "inverse_sample_size_sum": ..., "inverse_sample_size_sq_sum": ...}``.
    The schedule is summed run by run (runs of equal ``M``, :meth:`~theory.chain.GaussianChain.sample_size_runs`):
    constant ``M`` gives ``n/M`` and ``n/M^2`` in O(1) memory for any ``n``, and ``M_i`` beyond float64
    (``10 * 2**i`` past ``i ~ 1020``) contribute their exact ``1/M_i`` (``0.0`` once below float64's range). A schedule
    must have at least ``max(generations)`` entries.

    Examples
    --------
    >>> d = drift_partial_sums(GaussianChain((2, 4, 4)), [0, 1, 3])
    >>> d["inverse_sample_size_sum"].tolist(), d["inverse_sample_size_sq_sum"].tolist()
    ([0.0, 0.5, 1.0], [0.0, 0.25, 0.375])
    """
    if check_chain(chain).is_symbolic:
        raise ParameterError("chain", "numeric (no SymPy symbols) for drift_partial_sums", chain)
    gens = check_generations(generations)
    first, second = partial_sums(chain.sample_size_runs(max(gens), max_seconds=_MAX_SECONDS), gens)
    return {"generations": gens, "inverse_sample_size_sum": first, "inverse_sample_size_sq_sum": second}


@dataclasses.dataclass(frozen=True)
class BoundedDrift:
    """Whether ``sum_i 1/M_i`` converges, and why.

    Attributes
    ----------
    converges:
        ``True``, ``False``, or ``None`` when SymPy cannot decide.
    limit:
        ``sum_{i>=0} 1/M_i`` as a SymPy number when it is known in closed form (``oo`` when it diverges), else ``None``.
    expression:
        ``M_i`` as the SymPy expression that was examined (``None`` for a finite schedule).
    symbol:
        the index symbol in ``expression`` (``None`` when there is none).
    reason:
        a sentence saying how the answer was reached.
    """

    converges: bool | None
    limit: sp.Expr | None
    expression: sp.Expr | None
    symbol: sp.Symbol | None
    reason: str


def _index_symbol() -> sp.Symbol:
    return sp.Symbol("i", integer=True, nonnegative=True)


def _callable_expression(schedule: Callable) -> tuple[sp.Expr, sp.Symbol]:
    i = _index_symbol()
    hint = (
        "a function i -> M_i written with SymPy-compatible operations (e.g. lambda i: 10 * 2**i, "
        "lambda i: (i + 2)**2; no numpy, int() or math) or a SymPy expression in i"
    )
    try:
        expr = sp.sympify(schedule(i), strict=True)
    except Exception as error:  # numpy ufuncs, int(), math.*, comparisons on a symbol ...
        got = f"{schedule!r} (calling it with a SymPy symbol failed: {error})"
        raise ParameterError("sample_size", hint, got) from None
    if not isinstance(expr, sp.Expr):
        raise ParameterError("sample_size", hint, f"{schedule!r} returned {expr!r}")
    return expr, i


def _check_expression(expr: sp.Expr, symbol: sp.Symbol | None) -> None:
    """``M_0 .. M_9`` must be real numbers ``>= 2`` (a real growth law such as ``i**1.5`` stands for its rounding)."""
    for j in range(_EXAMINED):
        value = expr.subs(symbol, j) if symbol is not None else expr
        if value.free_symbols:  # other parameters (e.g. c * i**2): nothing to check numerically
            continue
        if not (value.is_extended_real and bool(value >= 2)):
            raise ParameterError(f"sample_size({j})", "a real number >= 2", value)


def bounded_drift(sample_size, symbol: sp.Symbol | None = None) -> BoundedDrift:
    """Decide whether the drift ``sum_i 1/M_i`` of a sample-size schedule converges.

    Bounded drift (errors that stop growing with ``n``) needs ``M_i`` to grow superlinearly.

    Parameters
    ----------
    sample_size:
        what :class:`~theory.chain.GaussianChain` takes as ``sample_size`` (or the chain itself):

        - an integer ``M``, or a SymPy symbol: constant, so the drift ``n/M`` grows linearly (diverges);
        - a finite schedule ``(M_0, ..., M_{N-1})``: a finite sum, convergent trivially;
        - a function ``i -> M_i``: called with a SymPy symbol ``i`` (integer, nonnegative) to get an expression, then
          ``Sum(1/M_i, (i, 0, oo)).is_convergent()``. The function must use SymPy-compatible operations
          (``+ * ** //``, ``sympy.floor``...), not numpy, ``int()`` or :mod:`math`; otherwise a
          :class:`~theory._errors.ParameterError` says so;
        - a SymPy expression in one symbol (or pass ``symbol``).
    symbol:
        the index symbol of a SymPy-expression ``sample_size``, when it has more than one free symbol.

    Examples
    --------
    >>> bounded_drift(lambda i: 10 * 2**i)
    BoundedDrift(converges=True, limit=1/5, expression=10*2**i, symbol=i, reason='...')
    >>> bounded_drift(lambda i: 100 + i).converges
    False
    >>> bounded_drift(100).reason
    'constant M: sum_{i<n} 1/M = n/M grows linearly in n (linear drift)'
    """
    if isinstance(sample_size, GaussianChain):
        sample_size = sample_size.sample_size
    # ---- constant
    if isinstance(sample_size, sp.Symbol) and symbol is None or (
        isinstance(sample_size, (int, np.integer)) and not isinstance(sample_size, bool)
    ):
        if not isinstance(sample_size, sp.Symbol):
            sample_size = sp.Integer(check_integer("sample_size", sample_size, minimum=2))
        return BoundedDrift(
            False, sp.oo, sample_size, None, "constant M: sum_{i<n} 1/M = n/M grows linearly in n (linear drift)"
        )
    # ---- finite schedule
    if isinstance(sample_size, (Sequence, np.ndarray)) and not isinstance(sample_size, str):
        sizes = GaussianChain(tuple(sample_size)).sample_size  # validates: non-empty, integers >= 2
        total = sp.Add(*[sp.Rational(1, m) for m in sizes])
        return BoundedDrift(
            True,
            total,
            None,
            None,
            f"finite schedule of {len(sizes)} sample sizes: the sum has {len(sizes)} terms, so it is finite "
            "(the chain runs at most that many generations)",
        )
    # ---- expression or callable
    if isinstance(sample_size, sp.Basic):
        expr = sp.sympify(sample_size)
        free = expr.free_symbols
        if symbol is None:
            if len(free) > 1:
                raise ParameterError(
                    "symbol", "given when the sample-size expression has several free symbols", sorted(free, key=str)
                )
            symbol = next(iter(free), None)
    elif callable(sample_size):
        expr, symbol = _callable_expression(sample_size)
    else:
        raise ParameterError(
            "sample_size", "an integer >= 2, a schedule, a function i -> M_i, or a SymPy expression", sample_size
        )
    if symbol is None or not expr.has(symbol):
        if not expr.free_symbols:
            _check_expression(expr, None)
        return BoundedDrift(False, sp.oo, expr, symbol, "M_i does not depend on i: constant M, linear drift")
    _check_expression(expr, symbol)
    series = sp.Sum(1 / expr, (symbol, 0, sp.oo))
    try:
        verdict = series.is_convergent()
    except (NotImplementedError, TypeError, ValueError) as error:
        return BoundedDrift(None, None, expr, symbol, f"SymPy could not decide the convergence of {series}: {error}")
    if verdict not in (sp.true, sp.false, True, False):
        return BoundedDrift(None, None, expr, symbol, f"SymPy could not decide the convergence of {series}")
    converges = bool(verdict)
    limit = sp.oo if not converges else _closed_form(series)
    reason = (
        f"SymPy: {series} converges (M_i grows superlinearly: bounded drift)"
        if converges
        else f"SymPy: {series} diverges (M_i grows at most linearly: unbounded drift)"
    )
    return BoundedDrift(converges, limit, expr, symbol, reason)


def _closed_form(series: sp.Sum) -> sp.Expr | None:
    try:
        value = sp.simplify(series.doit())
    except Exception:  # noqa: BLE001 - SymPy raises many kinds; a missing closed form is not an error
        return None
    if value.has(sp.Sum) or not value.is_number or not value.is_finite:
        return None
    return value
