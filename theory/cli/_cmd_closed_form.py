"""``collapse-theory closed-form``: exact moments of the Gaussian chain, beside the paper's expansions."""

from __future__ import annotations

import json
import math
import sys

from .._errors import ParameterError, check_finite, check_integer

NAME = "closed-form"
HELP = "exact E(mu_n-mu)^2, E sigma_n^2, Var sigma_n^2, E sigma_n, E log sigma_n^2, E W2^2, Var W2^2"
DESCRIPTION = (
    "Exact (not leading-order) moments of the 1-D Gaussian recursive-fitting chain at each generation n: "
    "generation 0 is N(mu, sigma^2), generation i+1 is the Gaussian fitted to M samples of generation i "
    "(variance divisor M-1 for --learner unbiased, M for mle), its variance multiplied by A. Values come from the "
    "machine-checked recursion evaluated in high precision (see proofs/). With A = 1 the table also shows the "
    "published leading-order expansions of E W2^2 and Var W2^2 and the toolkit's own, derived one."
)

_LABELS = {
    "mean_sq_error": "E(mu_n-mu)^2",
    "variance_mean": "E sigma_n^2",
    "variance_var": "Var sigma_n^2",
    "sd_mean": "E sigma_n",
    "log_variance_mean": "E log(s_n^2/s^2)",
    "w2_sq_mean": "E W2^2",
    "w2_sq_var": "Var W2^2",
}


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan if text.strip().lower() == "nan" else text  # non-numbers are named by the checks


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", required=True, type=_number, metavar="M",
                        help="samples per generation, an integer >= 2 (1e7 is accepted)")
    parser.add_argument("--generations", "-n", required=True, nargs="+", type=_number, metavar="N",
                        help="generations n >= 0 to report")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased",
                        help="unbiased: variance divisor M-1 (the paper's theory, default); mle: divisor M "
                        "(the authors' notebook)")
    parser.add_argument("--variance-scale", "-A", type=_number, default=1.0, metavar="A",
                        help="multiplier A > 0 of every fitted variance (default 1: no approximation bias)")
    parser.add_argument("--sigma", type=_number, default=1.0, metavar="S",
                        help="standard deviation of generation 0 (default 1; mu does not enter)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="one JSON object: 'generations' and a list per quantity (null where a value overflows)")
    out.add_argument("--latex", action="store_true",
                     help="the symbolic closed forms (in n, M, sigma; A as given) as LaTeX")


def _finite_or_none(x: float):
    return float(x) if math.isfinite(x) else None


def run(args) -> int:
    from ..chain import GaussianChain
    from ..numeric import QUANTITIES, exact_values, leading_order, published_expansions

    m = check_integer("sample_size", args.sample_size, minimum=2)
    gens = [check_integer("generations", g, minimum=0) for g in args.generations]
    check_finite("variance_scale", args.variance_scale)
    check_finite("sigma", args.sigma)
    chain = GaussianChain(m, learner=args.learner, variance_scale=args.variance_scale, sigma=args.sigma)

    if args.latex:
        return _print_latex(chain)
    values = exact_values(chain, gens)
    if args.json:
        out = {"sample_size": m, "learner": args.learner, "variance_scale": chain.variance_scale,
               "sigma": chain.sigma, "generations": gens}
        out.update({q: [_finite_or_none(x) for x in values[q]] for q in QUANTITIES})
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0

    print(f"# exact moments: M={m} learner={args.learner} A={chain.variance_scale:g} sigma={chain.sigma:g}")
    print(f"{'n':>8s} " + " ".join(f"{_LABELS[q]:>17s}" for q in QUANTITIES))
    for i, g in enumerate(gens):
        print(f"{g:8d} " + " ".join(f"{values[q][i]:17.10g}" for q in QUANTITIES))
    if chain.variance_scale == 1.0:
        ours = leading_order(chain, gens)
        paper = published_expansions(chain, gens)
        print()
        print("# E W2^2 and Var W2^2: exact vs leading order (ours, derived) vs published claims")
        heads = ["E W2^2 exact", "ours 3/2 S1", "Nature SI", "arXiv v2", "Var W2^2 exact", "ours 5/2 S1^2",
                 "arXiv v2"]
        print(f"{'n':>8s} " + " ".join(f"{h:>15s}" for h in heads))
        for i, g in enumerate(gens):
            row = [values["w2_sq_mean"][i], ours["w2_sq_mean"][i], paper["w2_sq_mean_supplementary"][i],
                   paper["w2_sq_mean_arxiv_v2"][i], values["w2_sq_var"][i], ours["w2_sq_var"][i],
                   paper["w2_sq_var_arxiv_v2"][i]]
            print(f"{g:8d} " + " ".join(f"{x:15.8g}" for x in row))
        print("# S1 = sum_{i<n} 1/M_i. Nature SI: (3/2) sigma^2 S1 (correct to leading order). arXiv v2: "
              "sigma^2 (S1 + 3/(2 M_n)) and its Var formula (both wrong: see README).")
    return 0


def _print_latex(chain) -> int:
    import sympy as sp

    from ..symbolic import M, derive, sigma

    if chain.variance_scale == 1.0:
        a = sp.S.One
    else:
        a = sp.nsimplify(chain.variance_scale, rational=True)
        if a.q > 10**6:
            raise ParameterError("variance_scale", "a simple rational number for --latex", chain.variance_scale)
    d = derive(M, chain.learner, a, sigma)
    print(f"% learner={chain.learner}, A={sp.latex(a)}; c_M = sqrt(2/(M-1)) Gamma(M/2)/Gamma((M-1)/2)")
    from ..symbolic._proofs import RESULTS

    for q, (title, symbol) in RESULTS.items():
        print(f"% {title}")
        print(f"{symbol} = {sp.latex(d.outputs[q])}")
    return 0
