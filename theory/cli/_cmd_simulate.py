"""``collapse-theory simulate``: Monte Carlo of the Gaussian chain, MC means and standard errors per generation,
beside the exact value and the z-score wherever the exact value exists."""

from __future__ import annotations

import math

from .._errors import ParameterError
from . import _learned_gmm, _learned_kde, _learned_vae
from ._args import (
    MULTIVARIATE_LABELS,
    add_multivariate_arguments,
    add_workflow_arguments,
    finite,
    finite_or_none,
    generation,
    integer,
    is_multivariate,
    learner_argument,
    multivariate_covariance,
    positive,
    print_json,
    refuse_one_dimensional,
    sample_size,
    seed_argument,
    workflow_of,
    z_score,
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
    "accumulate-subsample runs in samples mode (no sufficient statistics describe a subsample of the pool). "
    "--dimension d and/or --covariance SPEC run the multivariate chain instead (theory.simulate_multivariate: "
    "N(mu, Sigma) in d dimensions, each generation the sample mean and covariance of M >= d + 1 points; sufficient "
    "mode draws the mean and the Bartlett Wishart scatter, O(d^3) per chain and generation whatever M): "
    "E||mu_n - mu||^2, E tr Sigma_n, Var tr Sigma_n, E det Sigma_n, E log det Sigma_n - log det Sigma, E W2^2 "
    "(Bures-Wasserstein, beside its exact bounds), the effective rank and the mean eigenvalues of Sigma_n, each "
    "quantity beside theory.multivariate_exact_values and z. "
    "Learned models (--learner gmm:K, kde:H or vae; --source picks D_0, --decompose adds the error sources): "
    + " ".join(m.DESCRIPTION for m in (_learned_gmm, _learned_kde, _learned_vae))
)


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", type=sample_size, required=True, help="samples per generation M (>= 2)")
    parser.add_argument("--generations", "-n", type=generation, nargs="+", required=True,
                        help="generations n >= 0 to report")
    parser.add_argument("--chains", "-K", type=integer("chains", 2), default=None,
                        help="independent chains (>= 2; default 10000 for the Gaussian chains; a learned chain "
                             "picks its own: gmm 20 runs, kde 2000 chains, vae its seeds)")
    parser.add_argument("--mode", choices=("samples", "sufficient"), default=None,
                        help="samples: draw the M points and fit them; sufficient (default, except samples for "
                        "accumulate-subsample): draw the fitted statistics from their exact law")
    parser.add_argument("--learner", type=learner_argument, default="unbiased", metavar="LEARNER",
                        help="unbiased or mle (the Gaussian chain's variance divisor M-1 or M; default unbiased), or a "
                             "learned model: gmm:K (Gaussian mixture of K components by EM), kde:H (Gaussian kernel "
                             "density estimate with bandwidth H) or vae (a small VAE on scikit-learn's 8x8 digits)")
    parser.add_argument("--source", default=None, metavar="SPEC",
                        help="generation 0 (D_0) of a learned chain: gmm: blob (default), two_gaussians or normal:d (--dimension d "
                             "alone picks normal:d); kde: normal "
                             "or normal:MU,SIGMA2; vae: digits (the only one)")
    parser.add_argument("--decompose", action="store_true",
                        help="for a learned chain, also estimate the error sources by switching them off")
    parser.add_argument("--variance-scale", "-A", type=positive("variance_scale"), default=1.0,
                        help="multiplier A of every fitted variance (> 0, default 1)")
    parser.add_argument("--sigma", type=positive("sigma"), default=None,
                        help="standard deviation of generation 0 of the 1-D chain (default 1)")
    parser.add_argument("--mu", type=finite("mu"), default=None, help="mean of generation 0 of the 1-D chain (default 0)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="floating-point type of the simulation (default float64)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed (jax.random.key(seed))")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--max-seconds", type=positive("max_seconds"), default=86_400.0,
                        help="refuse runs whose optimistic time estimate exceeds this (default 86400: a day)")
    add_workflow_arguments(parser)
    add_multivariate_arguments(parser)
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


#: Chains of the Gaussian chain's Monte Carlo when --chains is not given (a learned chain picks its own).
DEFAULT_CHAINS = 10_000


def _run_learned(args, model: str) -> int:
    """``simulate --learner gmm:K|kde:H|vae``: the learned chain's own runner (theory/cli/_learned_<model>.py)."""
    import importlib

    from ..chain._learners import parse_learner

    for attribute, flag, default in (("sigma", "--sigma", None), ("mu", "--mu", None), ("mode", "--mode", None),
                                     ("covariance", "--covariance", None), ("variance_scale", "--variance-scale", 1.0)):
        if getattr(args, attribute, default) != default:
            raise ParameterError(flag.lstrip("-").replace("-", "_"), f"left out for a learned chain (--learner "
                                 f"{args.learner}): {flag} belongs to the Gaussian chain", getattr(args, attribute))
    learner = parse_learner(args.learner)
    runner = importlib.import_module(f"._learned_{model}", __package__)
    return runner.run(args, learner)


