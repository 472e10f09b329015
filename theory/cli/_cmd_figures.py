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
    "package versions); the same command, seed and package versions give byte-identical files. Each file is "
    "written to a temporary name and then moved into place, so an interrupted run leaves no half-written file. "
    "Compiled programs are kept in JAX's persistent compilation cache ($XDG_CACHE_HOME/collapse-theory/jax) "
    "unless --no-cache or COLLAPSE_THEORY_NO_CACHE=1. "
    "Figures: f1_gaussian_drift, f2_mean_error, f3_pooling, workflows, multivariate, f4_gmm_scatter, "
    "f5_gmm_distance, kde, vae_digits, "
    "f6_discrete, tail_loss, expansions, decomposition."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: figures/ of the source checkout, else ./figures)")
    parser.add_argument("--only", metavar="NAME", nargs="+", default=None, help="make only these figures")
    parser.add_argument("--quick", action="store_true", help="small sizes: every figure in seconds (smoke runs)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="seed of the PRNG keys (default 0)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="JAX platform to compute on (default: JAX's default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no timing line")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not use JAX's persistent compilation cache (same as COLLAPSE_THEORY_NO_CACHE=1)")
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


def _compilation_cache(disabled: bool) -> None:
    import jax

    from .._jax_cache import enable_compilation_cache

    if disabled:
        jax.config.update("jax_enable_compilation_cache", False)
    else:
        enable_compilation_cache()


def run(args: argparse.Namespace) -> int:
    from ..figures import FIGURES, default_output_dir, make_figures
    from ..figures._make import check_output_dir

    if args.list:
        for name, module in FIGURES.items():
            print(f"{name}: {module.TITLE} [{module.REPRODUCES}]")
        return 0
    from .._errors import ParameterError

    for name in args.only or ():  # every input checked before anything is computed
        if name not in FIGURES:
            raise ParameterError("only", "figure names among " + ", ".join(FIGURES), name)
    out = check_output_dir(default_output_dir() if args.out is None else args.out)
    _select_device(args.device)
    _compilation_cache(args.no_cache)
    start = time.perf_counter()
    paths = make_figures(out, only=args.only, seed=args.seed, quick=args.quick,
                         progress=False if args.quiet else None)
    for path in paths:
        print(path)
    if not args.quiet:
        sys.stderr.write(f"{len(paths) // 3} figure(s) in {time.perf_counter() - start:.1f} s\n")
    return 0
