"""``collapse-theory verify``: every closed form against Monte Carlo, with z-scores and a stated budget."""

from __future__ import annotations

import json
import sys

from ..montecarlo._verify import DEFAULT_BUDGET
from ._args import seed_argument

NAME = "verify"
HELP = "compare every closed form (theory.exact_values) with Monte Carlo on a grid of (M, n, learner, A)"
DESCRIPTION = (
    "For a grid of sample sizes M (2, 3, 5 up to 1e5), generations n, learners (unbiased, mle) and variance "
    "multipliers A, compare every closed form of theory.exact_values with Monte Carlo (sufficient mode everywhere, "
    "samples mode where affordable) and print exact value, MC mean, standard error and z. Exit status 1 when any "
    f"tested |z| exceeds the bound Phi^-1(1 - alpha/(2N)), alpha = {DEFAULT_BUDGET:g} the family-wise "
    "false-failure budget and N the number of tested cells (Bonferroni). Cells whose standard error is unreliable "
    "(heavy tails: the fourth-moment quantities variance_var and w2_sq_var at small M, sigma^2 means at small M "
    "and large n; kurtosis of the per-chain value above chains/100) are shown but not z-tested, with the reason."
)


def add_arguments(parser) -> None:
    parser.add_argument("--chains", "-K", type=int, default=None,
                        help="chains per grid cell (default 200000 with --quick, 1000000 otherwise)")
    parser.add_argument("--quick", action="store_true", help="a smaller grid (under two minutes on 2 CPU cores)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help=f"family-wise false-failure budget alpha (default {DEFAULT_BUDGET:g})")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from .._errors import ParameterError, check_integer
    from ..montecarlo._sharding import select_devices
    from ..montecarlo._verify import verify

    select_devices(args.device)
    if args.chains is not None:
        check_integer("chains", args.chains, minimum=2)
    if not 0 < args.budget < 1:
        raise ParameterError("budget", "a probability in (0, 1)", args.budget)
    progress = False if args.quiet else None
    if progress is None:
        progress = sys.stderr.isatty()
    report = verify(jax.random.key(args.seed), chains=args.chains, quick=args.quick, budget=args.budget,
                    device=args.device, progress=progress)
    if args.json:
        out = report.to_dict()
        out["seed"] = args.seed
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(report.format_table())
    return 0 if report.passed else 1
