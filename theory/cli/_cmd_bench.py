"""``collapse-theory bench``: throughput of the Monte Carlo engine against its RNG floor and NumPy."""

from __future__ import annotations

import json
import sys
from ._args import seed_argument

NAME = "bench"
HELP = "throughput of samples/sufficient modes against their RNG floor and NumPy loops"
DESCRIPTION = (
    "On one device and in one run, measure (a) the bare normal generator that samples mode uses (a Threefry stream "
    "bit-identical to jax.random's, samples/s: the floor for samples mode; plain jax.random.normal is reported beside it), "
    "(b) samples mode (samples/s), (c) sufficient mode (chain-generations/s, also at 10 M), (d) a per-chain NumPy "
    "loop as in the authors' notebook and (e) a vectorised NumPy version (samples/s). Compile time is excluded; "
    "each figure is the best of a few repetitions. Targets: (b) >= 0.7 (a); (b) >= 10 (d); (b) >= 3 (e); "
    "(c) >= 5 (b)/M. JAX in float32, NumPy in float64."
)


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", type=int, default=100, help="samples per generation M (default 100)")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--tiny", action="store_true", help=argparse_suppress())


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def run(args) -> int:
    import jax

    from ..montecarlo._bench import benchmark
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)
    sizes = dict(elements=2**12, generations=2, sufficient_chains=2**10, numpy_chains=4, repeats=1) if args.tiny else {}
    report = benchmark(jax.random.key(args.seed), sample_size=args.sample_size, device=args.device, **sizes)
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
        return 0
    units = report["units"]
    print(f"# device {report['device']}, M = {report['sample_size']}, chains = {report['chains']} "
          f"(JAX {report['jax_dtype']}, NumPy {report['numpy_dtype']})")
    for key, label in [("rng_floor", "(a) RNG floor (engine generator)"), ("samples_mode", "(b) samples mode"),
                       ("sufficient_mode", "(c) sufficient mode"), ("numpy_loop", "(d) NumPy per-chain loop"),
                       ("numpy_vectorised", "(e) NumPy vectorised")]:
        print(f"{label:32s} {report[key]:14.4g} {units[key]}")
    print(f"{'    plain jax.random.normal':32s} {report['jax_random_normal']:14.4g} samples/s")
    print(f"{'(c) sufficient mode at 10 M':32s} {report['sufficient_mode_at_10m']:14.4g} chain-generations/s")
    for key, value in report["ratios"].items():
        target = report["targets"][key]
        met = value >= target
        print(f"{key:32s} {value:10.3g}  (target >= {target:g}: {'met' if met else 'NOT met'})")
    return 0
