r"""``verify_multivariate``: the multivariate chain's exact moments against Monte Carlo, as z-test rows.

For each cell of a grid (dimension ``d``, covariance ``Sigma``, sample size ``M``, learner, multiplier ``A``,
workflow, mode) the exact side is :func:`theory.numeric.multivariate_exact_values` and the Monte Carlo side is
:func:`theory.montecarlo.simulate_multivariate` (``sufficient``: the sample mean's normal law and the Bartlett
Wishart; ``samples``: the ``M`` points in ``R^d`` themselves). Every quantity of
:data:`theory.numeric.MULTIVARIATE_QUANTITIES` at every generation is a row
``{dimension, sample_size, learner, variance_scale, workflow, mode, quantity, generation, exact, lower, upper,
mc_mean, se, z, tested, note, passed, threshold}``:

* a quantity with an exact value: ``z = (mc - exact) / se``;
* a quantity with no exact value but exact bounds (``w2_sq_mean``: Bures-Wasserstein ``E W2^2`` is Monte Carlo
  only, :func:`theory.numeric.w2_sq_bounds`): ``z`` is the distance of the Monte Carlo mean outside
  ``[lower, upper]`` in standard errors (``0`` inside);
* a quantity with neither (a workflow without an exact route): a row that is not z-tested, with the exact side's
  note.

**The budget.** Each tested row is a test at level ``budget / N`` (Bonferroni over the ``N`` tested rows):
``|z| <= Phi^{-1}(1 - budget / (2 N))``, so that a correct engine and correct exact values fail the run with
probability at most about ``budget`` (z-scores asymptotically normal, chains independent). A run that tests no
row does not pass.

**Which rows are z-tested.** A z-test needs a trustworthy standard error, i.e. a well-estimated second moment of
the per-chain value ``Y``; as in :mod:`._verify`, a row is z-tested only where the relative kurtosis
``kappa = E Y^4 / (E Y^2)^2`` is at most ``chains / 100`` (the standard error is then estimated to about 10 %).
Under ``replace`` ``kappa`` is bounded, not guessed: with ``s_n`` the 1-D chain's ``sigma_n^2/sigma^2`` (each
diagonal entry of ``Sigma_n`` is ``Sigma_jj s_n`` in law: the marginal chains), ``R_q(n) = E s_n^{q/2}``
(chi-square moments, :func:`._verify._log_r`) and Minkowski's inequality ``||sum_j X_j||_4 <= sum_j ||X_j||_4``:

* ``trace_mean`` (``Y = tr Sigma_n``): ``E Y^4 <= (tr Sigma)^4 R_8(n)`` and ``E Y^2 >= (E Y)^2``, so
  ``kappa <= R_8(n) / R_2(n)^4``;
* ``trace_var`` (its standard error is the fourth central moment's: ``Y = (tr Sigma_n)^2``):
  ``kappa <= R_16(n) / R_2(n)^8``;
* ``det_mean``: exactly ``kappa = prod_{steps} prod_{i=1}^d E chi2_{v_i}^4 / (E chi2_{v_i}^2)^2``,
  ``v_i = M - i`` (Bartlett: ``det Sigma_n`` is ``det Sigma`` times independent chi-squares);
* ``mean_sq_error`` (``Y = ||mu_n - mu||^2 = z^T C z`` given the path, ``C = sum_{i<n} Sigma_i / M``):
  ``E[Y^4 | C] <= 105 (tr C)^4`` (``E z^8 = 105``), so ``kappa <= 105 (sum_{i<n} R_8(i)^{1/4})^4 /
  (sum_{i<n} R_2(i))^4``;
* ``w2_sq_mean`` (tested against its exact bounds): ``0 <= W2^2 <= ||mu_n - mu||^2 + tr Sigma_n + tr Sigma``
  (the fidelity is ``>= 0``), so its tail is no heavier than those of the two terms, and the row is tested where
  both the ``mean_sq_error`` and the ``trace_mean`` rows are. This one is a heuristic, not a bound on its
  ``kappa``: ``E W2^2`` is of order ``tr Sigma / M`` at small ``n``, far below the terms, and no bound through
  them is useful;
* ``log_det_mean``: always tested (``log det Sigma_n`` is a sum of logs of chi-squares, light-tailed).

These bounds are loose in high dimension (they ignore the averaging over coordinates), so they skip more rows
than needed, never fewer. Under the other workflows the replace chain's bound at the same ``(d, M, learner, A)``
is used (real points and pooling add mass that does not go through the chain's multiplicative noise): a heuristic,
as in :mod:`._verify`.

**Grids.** :data:`MULTIVARIATE_QUICK_GRID`: ``d`` in ``(2, 5)``, ``M`` in ``(d + 1, 6)`` (3 and 6 at ``d = 2``, 6 at
``d = 5``), ``n`` in ``(1, 5, 20)``, both learners, ``A = 1``, replace and accumulate, 20000 chains, sufficient mode
everywhere and samples mode where ``chains M d n_max <= 3e6`` (``d = 2``, ``M = 3``).
:data:`MULTIVARIATE_FULL_GRID`: ``d`` in ``(2, 5, 20)``, ``M`` in ``(d + 1, 2 d + 2, 50)``, ``A`` in ``(1, 1.2)``,
every workflow (``mix:0.5``, ``mix-fixed:0.5``, ``accumulate-subsample:M`` with ``K = M``), 200000 chains, samples
mode with its chains cut to ``2e9 / (M d n_max)`` (at least 2000). The covariance is :func:`default_covariance` (anisotropic, correlated)
unless one is given. Measured on the shared 2-core development machine (load about 8): the quick grid is 288 rows,
108 z-tested (bound 4.43), largest |z| 2.40, 52 s of CPU (147 s wall under that load; JAX compilations, 16 runs);
``--dimension 20 -M 21 50`` with replace and accumulate and 20000 chains: 84 of 144 rows tested, largest |z| 2.50
(bound 4.38). Because the kurtosis bounds ignore the averaging over coordinates, many rows at small ``M`` and
``n >= 5`` are not z-tested at 20000 chains (``Var tr Sigma_n`` at ``M <= 6`` never is); more chains test more.
In the default grids a workflow whose exact values or Monte Carlo have not landed yet
(``ParameterError`` on ``workflow``) is skipped with a row that says so (not tested); a workflow asked for by name
that cannot run raises.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, logsumexp
from scipy.stats import norm

from .._errors import ParameterError, check_integer, check_positive

__all__ = [
    "MULTIVARIATE_FULL_GRID",
    "MULTIVARIATE_QUICK_GRID",
    "default_covariance",
    "multivariate_log_kurtosis",
    "verify_multivariate",
]

#: Family-wise false-failure budget of a run.
DEFAULT_BUDGET = 1e-3
#: Fewest chains of a run (below this no row but ``log_det_mean`` could be tested).
MIN_CHAINS = 100
#: Fewest chains a samples-mode cell runs with when the budget would cut it further (else it is not run).
MIN_SAMPLES_CHAINS = 2_000

#: The quick grid (``"d+1"``, ``"2d+2"`` are the cell's ``d + 1`` and ``2 d + 2``; ``":M"`` in a workflow is the
#: cell's ``M``).
MULTIVARIATE_QUICK_GRID = {
    "dimensions": (2, 5), "sample_sizes": ("d+1", 6), "generations": (1, 5, 20), "learners": ("unbiased", "mle"),
    "variance_scales": (1.0,), "workflows": ("replace", "accumulate"), "chains": 20_000, "samples_budget": 3e6,
}
#: The full grid.
MULTIVARIATE_FULL_GRID = {
    "dimensions": (2, 5, 20), "sample_sizes": ("d+1", "2d+2", 50), "generations": (1, 5, 20), "learners": ("unbiased", "mle"),
    "variance_scales": (1.0, 1.2),
    "workflows": ("replace", "mix:0.5", "mix-fixed:0.5", "accumulate", "accumulate-subsample:M"),
    "chains": 200_000, "samples_budget": 2e9,
}

_LOG_105 = math.log(105.0)  # E z^8 for z ~ N(0, 1)


def default_covariance(dimension: int) -> np.ndarray:
    """The grid's covariance in ``d`` dimensions: variances ``2^(-1 + 2 i/(d - 1))`` (from 1/2 to 2; 1 for
    ``d = 1``) and correlations ``0.5^|i - j|``, i.e. ``Sigma_ij = s_i s_j 0.5^|i - j|`` (positive definite: the
    AR(1) correlation matrix scaled on both sides).

    >>> default_covariance(2)
    array([[0.5, 0.5],
           [0.5, 2. ]])
    """
    d = check_integer("dimension", dimension, minimum=1)
    exponent = np.zeros(d) if d == 1 else -1.0 + 2.0 * np.arange(d) / (d - 1)
    s = np.sqrt(2.0**exponent)
    index = np.arange(d)
    return np.outer(s, s) * 0.5 ** np.abs(index[:, None] - index[None, :])


def _log_chi2_moment(v: float, p: float) -> float:
    """``log E (chi2_v)^p``."""
    return p * math.log(2.0) + gammaln(v / 2 + p) - gammaln(v / 2)


def multivariate_log_kurtosis(quantity: str, dimension: int, sample_size: int, learner: str, variance_scale: float,
                              n: int) -> float:
    """An upper bound on ``log kappa`` (module doc) of the per-chain value behind ``quantity`` at generation ``n``
    of the replace chain; ``0`` for ``log_det_mean``; for ``w2_sq_mean`` the larger of the ``mean_sq_error`` and
    ``trace_mean`` bounds (a heuristic, module doc).

    >>> round(multivariate_log_kurtosis("det_mean", 2, 3, "unbiased", 1.0, 1), 6)  # log(384/8^2 * 105/3^2) = log 70
    4.248495
    """
    from ._verify import _log_r

    m, d = sample_size, dimension
    if n <= 0 or quantity == "log_det_mean":
        return 0.0

    def log_r(q):
        return _log_r(q, m, learner, variance_scale)

    if quantity == "trace_mean":
        return float(n * (log_r(8) - 4 * log_r(2)))
    if quantity == "trace_var":
        return float(n * (log_r(16) - 8 * log_r(2)))
    if quantity == "det_mean":
        return float(n * sum(_log_chi2_moment(m - i, 4) - 2 * _log_chi2_moment(m - i, 2) for i in range(1, d + 1)))
    steps = np.arange(n)
    log_norm8 = logsumexp(steps * log_r(8) / 4)  # log sum_{i<n} R_8(i)^{1/4}
    if quantity == "mean_sq_error":
        return float(_LOG_105 + 4 * log_norm8 - 4 * logsumexp(steps * log_r(2)))
    if quantity == "w2_sq_mean":  # the heuristic of the module doc: the larger of its two terms' bounds
        return max(multivariate_log_kurtosis(q, d, m, learner, variance_scale, n) for q in ("mean_sq_error",
                                                                                            "trace_mean"))
    raise ParameterError("quantity", "one of mean_sq_error, trace_mean, trace_var, det_mean, log_det_mean, "
                         "w2_sq_mean", quantity)


def _resolve_size(spelling, d: int) -> int:
    if spelling == "d+1":
        return d + 1
    if spelling == "2d+2":
        return 2 * d + 2
    return check_integer("sample_size", spelling, minimum=2)


def _cell_workflow(spelling, m: int):
    from ..chain import Workflow

    if isinstance(spelling, Workflow):
        return spelling
    text = str(spelling)
    if text.endswith(":M"):
        text = f"{text[:-2]}:{m}"
    return Workflow.parse(text)


def _covariance_for(covariance, d: int) -> np.ndarray:
    from ..chain import check_covariance, parse_covariance

    if covariance is None:
        return default_covariance(d)
    if isinstance(covariance, str):
        return parse_covariance(covariance, d)
    return check_covariance(covariance, "covariance", d)


def _seed_of(seed: int, run: int) -> int:
    """A distinct seed per run, derived from the run's seed (no two runs share a stream)."""
    return int(np.random.SeedSequence([seed, run]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _bounds_z(mc: float, se: float, lower: float | None, upper: float | None) -> float:
    if upper is not None and mc > upper:
        return (mc - upper) / se if se > 0 else math.inf
    if lower is not None and mc < lower:
        return (mc - lower) / se if se > 0 else -math.inf
    return 0.0


def verify_multivariate(
    *,
    quick: bool = True,
    chains: int | None = None,
    seed: int = 0,
    budget: float = DEFAULT_BUDGET,
    dimensions=None,
    covariance=None,
    sample_sizes=None,
    generations=None,
    learners=None,
    variance_scales=None,
    workflows=None,
    modes=("sufficient", "samples"),
    samples_budget: float | None = None,
) -> list[dict]:
    """Rows comparing :func:`theory.numeric.multivariate_exact_values` with :func:`simulate_multivariate` on a grid
    (module doc), each with ``tested``, ``passed`` and the Bonferroni ``threshold`` over the tested rows.

    Every argument left ``None`` takes the grid's value (:data:`MULTIVARIATE_QUICK_GRID` with ``quick``, else
    :data:`MULTIVARIATE_FULL_GRID`). ``covariance``: ``None`` (:func:`default_covariance` per ``d``), a spelling
    of :func:`theory.chain.parse_covariance` (``"iso"``, ``"diag:1,2"``, ``"file:PATH"``; evaluated per ``d``), or
    a matrix (then ``dimensions`` must be its ``d`` or ``None``). ``sample_sizes`` are integers or ``"d+1"`` /
    ``"2d+2"``; an explicit ``M <= d`` raises :class:`~theory.ParameterError` on ``sample_size``. The run passes
    when at least one row is tested and every tested row has ``passed``.

    >>> rows = verify_multivariate(dimensions=[2], sample_sizes=[6], generations=[1], learners=["mle"],
    ...                            workflows=["replace"], modes=["sufficient"], chains=2000)  # doctest: +SKIP
    """
    from ..chain import MultivariateGaussianChain
    from ..numeric import MULTIVARIATE_QUANTITIES, multivariate_exact_values
    from ._multivariate import simulate_multivariate

    if not isinstance(quick, bool):
        raise ParameterError("quick", "True or False", quick)
    grid = MULTIVARIATE_QUICK_GRID if quick else MULTIVARIATE_FULL_GRID
    chains = check_integer("chains", grid["chains"] if chains is None else chains, minimum=2)
    if chains < MIN_CHAINS:
        raise ParameterError("chains", f"an integer >= {MIN_CHAINS} (with fewer, only log det could be z-tested)",
                             chains)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < 1:
        raise ParameterError("budget", "a number in (0, 1)", budget)
    seed = check_integer("seed", seed, minimum=0)
    if covariance is not None and not isinstance(covariance, str):
        fixed = np.asarray(covariance, dtype=np.float64)
        d_fixed = fixed.shape[0] if fixed.ndim == 2 else 1
        if dimensions is not None and list(dimensions) != [d_fixed]:
            raise ParameterError("dimension", f"the covariance's dimension {d_fixed}", list(dimensions))
        dimensions = [d_fixed]
    dims = [check_integer("dimension", d, minimum=1) for d in (dimensions or grid["dimensions"])]
    gens = sorted({check_integer("generations", n, minimum=1) for n in (generations or grid["generations"])})
    learner_list = list(learners or grid["learners"])
    for learner in learner_list:
        if learner not in ("unbiased", "mle"):
            raise ParameterError("learner", "'unbiased' or 'mle'", learner)
    scales = [check_positive("variance_scale", a) for a in (variance_scales or grid["variance_scales"])]
    explicit_workflows = workflows is not None
    workflow_list = list(workflows or grid["workflows"])
    mode_list = list(modes)
    for mode in mode_list:
        if mode not in ("sufficient", "samples"):
            raise ParameterError("mode", "'sufficient' or 'samples'", mode)
    samples_budget = float(samples_budget or grid["samples_budget"])
    n_max = max(gens)
    quantities = list(MULTIVARIATE_QUANTITIES)

    # every chain is built (and so checked) before anything runs: M <= d, a bad covariance or workflow is refused
    cells = []
    for d in dims:
        sigma = _covariance_for(covariance, d)
        sizes = list(dict.fromkeys(_resolve_size(m, d) for m in (sample_sizes or grid["sample_sizes"])))
        for m in sizes:
            if sample_sizes is None and m < d + 1:
                continue  # a grid size below d + 1 (e.g. 50 at d = 100): not this dimension's cell
            for spelling in workflow_list:
                workflow = _cell_workflow(spelling, m)
                for learner in learner_list:
                    for scale in scales:
                        chain = MultivariateGaussianChain(m, sigma, learner=learner, variance_scale=scale,
                                                          workflow=workflow)
                        cells.append(chain)

    rows: list[dict] = []
    run = 0
    for chain in cells:
        d, m, workflow = chain.dimension, chain.sample_size, chain.workflow
        base = {"dimension": d, "sample_size": m, "learner": chain.learner, "variance_scale": chain.variance_scale,
                    "workflow": str(workflow)}
        try:
            with np.errstate(all="ignore"):
                exact = multivariate_exact_values(chain, gens)
        except ParameterError as err:
            if explicit_workflows or err.parameter != "workflow":
                raise
            rows.append({**base, "mode": "-", "quantity": "-", "generation": 0, "chains": 0, "exact": None,
                         "lower": None, "upper": None, "mc_mean": None, "se": None, "z": None, "tested": False,
                         "note": f"skipped: no exact values yet ({err})"})
            continue
        notes = exact.get("notes") or {}
        bounds = exact.get("bounds") or {}
        for mode in mode_list:
            cell_chains = chains
            if workflow.kind == "accumulate-subsample" and mode != "samples":
                continue
            if mode == "samples":
                cost = m * d * (n_max * (n_max + 1) / 2 if workflow.kind == "accumulate-subsample" else n_max)
                cell_chains = min(chains, int(samples_budget // cost))
                needed = min(chains, MIN_SAMPLES_CHAINS) if workflow.kind == "accumulate-subsample" else chains
                if quick and workflow.kind != "accumulate-subsample":
                    needed = chains  # the quick grid runs samples mode only where it is affordable at full size
                if cell_chains < needed:
                    continue
            try:
                result = simulate_multivariate(chain, gens, chains=cell_chains, seed=_seed_of(seed, run), mode=mode)
            except ParameterError as err:
                if explicit_workflows or err.parameter not in ("workflow", "mode"):
                    raise
                rows.append({**base, "mode": mode, "quantity": "-", "generation": 0, "chains": 0, "exact": None,
                             "lower": None, "upper": None, "mc_mean": None, "se": None, "z": None, "tested": False,
                             "note": f"skipped: no Monte Carlo yet ({err})"})
                continue
            run += 1
            for q in quantities:
                q_bounds = bounds.get(q)
                for j, n in enumerate(gens):
                    rows.append(_row(q, j, n, exact, notes, q_bounds, result, cell_chains, chain, mode, base))
    tested = sum(r["tested"] for r in rows)
    threshold = float(norm.isf(budget / (2 * max(tested, 1))))
    for r in rows:
        r["threshold"] = threshold
        r["passed"] = (not r["tested"]) or bool(r["z"] is not None and abs(r["z"]) <= threshold)
    return rows


def _row(q, j, n, exact, notes, q_bounds, result, chains, chain, mode, base) -> dict:
    mc = float(result.mean[q][j])
    se = float(result.se[q][j])
    row = {**base, "mode": mode, "quantity": q, "generation": int(n), "chains": int(chains), "exact": None,
           "lower": None, "upper": None, "mc_mean": mc, "se": se, "z": None, "tested": False, "note": ""}
    lower = upper = None
    if q_bounds is not None:
        lo, hi = q_bounds
        lower = None if lo is None else float(np.asarray(lo)[j])
        upper = None if hi is None else float(np.asarray(hi)[j])
        row.update(lower=lower, upper=upper)
    log_kappa = multivariate_log_kurtosis(q, chain.dimension, chain.sample_size, chain.learner,
                                          chain.variance_scale, n)
    heavy = log_kappa > math.log(chains / 100)
    heavy_note = f"heavy tail: kurtosis bound e^{log_kappa:.1f} > chains/100"
    if not (math.isfinite(mc) and math.isfinite(se)):
        row["note"] = "Monte Carlo value or standard error not finite (overflow)"
        return row
    values = exact.get(q)
    if values is None:
        if lower is None and upper is None:
            note = str(notes.get(q, f"none under workflow {chain.workflow}"))
            row["note"] = "no exact value: " + note
            return row
        text = f"[{'-inf' if lower is None else f'{lower:.5g}'}, {'inf' if upper is None else f'{upper:.5g}'}]"
        row["z"] = _bounds_z(mc, se, lower, upper)
        if heavy:
            row["note"] = f"no exact value, bounds {text}; {heavy_note}"
        else:
            row.update(tested=True, note=f"no exact value: z = distance outside the exact bounds {text}")
        return row
    e = float(np.asarray(values)[j])
    row["exact"] = e
    if not math.isfinite(e):
        row["note"] = "exact value beyond float64"
        return row
    row["z"] = (mc - e) / se if se > 0 else (0.0 if mc == e else math.copysign(math.inf, mc - e))
    if heavy:
        row["note"] = heavy_note
    else:
        row["tested"] = True
    return row
