"""``collapse-theory simulate --learner kde:H``: the kernel-density-estimate chain, Monte Carlo beside its exact
moments (theory.chain._kde, theory.montecarlo._kde, theory.numeric._kde_exact), and with ``--decompose`` the exact
split of its error (theory.decomposition._kde)."""

from __future__ import annotations

from .._errors import ParameterError
from ._args import finite_or_none, print_json, z_score

DESCRIPTION = (
    "--learner kde:H runs the Gaussian kernel-density-estimate chain (bandwidth H > 0; Kazdan et al.'s setting): "
    "model n+1 is the KDE on the training set of step n, D_0 = --source normal[:MU,SIGMA2] (default N(0, 1)), "
    "every --workflow. Each cell shows the Monte Carlo (literal process, --chains, default 2000, float64) beside "
    "the exact value of E m_n, E (m_n - mu)^2, E V_n (V_n the model's variance; under replace E V_n -> M H^2) and, "
    "under replace, Var V_n, with z = (MC - exact)/SE. --decompose adds the exact split of E V_n - sigma^2 and "
    "E (m_n - mu)^2 into statistical (H -> 0: the MLE Gaussian chain's moments), approximation (M -> infinity) "
    "and interaction parts (a KDE has no expressivity part).")

DEFAULT_CHAINS = 2000
#: Refuse runs above this many point draws (chains x generations x M; x generations again under
#: accumulate-subsample, whose subsample is drawn from the whole pool): minutes on 2 CPU cores.
MAX_WORK = 3e10


def run(args, learner) -> int:
    """Run ``simulate`` for a KDE learner (``args``: simulate's parsed arguments); print a table or one JSON
    object; return 0. Bad input is a :class:`~theory.ParameterError`."""
    import jax

    from ..chain._kde import KDEChain
    from ..decomposition._kde import kde_decomposition
    from ..montecarlo._kde import simulate_kde
    from ..numeric._kde_exact import DESCRIPTIONS, KDE_QUANTITIES, kde_exact_values
    from ._args import workflow_of

    if getattr(args, "dimension", None) not in (None, 1):
        raise ParameterError("dimension", "left out (or 1) for the KDE chain: it is one-dimensional", args.dimension)
    chain = KDEChain(learner, args.sample_size, workflow_of(args), args.source)
    chains = DEFAULT_CHAINS if args.chains is None else args.chains
    gens = list(args.generations)
    steps = max(gens)
    work = chains * steps * chain.sample_size * (steps if chain.workflow.kind == "accumulate-subsample" else 1)
    if work > MAX_WORK:
        raise ParameterError("generations", f"a run of at most {MAX_WORK:.0e} point draws for the KDE chain "
                             f"(chains x generations x M; got {work:.2g}): fewer --chains or generations", steps)
    exact = None if args.no_exact else kde_exact_values(chain, gens)
    decomposition = kde_decomposition(chain, gens) if getattr(args, "decompose", False) else None
    dtype = getattr(args, "dtype", "float64")
    with jax.enable_x64(dtype == "float64"):
        mc = simulate_kde(jax.random.key(args.seed), chain, generations=gens, chains=chains)
    notes = {}
    exact_out, z = {}, {}
    for q in KDE_QUANTITIES:
        values = exact[q] if exact is not None else [None] * len(gens)
        exact_out[q] = [finite_or_none(v) for v in values]
        z[q] = [z_score(m, s, e) for m, s, e in zip(mc[q], mc[q + "_se"], values)]
    if exact is not None:
        for q, note in exact["notes"].items():
            notes[f"exact.{q}"] = note
    else:
        notes["exact"] = "not computed (--no-exact)"
    notes["generation 0"] = "D_0 itself: exact values, standard error 0"
    if args.json:
        out = {"learner": str(learner), "bandwidth": chain.bandwidth, "sample_size": chain.sample_size,
               "workflow": str(chain.workflow), "source": str(chain.source), "seed": args.seed, "chains": chains,
               "dtype": dtype, "generations": gens}
        for q in KDE_QUANTITIES:
            out[q], out[q + "_se"] = mc[q], mc[q + "_se"]
        out["exact"] = exact_out
        out["z"] = z
        if exact is not None:
            out["limits"] = {q: finite_or_none(v) for q, v in exact["limits"].items()}
        if decomposition is not None:
            out["decomposition"] = decomposition
        out["notes"] = notes
        print_json(out)
        return 0
    print(f"# KDE chain: h={chain.bandwidth:g} M={chain.sample_size} workflow={chain.workflow} "
          f"D_0={chain.source} chains={chains} seed={args.seed} ({dtype})")
    print("# each cell: MC mean ± standard error [exact value, z = (MC - exact)/SE]")
    for j, n in enumerate(gens):
        print(f"n = {n}")
        for q in KDE_QUANTITIES:
            e, zz = exact_out[q][j], z[q][j]
            exact_text = "-" if e is None else f"{e:.6g}"
            z_text = "-" if zz is None else f"{zz:+.2f}"
            print(f"  {q:14s} {mc[q][j]:>13.6g} ± {mc[q + '_se'][j]:<9.2g} exact {exact_text:>13s}  z {z_text:>6s}")
    print("# " + "; ".join(f"{q}: {DESCRIPTIONS[q]}" for q in KDE_QUANTITIES))
    if exact is not None:
        limits = ", ".join(f"{q} -> {v:.6g}" for q, v in exact["limits"].items() if v is not None)
        print(f"# n -> infinity: {limits}")
    for key, note in notes.items():
        if key != "generation 0":
            print(f"# {key}: {note}")
    if decomposition is not None:
        print("# decomposition (exact): E V_n - sigma^2 and E (m_n - mu)^2 = statistical + approximation + "
              "interaction; statistical: h -> 0 (= the MLE Gaussian chain), approximation: M -> infinity")
        print(f"  {'n':>6s} {'error':>14s} {'total':>12s} {'statistical':>12s} {'approximation':>13s} "
              f"{'interaction':>12s} {'Gaussian MLE':>13s}")
        for j, n in enumerate(gens):
            for label, part, gauss in (("variance", "variance", "variance_mean"),
                                       ("mean_sq_error", "mean_sq_error", "mean_sq_error")):
                d = decomposition[part]
                g = decomposition["gaussian_mle"][gauss][j]
                g_err = g - chain.source.variance if part == "variance" else g
                print(f"  {n:>6d} {label:>14s} {d['total'][j]:>12.6g} {d['statistical'][j]:>12.6g} "
                      f"{d['approximation'][j]:>13.6g} {d['interaction'][j]:>12.6g} {g_err:>13.6g}")
        print(f"# expressivity: {decomposition['expressivity']}")
    return 0
