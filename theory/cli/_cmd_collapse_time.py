"""``collapse-theory collapse-time``: when the fitted standard deviation collapses, from its exact law."""

from __future__ import annotations

import json
import sys

from ._args import generation, integer, positive, sample_size

NAME = "collapse-time"
HELP = "first n at which the median of sigma_n/sigma falls below epsilon, or that median at given n (exact)"
DESCRIPTION = (
    "The exact law of sigma_n/sigma in the 1-D Gaussian recursive-fitting chain (generation i+1 is the Gaussian "
    "fitted to M samples of generation i, variance divisor M-1 for --learner unbiased or M for mle, multiplied by "
    "A): log(sigma_n^2/sigma^2) is a sum of n independent log-chi-square terms, whose CDF is computed by "
    "Gil-Pelaez inversion of its characteristic function (no normal approximation). "
    "With --epsilon: the collapse time, the first n >= 1 with median(sigma_n/sigma) < epsilon (found by doubling "
    "and bisection; the crossing is re-checked by an independent route), with the medians at n-1 and n beside it; "
    "'none' when it does not happen before --max-generations (e.g. A > 1). "
    "With --median: the median of sigma_n/sigma at each generation n given. "
    "Example: collapse-theory collapse-time -M 100 --epsilon 0.5 0.1 ; collapse-theory collapse-time -M 100 "
    "--median 1 138 1000"
)


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", required=True, type=sample_size, metavar="M",
                        help="samples per generation, an integer >= 2 (1e7 is accepted)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--epsilon", "-e", nargs="+", type=positive("epsilon"), metavar="EPS",
                      help="thresholds 0 < epsilon < 1: report the first n with median(sigma_n/sigma) < epsilon")
    what.add_argument("--median", nargs="+", type=generation, metavar="N",
                      help="generations n >= 0: report the median of sigma_n/sigma at each")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased",
                        help="unbiased: variance divisor M-1 (the paper's theory, default); mle: divisor M")
    parser.add_argument("--variance-scale", "-A", type=positive("variance_scale"), default=1.0, metavar="A",
                        help="multiplier A > 0 of every fitted variance (default 1)")
    parser.add_argument("--max-generations", type=integer("max_generations", 1), default=10**12, metavar="N",
                        help="with --epsilon: search up to this n (default 1e12; constant M costs O(log n)); "
                        "beyond it the answer is 'none'")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")


def run(args) -> int:
    from ..chain import GaussianChain
    from ..numeric import collapse_time, median_sd_ratio

    chain = GaussianChain(args.sample_size, learner=args.learner, variance_scale=args.variance_scale)
    head = {"sample_size": args.sample_size, "learner": args.learner, "variance_scale": chain.variance_scale}
    if args.median is not None:
        medians = [median_sd_ratio(chain, n) for n in args.median]
        # 0.0 at n > 0 and inf are values beyond float64 (median_sd_ratio), reported as such, never as numbers
        beyond = ["underflow" if v == 0.0 and n > 0 else "overflow" if v == float("inf") else None
                  for n, v in zip(args.median, medians)]
        if args.json:
            out = {**head, "generations": list(args.median),
                   "median_sd_ratio": [None if b else v for v, b in zip(medians, beyond)]}
            if any(beyond):
                out["note"] = ("null: the median lies beyond float64 (" + ", ".join(
                    f"n = {n}: {b}" for n, b in zip(args.median, beyond) if b) + ")")
            _dump(out)
            return 0
        print(f"# median of sigma_n/sigma (exact): M={args.sample_size} learner={args.learner} A={args.variance_scale:g}")
        print(f"{'n':>12s} {'median sigma_n/sigma':>22s}")
        for n, value, b in zip(args.median, medians, beyond):
            print(f"{n:12d} {b or format(value, '22.15g'):>22s}")
        return 0

    times = [collapse_time(chain, eps, max_generations=args.max_generations) for eps in args.epsilon]
    beside = [
        (median_sd_ratio(chain, n - 1), median_sd_ratio(chain, n)) if n is not None else (None, None) for n in times
    ]
    if args.json:
        _dump({**head, "epsilon": list(args.epsilon), "collapse_time": times, "max_generations": args.max_generations,
               "median_before": [b[0] for b in beside], "median_at": [b[1] for b in beside],
               **({"note": "collapse_time null: the median stays >= epsilon up to max_generations"}
                  if None in times else {})})
        return 0
    print(f"# collapse time: first n with median(sigma_n/sigma) < epsilon (exact law); M={args.sample_size} "
          f"learner={args.learner} A={args.variance_scale:g}")
    print(f"{'epsilon':>10s} {'n':>12s} {'median at n-1':>16s} {'median at n':>16s}")
    for eps, n, (before, at) in zip(args.epsilon, times, beside):
        if n is None:
            print(f"{eps:10.6g} {'none':>12s}   (median >= epsilon up to n = {args.max_generations})")
        else:
            print(f"{eps:10.6g} {n:12d} {before:16.10g} {at:16.10g}")
    return 0


def _dump(obj) -> None:
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")
