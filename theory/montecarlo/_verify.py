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

Workflows. The grid has a ``workflows`` axis (``replace``, ``mix:0.5``, ``mix-fixed:0.5``, ``accumulate``,
``accumulate-subsample:M``; ``:M`` in a grid spelling stands for the cell's ``M``, so ``K = M``). ``replace`` runs
on every ``(M, learner, A)`` of the grid; the others on ``workflow_sample_sizes`` (default: the grid's sample
sizes). A quantity with no exact value under a workflow (``exact_values`` gives ``None`` with a note) is a row
that is not z-tested, with the reason; where the exact side gives exact ``bounds`` the row tests that the MC
mean lies within them: ``z`` is the distance outside ``[lower, upper]`` in standard errors (``0`` inside), and
it counts in the Bonferroni family like any other cell. The heavy-tail rule uses the replace chain's kurtosis
at the same ``M``, learner and ``A`` for every workflow: real points and pooling only add mass that does not go
through the multiplicative chi-square noise of the chain, so this rule skips at least the cells it would skip
under replace (a heuristic bound, not a proof; the passes of the grid are the evidence).
``accumulate-subsample`` runs only in ``samples`` mode (no sufficient statistics describe a subsample of the
pool), with its chains cut to the samples budget (at least ``MIN_SUBSAMPLE_CHAINS``, else the cell is not run)
because every chain keeps its whole pool (see :func:`_cost`), on ``subsample_sample_sizes`` (default
``workflow_sample_sizes``; ``M = 4`` only in the quick grid, which keeps it under two minutes).
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
from ..chain import GaussianChain, Workflow
from ..quantities import SIGMA_POWER
from ._simulate import simulate
from ._summary import QUANTITIES

#: Family-wise false-failure budget of a verify run.
DEFAULT_BUDGET = 1e-3
#: Fewest chains with which any cell can be z-tested: the log-variance mean (kurtosis 1) needs chains/100 >= 1.
MIN_CHAINS = 100

# power p of sigma_n that the per-chain value of each quantity scales like (shared with the exact theory)
_POWER = SIGMA_POWER

#: The workflows of the grids (``:M`` is the cell's ``M``: accumulate-subsample with ``K = M``).
WORKFLOWS = ("replace", "mix:0.5", "mix-fixed:0.5", "accumulate", "accumulate-subsample:M")
QUICK_GRID = dict(sample_sizes=(2, 3, 5, 100, 10_000), generations=(1, 4, 16), variance_scales=(1.0, 1.2),
                  workflows=WORKFLOWS, workflow_sample_sizes=(4, 100), subsample_sample_sizes=(4,))
FULL_GRID = dict(
    sample_sizes=(2, 3, 5, 10, 100, 1000, 100_000), generations=(1, 2, 5, 20, 100), variance_scales=(1.0, 1.2),
    workflows=WORKFLOWS, workflow_sample_sizes=(2, 5, 100, 1000),
)
#: Fewest chains an accumulate-subsample cell runs with when the samples budget would allow fewer (else skipped).
MIN_SUBSAMPLE_CHAINS = 2_000


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
        head = f"{'workflow':22s} {'mode':10s} {'M':>7s} {'learner':8s} {'A':>4s} {'n':>4s} {'quantity':18s} {'exact':>12s} {'MC mean':>12s} {'SE':>10s} {'z':>7s}  note"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            z = f"{r['z']:7.2f}" if r["z"] is not None and math.isfinite(r["z"]) else f"{'-':>7s}"
            flag = r["note"] if r["tested"] else f"not z-tested: {r['note']}"
            if r["tested"] and abs(r["z"]) > self.bound:
                flag = "FAIL " + flag
            exact = f"{r['exact']:12.5g}" if r["exact"] is not None else f"{'-':>12s}"
            lines.append(
                f"{r['workflow']:22s} {r['mode']:10s} {r['sample_size']:7d} {r['learner']:8s} {r['variance_scale']:4.2g} {r['generation']:4d} "
                f"{r['quantity']:18s} {exact} {r['mc_mean']:12.5g} {r['se']:10.3g} {z}  {flag}"
            )
        lines.append("")
        lines.append(
            f"{self.tested} of {len(self.rows)} cells z-tested with {self.chains} chains; bound |z| <= {self.bound:.2f} "
            f"from a family-wise false-failure budget of {self.budget:g} (Bonferroni over tested cells); "
            f"{len(self.failures)} failure(s); workflows {', '.join(dict.fromkeys(r['workflow'] for r in self.rows))}; {'PASS' if self.passed else 'FAIL'} in {self.seconds:.1f} s"
            + ("" if self.tested else " (nothing was z-tested: use more chains or other cells)")
        )
        return "\n".join(lines)


def _cell_workflow(spelling: str, m: int) -> Workflow:
    """The workflow of a grid spelling at sample size ``m`` (``accumulate-subsample:M`` -> ``K = m``)."""
    if isinstance(spelling, Workflow):
        return spelling
    if spelling.endswith(":M"):
        spelling = f"{spelling[:-2]}:{m}"
    return Workflow.parse(spelling)


def _cost(workflow: Workflow, m: int, n: int) -> float:
    """Work per chain of a samples-mode run to ``n`` generations, in random numbers (for accumulate-subsample, the
    pool entries each chain keeps, ``N = M n(n + 1)/2`` summed over the steps; measured after the engine's Floyd
    sampling: 1.2 s for 2e5 chains at ``M = K = 4``, 3.4 s for 14705 at ``M = K = 100``, ``n = 16``)."""
    if workflow.kind == "accumulate-subsample":
        return m * n * (n + 1) / 2
    return m * n


def _bounds_z(mc: float, se: float, lower: float, upper: float) -> float:
    """Distance of ``mc`` outside ``[lower, upper]`` in standard errors (signed; ``0`` inside)."""
    if mc > upper:
        return (mc - upper) / se if se > 0 else math.inf
    if mc < lower:
        return (mc - lower) / se if se > 0 else -math.inf
    return 0.0


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
    """Compare :func:`theory.exact_values` with :func:`simulate` over a grid of ``(workflow, M, n, learner, A)``.

    ``grid`` (default :data:`QUICK_GRID` or :data:`FULL_GRID`) has ``sample_sizes``, ``generations`` (``>= 1``),
    ``variance_scales``, optionally ``learners`` (default both), ``workflows`` (spellings or
    :class:`~theory.chain.Workflow` objects; default ``("replace",)``) and ``workflow_sample_sizes`` (the ``M``
    for the workflows other than replace; default ``sample_sizes``; ``subsample_sample_sizes`` for
    accumulate-subsample, default ``workflow_sample_sizes``). ``chains`` must be at least
    :data:`MIN_CHAINS`: with fewer, no cell's standard error is reliable enough to z-test. ``samples`` mode runs
    only where ``chains`` times the random numbers per chain is at most ``samples_budget`` (default ``2e8``
    quick, ``2e9`` full); ``sufficient`` mode runs everywhere except accumulate-subsample (samples only, its
    chains cut to the budget). A report that tested no cell does not pass.
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
    other_sizes = [check_integer("sample_size", m, minimum=2)
                   for m in grid.get("workflow_sample_sizes", grid["sample_sizes"])]
    scales = [check_positive("variance_scale", a) for a in grid["variance_scales"]]
    if not list(grid["generations"]) or min(grid["generations"]) < 1:
        raise ParameterError("generations", "integers >= 1 (generation 0 is deterministic: nothing to test)",
                             list(grid["generations"]))
    workflows = list(grid.get("workflows", ("replace",)))
    for spelling in workflows:  # a bad spelling is refused before anything runs
        _cell_workflow(spelling, 2)
    samples_budget = samples_budget or (2e8 if quick else 2e9)
    generations = list(grid["generations"])
    n_max = max(generations)
    start = time.perf_counter()
    rows = []
    runs = 0
    subsample_sizes = [check_integer("sample_size", m, minimum=2)
                       for m in grid.get("subsample_sample_sizes", other_sizes)]
    for spelling in workflows:
        replace = str(spelling) == "replace"
        pooled_subsample = str(spelling).startswith("accumulate-subsample")
        for m in (sample_sizes if replace else subsample_sizes if pooled_subsample else other_sizes):
            workflow = _cell_workflow(spelling, m)
            for learner in learners:
                for scale in scales:
                    chain = GaussianChain(m, learner=learner, variance_scale=scale, workflow=workflow)
                    with np.errstate(all="ignore"):
                        exact = exact_values(chain, generations)
                    notes = exact.get("notes") or {}
                    bounds = exact.get("bounds") or {}
                    for mode in modes:
                        cell_chains = chains
                        if workflow.kind == "accumulate-subsample":
                            if mode != "samples":
                                continue
                            cell_chains = min(chains, int(samples_budget / _cost(workflow, m, n_max)))
                            if cell_chains < MIN_SUBSAMPLE_CHAINS:
                                continue
                        elif mode == "samples" and chains * _cost(workflow, m, n_max) > samples_budget:
                            continue
                        cell_key = jax.random.fold_in(key, runs)
                        runs += 1
                        result = simulate(cell_key, chain, chains=cell_chains, generations=generations, mode=mode,
                                          device=device, progress=progress)
                        for j, n in enumerate(generations):
                            for q in QUANTITIES:
                                if q not in exact:
                                    continue
                                rows.append(_row(q, j, n, exact, notes, bounds, result, cell_chains, workflow, mode,
                                                 m, learner, scale))
    tested = max(1, sum(r["tested"] for r in rows))
    bound = float(norm.isf(budget / (2 * tested)))
    return VerifyReport(rows=rows, budget=budget, bound=bound, chains=chains, seconds=time.perf_counter() - start)


def _row(q, j, n, exact, notes, bounds, result, chains, workflow, mode, m, learner, scale) -> dict:
    mc = float(result[q][j])
    se = float(result[q + "_se"][j])
    log_kappa = log_kurtosis(_POWER[q], m, learner, scale, n)
    heavy = log_kappa > math.log(chains / 100)
    row = dict(workflow=str(workflow), mode=mode, sample_size=m, learner=learner, variance_scale=scale,
               generation=n, quantity=q, chains=chains, exact=None, lower=None, upper=None, mc_mean=mc, se=se,
               z=None, tested=False, note="")
    if exact[q] is None:
        if q in bounds:
            lower, upper = (float(np.asarray(b)[j]) for b in bounds[q])
            row.update(lower=lower, upper=upper, z=_bounds_z(mc, se, lower, upper),
                       note=f"no exact value: z = distance outside the exact bounds [{lower:.5g}, {upper:.5g}]")
            if heavy:
                row["note"] = f"no exact value, bounds [{lower:.5g}, {upper:.5g}]; heavy tail, kurtosis ~ " \
                              f"e^{log_kappa:.0f} > chains/100"
            else:
                row["tested"] = True
        else:
            note = str(notes.get(q, f"none under workflow {workflow}"))
            row["note"] = note if note.startswith("no exact value") else "no exact value: " + note
        return row
    e = float(np.asarray(exact[q])[j])
    z = (mc - e) / se if se > 0 else (0.0 if mc == e else math.inf)
    row.update(exact=e, z=z, tested=True)
    if se == 0 and mc == e:
        row.update(tested=False, note="deterministic")
    elif heavy:
        row.update(tested=False, note=f"heavy tail, kurtosis ~ e^{log_kappa:.0f} > chains/100")
    return row
