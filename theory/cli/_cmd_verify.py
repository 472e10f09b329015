"""``collapse-theory verify``: every closed form against Monte Carlo, with z-scores and a stated budget."""

from __future__ import annotations

import json
import sys

from .._errors import ParameterError
from ._args import (
    MULTIVARIATE_LABELS,
    add_multivariate_arguments,
    add_workflow_arguments,
    integer,
    is_multivariate,
    multivariate_covariance,
    positive,
    probability,
    sample_size,
    seed_argument,
    workflow_of,
)

#: theory.montecarlo._verify.DEFAULT_BUDGET, repeated here so that building the parser does not import JAX
#: (a test checks that the two agree).
DEFAULT_BUDGET = 1e-3
MIN_CHAINS = 100  # theory.montecarlo._verify.MIN_CHAINS, likewise

NAME = "verify"
USES_JAX = True
HELP = "compare every closed form (theory.exact_values) with Monte Carlo on a grid of (workflow, M, n, learner, A)"
DESCRIPTION = (
    "For a grid of sample sizes M (2, 3, 5 up to 1e5), generations n, learners (unbiased, mle) and variance "
    "multipliers A, compare every closed form of theory.exact_values with Monte Carlo (sufficient mode everywhere, "
    "samples mode where affordable) and print exact value, MC mean, standard error and z. Exit status 1 when any "
    f"tested |z| exceeds the bound Phi^-1(1 - alpha/(2N)), alpha = {DEFAULT_BUDGET:g} the family-wise "
    "false-failure budget and N the number of tested cells (Bonferroni). Cells whose standard error is unreliable "
    "(heavy tails: the fourth-moment quantities variance_var and w2_sq_var at small M, sigma^2 means at small M "
    "and large n; kurtosis of the per-chain value above chains/100) are shown but not z-tested, with the reason. "
    "Every workflow is covered (replace, mix:0.5, mix-fixed:0.5, accumulate, accumulate-subsample:K with K = M; "
    "the non-replace workflows on a smaller set of M): a quantity with no exact value under a workflow (E sigma_n, "
    "E W2^2 under mixing or accumulation) is not z-tested and its row says why; where exact bounds exist the row "
    "tests that the Monte Carlo lies within them. accumulate-subsample runs in samples mode only. "
    "-M, -n, --learner, -A and --workflow replace the grid's values by yours (e.g. verify -M 50 -n 10 100 -A 1.1 "
    "--workflow mix:0.2 accumulate). "
    f"A run that tests no cell fails (exit 1); fewer than {MIN_CHAINS} chains are refused (nothing could be tested). "
    "--chain discrete checks the discrete chain instead (categorical resampling: theory.numeric.discrete_exact_values "
    "and category_exact against Monte Carlo of literal multinomial resampling, for zipf:1:50 at M = 20 and the "
    "real vocabulary words:en:200 at M = 50, under replace, mix:0.2, mix-fixed:0.2 and accumulate; every whole-distribution "
    "quantity and, per group of equal source probabilities, E p_n, E p_n(1 - p_n), P(lost), P(fixed)), with the "
    "same Bonferroni rule over its rows. "
    "--chain multivariate, --dimension d or --covariance SPEC check the multivariate chain instead "
    "(theory.numeric.multivariate_exact_values against theory.simulate_multivariate: E||mu_n - mu||^2, E tr Sigma_n, "
    "Var tr Sigma_n, E det Sigma_n, E log det Sigma_n - log det Sigma, and E W2^2 against its exact bounds) on a "
    "grid of d (2, 5, 20; --quick: 2, 5; or the given d), M (d + 1, 2d + 2, 50; --quick: d + 1, 6), n (1, 5, 20), "
    "both learners, A (1, 1.2; --quick: 1) and the workflows (every kind; --quick: replace, accumulate), in "
    "sufficient mode and samples mode where affordable, with an anisotropic correlated covariance unless "
    "--covariance is given; rows whose standard error is unreliable (a proved kurtosis bound above chains/100) are "
    "shown but not z-tested; the same Bonferroni rule over the tested rows."
)


