"""``collapse-theory bench``: the Monte Carlo engine against its peers and the bare generators, like for like."""

from __future__ import annotations

import json
import sys

from ._args import integer, sample_size, seed_argument

NAME = "bench"
HELP = "like-for-like throughput of samples/sufficient modes against NumPy, PyTorch and the bare generators"
DESCRIPTION = (
    "In one run, interleaved round by round, time the engine's samples mode and sufficient mode against peers "
    "doing the same work (same M, chains, generations, dtype, the same per-chain recursion of mu and sigma^2 of "
    "the unbiased learner): the authors' notebook loop (float64), the best vectorised NumPy (SFC64 ziggurat into "
    "preallocated buffers, fused sums; 1 and 2 threads), NumPy sufficient statistics (standard_normal + "
    "standard_gamma; 1 and 2 threads), PyTorch when installed; and against the bare generators (NumPy, torch, "
    "the engine's own stream, jax.random.normal; NumPy's normal+gamma pair for sufficient mode). Reports wall "
    "time and process CPU time (all threads) of each, its thread count, float32 and float64, and the targets "
    "of the project (issue 8 of its tracker) as ratios with met true/false. On CPU the engine also runs with one JAX device per core. "
    "Also the multivariate chain (float64, replace) at d = 10 and 100, M = d + 1 and 10 d, sufficient and samples "
    "mode, against NumPy vectorised over chains, in chain-generations per second. "
    "Takes about a minute and a half on an idle 2-core CPU with a warm compilation cache (longer under load or "
    "cold); --tiny is a smoke test of a few seconds."
)
USES_JAX = True


def add_arguments(parser) -> None:
    parser.add_argument("--sample-size", "-M", type=sample_size, default=100,
                        help="samples per generation M (default 100); sufficient mode also runs at M = 1e7")
    parser.add_argument("--device", default=None, help="cpu or gpu (default: JAX's default backend)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="PRNG seed")
    parser.add_argument("--repeats", type=integer("repeats", 1, 100), default=3,
                        help="interleaved rounds; each method keeps its best (default 3)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: a smoke test, not a measurement")


def _cpu_devices_per_core() -> None:
    """On CPU, ask JAX for one device per core (before its backend starts), so chains are split across cores."""
    import os

    import jax

    try:
        from jax._src import xla_bridge

        if xla_bridge.backends_are_initialized():
            return
    except (ImportError, AttributeError):  # pragma: no cover - private API moved: keep JAX's default
        return
    try:
        jax.config.update("jax_num_cpu_devices", max(1, min(os.cpu_count() or 1, 64)))
    except (AttributeError, RuntimeError, ValueError):  # pragma: no cover
        pass


def run(args) -> int:
    if args.device in (None, "cpu"):
        _cpu_devices_per_core()
    import jax

    from ..montecarlo._bench import benchmark
    from ..montecarlo._sharding import select_devices

    select_devices(args.device)
    sizes = {}
    if args.tiny:
        sizes = dict(elements=2**12, generations=2, sufficient_chains=2**10, sufficient_generations=2, repeats=1,
                     dtypes=("float32",), multivariate_dimensions=(2,), multivariate_large=False)
    report = benchmark(jax.random.key(args.seed), sample_size=args.sample_size, device=args.device,
                       torch=not args.no_torch, **({"repeats": args.repeats} | sizes))
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
        return 0
    load = report["load_average"]
    print(f"# device {report['device']}, M = {report['sample_size']}: samples mode {report['chains']} chains x "
          f"{report['generations']} generations; sufficient mode {report['sufficient_chains']} chains x "
          f"{report['sufficient_generations']} generations at M and {report['large_sample_size']:.0e}; "
          f"{report['repeats']} interleaved rounds in {report['seconds']:.0f} s")
    print(f"# load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after, {load['cpus']} CPUs; "
          f"{report['torch']}")
    print(f"{'method':44s} {'threads':>7s} {'per wall s':>12s} {'per CPU s':>12s} {'CPU/wall':>8s}  unit")
    for name, r in report["methods"].items():
        print(f"{name:44s} {r['threads']:7d} {r['rate_wall']:12.4g} {r['rate_cpu']:12.4g} {r['parallelism']:8.2f}"
              f"  {r['unit']}")
    print("# targets (engine / peer, within this run)")
    for t in report["target_details"]:
        if t["ratio"] is None:
            print(f"{t['name']:44s} {'-':>7s}  (target >= {t['target']:g}: {t['note']})")
            continue
        print(f"{t['name']:44s} {t['ratio']:7.3g}  (target >= {t['target']:g}: {'met' if t['met'] else 'NOT met'})")
    return 0