def run(args) -> int:
    import jax

    from ..chain import GaussianChain
    from ..chain._learners import learned_model
    from ..montecarlo import QUANTITIES, simulate
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)  # a clear error for an unknown or absent device before anything runs
    model = learned_model(args.learner)
    if model is not None:
        return _run_learned(args, model)
    for flag, given in (("--source", args.source is not None), ("--decompose", args.decompose)):
        if given:
            raise ParameterError(flag.lstrip("-"), f"left out for the Gaussian chain ({flag} is for a learned "
                                 "chain: --learner gmm:K, kde:H or vae)", True if flag == "--decompose" else args.source)
    args.chains = DEFAULT_CHAINS if args.chains is None else args.chains
    if is_multivariate(args):
        return _run_multivariate(args)
    args.sigma = 1.0 if args.sigma is None else args.sigma
    args.mu = 0.0 if args.mu is None else args.mu
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
    z = {q: [z_score(m, s, e) for m, s, e in zip(data[q], data[q + "_se"], exact[q])] for q in QUANTITIES}
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
        print_json(out)
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


#: Optimistic throughput of the multivariate Monte Carlo in units of d^3 + 100 (+ M d^2 in samples mode) per
#: chain and generation (measured on CPU: d = 10 at 1.0e5 and d = 100 at 1.1e3 chain-generations/s, i.e. 1e8 and
#: 1.1e9 units/s; a request is refused only when even 1e11 units/s would exceed --max-seconds).
_OPTIMISTIC_UNITS_PER_SECOND = 1e11
#: Most generations of a multivariate run (its step table holds one entry per generation).
_MAX_MULTIVARIATE_GENERATIONS = 10**8


def _multivariate_seconds(chain, mode: str, chains: int, steps: int) -> float:
    d, m = chain.dimension, chain.sample_size
    per_step = d**3 + 100
    if mode == "samples":
        per_step += m * d * d
    work = steps * per_step
    if chain.workflow.kind == "accumulate-subsample":
        work += m * d * steps * (steps + 1) / 2  # the pool each chain keeps and draws from
    return chains * work / _OPTIMISTIC_UNITS_PER_SECOND


def _multivariate_exact(chain, generations, quantities):
    """``({quantity: [value or None]}, notes, bounds)`` of theory.numeric.multivariate_exact_values."""
    import numpy as np

    from ..numeric import multivariate_exact_values

    with np.errstate(all="ignore"):
        values = multivariate_exact_values(chain, list(generations))
    exact = {q: [float(v) for v in values[q]] if values.get(q) is not None else [None] * len(generations)
             for q in quantities}
    bounds = {}
    for q, pair in (values.get("bounds") or {}).items():
        if pair is None:
            continue
        lo, hi = pair
        bounds[q] = {"lower": [None] * len(generations) if lo is None else [finite_or_none(x) for x in lo],
                     "upper": [None] * len(generations) if hi is None else [finite_or_none(x) for x in hi]}
    return exact, {str(k): str(v) for k, v in (values.get("notes") or {}).items()}, bounds


