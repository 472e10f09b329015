r"""``verify_discrete``: the discrete chain's exact results against Monte Carlo of literal multinomial resampling.

For each setup (a source, ``M`` and a workflow) the exact side is :func:`theory.numeric.discrete_exact_values`
(whole-distribution quantities) and :func:`theory.numeric.category_exact` (per group of equal source
probabilities: ``E p_{n,k}``, ``E p_{n,k}(1 - p_{n,k})``, ``P(lost)``, ``P(fixed)``), and the Monte Carlo side is
:func:`theory.montecarlo.simulate_discrete` (chains of the process itself, through the exact multinomial sampler).
Every cell whose exact value is not ``None`` is a row ``{setup, quantity, generation, exact, mc, se, z, passed}``
with ``z = (mc - exact) / se``.

The standard error: the Monte Carlo one, ``sqrt(s^2 / chains)``, except for probabilities (``lost``, ``fixed``,
``collapse_probability``) of a rare event, where the sample ``s^2`` of a handful of events is unreliable: there
``se = max(se_MC, sqrt(q (1 - q) / (chains m)))`` with ``q`` the exact probability and ``m`` the group's
multiplicity (1 for ``collapse_probability``); ``sqrt(q(1 - q)/chains)`` is the exact standard error of the mean
of one indicator, so the floor is exact for the singleton groups of these setups, and larger standard errors can
only lower ``|z|``. Where the exact value carries a proved truncation bracket (``bounds``), ``z`` is measured from
the nearer end of the bracket (0 inside it). A cell with ``se = 0`` (generation 0, or all chains equal and the
probability floor 0) passes when ``|mc - exact| <= 1e-9 (1 + |exact|)`` and fails otherwise (``z = +-inf``).

The false-failure budget: every row is a test at level ``budget / rows`` (Bonferroni), i.e. ``|z| <=
Phi^{-1}(1 - budget / (2 rows))`` (about 5.1 for ``budget = 1e-3`` and 2000 rows), so that a correct engine and
correct exact values fail any row with probability at most about ``budget`` (the z-scores are asymptotically
normal; each chain is independent). Setups: ``zipf:1:50`` at ``M = 20`` and ``words:en:200`` at ``M = 50``, each
under ``replace``, ``mix:0.2``, ``mix-fixed:0.2`` and ``accumulate``; ``quick`` uses generations 1, 3, 10 and 2000
chains (about 20 s on the 2-core development machine, compilation included), the full run 1, 2, 5, 10, 20, 50 and
20000 chains (about 2 minutes; 14424 rows, threshold 5.39). Measured z tails: per-category means of a rare category
are mostly 0 per chain, so their z is skewed at these sizes (seed 0's full run: largest |z| 4.98, on one word's
mean and heterozygosity at n = 10 under mix; seeds 1 and 2 gave 1.1 and 1.3 there).
"""

from __future__ import annotations

import math

import numpy as np

from .._errors import ParameterError, check_integer
from ..quantities import DISCRETE_QUANTITIES

__all__ = ["DISCRETE_SETUPS", "verify_discrete"]

#: ``(source, M, workflow)`` of every setup.
DISCRETE_SETUPS: tuple[tuple[str, int, str], ...] = tuple(
    (source, m, workflow)
    for source, m in (("zipf:1:50", 20), ("words:en:200", 50))
    for workflow in ("replace", "mix:0.2", "mix-fixed:0.2", "accumulate")
)

_PROBABILITY_ROWS = {"lost", "fixed", "collapse_probability"}


def _bonferroni_z(budget: float, rows: int) -> float:
    from scipy.stats import norm

    return float(norm.isf(budget / (2 * max(rows, 1))))


def _row(setup, quantity, generation, exact, mc, se_mc, chains, multiplicity=1, bracket=None):
    se = float(se_mc)
    if quantity.split("[")[0] in _PROBABILITY_ROWS:
        q = min(max(float(exact), 0.0), 1.0)
        se = max(se, math.sqrt(q * (1 - q) / (chains * multiplicity)))
    target = float(exact)
    if bracket is not None:
        lo, hi = float(bracket[0]), float(bracket[1])
        target = min(max(float(mc), lo), hi)
    diff = float(mc) - target
    if se > 0:
        z = diff / se
    elif abs(diff) <= 1e-9 * (1 + abs(target)):
        z = 0.0
    else:
        z = math.copysign(math.inf, diff)
    return {"setup": setup, "quantity": quantity, "generation": int(generation), "exact": float(exact),
            "mc": float(mc), "se": se, "z": z}


def verify_discrete(*, quick: bool = True, chains: int | None = None, seed: int = 0, budget: float = 1e-3,
                    setups=None, sampler: str = "auto") -> list[dict]:
    """Rows comparing the exact discrete-chain results with Monte Carlo (module doc), ``passed`` set with the
    Bonferroni threshold for the false-failure ``budget`` over all rows.

    ``chains`` defaults to 2000 (``quick``) or 20000; ``setups`` (a list of ``(source, M, workflow)``) defaults to
    :data:`DISCRETE_SETUPS`; ``sampler`` is passed to :func:`simulate_discrete` (``"auto"`` draws these small
    ``M`` by exponential spacings; ``"tree"`` checks the conditional-binomial tree instead).
    """
    from ..chain import DiscreteChain
    from ..numeric import category_exact, discrete_exact_values
    from ._discrete import simulate_discrete

    if not isinstance(quick, bool):
        raise ParameterError("quick", "True or False", quick)
    chains = check_integer("chains", chains if chains is not None else (2000 if quick else 20000), minimum=2)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < 1:
        raise ParameterError("budget", "a number in (0, 1)", budget)
    generations = [1, 3, 10] if quick else [1, 2, 5, 10, 20, 50]
    rows: list[dict] = []
    for source, m, workflow in (setups if setups is not None else DISCRETE_SETUPS):
        chain = DiscreteChain(source, m, workflow=workflow)
        name = f"{source}, M = {m}, {workflow}"
        exact = discrete_exact_values(chain, generations)
        per = category_exact(chain, generations)
        sim = simulate_discrete(chain, generations, chains=chains, seed=seed, sampler=sampler)
        for key in DISCRETE_QUANTITIES:
            if exact[key] is None:
                continue
            bounds = exact["bounds"].get(key)
            for i, g in enumerate(generations):
                bracket = None if bounds is None else (bounds[0][i], bounds[1][i])
                rows.append(_row(name, key, g, exact[key][i], sim.mean[key][i], sim.se[key][i], chains,
                                 bracket=bracket))
        if not np.array_equal(per.probabilities, sim.group_probabilities):
            raise AssertionError("groups of the exact and Monte Carlo sides differ")  # pragma: no cover
        for stat in ("mean", "heterozygosity", "lost", "fixed"):
            values = getattr(per, stat)
            if values is None:
                continue
            for j, (p, mult) in enumerate(zip(per.probabilities, per.multiplicities)):
                for i, g in enumerate(generations):
                    rows.append(_row(name, f"{stat}[p0={p:.6g}]", g, values[j, i], sim.group_mean[stat][j, i],
                                     sim.group_se[stat][j, i], chains, multiplicity=int(mult)))
    threshold = _bonferroni_z(budget, len(rows))
    for row in rows:
        row["passed"] = bool(abs(row["z"]) <= threshold)
        row["threshold"] = threshold
    return rows