def add_arguments(parser) -> None:
    parser.add_argument("--chains", "-K", type=integer("chains", MIN_CHAINS), default=None,
                        help=f"chains per grid cell (>= {MIN_CHAINS}; default 200000 with --quick, 1000000 otherwise; the "
                        "multivariate chain: 20000 with --quick, 200000 otherwise)")
    parser.add_argument("--quick", action="store_true", help="a smaller grid (under two minutes on 2 CPU cores)")
    parser.add_argument("--chain", choices=("gaussian", "discrete", "multivariate"), default=None,
                        help="which chain to verify: the Gaussian chain's grid (default), the discrete chain's "
                        "setups (-M, -n, --learner, -A and --workflow then do not apply) or the multivariate "
                        "chain's grid (also chosen by --dimension or --covariance)")
    parser.add_argument("--sample-size", "-M", type=sample_size, nargs="+", default=None,
                        help="sample sizes M to test instead of the grid's")
    parser.add_argument("--generations", "-n", type=integer("generations", 1), nargs="+", default=None,
                        help="generations n >= 1 to test instead of the grid's")
    parser.add_argument("--learner", choices=("unbiased", "mle"), nargs="+", default=None,
                        help="learners to test (default both)")
    parser.add_argument("--variance-scale", "-A", type=positive("variance_scale"), nargs="+", default=None,
                        help="variance multipliers A to test instead of the grid's")
    add_workflow_arguments(parser, many=True, help_extra="; several may be given (default: all five kinds)")
    parser.add_argument("--budget", type=probability("budget"), default=DEFAULT_BUDGET,
                        help=f"family-wise false-failure budget alpha in (0, 1) (default {DEFAULT_BUDGET:g})")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed")
    add_multivariate_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_discrete(args) -> int:
    import math

    for option, flag in (("sample_size", "-M"), ("generations", "-n"), ("learner", "--learner"),
                         ("variance_scale", "-A"), ("workflow", "--workflow"), ("real_weight", "--real-weight")):
        if getattr(args, option) is not None:
            raise ParameterError(option, f"given only with --chain gaussian ({flag} picks Gaussian grid cells; the "
                                 "discrete chain's setups are fixed)", getattr(args, option))
    from ..montecarlo import verify_discrete

    rows = verify_discrete(quick=args.quick, chains=args.chains, seed=args.seed, budget=args.budget)
    passed = bool(rows) and all(r["passed"] for r in rows)
    if args.json:
        clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                 for r in rows]
        json.dump({"chain": "discrete", "passed": passed, "budget": args.budget, "seed": args.seed,
                   "threshold": rows[0]["threshold"] if rows else None, "tested": len(rows), "rows": clean},
                  sys.stdout)
        sys.stdout.write("\n")
        return 0 if passed else 1
    threshold = rows[0]["threshold"] if rows else float("nan")
    print(f"# discrete chain: {len(rows)} rows z-tested, |z| <= {threshold:.2f} each (Bonferroni, family-wise "
          f"false-failure budget {args.budget:g})")
    head = f"{'setup':38s} {'quantity':22s} {'rows':>5s} {'max |z|':>8s}  verdict"
    print(head)
    print("-" * len(head))
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["setup"], r["quantity"].split("[")[0]), []).append(r)
    for (setup, quantity), group in groups.items():
        zs = [abs(r["z"]) for r in group if r["z"] is not None]
        worst = max(zs) if zs else 0.0
        verdict = "pass" if all(r["passed"] for r in group) else "FAIL"
        print(f"{setup:38s} {quantity:22s} {len(group):5d} {worst:8.2f}  {verdict}")
    for r in rows:
        if not r["passed"]:
            print(f"FAIL {r['setup']} {r['quantity']} n = {r['generation']}: exact {r['exact']:.6g}, Monte Carlo "
                  f"{r['mc']:.6g} ± {r['se']:.2g}, z = {r['z']:+.2f}")
    print("all rows pass" if passed else "some rows FAIL")
    return 0 if passed else 1


def run(args) -> int:
    import jax

    if is_multivariate(args) and args.chain not in (None, "multivariate"):
        raise ParameterError("chain", "multivariate (or left out) with --dimension/--covariance", args.chain)
    if args.chain == "multivariate" or is_multivariate(args):
        return _run_multivariate(args)
    if args.chain == "discrete":
        return _run_discrete(args)

    from ..montecarlo import _verify
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)
    progress = False if args.quiet else None
    if progress is None:
        progress = sys.stderr.isatty()
    grid = dict(_verify.QUICK_GRID if args.quick else _verify.FULL_GRID)
    for option, axis in (("sample_size", "sample_sizes"), ("generations", "generations"),
                         ("variance_scale", "variance_scales"), ("learner", "learners")):
        if getattr(args, option) is not None:
            grid[axis] = tuple(dict.fromkeys(getattr(args, option)))
    if args.sample_size is not None:
        grid["workflow_sample_sizes"] = grid["subsample_sample_sizes"] = grid["sample_sizes"]
    if args.workflow is not None:
        grid["workflows"] = tuple(dict.fromkeys(workflow_of(args, wf) for wf in args.workflow))
    elif args.real_weight is not None:
        raise ParameterError("real_weight", "given only with --workflow mix:LAMBDA or mix-fixed:LAMBDA",
                             args.real_weight)
    with jax.enable_x64(True):  # exact comparisons in float64, without touching the global configuration
        report = _verify.verify(jax.random.key(args.seed), chains=args.chains, quick=args.quick, budget=args.budget,
                                device=args.device, progress=progress, grid=grid)
    if args.json:
        out = report.to_dict()
        out["seed"] = args.seed
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(report.format_table())
    if report.tested == 0:
        sys.stderr.write("collapse-theory verify: nothing was z-tested (every cell's standard error is unreliable "
                         "at these settings): not a pass\n")
    return 0 if report.passed else 1


