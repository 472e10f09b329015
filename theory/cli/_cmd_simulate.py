"""``collapse-theory simulate``: Monte Carlo of the Gaussian chain, MC means and standard errors per generation,
beside the exact value and the z-score wherever the exact value exists."""

from __future__ import annotations

import json
import math
import sys

from ._args import (
    add_workflow_arguments,
    finite,
    generation,
    integer,
    positive,
    sample_size,
    seed_argument,
    workflow_of,
)

NAME = "simulate"
USES_JAX = True
HELP = "Monte Carlo of the recursive Gaussian fitting chain (JAX): MC mean and SE of every quantity, exact value and z"
DESCRIPTION = (
    "Run many independent chains of the recursive Gaussian fitting process (generation i+1 fitted to M samples of "
    "generation i) and report, at each requested generation n, the Monte Carlo mean and standard error of "
    "E(mu_n-mu)^2, E sigma_n^2, Var sigma_n^2, E sigma_n, E log sigma_n^2/sigma^2, E W2^2 and Var W2^2 "
    "(keys as in theory.exact_values), each beside its exact value (theory.exact_values) and "
    "z = (MC - exact)/SE. Runs in float64 (--dtype float32 is about 2x faster on CPU), like theory.simulate. "
    "--json gives every quantity and its _se, plus 'exact' and 'z' per quantity (null where none). Values that "
    "overflow are reported as 'overflow' (null in --json, with the reason under 'notes'). Requests that would "
    "take more than a day (--max-seconds) even at an optimistic speed are refused with the estimate. Ctrl-C stops "
    "a run within about a second (exit status 130). --workflow picks what each generation is trained on (see its "
    "help); the exact value and z are shown only where the workflow has an exact value (E sigma_n and E W2^2 "
    "under mixing or accumulation have none: '-', with the reason; the Monte Carlo is then the value). "
    "accumulate-subsample runs in samples mode (no sufficient statistics describe a subsample of the pool)."
)


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", type=sample_size, required=True, help="samples per generation M (>= 2)")
    parser.add_argument("--generations", "-n", type=generation, nargs="+", required=True,
                        help="generations n >= 0 to report")
    parser.add_argument("--chains", "-K", type=integer("chains", 2), default=10_000,
                        help="independent chains (>= 2, default 10000)")
    parser.add_argument("--mode", choices=("samples", "sufficient"), default=None,
                        help="samples: draw the M points and fit them; sufficient (default, except samples for "
                        "accumulate-subsample): draw the fitted statistics from their exact law")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased", help="variance divisor M-1 or M")
    parser.add_argument("--variance-scale", "-A", type=positive("variance_scale"), default=1.0,
                        help="multiplier A of every fitted variance (> 0, default 1)")
    parser.add_argument("--sigma", type=positive("sigma"), default=1.0, help="standard deviation of generation 0")
    parser.add_argument("--mu", type=finite("mu"), default=0.0, help="mean of generation 0")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="floating-point type of the simulation (default float64)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed (jax.random.key(seed))")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--max-seconds", type=positive("max_seconds"), default=86_400.0,
                        help="refuse runs whose optimistic time estimate exceeds this (default 86400: a day)")
    add_workflow_arguments(parser)
    parser.add_argument("--no-exact", action="store_true", help="do not compute the exact values (MC only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _exact(chain, generations, quantities) -> tuple[dict, dict]:
    """``{quantity: [value]}`` from theory.exact_values (``inf`` where it overflows float64, ``None`` where the
    workflow has no exact value) and its ``notes`` (why not)."""
    import numpy as np

    from ..numeric import exact_values

    with np.errstate(all="ignore"):
        values = exact_values(chain, list(generations))
    exact = {q: [float(v) for v in values[q]] if values.get(q) is not None else [None] * len(generations)
             for q in quantities}
    return exact, dict(values.get("notes") or {})


def _z(mc, se, exact):
    if mc is None or se is None or exact is None or not (math.isfinite(mc) and math.isfinite(se)):
        return None
    if se > 0:
        return (mc - exact) / se
    return 0.0 if mc == exact else None


def run(args) -> int:
    import jax

    from ..chain import GaussianChain
    from ..montecarlo import QUANTITIES, simulate
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)  # a clear error for an unknown or absent device before anything runs
    wf = workflow_of(args)
    chain = GaussianChain(args.sample_size, learner=args.learner, variance_scale=args.variance_scale,
                          sigma=args.sigma, mu=args.mu, workflow=wf)
    mode = args.mode or ("samples" if wf.kind == "accumulate-subsample" else "sufficient")
    exact = {q: [None] * len(args.generations) for q in QUANTITIES}
    exact_notes = {}
    if not args.no_exact:  # before the run: a bad chain or an overflow is reported without waiting for it
        exact, exact_notes = _exact(chain, args.generations, QUANTITIES)
    result = simulate(
        jax.random.key(args.seed), chain, chains=args.chains, generations=args.generations, mode=mode,
        dtype=args.dtype, device=args.device, progress=False if args.quiet else None, max_seconds=args.max_seconds,
    )
    data = result.to_dict()
    z = {q: [_z(m, s, e) for m, s, e in zip(data[q], data[q + "_se"], exact[q])] for q in QUANTITIES}
    exact_json = {q: [v if v is None or math.isfinite(v) else None for v in exact[q]] for q in QUANTITIES}
    overflowed = sorted(q for q in QUANTITIES if any(v is not None and not math.isfinite(v) for v in exact[q]))
    if args.json:
        out = {"sample_size": args.sample_size, "learner": args.learner, "variance_scale": args.variance_scale,
               "sigma": args.sigma, "mu": args.mu, "chains": args.chains, "mode": mode, "seed": args.seed, "workflow": str(wf),
               "dtype": result.dtype, "devices": result.devices}
        out.update(data)
        out["exact"] = exact_json
        out["z"] = z
        for q in overflowed:
            out["notes"][f"exact.{q}"] = "overflow: the exact value exceeds float64 (null)"
        for q, note in exact_notes.items():
            if q in QUANTITIES:
                out["notes"][f"exact.{q}"] = f"null under workflow {wf}: {note}"
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print(f"# M={args.sample_size} learner={args.learner} A={args.variance_scale:g} sigma={args.sigma:g} "
          f"mu={args.mu:g} workflow={wf} chains={args.chains} mode={mode} seed={args.seed} "
          f"({result.dtype}, {result.devices} device(s))")
    print("# each cell: MC mean ± standard error [exact value, z = (MC - exact)/SE]")
    for j, n in enumerate(result.generations):
        print(f"n = {n}")
        for q in QUANTITIES:
            mc, se, e, zz = data[q][j], data[q + "_se"][j], exact[q][j], z[q][j]
            mc_text = "overflow" if mc is None else f"{mc:.6g}"
            se_text = "overflow" if se is None else f"{se:.2g}"
            exact_text = "-" if e is None else (f"{e:.6g}" if math.isfinite(e) else "overflow")
            z_text = "-" if zz is None else f"{zz:+.2f}"
            print(f"  {q:18s} {mc_text:>13s} ± {se_text:<9s} exact {exact_text:>13s}  z {z_text:>6s}")
    for q, note in exact_notes.items():
        if q in QUANTITIES:
            print(f"# {q}: exact '-' under workflow {wf}: {note}")
    if result.notes:
        print("# " + "; ".join(f"{k}: {v}" for k, v in sorted(result.notes.items()) if not k.endswith("_se")))
    return 0