def _run_multivariate(args) -> int:
    """``simulate --dimension/--covariance``: theory.simulate_multivariate beside the exact values and z."""
    import jax

    from .._errors import ParameterError
    from ..chain import MultivariateGaussianChain
    from ..montecarlo import simulate_multivariate
    from ..montecarlo._sharding import select_devices
    from ..numeric import MULTIVARIATE_QUANTITIES

    refuse_one_dimensional(args, [("sigma", "--sigma", "the scale is the covariance: e.g. --covariance iso:S2"),
                                  ("mu", "--mu", "no reported quantity depends on the mean")])
    wf = workflow_of(args)
    chain = MultivariateGaussianChain(args.sample_size, multivariate_covariance(args), learner=args.learner,
                                      variance_scale=args.variance_scale, workflow=wf)
    mode = args.mode or ("samples" if wf.kind == "accumulate-subsample" else "sufficient")
    gens = list(args.generations)
    steps = max(gens)
    if steps > _MAX_MULTIVARIATE_GENERATIONS:
        raise ParameterError("generations", f"at most {_MAX_MULTIVARIATE_GENERATIONS:.0e} for the multivariate "
                             "Monte Carlo (its step table holds one entry per generation)", steps)
    for name, count in (("generations", 2), ("chains", args.chains)):
        seconds = _multivariate_seconds(chain, mode, count, steps)
        if seconds > args.max_seconds:
            raise ParameterError(name, f"a run whose optimistic time estimate ({seconds:.3g} s at "
                                 f"{_OPTIMISTIC_UNITS_PER_SECOND:.0e} units of d^3 per second) is within "
                                 f"--max-seconds {args.max_seconds:g}", count if name == "chains" else steps)
    quantities = list(MULTIVARIATE_QUANTITIES)
    exact = {q: [None] * len(gens) for q in quantities}
    exact_notes, bounds = {}, {}
    if not args.no_exact:  # before the run: a bad chain is reported without waiting for it
        exact, exact_notes, bounds = _multivariate_exact(chain, gens, quantities)
    devices = select_devices(args.device)
    try:
        with jax.default_device(devices[0]):
            result = simulate_multivariate(chain, gens, chains=args.chains, seed=args.seed, mode=mode,
                                           dtype=args.dtype)
    except ParameterError as err:
        if err.parameter == "max_block_elements":  # not a flag: the pool of accumulate-subsample grows with n
            raise ParameterError("generations", f"fewer generations for this run ({err.allowed})", steps) from None
        raise
    data = result.to_dict()
    keys = [k for k in data if k + "_se" in data]  # every Monte Carlo quantity (effective_rank_mean too)
    requested = [int(g) for g in data["generations"]]  # sorted, unique
    index = {g: i for i, g in enumerate(gens)}
    exact = {q: [exact[q][index[g]] for g in requested] for q in quantities}
    bounds = {q: {side: [b[side][index[g]] for g in requested] for side in b} for q, b in bounds.items()}
    z = {q: [z_score(m, s, e) for m, s, e in zip(data[q], data[q + "_se"], exact[q])] for q in quantities}
    if args.json:
        out = {"dimension": chain.dimension, "sample_size": args.sample_size, "learner": args.learner,
               "variance_scale": args.variance_scale, "covariance": chain.covariance.tolist(), "chains": args.chains,
               "mode": mode, "seed": args.seed, "workflow": str(wf), "dtype": result.dtype,
               "devices": 1}
        out.update(data)
        out["exact"] = {q: [v if v is None or math.isfinite(v) else None for v in exact[q]] for q in quantities}
        out["z"] = z
        out["bounds"] = bounds
        for q, note in exact_notes.items():
            out["notes"][f"exact.{q}"] = note
        print_json(out)
        return 0
    print(f"# multivariate chain: d={chain.dimension} M={args.sample_size} learner={args.learner} "
          f"A={args.variance_scale:g} workflow={wf} chains={args.chains} mode={mode} seed={args.seed} ({result.dtype})")
    print("# each cell: MC mean ± standard error [exact value (or exact bounds), z = (MC - exact)/SE]")
    labels = {**MULTIVARIATE_LABELS, "effective_rank_mean": "E eff. rank"}
    for j, n in enumerate(requested):
        print(f"n = {n}")
        for q in keys:
            mc, se = data[q][j], data[q + "_se"][j]
            e = exact[q][j] if q in exact else None
            zz = z[q][j] if q in z else None
            mc_text = "overflow" if mc is None else f"{mc:.6g}"
            se_text = "overflow" if se is None else f"{se:.2g}"
            if e is not None:
                exact_text = f"exact {e:.6g}" if math.isfinite(e) else "exact overflow"
            elif q in bounds:
                lo, hi = bounds[q]["lower"][j], bounds[q]["upper"][j]
                exact_text = f"bounds [{'-' if lo is None else f'{lo:.5g}'}, {'-' if hi is None else f'{hi:.5g}'}]"
            else:
                exact_text = "exact -"
            z_text = "-" if zz is None else f"{zz:+.2f}"
            print(f"  {labels.get(q, q):16s} {mc_text:>13s} ± {se_text:<9s} {exact_text:>30s}  z {z_text:>6s}")
        eig = data["eigenvalues"][j]
        shown = eig if len(eig) <= 8 else eig[:4] + ["..."] + eig[-4:]
        print("  eigenvalues (mean, ascending): "
              + " ".join(x if isinstance(x, str) else ("overflow" if x is None else f"{x:.4g}") for x in shown))
    for q in quantities:
        if q in exact_notes and all(v is None for v in exact[q]):
            print(f"# {labels[q]} ({q}): exact '-': {exact_notes[q]}")
    if result.notes:
        print("# " + "; ".join(f"{k}: {v}" for k, v in sorted(result.notes.items()) if not k.endswith("_se")))
    return 0
