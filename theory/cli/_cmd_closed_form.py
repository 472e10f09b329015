"""``collapse-theory closed-form``: exact moments of the Gaussian chain, beside the paper's expansions."""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from .._errors import ParameterError
from ..quantities import REGISTRY
from ._args import (
    MULTIVARIATE_LABELS,
    add_multivariate_arguments,
    add_workflow_arguments,
    generation,
    is_multivariate,
    multivariate_covariance,
    positive,
    refuse_one_dimensional,
    sample_size,
    workflow_of,
)

NAME = "closed-form"
HELP = "exact E(mu_n-mu)^2, E sigma_n^2, Var sigma_n^2, E sigma_n, E log sigma_n^2, E W2^2, Var W2^2"
DESCRIPTION = (
    "Exact (not leading-order) moments of the 1-D Gaussian recursive-fitting chain at each generation n: "
    "generation 0 is N(mu, sigma^2), generation i+1 is the Gaussian fitted to M samples of generation i "
    "(variance divisor M-1 for --learner unbiased, M for mle), its variance multiplied by A. Values come from the "
    "machine-checked recursion (see proofs/), evaluated in float64 where a proved error bound is below 1e-12 "
    "relative and in high precision (mpmath) elsewhere. With A = 1 the table also shows the "
    "published leading-order expansions of E W2^2 and Var W2^2 and the toolkit's own, derived one. "
    "--workflow chooses what each generation is trained on (replace, the default, is the chain above; mix, "
    "mix-fixed, accumulate and accumulate-subsample are defined under --workflow). Under a workflow other than "
    "replace a quantity with no exact value (no closed recursion: E sigma_n, hence E W2^2, under mixing or "
    "accumulation) is shown as '-' (null in --json) with a note saying why, and exact bounds where they are "
    "known (from the exact second and fourth moments); the published expansions are for replace only. "
    "--limits adds the limits n -> infinity (constant M) with their rate of approach. "
    "--dimension d and/or --covariance SPEC select the multivariate chain instead: generation 0 is N(mu, Sigma) in "
    "d dimensions, each generation fits the sample mean and the covariance (scatter matrix / (M-1) or / M, times "
    "A) to M >= d + 1 points, under the same --workflow; the table is E||mu_n - mu||^2, E tr Sigma_n, "
    "Var tr Sigma_n, E det Sigma_n, E log det Sigma_n - log det Sigma (the volume's collapse) and E W2^2, which has "
    "no closed form (null, with exact bounds; theory.multivariate_exact_values). d = 1 gives the 1-D chain's numbers."
)

_LABELS = {q.name: q.text for q in REGISTRY.values()}


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", required=True, type=sample_size, metavar="M",
                        help="samples per generation, an integer >= 2 (1e7 is accepted; any size, e.g. 1e20)")
    parser.add_argument("--generations", "-n", required=True, nargs="+", type=generation, metavar="N",
                        help="generations n >= 0 to report (constant M costs O(log n): 1e9 is fine)")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased",
                        help="unbiased: variance divisor M-1 (the paper's theory, default); mle: divisor M "
                        "(the authors' notebook)")
    parser.add_argument("--variance-scale", "-A", type=positive("variance_scale"), default=1.0, metavar="A",
                        help="multiplier A > 0 of every fitted variance (default 1: no approximation bias)")
    parser.add_argument("--sigma", type=positive("sigma"), default=None, metavar="S",
                        help="standard deviation of generation 0 of the 1-D chain (default 1; mu does not enter)")
    add_workflow_arguments(parser)
    add_multivariate_arguments(parser)
    parser.add_argument("--limits", action="store_true",
                        help="also the limits n -> infinity for constant M and a workflow other than replace "
                        "(fixed points of mix, the limits of accumulate) and their rate of approach ('limits' in "
                        "--json; derived symbolically: seconds)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="one JSON object: 'generations' and a list per quantity; a value whose true result "
                     "overflows float64 is null and listed under 'overflow'; a value with no exact value under "
                     "the workflow is null with the reason under 'notes' and its exact bounds, if known, under "
                     "'bounds' as {'lower': [...], 'upper': [...]}")
    out.add_argument("--latex", action="store_true",
                     help="publication-ready LaTeX: the closed forms in named constants (with their definitions) and the "
                     "exact values at the given -M and -n beside them; under another workflow, the limits n -> "
                     "infinity (the derivation runs once per learner and A, then is cached)")


