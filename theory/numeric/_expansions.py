"""Leading-order expansions (derived in :mod:`theory.symbolic._expansions`) and the published claims, as numbers,
and where in ``n/M`` an expansion stops being accurate.

Published claims about the 1-D Gaussian chain with ``A = 1`` (../shared/REFERENCES.md, "Expansions"):

* Nature supplementary information: ``E W2^2 = (3/2) sigma^2 Sum_{i<n} 1/M_i + O(2)``;
* arXiv:2305.17493 v2: ``E W2^2 = sigma^2 (1/M_0 + ... + 1/M_{n-1} + 3/(2 M_n))`` and
  ``Var W2^2 = sigma^4 (2/M_0^2 + ... + 2/M_{n-1}^2 + 3/M_n^2 + Sum_{i != j} 3/(M_i M_j))``, the double sum taken
  over ordered pairs of ``0..n`` (the text does not say; unordered pairs would halve it, and both are far from
  exact). Both need ``M_n``: for a schedule, ``n + 1`` sample sizes.
"""

from __future__ import annotations

import numpy as np

from .._errors import ParameterError
from ..chain import GaussianChain, check_chain, check_generations
from ..symbolic._expansions import coefficients
from ._exact import exact_values
from ._schedules import partial_sums


def _check_unit_scale(chain: GaussianChain) -> None:
    check_chain(chain)
    if chain.is_symbolic or float(chain.variance_scale) != 1.0:
        raise ParameterError(
            "variance_scale", "1 for leading-order expansions in 1/M (with A != 1 the drift is O(1))",
            chain.variance_scale,
        )


def _sums(chain: GaussianChain, gens: list[int]):
    """``S_1(n), S_2(n)`` at each ``n`` in ``gens``, run by run (O(#runs of equal M) memory, never O(n))."""
    return partial_sums(chain.sample_size_runs(max(gens), max_seconds=600.0), gens)


def _size_at(chain: GaussianChain, gens: list[int]) -> np.ndarray:
    """``M_n`` at each ``n`` in ``gens`` as float64 (``inf`` beyond float64)."""
    out = []
    for g in gens:
        try:
            out.append(float(chain.sample_size_at(g)))
        except OverflowError:
            out.append(np.inf)
    return np.array(out)


def leading_order(chain: GaussianChain, generations) -> dict:
    """The toolkit's own leading-order expansions of ``E W2^2`` and ``Var W2^2`` (``A = 1``):

    ``E W2^2 ~ a sigma^2 S_1`` and ``Var W2^2 ~ sigma^4 (b S_2 + c (S_1^2 - S_2)/2)`` with
    ``S_1 = Sum_{i<n} 1/M_i``, ``S_2 = Sum_{i<n} 1/M_i^2`` and ``(a, b, c)`` derived symbolically
    (``3/2, 5/2, 5`` for both learners, i.e. ``Var W2^2 ~ (5/2) sigma^4 S_1^2``).

    >>> from theory import GaussianChain
    >>> leading_order(GaussianChain(1000), [10])["w2_sq_mean"]
    array([0.015])
    """
    _check_unit_scale(chain)
    gens = check_generations(generations)
    s1, s2 = _sums(chain, gens)
    coef = coefficients(chain.learner)
    a = float(coef["w2_sq_mean"])
    b, c = (float(x) for x in coef["w2_sq_var"])
    sigma = np.float64(chain.sigma)
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf (S_1^2 - S_2 beyond float64) is nan
        return {
            "generations": gens,
            "w2_sq_mean": a * sigma**2 * s1,
            "w2_sq_var": sigma**4 * (b * s2 + c * (s1**2 - s2) / 2),
        }


