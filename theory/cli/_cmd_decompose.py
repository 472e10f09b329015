"""``collapse-theory decompose``: split E W2^2(p_n, D_0) into statistical, expressivity and approximation parts."""

from __future__ import annotations

import argparse
import json
import sys
from ._args import seed_argument

NAME = "decompose"
HELP = "split the collapse error E W2^2(p_n, D_0) into its statistical, expressivity and approximation parts"
DESCRIPTION = (
    "For a real-data distribution D_0 (SPEC), the recursive Gaussian fitting chain started from D_0 and the "
    "error e(n) = E W2^2(p_n, D_0): the single-source errors e_S (finite samples only), e_X (Gaussian learner "
    "on non-Gaussian D_0 only), e_P (variance multiplier A only), the interaction remainder e - e_S - e_X - e_P, "
    "and the Shapley attribution of e to the three sources. Exact closed forms (proofs/decomposition.md) except "
    "E sigma_1, the expected first-fit sd, which for a non-Gaussian D_0 is a Monte Carlo estimate whose standard "
    "error is propagated (--draws, --seed). SPEC: normal[:MEAN,SD] | mixture:W,MEAN,SD;W,MEAN,SD;... | "
    "student-t:NU[,LOC,SCALE] | laplace[:LOC,SCALE] | uniform[:LOW,HIGH] | data:PATH (.npy or .csv, 1-D samples, "
    "taken as their empirical distribution)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--d0", metavar="SPEC", required=True, help="the real-data distribution D_0 (see above)")
    parser.add_argument("--sample-size", "-M", metavar="M", type=int, nargs="+", required=True,
                        help="samples per generation: one M, or a schedule M_0 M_1 ... covering the generations")
    parser.add_argument("--generations", "-n", metavar="N", type=int, nargs="+", required=True,
                        help="generations n >= 1 to report")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased",
                        help="variance divisor M - 1 (unbiased, default) or M (mle)")
    parser.add_argument("--variance-scale", "-A", metavar="A", type=float, default=1.0,
                        help="multiplier of every fitted variance (functional approximation error; default 1)")
    parser.add_argument("--draws", type=int, default=None,
                        help="Monte Carlo fits for E sigma_1 of a non-Gaussian D_0 (default: up to 2**18)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="seed of the E sigma_1 estimate (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _table(result) -> str:
    cols = ("total", "statistical", "expressivity", "approximation", "interaction")
    head = ["n", *cols, "shap_S", "shap_X", "shap_P"]
    rows = []
    for i, n in enumerate(result.generations):
        vals = [getattr(result, c)[i] for c in cols] + [result.shapley[s][i] for s in
                                                         ("statistical", "expressivity", "approximation")]
        rows.append([str(n)] + [f"{v:.6g}" for v in vals])
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    fit = result.first_fit
    how = fit.method + (f", {fit.draws} draws" if fit.draws else "")
    sd1 = f"{fit.ratio * result.sd:.9g}" + (f" +- {fit.stderr * result.sd:.2g} ({how})" if fit.stderr else f" ({how})")
    se = max(float(max(result.stderr["total"])), 0.0)
    sizes = result.sample_sizes
    size_text = str(int(sizes[0])) if len(set(sizes.tolist())) == 1 else " ".join(str(int(m)) for m in sizes)
    header = [
        f"D_0 = {result.d0.spec}: mean {result.mean:.6g}, sd {result.sd:.6g}, rho {result.rho:.12g}"
        + (f" (+- {result.rho_error:.1g})" if result.rho_error else ""),
        f"W2^2(G, D_0) = 2 sigma^2 (1 - rho) = {result.w2_sq_projection:.6g};  E sigma_1 (A = 1) = {sd1}",
        f"M = {size_text}, learner {result.learner}, A = {result.variance_scale:g}"
        + (f";  largest standard error of a value below (from E sigma_1): {se:.2g}" if se else ""),
        "parts: total = statistical + expressivity + approximation + interaction; "
        "Shapley: shap_S + shap_X + shap_P = total",
        "",
    ]
    return "\n".join(header + lines)


def run(args: argparse.Namespace) -> int:
    import jax

    from ..decomposition import decompose

    size = args.sample_size[0] if len(args.sample_size) == 1 else list(args.sample_size)
    result = decompose(args.d0, args.generations, sample_size=size, learner=args.learner,
                       variance_scale=args.variance_scale, key=jax.random.key(args.seed), draws=args.draws)
    if args.json:
        out = result.to_dict()
        out["seed"] = args.seed
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(_table(result))
    return 0