def _finite_or_none(x: float):
    return float(x) if math.isfinite(x) else None


def _cell(x, width: int, digits: int) -> str:
    if x is None:
        return f"{'-':>{width}s}"
    return f"{x:{width}.{digits}g}" if math.isfinite(x) else f"{'overflow':>{width}s}"


_OVERFLOW_NOTE = ("null: the true value is beyond the float64 range (about 1.8e308); it is finite, not computed "
                  "wrongly (e.g. Var W2^2 grows like ((M+1)/(M-1))^n, and sigma^4 scales the variances)")


def _column(values, q, count):
    """``values[q]`` as a list of floats, or ``[None] * count`` where the workflow has no exact value (None)."""
    v = values.get(q)
    return [None] * count if v is None else [float(x) for x in v]


def _json_number(x):
    """A limit or rate as JSON: a float, "infinity" for a moment that grows without bound, null for none, text
    for anything symbolic."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isinf(x):
        return "infinity" if x > 0 else "-infinity"
    return x if math.isfinite(x) else None


def _limits(chain) -> dict:
    """:func:`theory.numeric.workflow_limits` as plain JSON-ready values (SymPy expressions as text)."""
    from ..numeric import QUANTITIES, workflow_limits

    if chain.workflow.is_replace:
        raise ParameterError("limits", "used with a --workflow other than replace (under replace E(mu_n-mu)^2 grows "
                             "without bound and sigma_n -> 0 almost surely; see --latex for its closed forms)",
                             True)
    if not chain.is_constant:
        raise ParameterError("limits", "used with one sample size M (the limits are for constant M)", True)
    raw = workflow_limits(chain)
    out = {q: _json_number(raw.get(q)) for q in QUANTITIES}
    rate = raw.get("rate")
    out["rate"] = ({k: _json_number(v) for k, v in rate.items()} if isinstance(rate, dict) else _json_number(rate))
    expressions = raw.get("expressions") or {}
    out["expressions"] = ({str(k): (None if v is None else str(v)) for k, v in expressions.items()}
                          if isinstance(expressions, dict) else str(expressions))
    out["notes"] = {str(k): str(v) for k, v in (raw.get("notes") or {}).items()}
    return out


def run(args) -> int:
    from ..chain import GaussianChain
    from ..numeric import QUANTITIES, exact_values, leading_order, published_expansions

    if is_multivariate(args):
        return _run_multivariate(args)
    m, gens = args.sample_size, list(args.generations)
    wf = workflow_of(args)
    chain = GaussianChain(m, learner=args.learner, variance_scale=args.variance_scale,
                          sigma=1.0 if args.sigma is None else args.sigma, workflow=wf)

    if args.latex:
        from ..numeric import workflow_limits
        from ..symbolic._latex import latex_limits, latex_report

        if wf.is_replace:
            sys.stdout.write(latex_report(chain, gens, exact_values(chain, gens)))
        else:
            sys.stdout.write(latex_limits(chain, workflow_limits(chain)))
        return 0
    limits = _limits(chain) if args.limits else None
    values = exact_values(chain, gens)
    notes = dict(values.get("notes") or {})
    bounds = {q: ([float(x) for x in lo], [float(x) for x in hi])
              for q, (lo, hi) in (values.get("bounds") or {}).items()}
    columns = {q: _column(values, q, len(gens)) for q in QUANTITIES}
    overflow = {q: [g for g, x in zip(gens, columns[q]) if x is not None and not math.isfinite(x)]
                for q in QUANTITIES}
    overflow = {q: v for q, v in overflow.items() if v}
    if args.json:
        out = {"sample_size": m, "learner": args.learner, "variance_scale": chain.variance_scale,
               "sigma": chain.sigma, "workflow": str(wf), "generations": gens}
        out.update({q: [None if x is None else _finite_or_none(x) for x in columns[q]] for q in QUANTITIES})
        if overflow:
            out["overflow"] = overflow
            out["overflow_note"] = _OVERFLOW_NOTE
        if not wf.is_replace or notes:
            out["notes"] = notes
        if bounds:
            out["bounds"] = {q: {"lower": [_finite_or_none(x) for x in lo], "upper": [_finite_or_none(x) for x in hi]}
                             for q, (lo, hi) in bounds.items()}
        if limits is not None:
            out["limits"] = limits
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0

    print(f"# exact moments: M={m} learner={args.learner} A={chain.variance_scale:g} sigma={chain.sigma:g} "
          f"workflow={wf}")
    print(f"{'n':>8s} " + " ".join(f"{_LABELS[q]:>17s}" for q in QUANTITIES))
    for i, g in enumerate(gens):
        print(f"{g:8d} " + " ".join(_cell(columns[q][i], 17, 10) for q in QUANTITIES))
    if overflow:
        print("# overflow: the true value exceeds the float64 range (about 1.8e308)")
    for q, note in notes.items():
        if q in QUANTITIES:
            print(f"# {_LABELS[q]} ({q}) '-': {note}")
    for q, (lo, hi) in bounds.items():
        if q not in QUANTITIES:
            continue
        print(f"# exact bounds on {_LABELS.get(q, q)} ({q}): "
              + "; ".join(f"n={g}: [{a:.10g}, {b:.10g}]" for g, a, b in zip(gens, lo, hi)))
    if limits is not None:
        print(f"# limits n -> infinity (M={m} constant):")
        for q in QUANTITIES:
            text = "-" if limits[q] is None else (limits[q] if isinstance(limits[q], str) else f"{limits[q]:.10g}")
            print(f"#   {_LABELS[q]:>17s} -> {text}")
        if limits["rate"] is not None:
            rate = limits["rate"]
            rate_text = (", ".join(f"{k}: {v}" for k, v in rate.items()) if isinstance(rate, dict) else str(rate))
            print(f"#   rate of approach: {rate_text}")
        for q, note in limits["notes"].items():
            print(f"#   {q}: {note}")
        print("#   (the SymPy forms of the limits: 'limits.expressions' in --json)")
    if chain.variance_scale == 1.0 and wf.is_replace:
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
            print(f"{g:8d} " + " ".join(_cell(x, 15, 8) for x in row))
        print("# S1 = sum_{i<n} 1/M_i. Nature SI: (3/2) sigma^2 S1 (correct to leading order). arXiv v2: "
              "sigma^2 (S1 + 3/(2 M_n)) and its Var formula (both wrong: see README).")
    return 0


def _run_multivariate(args) -> int:
    """``closed-form --dimension/--covariance``: :func:`theory.numeric.multivariate_exact_values` as a table or
    JSON (the 1-D layout: ``generations``, a list per quantity, ``notes``, ``bounds``)."""
    from ..chain import MultivariateGaussianChain
    from ..numeric import MULTIVARIATE_QUANTITIES, multivariate_exact_values

    refuse_one_dimensional(args, [("sigma", "--sigma", "the scale is the covariance: e.g. --covariance iso:S2")])
    if args.limits:
        raise ParameterError("limits", "left out with --dimension/--covariance (--limits is for the 1-D chain)", True)
    m, gens = args.sample_size, list(args.generations)
    wf = workflow_of(args)
    covariance = multivariate_covariance(args)
    chain = MultivariateGaussianChain(m, covariance, learner=args.learner, variance_scale=args.variance_scale,
                                      workflow=wf)
    if args.latex:
        from ..symbolic._latex_multivariate import latex_multivariate_report

        if not wf.is_replace:
            raise ParameterError("workflow", "replace with --latex and --dimension/--covariance (the other "
                                 "workflows' multivariate results are recursions: see proofs/multivariate.md)", str(wf))
        with np.errstate(all="ignore"):
            values = multivariate_exact_values(chain, gens)
        sys.stdout.write(latex_multivariate_report(chain, gens, values))
        return 0
    with np.errstate(all="ignore"):
        values = multivariate_exact_values(chain, gens)
    quantities = list(MULTIVARIATE_QUANTITIES)
    notes = {str(k): str(v) for k, v in (values.get("notes") or {}).items()}
    columns = {q: _column(values, q, len(gens)) for q in quantities}
    extras = {q: _column(values, q, len(gens)) for q in ("det_var", "log_det_var") if q in values}
    bounds = {}
    for q, pair in (values.get("bounds") or {}).items():
        if pair is None:
            continue
        lo, hi = pair
        bounds[q] = ([None] * len(gens) if lo is None else [float(x) for x in lo],
                     [None] * len(gens) if hi is None else [float(x) for x in hi])
    overflow = {q: [g for g, x in zip(gens, columns[q]) if x is not None and not math.isfinite(x)]
                for q in quantities}
    overflow = {q: v for q, v in overflow.items() if v}
    if args.json:
        out = {"dimension": chain.dimension, "sample_size": m, "learner": args.learner,
               "variance_scale": chain.variance_scale, "covariance": chain.covariance.tolist(), "workflow": str(wf),
               "generations": gens}
        out.update({q: [None if x is None else _finite_or_none(x) for x in columns[q]] for q in quantities})
        out.update({q: [None if x is None else _finite_or_none(x) for x in col] for q, col in extras.items()})
        if values.get("covariance_mean") is not None:
            out["covariance_mean"] = [[[_finite_or_none(float(x)) for x in row] for row in matrix]
                                      for matrix in np.asarray(values["covariance_mean"])]
        if overflow:
            out["overflow"] = overflow
            out["overflow_note"] = _OVERFLOW_NOTE_MULTIVARIATE
        out["notes"] = notes
        out["bounds"] = {q: {"lower": [None if x is None else _finite_or_none(x) for x in lo],
                             "upper": [None if x is None else _finite_or_none(x) for x in hi]}
                         for q, (lo, hi) in bounds.items()}
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0

    print(f"# exact moments of the multivariate chain: d={chain.dimension} M={m} learner={args.learner} "
          f"A={chain.variance_scale:g} workflow={wf} tr Sigma={float(np.trace(chain.covariance)):.10g} "
          f"det Sigma={float(np.linalg.det(chain.covariance)):.10g}")
    print(f"{'n':>8s} " + " ".join(f"{MULTIVARIATE_LABELS[q]:>17s}" for q in quantities))
    for i, g in enumerate(gens):
        print(f"{g:8d} " + " ".join(_cell(columns[q][i], 17, 10) for q in quantities))
    if overflow:
        print("# overflow: the true value exceeds the float64 range (about 1.8e308)")
    for q in quantities:
        if columns[q][0] is None and q in notes:
            print(f"# {MULTIVARIATE_LABELS[q]} ({q}) '-': {notes[q]}")
    for q, (lo, hi) in bounds.items():
        print(f"# exact bounds on {MULTIVARIATE_LABELS.get(q, q)} ({q}): "
              + "; ".join(f"n={g}: [{_bound_text(a)}, {_bound_text(b)}]" for g, a, b in zip(gens, lo, hi)))
    for q, note in notes.items():
        if not (q in columns and columns[q][0] is None):
            print(f"# {q}: {note}")
    return 0


_OVERFLOW_NOTE_MULTIVARIATE = ("null: the true value is beyond the float64 range (about 1.8e308); it is finite, not "
                               "computed wrongly (E det Sigma_n and Var tr Sigma_n grow geometrically in n)")


def _bound_text(x) -> str:
    return "-" if x is None else f"{x:.10g}"
