"""Theory beside practice for the GMM chain: the Gaussian theory's prediction, and the error sources switched off.

**The Gaussian theory is exact for the total covariance's mean.** After every M-step of full-covariance EM the
fitted mixture's total covariance ``sum_k w_k (S_k + m_k m_k^T) - mbar mbar^T`` is the training set's (weighted)
maximum-likelihood covariance plus ``reg_covar I`` (the responsibilities of a point sum to 1; the weights are
``n_k / n`` up to scikit-learn's ``10 eps``), and the mixture's total covariance is the covariance of the points
drawn from it. So, whatever ``K``, the total covariance of ``G_n`` has the expectation of the multivariate Gaussian
chain with the ``mle`` learner (:class:`~theory.chain.MultivariateGaussianChain`, source covariance = the source's
total covariance, the same workflow) at generation ``n + 1`` (GMM generation ``n`` is the chain model's
``n + 1``), plus the regularisation: under ``replace`` ``E tr Sigma(G_n) = r^{n+1} tr Sigma_0 + d reg (1 - r^{n+1})
/ (1 - r)`` with ``r = (M - 1)/M``. :func:`gaussian_trace_prediction` returns it; for the other workflows it is
exact with ``reg_covar = 0`` only (the regularisation's path through a pool or a mix is not derived here). What the
Gaussian theory does not give: the shape (how the mass splits between components), the distances to ``G_0`` and
the trace's spread (a mixture's fourth moments are not a Gaussian's).

**Error sources** (:func:`gmm_decomposition`): the error is ``e(n) = E int (G_n - p)^2``, the closed-form squared
L2 distance of generation ``n``'s mixture to the real distribution ``p`` (the source; with expressivity off, the
learner's best ``K``-fit of it). Each source is switched off in its own set of runs:

* statistical (finite ``M``): off, every fit is to ``M_big`` points (``100 M`` capped at ``10^5``), a stand-in for
  the population;
* expressivity (the source is not a ``K``-mixture): off, the source is replaced by its best ``K``-component fit
  (EM with tol ``1e-10`` on ``2 x 10^5`` source points, started from the source's heaviest components); a source
  with at most ``K`` components is a ``K``-mixture, so this part is exactly 0 and is not run;
* approximation (EM's stopping rule and local optima): off, tol ``1e-10``, ``max_iter`` ``10^4`` and the first fit
  started from the true parameters (the source, or its best ``K``-fit) instead of the principal-axis split.

The part of a source is ``e_all(n) - e_without(n)`` (runs independent, so standard errors add in quadrature); the
remainder ``e_all - sum(parts) - e_none`` (``e_none``: all three off) is the interaction.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._errors import ParameterError, check_integer

#: Most points of the statistical-off fits.
BIG_SAMPLE_CAP = 100_000
#: Points of the best-K-fit of a source (expressivity off).
BEST_FIT_POINTS = 200_000
TIGHT_TOL = 1e-10
TIGHT_MAX_ITER = 10_000


def gaussian_trace_prediction(chain, generations) -> tuple[list | None, str]:
    """``(values, note)``: the exact ``E tr Sigma(G_n)`` of the mixture's total covariance at each GMM generation
    ``n`` (see the module doc), or ``(None, why)`` where it is not derived (reg_covar > 0 off ``replace``)."""
    from ..chain import MultivariateGaussianChain
    from ..numeric import multivariate_exact_values

    gens = [check_integer("generations", n, minimum=0) for n in generations]
    wf = chain.workflow
    reg = chain.learner.reg_covar
    if reg > 0 and not wf.is_replace:
        return None, (f"under {wf} the Gaussian theory is derived here for reg_covar = 0 only (K = 1: "
                      f"--learner gmm:1,reg_covar=0); here reg_covar = {reg:g}")
    gaussian = MultivariateGaussianChain(chain.sample_size, chain.source.covariance, mean=chain.source.mean,
                                         learner="mle", workflow=wf)
    values = multivariate_exact_values(gaussian, [n + 1 for n in gens])["trace_mean"]
    out = []
    r = (chain.sample_size - 1) / chain.sample_size
    for n, v in zip(gens, values):
        extra = chain.dimension * reg * (1 - r ** (n + 1)) / (1 - r) if reg > 0 else 0.0
        out.append(float(v) + extra)
    return out, ("exact for any K: EM's total covariance is the training set's ML covariance (+ reg_covar I), so "
                 "E tr Sigma(G_n) is the mle multivariate Gaussian chain's at generation n + 1")


def best_fit(key, source, components: int):
    """The learner's best ``K``-component fit of ``source`` (a :class:`~theory.chain.GMMSource`): the source
    itself (split into equal halves of its heaviest components while it has fewer than ``K``) when it has at most
    ``K`` components, else EM with tol ``1e-10`` on :data:`BEST_FIT_POINTS` source points from its ``K``
    heaviest components (renormalised). Returns a :class:`~theory.chain.GMMSource`."""
    import jax
    import jax.numpy as jnp

    from ..chain._gmm import GMMSource
    from ..montecarlo._gmm import GMM, fit_em, gmm_of_source, sample

    w, m, c = source.weights.copy(), source.means.copy(), source.covariances.copy()
    if len(w) <= components:
        while len(w) < components:
            i = int(np.argmax(w))
            w = np.concatenate([w, [w[i] / 2]])
            w[i] /= 2
            m, c = np.concatenate([m, m[i:i + 1]]), np.concatenate([c, c[i:i + 1]])
        return GMMSource(f"{source.name} as {components} components", w, m, c)
    order = np.argsort(-w)[:components]
    start = GMM(jnp.asarray(w[order] / w[order].sum()), jnp.asarray(m[order]), jnp.asarray(c[order]))
    x = sample(key, gmm_of_source(source), BEST_FIT_POINTS)
    fitted, _ = fit_em(x, start, tol=TIGHT_TOL, max_iter=TIGHT_MAX_ITER, reg_covar=0.0)
    fitted = jax.tree.map(np.asarray, fitted)
    return GMMSource(f"best {components}-fit of {source.name}", fitted.weights / fitted.weights.sum(),
                     fitted.means, 0.5 * (fitted.covariances + np.swapaxes(fitted.covariances, 1, 2)))


@dataclasses.dataclass(frozen=True)
class GMMDecomposition:
    """The error ``e(n) = E int (G_n - p)^2`` of each configuration and the parts (see the module doc); every
    value a list over ``generations`` with a ``_se`` twin in ``standard_errors``."""

    generations: list
    errors: dict
    parts: dict
    standard_errors: dict
    notes: dict

    def to_dict(self) -> dict:
        return {"generations": self.generations, "errors": self.errors, "parts": self.parts,
                "standard_errors": self.standard_errors, "notes": self.notes}


def _errors_to(run, reference, generations):
    """Per run and requested generation, ``int (G_n - reference)^2`` -> (mean list, se list)."""
    import jax
    import jax.numpy as jnp

    from ..montecarlo._gmm import GMM, gmm_of_source, l2_distance_squared

    ref = gmm_of_source(reference)
    models = run.models
    values = np.asarray(jax.vmap(jax.vmap(l2_distance_squared, in_axes=(0, None)), in_axes=(0, None))(
        GMM(*(jnp.asarray(a)[:, jnp.asarray(generations)] for a in models)), ref))
    chains = values.shape[0]
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(chains)


def gmm_decomposition(key, chain, generations, *, chains: int = 20) -> GMMDecomposition:
    """Estimate the statistical, expressivity and approximation parts of ``e(n)`` (module doc) by Monte Carlo,
    ``chains`` runs per configuration. Raises :class:`~theory.ParameterError` when the statistical-off runs'
    pool would not fit (pooled workflows at ``M_big``)."""
    import jax

    from ..chain._gmm import GMMChain, GMMLearner
    from ..montecarlo._gmm import GMM, simulate_gmm

    gens = sorted({check_integer("generations", n, minimum=0) for n in generations})
    chains = check_integer("chains", chains, minimum=2)
    total = gens[-1] + 1
    keys = jax.random.split(key, 6)
    k = chain.components
    learner = chain.learner
    tight = GMMLearner(k, tol=TIGHT_TOL, max_iter=TIGHT_MAX_ITER, reg_covar=learner.reg_covar)
    representable = chain.source.components <= k
    fitted = best_fit(keys[5], chain.source, k)
    big = min(100 * chain.sample_size, max(BIG_SAMPLE_CAP, chain.sample_size))
    wf = chain.workflow
    if wf.kind == "accumulate-subsample":
        big_wf = dataclasses.replace(wf, subsample=min(100 * wf.subsample, big))
    else:
        big_wf = wf

    def start_of(source):
        return GMM(*(np.asarray(a) for a in (source.weights, source.means, source.covariances)))

    configs = {  # name: (chain, reference, start)
        "all": (chain, chain.source, None),
        "statistical_off": (GMMChain(learner, big, big_wf, chain.source), chain.source, None),
        "approximation_off": (GMMChain(tight, chain.sample_size, wf, chain.source), chain.source,
                              start_of(fitted)),
        "none": (GMMChain(tight, big, big_wf, fitted), fitted, start_of(fitted)),
    }
    if not representable:
        configs["expressivity_off"] = (GMMChain(learner, chain.sample_size, wf, fitted), fitted, None)
    errors, ses = {}, {}
    for i, (name, (config, reference, start)) in enumerate(configs.items()):
        try:
            run = simulate_gmm(keys[i], config, generations=total, chains=chains, start=start)
        except ParameterError as error:
            if name in ("statistical_off", "none") and error.parameter == "generations":
                raise ParameterError("decompose", f"a run whose statistical-off fits at M_big = {big} fit in memory "
                                     f"({error.allowed})", True) from None
            raise
        mean, se = _errors_to(run, reference, gens)
        errors[name], ses[name] = mean, se
    if representable:
        errors["expressivity_off"], ses["expressivity_off"] = errors["all"], ses["all"]
    parts, part_ses = {}, {}
    for source in ("statistical", "expressivity", "approximation"):
        parts[source] = errors["all"] - errors[f"{source}_off"]
        part_ses[source] = (np.zeros(len(gens)) if source == "expressivity" and representable
                            else np.hypot(ses["all"], ses[f"{source}_off"]))
    parts["interaction"] = errors["all"] - sum(parts[s] for s in ("statistical", "expressivity",
                                                                 "approximation")) - errors["none"]
    # interaction = e_S_off + e_X_off + e_P_off - 2 e_all - e_none; with e_X_off = e_all (representable) it is
    # e_S_off + e_P_off - e_all - e_none: independent runs, so the variances add with the squared coefficients
    variance = ses["statistical_off"] ** 2 + ses["approximation_off"] ** 2 + ses["none"] ** 2
    variance = variance + (ses["all"] ** 2 if representable else ses["expressivity_off"] ** 2 + 4 * ses["all"] ** 2)
    part_ses["interaction"] = np.sqrt(variance)
    notes = {
        "error": "e(n) = E int (G_n - p)^2, p the source (the best K-fit with expressivity off)",
        "statistical_off": f"every fit to M_big = {big} points",
        "approximation_off": f"tol {TIGHT_TOL:g}, max_iter {TIGHT_MAX_ITER}, first fit from the true parameters",
        "expressivity_off": ("the source has at most K components: exactly representable, part 0" if representable
                             else f"the source replaced by its best {k}-fit ({fitted.name})"),
    }
    as_lists = {n: [float(v) for v in a] for n, a in errors.items()}
    part_lists = {n: [float(v) for v in a] for n, a in parts.items()}
    se_lists = {**{f"{n}_se": [float(v) for v in a] for n, a in ses.items()},
                **{f"{n}_part_se": [float(v) for v in a] for n, a in part_ses.items()}}
    return GMMDecomposition(gens, as_lists, part_lists, se_lists, notes)
