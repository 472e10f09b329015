"""``collapse-theory simulate --learner gmm:K``: the Gaussian-mixture chain (:class:`theory.chain.GMMChain`).

Per requested generation ``n``: the closed-form ``int (G_0 - G_n)^2``, the exact bracket of ``W2^2(G_n, G_0)``
(Gelbrich's lower bound, the mixture-W2 upper bound), the trace of the mixture's total covariance and the EM
iterations, each a Monte Carlo mean over ``--chains`` runs with its standard error; beside the trace, the Gaussian
theory's exact value and ``z = (MC - exact)/SE`` (exact for every ``K``: see :mod:`theory.decomposition._gmm`).
"""

from __future__ import annotations

import math

from ._args import print_json

#: Appended to ``simulate --help``.
DESCRIPTION = (
    "--learner gmm:K[,tol=T,max_iter=I,reg_covar=R] runs the Gaussian-mixture chain: a K-component full-covariance "
    "GMM fitted by EM (scikit-learn's rule; default K = 2, tol 1e-5, max_iter 2000, reg_covar 1e-6) to M points a "
    "generation, under any --workflow; --source blob|two_gaussians|normal:d is the real distribution D_0 (default "
    "blob, or normal:d with --dimension d). GMM generation n is G_n (G_0 fitted to D_0). It reports per generation "
    "int (G_0 - G_n)^2, a bracket of W2^2(G_n, G_0) and the total covariance's trace, whose mean the Gaussian theory "
    "gives exactly for any K (printed with z); --decompose adds the statistical, expressivity and approximation "
    "parts of E int (G_n - p)^2."
)

#: Runs when --chains is not given.
DEFAULT_CHAINS = 20


def _chain(args, learner):
    from .._errors import ParameterError
    from ..chain._gmm import GMMChain, parse_gmm_source
    from ._args import workflow_of

    dimension = getattr(args, "dimension", None)
    spec = getattr(args, "source", None)
    if spec is None:
        spec = "blob" if dimension in (None, 2) else f"normal:{dimension}"
    source = parse_gmm_source(spec)
    if dimension is not None and dimension != source.dimension:
        raise ParameterError("dimension", f"{source.dimension} (the dimension of --source {source.name}) or not given",
                             dimension)
    return GMMChain(learner, args.sample_size, workflow=workflow_of(args), source=source)


def _fmt(x, digits=6):
    if x is None:
        return "-"
    return f"{x:.{digits}g}" if math.isfinite(x) else str(x)


def run(args, learner) -> int:
    """Run the GMM chain for ``simulate``'s parsed ``args`` and print a table (or one JSON object)."""

    import jax

    from .._errors import check_integer
    from ..decomposition._gmm import gaussian_trace_prediction, gmm_decomposition
    from ..montecarlo._gmm import (
        SUMMARY_QUANTITIES,
        check_pool,
        simulate_gmm,
        summarise,
    )

    chain = _chain(args, learner)
    gens = sorted({check_integer("generations", n, minimum=0) for n in args.generations})
    chains = DEFAULT_CHAINS if args.chains is None else check_integer("chains", args.chains, minimum=2)
    check_pool(chain, gens[-1] + 1, chains)  # before the run: a pool too large is refused at once
    exact, exact_note = (None, "not computed (--no-exact)") if args.no_exact else gaussian_trace_prediction(chain,
                                                                                                          gens)
    key = jax.random.key(args.seed)
    with jax.enable_x64(True):
        result = simulate_gmm(key, chain, generations=gens[-1] + 1, chains=chains)
        summary = summarise(result, gens)
        decomposition = None
        if getattr(args, "decompose", False):
            decomposition = gmm_decomposition(jax.random.fold_in(key, 1), chain, gens, chains=chains).to_dict()
    z = [None] * len(gens)
    if exact is not None:
        z = [(m - e) / s if s and s > 0 else None
             for m, s, e in zip(summary["trace"], summary["trace_se"], exact)]
    notes = {"generation": "GMM generation n is G_n, fitted at step n (G_0 to D_0); the chain model's n + 1",
             "trace_exact": exact_note,
             "w2_sq": "each run's W2^2(G_n, G_0) lies in [w2_sq_lower, w2_sq_upper] (Gelbrich; mixture-W2)"}
    if args.json:
        out = {"learner": f"gmm:{chain.components}", "components": chain.components, "tol": chain.learner.tol,
               "max_iter": chain.learner.max_iter, "reg_covar": chain.learner.reg_covar,
               "sample_size": chain.sample_size, "workflow": str(chain.workflow), "source": chain.source.name,
               "dimension": chain.dimension, "chains": chains, "seed": args.seed, **summary,
               "trace_exact": exact, "trace_z": z, "exact": {"trace": exact}, "z": {"trace": z}, "notes": notes}
        if decomposition is not None:
            out["decomposition"] = decomposition
        print_json(out)
        return 0
    print(f"# GMM chain: K={chain.components} (tol {chain.learner.tol:g}, max_iter {chain.learner.max_iter}, "
          f"reg_covar {chain.learner.reg_covar:g}) M={chain.sample_size} source={chain.source.name} "
          f"d={chain.dimension} workflow={chain.workflow} chains={chains} seed={args.seed}")
    print("# each cell: MC mean ± standard error; trace: [Gaussian theory exact, z]")
    for j, n in enumerate(gens):
        print(f"n = {n}")
        for q in SUMMARY_QUANTITIES:
            line = f"  {q:14s} {_fmt(summary[q][j]):>13s} ± {_fmt(summary[q + '_se'][j], 2):<9s}"
            if q == "trace":
                e = None if exact is None else exact[j]
                line += f" exact {_fmt(e):>13s}  z {'-' if z[j] is None else f'{z[j]:+.2f}':>6s}"
            print(line)
    if decomposition is not None:
        print("# decomposition of e(n) = E int (G_n - p)^2 (parts: e_all - e_with_the_source_off; ± SE)")
        for j, n in enumerate(decomposition["generations"]):
            parts = ", ".join(
                f"{p} {_fmt(decomposition['parts'][p][j], 4)} ± "
                f"{_fmt(decomposition['standard_errors'][p + '_part_se'][j], 2)}"
                for p in decomposition["parts"])
            print(f"n = {n}: e {_fmt(decomposition['errors']['all'][j], 4)}; {parts}")
        for k, v in decomposition["notes"].items():
            print(f"# {k}: {v}")
    if exact is None:
        print(f"# trace exact '-': {exact_note}")
    return 0