def _run_multivariate(args) -> int:
    """``verify --chain multivariate`` (or ``--dimension``/``--covariance``): theory.montecarlo.verify_multivariate
    rows, one line per setup, exit 1 unless every tested row passes and one was tested."""
    import math

    import jax

    from ..montecarlo._sharding import select_devices
    from ..montecarlo._verify_multivariate import verify_multivariate

    devices = select_devices(args.device)
    covariance = None
    if args.covariance is not None:
        covariance = args.covariance if args.covariance.partition(":")[0] == "iso" else multivariate_covariance(args)
    dimensions = None if args.dimension is None else [args.dimension]
    if args.dimension is not None and covariance is not None and args.covariance.partition(":")[0] == "iso":
        covariance = multivariate_covariance(args)  # checked now: a bad iso:S2 fails before anything runs
    if args.real_weight is not None and args.workflow is None:
        raise ParameterError("real_weight", "given only with --workflow mix:LAMBDA or mix-fixed:LAMBDA",
                             args.real_weight)
    workflows = None if args.workflow is None else [workflow_of(args, wf) for wf in dict.fromkeys(args.workflow)]
    with jax.default_device(devices[0]):
        rows = verify_multivariate(
            quick=args.quick, chains=args.chains, seed=args.seed, budget=args.budget, dimensions=dimensions,
            covariance=covariance, sample_sizes=args.sample_size, generations=args.generations,
            learners=args.learner, variance_scales=args.variance_scale, workflows=workflows)
    tested = sum(r["tested"] for r in rows)
    passed = tested > 0 and all(r["passed"] for r in rows)
    threshold = rows[0]["threshold"] if rows else None
    if args.json:
        clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                 for r in rows]
        json.dump({"chain": "multivariate", "passed": passed, "budget": args.budget, "seed": args.seed,
                   "threshold": threshold, "tested": tested, "cells": len(rows), "rows": clean}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(_multivariate_table(rows, tested, passed, threshold, args.budget))
    if tested == 0:
        sys.stderr.write("collapse-theory verify: nothing was z-tested (every row's standard error is unreliable at "
                         "these settings, or nothing ran): not a pass\n")
    return 0 if passed else 1


def _multivariate_table(rows, tested, passed, threshold, budget) -> str:
    """One line per setup: for each quantity the largest tested |z| and tested/all rows; then failures and
    skipped setups."""
    from ..numeric import MULTIVARIATE_QUANTITIES

    quantities = list(MULTIVARIATE_QUANTITIES)
    setups: dict = {}
    skipped = []
    for r in rows:
        if r["quantity"] == "-":
            skipped.append(r)
            continue
        key = (r["dimension"], r["sample_size"], r["learner"], r["variance_scale"], r["workflow"], r["mode"],
               r["chains"])
        setups.setdefault(key, []).append(r)
    bound = threshold if threshold is not None else float("nan")
    lines = [(f"# multivariate chain: {tested} of {len(rows)} rows z-tested, |z| <= {bound:.2f} each (Bonferroni, "
              f"family-wise false-failure budget {budget:g}); each cell: largest tested |z| (rows tested/rows)")]
    head = (f"{'d':>3s} {'M':>4s} {'learner':8s} {'A':>4s} {'workflow':24s} {'mode':10s} {'chains':>7s} "
            + " ".join(f"{MULTIVARIATE_LABELS[q]:>15s}" for q in quantities) + "  verdict")
    lines += [head, "-" * len(head)]
    for (d, m, learner, scale, workflow, mode, chains), group in setups.items():
        cells = []
        for q in quantities:
            mine = [r for r in group if r["quantity"] == q]
            zs = [abs(r["z"]) for r in mine if r["tested"]]
            text = f"{max(zs):.2f} ({len(zs)}/{len(mine)})" if zs else f"- (0/{len(mine)})"
            cells.append(f"{text:>15s}")
        verdict = "pass" if all(r["passed"] for r in group) else "FAIL"
        lines.append(f"{d:3d} {m:4d} {learner:8s} {scale:4.2g} {workflow:24s} {mode:10s} {chains:7d} "
                     + " ".join(cells) + f"  {verdict}")
    for r in rows:
        if not r["passed"]:
            lines.append(f"FAIL d = {r['dimension']}, M = {r['sample_size']}, {r['learner']}, A = "
                         f"{r['variance_scale']:g}, {r['workflow']}, {r['mode']}: {r['quantity']} n = "
                         f"{r['generation']}: exact {r['exact']}, bounds [{r['lower']}, {r['upper']}], Monte Carlo "
                         f"{r['mc_mean']:.6g} ± {r['se']:.2g}, z = {r['z']:+.2f}")
    for r in skipped:
        lines.append(f"# skipped d = {r['dimension']}, M = {r['sample_size']}, {r['learner']}, {r['workflow']}: "
                     f"{r['note']}")
    lines.append("# not z-tested: rows whose kurtosis bound exceeds chains/100 (heavy tails; more chains test more), "
                 "and quantities with neither an exact value nor exact bounds under the workflow")
    lines.append("all tested rows pass" if passed else ("nothing was z-tested" if tested == 0 else "some rows FAIL"))
    return "\n".join(lines)
