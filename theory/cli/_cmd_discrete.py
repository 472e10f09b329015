"""``collapse-theory discrete``: the discrete chain (categorical resampling, Wright-Fisher): the tail disappearing,
exactly, with Monte Carlo columns on request."""

from __future__ import annotations

import json
import math
import sys

from ._args import (
    add_workflow_arguments,
    integer,
    mass,
    nonnegative,
    positive,
    seed_argument,
    workflow_of,
)

NAME = "discrete"
USES_JAX = True
HELP = ("the discrete chain (categorical resampling, Wright-Fisher): surviving categories, tail mass lost, "
        "Gini-Simpson, collapse probability, entropy; exact, and Monte Carlo with --chains")
DESCRIPTION = (
    "Recursive training of a categorical distribution (a vocabulary, a language model's tokens): generation 0 is "
    "the source p_0 over K categories; generation n+1 is fitted to M draws from generation n (the workflow decides "
    "what else it sees) by the empirical frequencies, optionally smoothed (--alpha) and then shaped the way a "
    "language model samples its successor's data (--temperature, --top-k, --top-p). Per requested generation n it "
    "prints: surviving_mean (expected number of categories still present), tail_mass_lost_mean (expected "
    "generation-0 probability of the categories lost), gini_simpson_mean (E[1 - sum_k p_{n,k}^2]), "
    "collapse_probability (probability that one category holds everything) and entropy_mean (E Shannon entropy, "
    "nats). Exact values come from the count Markov chain of each category (MLE or --alpha, workflows replace, "
    "mix, accumulate; for M above 10000 a truncated chain whose error is bounded and reported), or from the full "
    "chain on count vectors for small K and M with --temperature/--top-k/--top-p; '-' (null in --json) where no "
    "exact route exists, with the reason. With --chains N, Monte Carlo of N literal chains (multinomial resampling) "
    "adds each quantity's mean and standard error (JSON keys with _mc and _se) and z = (MC - exact)/SE. Under "
    "--alpha no probability is ever 0, so 'lost' means absent from the generation's training set and 'collapsed' "
    "means all of it in one category."
)

SOURCE_HELP = ("the generation-0 distribution: comma-separated weights (0.5,0.3,0.2), file:PATH (one weight or "
               "'label,weight' per line), zipf:A:K, zipf-mandelbrot:A:B:K, uniform:K, or words:LANG:K (the K most "
               "common words of language LANG, from the wordfreq package, e.g. words:en:10000)")