def published_expansions(chain: GaussianChain, generations) -> dict:
    """The published leading-order formulas, evaluated literally (see the module docstring).

    Keys: ``w2_sq_mean_supplementary``, ``w2_sq_mean_arxiv_v2``, ``w2_sq_var_arxiv_v2``.

    >>> from theory import GaussianChain
    >>> v = published_expansions(GaussianChain(100), [1])
    >>> float(v["w2_sq_mean_supplementary"][0]), float(v["w2_sq_mean_arxiv_v2"][0])
    (0.015, 0.025)
    """
    _check_unit_scale(chain)
    gens = check_generations(generations)
    s1, s2 = _sums(chain, gens)
    m_n = _size_at(chain, gens)  # needs M_n: for a schedule, n + 1 sizes
    sigma = np.float64(chain.sigma)
    with np.errstate(over="ignore", invalid="ignore"):
        s1_through_n, s2_through_n = s1 + 1 / m_n, s2 + 1 / m_n**2
        ordered_pairs = s1_through_n**2 - s2_through_n
        return {
            "generations": gens,
            "w2_sq_mean_supplementary": 1.5 * sigma**2 * s1,
            "w2_sq_mean_arxiv_v2": sigma**2 * (s1 + 1.5 / m_n),
            "w2_sq_var_arxiv_v2": sigma**4 * (2 * s2 + 3 / m_n**2 + 3 * ordered_pairs),
        }


def expansion_error(chain: GaussianChain, generations) -> dict:
    """Relative error ``expansion/exact - 1`` of every expansion (ours and the published ones)."""
    check_chain(chain)
    gens = check_generations(generations)
    if min(gens) < 1:
        raise ParameterError("generations", "integers >= 1 (at n = 0 both sides are 0)", generations)
    exact = exact_values(chain, gens)
    ours = leading_order(chain, gens)
    published = published_expansions(chain, gens)
    return {
        "generations": gens,
        "w2_sq_mean_leading_order": ours["w2_sq_mean"] / exact["w2_sq_mean"] - 1,
        "w2_sq_var_leading_order": ours["w2_sq_var"] / exact["w2_sq_var"] - 1,
        "w2_sq_mean_supplementary": published["w2_sq_mean_supplementary"] / exact["w2_sq_mean"] - 1,
        "w2_sq_mean_arxiv_v2": published["w2_sq_mean_arxiv_v2"] / exact["w2_sq_mean"] - 1,
        "w2_sq_var_arxiv_v2": published["w2_sq_var_arxiv_v2"] / exact["w2_sq_var"] - 1,
    }


def _grid(max_generations: int) -> np.ndarray:
    """Every ``n`` up to 200, then a geometric grid with ratio 1.01 up to ``max_generations``."""
    dense = np.arange(1, min(200, max_generations) + 1)
    if max_generations <= 200:
        return dense
    geometric = np.unique(np.round(np.geomspace(200, max_generations, int(np.log(max_generations / 200) / 0.00995) + 2)))
    return np.unique(np.concatenate([dense, geometric.astype(np.int64)]))


def accuracy_limit(chain: GaussianChain, expansion: str, *, tolerance: float = 0.01, max_generations: int = 10**6):
    """How far in ``n`` an expansion stays within ``tolerance`` (relative) of the exact value.

    Returns ``(n, n / M_0)``: the largest ``n`` such that the expansion is within ``tolerance`` at every
    generation ``1..n`` (every ``n`` up to 200 is checked, then a geometric grid of ratio 1.01, with bisection
    between the last good and the first bad grid point); ``(0, 0.0)`` when it is off already at ``n = 1``, and
    ``max_generations`` when it never fails. ``expansion`` is a key of :func:`expansion_error`, e.g.
    ``"w2_sq_mean_leading_order"``.

    >>> accuracy_limit(GaussianChain(1000), "w2_sq_mean_leading_order")
    (250, 0.25)
    """
    check_chain(chain)
    if not 0 < tolerance < 1:
        raise ParameterError("tolerance", "a number in (0, 1)", tolerance)
    keys = [k for k in expansion_error(chain, [1]) if k != "generations"]
    if expansion not in keys:
        raise ParameterError("expansion", f"one of {keys}", expansion)
    grid = _grid(int(max_generations))
    errors = np.abs(expansion_error(chain, grid.tolist())[expansion])
    bad = np.flatnonzero(~(errors <= tolerance))
    m0 = float(chain.sample_size_at(0))
    if bad.size == 0:
        return int(grid[-1]), int(grid[-1]) / m0
    if bad[0] == 0:
        return 0, 0.0
    lo, hi = int(grid[bad[0] - 1]), int(grid[bad[0]])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if abs(float(expansion_error(chain, [mid])[expansion][0])) <= tolerance:
            lo = mid
        else:
            hi = mid
    return lo, lo / m0


__all__ = ["leading_order", "published_expansions", "expansion_error", "accuracy_limit"]
