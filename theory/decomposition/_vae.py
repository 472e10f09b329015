"""The VAE chain's error split by switching the statistical source off (issue 13 point 2).

The change of a quantity ``q`` (Frechet distance, pixel variance, diversity) from generation 0 to generation ``n``
of the replace chain, ``total_n = E q_n - E q_0``, is split as

* ``approximation_n = E q'_n - E q_0``, where ``q'`` is the same chain with each model from generation 1 on
  trained on ``F M`` samples of the previous one instead of ``M`` (``F = TRAINING_MULTIPLE``): what is left when the
  finite-sample error is (nearly) switched off: the VAE's functional approximation and expressivity (an encoder and
  a decoder of fixed size, samples = decoder means, a fixed number of Adam steps), which no amount of data removes;
* ``statistical_n = total_n - approximation_n = E q_n - E q'_n``: what the finite training sets add.

Generation 0 is the same in both (``M`` real images; at ``M = 1797`` the whole of ``D_0``, so step 0 has no
statistical error to switch off). Both runs are Monte Carlo over independent seeds (different keys), so each part
carries a standard error (``sqrt(se^2 + se'^2)``). ``F M`` samples are not infinitely many: the statistical part
is the part that ``F``-fold more data removes. Expressivity and approximation are not separated (both would need a
model of unbounded size or an exact optimiser).
"""

from __future__ import annotations

import numpy as np

from .._errors import ParameterError

#: ``F``: the statistical part is switched off by training on ``F M`` samples.
TRAINING_MULTIPLE = 10
#: The quantities split.
QUANTITIES: tuple[str, ...] = ("frechet", "pixel_variance", "pairwise_distance")


def vae_decomposition(key, chain, *, seeds: int, generations, full: dict | None = None,
                      training_multiple: int = TRAINING_MULTIPLE) -> dict:
    """Split the replace chain's change of :data:`QUANTITIES` into a statistical and an approximation part.

    ``full``: the chain's own :func:`~theory.montecarlo._vae.simulate_vae` result at ``key`` (run here when not
    given). Returns ``{"method": sentence, "training_multiple": F, "quantities": [...], q: {"total", "total_se",
    "statistical", "statistical_se", "approximation", "approximation_se", "full", "no_statistical"}}`` with lists
    aligned with ``generations``.
    """
    import jax

    from ..montecarlo._vae import simulate_vae

    if not chain.workflow.is_replace:
        raise ParameterError("workflow", "replace for the VAE decomposition (training on F M samples of the previous "
                             "model is defined for replace only)", str(chain.workflow))
    gens = sorted(set(generations))
    every = sorted(set(gens) | {0})  # generation 0 is free (no training) and is the base of both parts
    if full is None or 0 not in full["generations"] or not set(gens) <= set(full["generations"]):
        full = simulate_vae(key, chain, seeds=seeds, generations=every)
    switched = simulate_vae(jax.random.fold_in(key, 0xDEC0), chain, seeds=seeds, generations=every,
                            training_multiple=training_multiple)
    out = {
        "method": (f"statistical part = E q_n (M samples per fit) - E q'_n (each model from generation 1 on trained "
                   f"on {training_multiple} M samples); approximation (with expressivity) = E q'_n - E q_0; both "
                   "Monte Carlo over independent seeds, +- SE"),
        "training_multiple": training_multiple,
        "quantities": list(QUANTITIES),
    }
    for q in QUANTITIES:
        pick_a = [list(full["generations"]).index(g) for g in gens]
        pick_b = [every.index(g) for g in gens]
        a, a_se = np.asarray(full[q])[pick_a], np.asarray(full[q + "_se"])[pick_a]
        b, b_se = np.asarray(switched[q])[pick_b], np.asarray(switched[q + "_se"])[pick_b]
        zero = list(full["generations"]).index(0)
        base, base_se = float(full[q][zero]), float(full[q + "_se"][zero])  # E q_0 (the M real images)
        out[q] = {
            "total": (a - base).tolist(),
            "total_se": np.sqrt(a_se**2 + base_se**2).tolist(),
            "statistical": (a - b).tolist(),
            "statistical_se": np.sqrt(a_se**2 + b_se**2).tolist(),
            "approximation": (b - base).tolist(),
            "approximation_se": np.sqrt(b_se**2 + base_se**2).tolist(),
            "full": a.tolist(),
            "no_statistical": b.tolist(),
        }
    return out
