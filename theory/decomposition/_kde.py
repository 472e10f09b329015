r"""The KDE chain's error split into its sources, exactly (from the recursions of :mod:`theory.numeric._kde_exact`).

Errors: ``e_var(n) = E V_n - sigma^2`` (the model's variance against ``D_0``'s) and ``e_mean(n) = E (m_n - mu)^2``.
Sources, each switched off on its own:

* ``S`` statistical (finite ``M``): off, every training set is its whole distribution (``M -> infinity``), so the
  KDE is the training distribution convolved with ``N(0, h^2)``: the mean stays ``mu`` and the variance gains
  ``h^2`` per step of the training distribution (replace: ``V_n = sigma^2 + n h^2``; mix: ``V' = h^2 + w sigma^2
  + (1 - w) V``; accumulate and accumulate-subsample: ``V_{i+1} = h^2 + mean(V_0 .. V_i)``, the pool an equal
  mixture of the generations);
* ``P`` approximation (the kernel, ``h > 0``): off, ``h -> 0``, resampling the training set (the bootstrap). Its
  first two moments are those of the maximum-likelihood Gaussian chain with the same ``M`` and workflow, exactly
  (the recursions use only the model's mean and variance; under replace ``E V_n = (1 - 1/M)^n sigma^2``):
  :func:`kde_decomposition` reports that chain's :func:`theory.exact_values` beside it as ``"gaussian_mle"``;
* expressivity: none. A KDE with ``h -> 0`` on ``M -> infinity`` points converges to any ``D_0`` (the Gaussian
  kernels' mixtures are dense), so with the two sources above off the chain stays at ``D_0``: nothing is left for a
  limited model family to lose. (The Gaussian chain's expressivity part exists because its family is the normals.)

With both off the error is 0, so ``total = statistical + approximation + interaction`` with ``statistical =
e_S``, ``approximation = e_P`` (each the error with only that source on) and ``interaction = total - e_S - e_P``.
Under replace ``interaction_var = h^2 (M (1 - (1 - 1/M)^n) - n) <= 0``: sampling shrinks the variance the kernel
adds.
"""

from __future__ import annotations

from .._errors import ParameterError

PARTS: tuple[str, ...] = ("total", "statistical", "approximation", "interaction")
#: Longest the Gaussian chain's exact values (the overlay) may take; beyond, the equal h -> 0 recursion is shown.
GAUSSIAN_SECONDS = 5.0


def infinite_data_variance(chain, generations) -> list[float]:
    """``V_n`` of the KDE chain with the statistical source off (``M -> infinity``; see the module doc)."""
    from ..numeric._kde_exact import _generations

    gens = _generations(generations)
    wf, h2, s2 = chain.workflow, chain.bandwidth**2, chain.source.variance
    kind = wf.kind
    w = chain.real_weight
    if kind in ("mix", "mix-fixed") and chain.real_count == 0:
        kind = "replace"
    history = [s2]  # V_0, V_1, ...
    total = s2
    for i in range(max(gens)):
        v = history[-1]
        if kind == "replace":
            new = v + h2
        elif kind in ("mix", "mix-fixed"):  # R = round(LAMBDA M) -> infinity with M: the real set is D_0 itself
            new = h2 + w * s2 + (1 - w) * v
        else:  # the pool P_i: the generations 0..i in equal shares (each M points), all with mean mu
            new = h2 + total / (i + 1)
        history.append(new)
        total += new
    return [history[g] for g in gens]


def kde_decomposition(chain, generations) -> dict:
    """The exact split of the KDE chain's errors (module doc) at each generation.

    Returns ``{"generations", "variance": {part: list}, "mean_sq_error": {part: list}, "gaussian_mle":
    {"variance_mean", "mean_sq_error"}, "bootstrap": {"variance_mean", "mean_sq_error"}, "expressivity": reason,
    "notes"}``; each ``variance`` part is in units of ``sigma^2`` minus one (``E V_n - sigma^2``), and the parts add
    up to ``total`` (to rounding).

    >>> from theory.chain._kde import KDEChain
    >>> out = kde_decomposition(KDEChain(0.1, 10), [0, 1, 2])
    >>> [round(x, 6) for x in out["variance"]["interaction"]]
    [0.0, 0.0, -0.001]
    """
    from ..chain import GaussianChain
    from ..chain._kde import KDEChain
    from ..numeric import exact_values
    from ..numeric._kde_exact import _generations, kde_exact_values

    if not isinstance(chain, KDEChain):
        raise ParameterError("chain", "a KDEChain", type(chain).__name__)
    gens = _generations(generations)
    s2 = chain.source.variance
    full = kde_exact_values(chain, gens)
    boot = kde_exact_values(chain, gens, bandwidth_squared=0.0)
    no_sampling = infinite_data_variance(chain, gens)
    total = [v - s2 for v in full["variance_mean"]]
    stat = [v - s2 for v in boot["variance_mean"]]
    approx = [v - s2 for v in no_sampling]
    variance = {"total": total, "statistical": stat, "approximation": approx,
                "interaction": [t - a - b for t, a, b in zip(total, stat, approx)]}
    mean_total = list(full["mean_sq_error"])
    mean_stat = list(boot["mean_sq_error"])
    mean = {"total": mean_total, "statistical": mean_stat, "approximation": [0.0] * len(gens),
            "interaction": [t - a for t, a in zip(mean_total, mean_stat)]}
    notes = {"statistical": "h -> 0 (resampling the training set): equals the MLE Gaussian chain's moments",
             "approximation": "M -> infinity: the kernel's h^2 added to the training distribution each step",
             "interaction": "total - statistical - approximation"}
    try:
        gaussian = exact_values(GaussianChain(chain.sample_size, learner="mle", workflow=chain.workflow,
                                              sigma=s2**0.5, mu=chain.source.mean), gens,
                                max_seconds=GAUSSIAN_SECONDS)
        gaussian = {"variance_mean": [float(x) for x in gaussian["variance_mean"]],
                    "mean_sq_error": [float(x) for x in gaussian["mean_sq_error"]]}
    except ParameterError as err:  # the Gaussian chain's exact values estimated too slow here (mpmath)
        gaussian = {"variance_mean": list(boot["variance_mean"]), "mean_sq_error": mean_stat}
        notes["gaussian_mle"] = (f"theory.exact_values refused ({err}); shown: the h -> 0 recursion, which equals "
                                 "it (tests/test_kde.py checks the two agree under every workflow)")
    return {
        "generations": gens,
        "variance": variance,
        "mean_sq_error": mean,
        "bootstrap": {"variance_mean": list(boot["variance_mean"]), "mean_sq_error": mean_stat},
        "gaussian_mle": gaussian,
        "expressivity": ("none: a KDE with h -> 0 on M -> infinity points converges to any D_0, so no model-family "
                         "error is left once the statistical and approximation sources are off"),
        "notes": notes,
    }
