"""``collapse-theory decompose``: split E W2^2(p_n, D_0) into statistical, expressivity and approximation parts."""

from __future__ import annotations

import argparse
import json
import math
import sys

from ._args import (
    add_workflow_arguments,
    integer,
    positive,
    sample_size,
    seed_argument,
    workflow_of,
)

NAME = "decompose"
USES_JAX = True
HELP = "split the collapse error E W2^2(p_n, D_0) into its statistical, expressivity and approximation parts"
DESCRIPTION = (
    "For a real-data distribution D_0 (SPEC), the recursive Gaussian fitting chain started from D_0 and the "
    "error e(n) = E W2^2(p_n, D_0): the single-source errors e_S (finite samples only), e_X (Gaussian learner "
    "on non-Gaussian D_0 only), e_P (variance multiplier A only), the interaction (sum of the Moebius terms, so "
    "that the parts adding up to e is a check) and the Shapley attribution of e to the three sources. Exact closed "
    "forms (proofs/decomposition.md) except E sigma_1, the expected first-fit sd, which for a non-Gaussian D_0 is "
    "a Monte Carlo estimate whose standard error is propagated (--draws, --seed). SPEC: normal[:MEAN,SD] | "
    "mixture:W,MEAN,SD;W,MEAN,SD;... | student-t:NU[,LOC,SCALE] | laplace[:LOC,SCALE] | uniform[:LOW,HIGH] | "
    "data:PATH (.npy, or text/.csv with an optional header line; --column picks a column; at least 20 values, "
    "taken as their empirical distribution). Values that overflow float64 print as 'overflow' (null in --json). "
    "--workflow (default replace) changes what each generation is trained on; real points are drawn from D_0 "
    "(from G with expressivity off). Under a workflow other than replace the parts with the statistical source "
    "off are exact recursions of the infinite-data fit, and those with it on need E sigma_n, which has no closed "
    "form: Monte Carlo over --chains chains (seed --seed), shown as value +- standard error; the 'methods' lines "
    "(and 'methods' in --json) say per value whether it is exact or Monte Carlo. accumulate-subsample is done for "
    "a Gaussian D_0 only."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--d0", metavar="SPEC", required=True, help="the real-data distribution D_0 (see above)")
    parser.add_argument("--column", metavar="NAME|INDEX", default=None,
                        help="with --d0 data:PATH: the column to read, by header name or 0-based index")
    parser.add_argument("--sample-size", "-M", metavar="M", type=sample_size, nargs="+", required=True,
                        help="samples per generation: one M, or a schedule M_0 M_1 ... covering the generations")
    parser.add_argument("--generations", "-n", metavar="N", type=integer("generations", 1), nargs="+", required=True,
                        help="generations n >= 1 to report")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased",
                        help="variance divisor M - 1 (unbiased, default) or M (mle)")
    parser.add_argument("--variance-scale", "-A", metavar="A", type=positive("variance_scale"), default=1.0,
                        help="multiplier of every fitted variance (functional approximation error; default 1)")
    parser.add_argument("--draws", type=integer("draws", 2), default=None,
                        help="Monte Carlo fits for E sigma_1 of a non-Gaussian D_0 (default: up to 2**18)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="seed of the E sigma_1 estimate (default 0)")
    add_workflow_arguments(parser)
    parser.add_argument("--chains", "-K", type=integer("chains", 100), default=None,
                        help="Monte Carlo chains for a workflow other than replace (>= 100, default 32768)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _cell(v: float) -> str:
    return f"{v:.6g}" if math.isfinite(v) else "overflow"


def _table(result) -> str:
    cols = ("total", "statistical", "expressivity", "approximation", "interaction")
    head = ["n", *cols, "shap_S", "shap_X", "shap_P"]
    sources = ("statistical", "expressivity", "approximation")
    monte_carlo = result.chains > 0  # a workflow whose statistical-on values are Monte Carlo: value +- SE
    rows = []
    for i, n in enumerate(result.generations):
        vals = [getattr(result, c)[i] for c in cols] + [result.shapley[s][i] for s in sources]
        ses = [result.stderr[c][i] for c in cols] + [result.stderr["shapley"][s][i] for s in sources]
        if monte_carlo:
            rows.append([str(n)] + [_cell(float(v)) + (f" +- {float(e):.2g}" if e > 0 else "")
                                    for v, e in zip(vals, ses)])
        else:
            rows.append([str(n)] + [_cell(float(v)) for v in vals])
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    fit = result.first_fit
    how = fit.method + (f", {fit.draws} draws" if fit.draws else "")
    sd1 = f"{fit.ratio * result.sd:.9g}" + (f" +- {fit.stderr * result.sd:.2g} ({how})" if fit.stderr else f" ({how})")
    finite_se = [float(v) for v in result.stderr["total"] if math.isfinite(v)]
    se = max(finite_se + [0.0])
    sizes = result.sample_sizes
    size_text = str(int(sizes[0])) if len(set(sizes.tolist())) == 1 else " ".join(str(int(m)) for m in sizes)
    header = [
        f"D_0 = {result.d0.spec}: mean {result.mean:.6g}, sd {result.sd:.6g}, rho {result.rho:.12g}"
        + (f" (+- {result.rho_error:.1g})" if result.rho_error else ""),
        f"W2^2(G, D_0) = 2 sigma^2 (1 - rho) = {result.w2_sq_projection:.6g};  E sigma_1 (A = 1) = {sd1}",
        f"M = {size_text}, learner {result.learner}, A = {result.variance_scale:g}"
        + ((f";  largest standard error of a value below (from {'the Monte Carlo' if monte_carlo else 'E sigma_1'}): "
            f"{se:.2g}") if se else ""),
        "parts: total = statistical + expressivity + approximation + interaction (Moebius terms); "
        "Shapley: shap_S + shap_X + shap_P = total",
        "",
    ]
    notes = [f"# {note}" for note in result.notes if note.startswith("overflow")]
    if result.workflow is not None and not result.workflow.is_replace:
        header.insert(3, f"workflow {result.workflow}" + (f": Monte Carlo values over {result.chains} chains, "
                                                          "shown as value +- standard error" if monte_carlo else ""))
        def how(label):
            return "exact" if label == "exact" else "monte carlo"

        methods = result.methods
        notes.append("# methods: " + ", ".join(f"{name} {how(methods[name])}" for name in cols) + "; Shapley: "
                     + ", ".join(f"{k} {how(v)}" for k, v in methods["shapley"].items())
                     + " (which runs: 'methods' in --json)")
    return "\n".join(header + lines + notes)


def run(args: argparse.Namespace) -> int:
    import jax

    from .._errors import ParameterError
    from ..decomposition import decompose
    from ..decomposition._distributions import load_data

    d0 = args.d0
    if args.column is not None:
        if not (isinstance(d0, str) and d0.strip().lower().startswith("data:")):
            raise ParameterError("column", "used only with --d0 data:PATH", args.column)
        d0 = load_data(d0.strip()[5:].strip(), column=args.column)
    size = args.sample_size[0] if len(args.sample_size) == 1 else list(args.sample_size)
    wf = workflow_of(args)
    if args.chains is not None and wf.is_replace:
        raise ParameterError("chains", "used only with a --workflow other than replace (replace is exact)",
                             args.chains)
    result = decompose(d0, args.generations, sample_size=size, learner=args.learner,
                       variance_scale=args.variance_scale, key=jax.random.key(args.seed), draws=args.draws,
                       workflow=wf, chains=args.chains)
    for note in result.notes:
        if not note.startswith(("overflow", "workflow")):
            sys.stderr.write(f"collapse-theory decompose: warning: {note}\n")
    if args.json:
        out = result.to_dict()
        out["seed"] = args.seed
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(_table(result))
    return 0
