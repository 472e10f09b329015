"""Theory against simulation: every closed form of :func:`theory.exact_values` against Monte Carlo on a grid.

For each grid cell (sample size ``M``, learner, variance scale ``A``, generation ``n``, quantity, mode) the
report has the exact value, the MC mean, its standard error and ``z = (MC - exact) / SE``. The run fails when
any tested ``|z|`` exceeds a bound from a family-wise false-failure budget ``alpha`` (default ``1e-3``),
Bonferroni over the tested cells: ``bound = Phi^{-1}(1 - alpha / (2 N))`` for ``N`` tested cells.

Which cells are z-tested. A z-test needs a trustworthy standard error, i.e. a well-estimated second moment of
the per-chain value ``Y``. When ``Y`` scales like ``sigma_n**p`` its relative kurtosis is
``kappa = E sigma_n**(4p) / (E sigma_n**(2p))**2 = prod_i r_{4p}(M_i) / r_{2p}(M_i)**2`` with
``r_q(M) = E (A chi2_{M-1} / d)**(q/2)`` (chi-square moments, exact), and the SE is estimated to about
``sqrt(kappa / K)`` relative error with ``K`` chains. Cells with ``kappa > K / 100`` are reported but not
z-tested, with the reason in the table: that happens for the fourth-moment quantities (``variance_var``,
``w2_sq_var``, ``p = 4``) at small ``M`` and for ``sigma_n**2`` means at small ``M`` and large ``n``. The
log-variance mean (``p = 0``) is always tested: ``log sigma_n**2`` is a sum of light-tailed terms.
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import numpy as np
from scipy.special import gammaln
from scipy.stats import norm

from .._errors import ParameterError, check_integer, check_positive
from ..chain import GaussianChain
from ..quantities import SIGMA_POWER
from ._simulate import simulate
from ._summary import QUANTITIES

#: Family-wise false-failure budget of a verify run.
DEFAULT_BUDGET = 1e-3
#: Fewest chains with which any cell can be z-tested: the log-variance mean (kurtosis 1) needs chains/100 >= 1.
MIN_CHAINS = 100

# power p of sigma_n that the per-chain value of each quantity scales like (shared with the exact theory)
_POWER = SIGMA_POWER

QUICK_GRID = dict(sample_sizes=(2, 3, 5, 100, 10_000), generations=(1, 4, 16), variance_scales=(1.0, 1.2))
FULL_GRID = dict(
    sample_sizes=(2, 3, 5, 10, 100, 1000, 100_000), generations=(1, 2, 5, 20, 100), variance_scales=(1.0, 1.2)
)


def _log_r(q: float, m: int, learner: str, scale: float) -> float:
    """``log E (A chi2_{M-1} / d)**(q/2)``."""
    k = m - 1
    d = k if learner == "unbiased" else m
    h = q / 2
    return h * math.log(scale) + h * math.log(2 / d) + gammaln(k / 2 + h) - gammaln(k / 2)


def log_kurtosis(power: int, m: int, learner: str, scale: float, n: int) -> float:
    """``log kappa`` of a per-chain value scaling like ``sigma_n**power`` (constant ``M``, ``n`` generations)."""
    if power == 0:
        return 0.0
    return n * (_log_r(4 * power, m, learner, scale) - 2 * _log_r(2 * power, m, learner, scale))


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """Rows of the comparison and the verdict."""

    rows: list
    budget: float
    bound: float
    chains: int
    seconds: float

    @property
    def tested(self) -> int:
        return sum(r["tested"] for r in self.rows)

    @property
    def failures(self) -> list:
        return [r for r in self.rows if r["tested"] and not abs(r["z"]) <= self.bound]

    @property
    def passed(self) -> bool:
        """No tested cell failed, and at least one cell was tested (a run that tests nothing does not pass)."""
        return self.tested > 0 and not self.failures

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {
            "passed": self.passed,
            "budget": self.budget,
            "bound": self.bound,
            "chains": self.chains,
            "tested": self.tested,
            "cells": len(self.rows),
            "failures": len(self.failures),
            "seconds": round(self.seconds, 2),
            "rows": [{k: clean(v) for k, v in r.items()} for r in self.rows],
        }

    def format_table(self) -> str:
        head = f"{'mode':10s} {'M':>7s} {'learner':8s} {'A':>4s} {'n':>4s} {'quantity':18s} {'exact':>12s} {'MC mean':>12s} {'SE':>10s} {'z':>7s}  note"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            z = f"{r['z']:7.2f}" if math.isfinite(r["z"]) else f"{'-':>7s}"
            flag = "" if r["tested"] else f"not z-tested: {r['note']}"
            if r["tested"] and abs(r["z"]) > self.bound:
                flag = "FAIL"
            lines.append(
                f"{r['mode']:10s} {r['sample_size']:7d} {r['learner']:8s} {r['variance_scale']:4.2g} {r['generation']:4d} "
                f"{r['quantity']:18s} {r['exact']:12.5g} {r['mc_mean']:12.5g} {r['se']:10.3g} {z}  {flag}"
            )
        lines.append("")
        lines.append(
            f"{self.tested} of {len(self.rows)} cells z-tested with {self.chains} chains; bound |z| <= {self.bound:.2f} "
            f"from a family-wise false-failure budget of {self.budget:g} (Bonferroni over tested cells); "
            f"{len(self.failures)} failure(s); {'PASS' if self.passed else 'FAIL'} in {self.seconds:.1f} s"
            + ("" if self.tested else " (nothing was z-tested: use more chains or other cells)")
        )
        return "\n".join(lines)


def verify(
    key,
    *,
    chains: int | None = None,
    quick: bool = False,
    budget: float = DEFAULT_BUDGET,
    device: str | None = None,
    modes=("sufficient", "samples"),
    samples_budget: float | None = None,
    progress: bool = False,
    grid: dict | None = None,
) -> VerifyReport:
    """Compare :func:`theory.exact_values` with :func:`simulate` over a grid of ``(M, n, learner, A)``.

    ``grid`` (default :data:`QUICK_GRID` or :data:`FULL_GRID`) has ``sample_sizes``, ``generations`` (``>= 1``),
    ``variance_scales`` and optionally ``learners`` (default both). ``chains`` must be at least
    :data:`MIN_CHAINS`: with fewer, no cell's standard error is reliable enough to z-test. ``samples`` mode runs
    only where ``chains * M * n_max`` is at most ``samples_budget`` random numbers (default ``2e8`` quick,
    ``2e9`` full); ``sufficient`` mode runs everywhere. A report that tested no cell does not pass.
    """
    from ..numeric import exact_values

    grid = dict(grid or (QUICK_GRID if quick else FULL_GRID))
    chains = chains or (200_000 if quick else 1_000_000)
    if check_integer("chains", chains, minimum=2) < MIN_CHAINS:
        raise ParameterError("chains", f"an integer >= {MIN_CHAINS} (with fewer, no cell can be z-tested: a standard "
                             "error is trusted only where the kurtosis of the per-chain value is <= chains/100)",
                             chains)
    if not (isinstance(budget, (int, float)) and 0 < budget < 1):
        raise ParameterError("budget", "a probability in (0, 1)", budget)
    learners = tuple(grid.get("learners", ("unbiased", "mle")))
    for learner in learners:
        if learner not in ("unbiased", "mle"):
            raise ParameterError("learner", "'unbiased' or 'mle'", learner)
    sample_sizes = [check_integer("sample_size", m, minimum=2) for m in grid["sample_sizes"]]
    scales = [check_positive("variance_scale", a) for a in grid["variance_scales"]]
    if not list(grid["generations"]) or min(grid["generations"]) < 1:
        raise ParameterError("generations", "integers >= 1 (generation 0 is deterministic: nothing to test)",
                             list(grid["generations"]))
    samples_budget = samples_budget or (2e8 if quick else 2e9)
    generations = list(grid["generations"])
    start = time.perf_counter()
    rows = []
    for m in sample_sizes:
        for learner in learners:
            for scale in scales:
                chain = GaussianChain(m, learner=learner, variance_scale=scale)
                exact = exact_values(chain, generations)
                for mode in modes:
                    if mode == "samples" and chains * m * max(generations) > samples_budget:
                        continue
                    cell_key = jax.random.fold_in(key, len(rows))
                    result = simulate(
                        cell_key, chain, chains=chains, generations=generations, mode=mode, device=device, progress=progress
                    )
                    for j, n in enumerate(generations):
                        for q in QUANTITIES:
                            if q not in exact:
                                continue
                            e = float(np.asarray(exact[q])[j])
                            mc = float(result[q][j])
                            se = float(result[q + "_se"][j])
                            z = (mc - e) / se if se > 0 else (0.0 if mc == e else math.inf)
                            log_kappa = log_kurtosis(_POWER[q], m, learner, scale, n)
                            tested, note = True, ""
                            if se == 0 and mc == e:
                                tested, note = False, "deterministic"
                            elif log_kappa > math.log(chains / 100):
                                tested = False
                                note = f"heavy tail, kurtosis ~ e^{log_kappa:.0f} > chains/100"
                            rows.append(
                                dict(
                                    mode=mode,
                                    sample_size=m,
                                    learner=learner,
                                    variance_scale=scale,
                                    generation=n,
                                    quantity=q,
                                    exact=e,
                                    mc_mean=mc,
                                    se=se,
                                    z=z,
                                    tested=tested,
                                    note=note,
                                )
                            )
    tested = max(1, sum(r["tested"] for r in rows))
    bound = float(norm.isf(budget / (2 * tested)))
    return VerifyReport(rows=rows, budget=budget, bound=bound, chains=chains, seconds=time.perf_counter() - start)