def add_arguments(parser) -> None:
    parser.add_argument("--source", "-s", required=True, metavar="SPEC", help=SOURCE_HELP)
    parser.add_argument("--sample-size", "-M", type=integer("sample_size", 1), required=True,
                        help="draws per generation M (>= 1; 1e5 accepted)")
    parser.add_argument("--generations", "-n", type=integer("generations", 0), nargs="+", required=True,
                        help="generations n >= 0 to report")
    parser.add_argument("--temperature", "-T", type=positive("temperature"), default=1.0,
                        help="sampling temperature T > 0: p ∝ p_hat^(1/T) (default 1)")
    parser.add_argument("--top-k", type=integer("top_k", 1), default=None,
                        help="keep the K most probable categories (>= 1; ties: lower index first)")
    parser.add_argument("--top-p", type=mass("top_p"), default=None,
                        help="nucleus sampling: keep the most probable categories until their mass reaches P, "
                        "P in (0, 1]")
    parser.add_argument("--alpha", type=nonnegative("alpha"), default=0.0,
                        help="add-alpha smoothing of the fitted frequencies (>= 0, default 0: the MLE)")
    add_workflow_arguments(parser, help_extra=" (default replace; accumulate-subsample is not offered for the "
                           "discrete chain)")
    parser.add_argument("--chains", "-K", type=integer("chains", 2), default=None,
                        help="also run this many Monte Carlo chains (>= 2) and report _mc, _se and z")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed of the Monte Carlo")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="floating-point type of the Monte Carlo (default float64)")
    parser.add_argument("--bounds", action="store_true",
                        help="also put Suresh et al.'s survival bounds (iterates of g(x) = 1 - exp(-x)) and the "
                        "other proved bounds beside the exact E surviving and E tail mass lost, each with its "
                        "verdict computed now (replace workflow, MLE only)")
    parser.add_argument("--no-exact", action="store_true", help="Monte Carlo only (needs --chains)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _floats(values):
    if values is None:
        return None
    return [float(v) if math.isfinite(float(v)) else None for v in values]


def _z(mc, se, exact):
    if mc is None or se is None or exact is None:
        return None
    if se > 0:
        return (mc - exact) / se
    return 0.0 if mc == exact else None


def run(args) -> int:
    from .._errors import ParameterError
    from ..chain import DiscreteChain, DiscreteLearner, parse_source
    from ..quantities import DISCRETE_QUANTITIES

    if args.no_exact and args.chains is None:
        raise ParameterError("no_exact", "given only with --chains N (there would be nothing to print)", True)
    if args.no_exact and args.bounds:
        raise ParameterError("bounds", "given only without --no-exact (the bounds are judged against the exact "
                             "values)", True)
    source = parse_source(args.source)
    learner = DiscreteLearner(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, alpha=args.alpha)
    chain = DiscreteChain(source, args.sample_size, learner, workflow_of(args))
    gens = list(args.generations)

    out: dict = {
        "source": source.spec,
        "categories": source.size,
        "sample_size": chain.sample_size,
        "learner": str(learner),
        "workflow": str(chain.workflow),
        "generations": gens,
    }
    notes: dict = {}
    bounds: dict = {}
    exact = {q: None for q in DISCRETE_QUANTITIES}
    checks = None
    if args.bounds and not (chain.workflow.is_replace and learner.is_mle):
        raise ParameterError("bounds", f"given only for the replace workflow and the MLE learner (here "
                             f"{chain.workflow}, {learner})", True)
    if not args.no_exact:
        from ..numeric import discrete_exact_values

        values = discrete_exact_values(chain, gens)
        if args.bounds:
            from ..numeric import bound_verdicts

            checks = bound_verdicts(chain, gens, exact=values)
        exact = {q: _floats(values.get(q)) for q in DISCRETE_QUANTITIES}
        notes.update(values.get("notes") or {})
        for q, (lower, upper) in (values.get("bounds") or {}).items():
            bounds[q] = {"lower": _floats(lower), "upper": _floats(upper)}
    out.update(exact)

    mc = se = None
    if args.chains is not None:
        from ..montecarlo import simulate_discrete

        result = simulate_discrete(chain, gens, chains=args.chains, seed=args.seed, dtype=args.dtype,
                                   progress=not args.quiet and not args.json)
        mc = {q: _floats(result.mean[q]) for q in DISCRETE_QUANTITIES}
        se = {q: _floats(result.se[q]) for q in DISCRETE_QUANTITIES}
        for q in DISCRETE_QUANTITIES:
            out[q + "_mc"] = mc[q]
            out[q + "_se"] = se[q]
        out["chains"] = args.chains
        out["seed"] = args.seed
        out["z"] = {q: [_z(m, s, e) for m, s, e in zip(mc[q], se[q], exact[q] or [None] * len(gens))]
                    for q in DISCRETE_QUANTITIES}
    out["notes"] = notes
    out["bounds"] = bounds
    if checks is not None:
        out["survival_bounds"] = [{k: r[k] for k in ("quantity", "bound", "side", "generation", "value", "exact",
                                                     "verdict", "ratio")} for r in checks]

    if args.json:
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    _print_table(out, exact, mc, se, gens)
    return 0


def _cell(value, width: int, digits: int = 6) -> str:
    return f"{'-' if value is None else format(value, f'.{digits}g'):>{width}s}"


def _print_table(out, exact, mc, se, gens) -> None:
    from ..quantities import DISCRETE_QUANTITIES, DISCRETE_REGISTRY

    print(f"# source {out['source']} (K = {out['categories']}), M = {out['sample_size']}, learner {out['learner']}, "
          f"workflow {out['workflow']}" + (f", {out['chains']} Monte Carlo chains, seed {out['seed']}"
                                           if mc is not None else ""))
    labels = [DISCRETE_REGISTRY[q].text for q in DISCRETE_QUANTITIES]
    if mc is None:
        print("# exact values ('-': no exact route, see the notes below)")
        print(f"{'n':>6s} " + " ".join(f"{label:>15s}" for label in labels))
        for j, n in enumerate(gens):
            print(f"{n:>6d} " + " ".join(_cell(exact[q][j] if exact[q] else None, 15) for q in DISCRETE_QUANTITIES))
    else:
        print("# each cell: exact | Monte Carlo ± standard error (z = (MC - exact)/SE)")
        for j, n in enumerate(gens):
            print(f"n = {n}")
            for q, label in zip(DISCRETE_QUANTITIES, labels):
                e = exact[q][j] if exact[q] else None
                m, s = mc[q][j], se[q][j]
                z = out["z"][q][j]
                print(f"  {label:16s} {_cell(e, 13)} | {_cell(m, 13)} ± {_cell(s, 9, 2).strip():<9s}"
                      f" z {('-' if z is None else format(z, '+.2f')):>6s}")
    if "survival_bounds" in out:
        print("# proved bounds beside the exact value (bound/exact), verdict computed now:")
        for r in out["survival_bounds"]:
            print(f"#   n = {r['generation']:<5d} {r['quantity']:20s} {r['side']:5s} {r['bound']:15s} "
                  f"{r['value']:12.6g} vs exact {r['exact']:12.6g} "
                  f"({'-' if r['ratio'] is None else format(r['ratio'], '.4f')}): {r['verdict']}")
    for q, b in out["bounds"].items():
        widest = max((u - lo for lo, u in zip(b["lower"], b["upper"]) if lo is not None and u is not None),
                     default=0.0)
        print(f"# {q}: exact to within a proved bracket of width <= {widest:.2g} (truncated count chain"
              f"{'; zero in float64' if widest == 0 else ''})")
    same: dict = {}  # one line per distinct note (a coupling learner gives every key the same reason)
    for q, note in out["notes"].items():
        same.setdefault(note, []).append(q)
    for note, keys in same.items():
        print(f"# {', '.join(keys)}: {note}")
