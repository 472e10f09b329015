"""``collapse-theory verify``: every closed form against Monte Carlo, with z-scores and a stated budget."""

from __future__ import annotations

import json
import sys

from .._errors import ParameterError
from ._args import (
    add_workflow_arguments,
    integer,
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
    "same Bonferroni rule over its rows."
)


def add_arguments(parser) -> None:
    parser.add_argument("--chains", "-K", type=integer("chains", MIN_CHAINS), default=None,
                        help=f"chains per grid cell (>= {MIN_CHAINS}; default 200000 with --quick, 1000000 otherwise)")
    parser.add_argument("--quick", action="store_true", help="a smaller grid (under two minutes on 2 CPU cores)")
    parser.add_argument("--chain", choices=("gaussian", "discrete"), default="gaussian",
                        help="which chain to verify: the Gaussian chain's grid (default) or the discrete chain's "
                        "setups (-M, -n, --learner, -A and --workflow then do not apply)")
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
