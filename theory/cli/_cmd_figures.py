"""``collapse-theory figures``: remake the paper's figures with the exact theory drawn over the simulations."""

from __future__ import annotations

import argparse
import sys
import time
from ._args import seed_argument

NAME = "figures"
HELP = "make the paper's figures (PNG, PDF and the data behind each) with exact theory over simulations"
DESCRIPTION = (
    "Make the figures of Shumailov et al. (Nature 2024) with the exact theory drawn over the simulations. "
    "For each figure NAME it writes NAME.png, NAME.pdf and NAME.json (the data: seed, sizes, standard errors, "
    "package versions); the same command, seed and package versions give byte-identical files. "
    "Figures: f1_gaussian_drift, f2_mean_error, f3_pooling, f4_gmm_scatter, f5_gmm_distance, f6_discrete, "
    "expansions, decomposition."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: figures/ of the source checkout, else ./figures)")
    parser.add_argument("--only", metavar="NAME", nargs="+", default=None, help="make only these figures")
    parser.add_argument("--quick", action="store_true", help="small sizes: every figure in seconds (smoke runs)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="seed of the PRNG keys (default 0)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="JAX platform to compute on (default: JAX's default)")
    parser.add_argument("--list", action="store_true", help="list the figures and what they reproduce, then exit")


def _select_device(device: str | None) -> None:
    if device is None:
        return
    import jax

    from .._errors import ParameterError

    try:
        jax.config.update("jax_platforms", device if device == "cpu" else "cuda,rocm")
        jax.devices()
    except RuntimeError:
        raise ParameterError("device", "a platform JAX can use on this machine", device) from None


def run(args: argparse.Namespace) -> int:
    _select_device(args.device)
    from ..figures import FIGURES, make_figures

    if args.list:
        for name, module in FIGURES.items():
            print(f"{name}: {module.TITLE} [{module.REPRODUCES}]")
        return 0
    start = time.perf_counter()
    paths = make_figures(args.out, only=args.only, seed=args.seed, quick=args.quick)
    for path in paths:
        print(path)
    sys.stderr.write(f"{len(paths) // 3} figure(s) in {time.perf_counter() - start:.1f} s\n")
    return 0
