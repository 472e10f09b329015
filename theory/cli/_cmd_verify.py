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
    f"A run that tests no cell fails (exit 1); fewer than {MIN_CHAINS} chains are refused (nothing could be tested)."
)


def add_arguments(parser) -> None:
    parser.add_argument("--chains", "-K", type=integer("chains", MIN_CHAINS), default=None,
                        help=f"chains per grid cell (>= {MIN_CHAINS}; default 200000 with --quick, 1000000 otherwise)")
    parser.add_argument("--quick", action="store_true", help="a smaller grid (under two minutes on 2 CPU cores)")
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


def run(args) -> int:
    import jax

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
