"""``collapse-theory simulate``: Monte Carlo of the Gaussian chain, MC means and standard errors per generation."""

from __future__ import annotations

import json
import sys
from ._args import seed_argument

NAME = "simulate"
HELP = "Monte Carlo of the recursive Gaussian fitting chain (JAX): MC mean and SE of every quantity"
DESCRIPTION = (
    "Run many independent chains of the recursive Gaussian fitting process (generation i+1 fitted to M samples of "
    "generation i) and report, at each requested generation n, the Monte Carlo mean and standard error of "
    "E(mu_n-mu)^2, E sigma_n^2, Var sigma_n^2, E sigma_n, E log sigma_n^2/sigma^2, E W2^2 and Var W2^2 "
    "(keys as in theory.exact_values). Runs in float64."
)


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", type=int, required=True, help="samples per generation M (>= 2)")
    parser.add_argument("--generations", "-n", type=int, nargs="+", required=True, help="generations n >= 0 to report")
    parser.add_argument("--chains", "-K", type=int, default=10_000, help="independent chains (default 10000)")
    parser.add_argument("--mode", choices=("samples", "sufficient"), default="sufficient",
                        help="samples: draw the M points and fit them; sufficient (default): draw the fitted "
                        "statistics from their exact law")
    parser.add_argument("--learner", choices=("unbiased", "mle"), default="unbiased", help="variance divisor M-1 or M")
    parser.add_argument("--variance-scale", type=float, default=1.0, help="multiplier A of every fitted variance")
    parser.add_argument("--sigma", type=float, default=1.0, help="standard deviation of generation 0")
    parser.add_argument("--mu", type=float, default=0.0, help="mean of generation 0")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed (jax.random.key(seed))")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from ..chain import GaussianChain
    from ..montecarlo import QUANTITIES, simulate
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)  # a clear error for an unknown or absent device before anything runs
    chain = GaussianChain(args.sample_size, learner=args.learner, variance_scale=args.variance_scale,
                          sigma=args.sigma, mu=args.mu)
    result = simulate(
        jax.random.key(args.seed), chain, chains=args.chains, generations=args.generations, mode=args.mode,
        device=args.device, progress=False if args.quiet else None,
    )
    if args.json:
        out = {"sample_size": args.sample_size, "learner": args.learner, "variance_scale": args.variance_scale,
               "sigma": args.sigma, "mu": args.mu, "chains": args.chains, "mode": args.mode, "seed": args.seed,
               "dtype": result.dtype, "devices": result.devices}
        out.update(result.to_dict())
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"# M={args.sample_size} learner={args.learner} A={args.variance_scale:g} sigma={args.sigma:g} "
          f"chains={args.chains} mode={args.mode} seed={args.seed} ({result.dtype}, {result.devices} device(s))")
    print(f"{'n':>6s}  " + "  ".join(f"{q:>24s}" for q in QUANTITIES))
    for j, n in enumerate(result.generations):
        cells = [f"{result[q][j]:12.5g} ± {result[q + '_se'][j]:9.2g}" for q in QUANTITIES]
        print(f"{n:6d}  " + "  ".join(f"{c:>24s}" for c in cells))
    return 0
