r"""Exact moments of the multivariate Gaussian chain (replace workflow), for every generation ``n``.

Notation: ``d`` the dimension, ``M`` the sample size, ``k = M - 1``, ``D`` the learner's divisor (``M - 1`` or
``M``), ``A`` the multiplier, ``c = A / D``, ``r = c k`` (``A`` for the unbiased learner, ``A (M - 1)/M`` for the
MLE). Given generation ``n`` (``Sigma_n = V``), the scatter matrix is ``S ~ Wishart_d(k, V)``, independent of the
sample mean ``xbar ~ N(mu_n, V / M)``, and ``Sigma_{n+1} = c S``.

**Mean and mean error.** ``E S = k V`` gives ``E Sigma_n = r^n Sigma`` (the matrix), ``E tr Sigma_n = r^n tr Sigma``;
``E ||mu_{n+1} - mu||^2 = E ||mu_n - mu||^2 + E tr Sigma_n / M``, so
``E ||mu_n - mu||^2 = (tr Sigma / M) sum_{i<n} r^i``.

**Trace variance.** The Wishart identities (checked symbolically from the Bartlett decomposition for ``d <= 3``
and by Monte Carlo in ``tests/test_multivariate_exact.py``)

    E (tr S)^2 = k^2 (tr V)^2 + 2 k tr(V^2),        E tr(S^2) = k (tr V)^2 + k (k + 1) tr(V^2)

close a linear recursion on ``a_n = E (tr Sigma_n)^2``, ``b_n = E tr(Sigma_n^2)``:
``(a, b)_{n+1} = c^2 T (a, b)_n`` with ``T = [[k^2, 2k], [k, k(k+1)]]``. ``T`` has the eigenvalues ``k(k+2)``
(eigenvector ``(1, 1)``) and ``k(k-1)`` (eigenvector ``(2, -1)``), so with ``t = tr Sigma``, ``s = tr Sigma^2``

    a_n = c^{2n} [ (t^2 + 2 s)/3 (k(k+2))^n + 2 (t^2 - s)/3 (k(k-1))^n ],

    Var tr Sigma_n = a_n - r^{2n} t^2
                   = r^{2n} [ (t^2 + 2 s)/3 ((1 + 2/k)^n - 1) + 2 (t^2 - s)/3 ((1 - 1/k)^n - 1) ]

(the constant terms cancel exactly). For ``d = 1`` (``t^2 = s``) this is the 1-D chain's
``sigma^4 r^{2n} ((k + 2)/k)^n - 1)``.

**Determinant (the volume).** Bartlett: ``S = L B B^T L^T`` with ``V = L L^T``, ``B`` lower triangular,
``B_ii^2 ~ chi^2_{k-i+1}`` and ``B_ij ~ N(0, 1)`` (``i > j``), all independent; so
``det Sigma_{n+1} = det Sigma_n c^d prod_{i=1}^d chi^2_{k-i+1}`` with the chi-squares independent of the past.
Hence, for every ``n``,

    E det Sigma_n   = det Sigma [c^d prod_i (k - i + 1)]^n,
    E det^2 Sigma_n = det^2 Sigma [c^{2d} prod_i (k - i + 1)(k - i + 3)]^n,
    E log det Sigma_n - log det Sigma = n [d log c + sum_i (psi((k - i + 1)/2) + log 2)],
    Var log det Sigma_n = n sum_i psi'((k - i + 1)/2).

``log det Sigma_n`` is a random walk with i.i.d. steps: by the strong law ``(log det Sigma_n)/n`` tends almost surely
to the drift above, which is ``< 0`` for ``A = 1`` and both learners (Jensen: ``E log chi^2_v < log v``; the
unbiased learner's drift is ``sum_i [psi((k-i+1)/2) + log(2/k)] ~ -d(d+1)/(2k)``), so the volume collapses to 0
almost surely while ``E tr Sigma_n`` stays ``tr Sigma`` (unbiased). This is the multivariate "late collapse".

**Coordinate marginals.** For any unit-free direction ``u``, ``u^T Sigma_{n+1} u = c u^T S u`` with
``u^T S u ~ (u^T Sigma_n u) chi^2_k`` and ``u^T xbar ~ N(u^T mu_n, u^T Sigma_n u / M)``: the projected chain is
exactly the 1-D chain with ``sigma^2 = u^T Sigma u`` (:func:`marginal_chain`), so every 1-D result applies to it.

**Bounds on E W2^2 (Bures-Wasserstein).** ``W2^2(p_n, p_0) = ||mu_n - mu||^2 + tr Sigma_n + tr Sigma - 2 F_n`` with
the fidelity ``F_n = tr (Sigma^{1/2} Sigma_n Sigma^{1/2})^{1/2} = ||Sigma^{1/2} L||_*`` (nuclear norm, ``L`` any
square root of ``Sigma_n``). No closed form, but two exact bounds for every ``n``:

* lower: a coupling of ``p_n`` and ``p_0`` couples the projections on each vector of an orthonormal basis, so
  ``W2^2(p_n, p_0) >= sum_j W2^2(u_j^T p_n, u_j^T p_0)``; each projection is the 1-D chain with
  ``sigma_j^2 = u_j^T Sigma u_j`` (above), whose ``E W2^2`` is ``sigma_j^2 w_n`` (``w_n`` the 1-D chain's exact
  ``E W2^2`` at ``sigma = 1``), so ``E W2^2 >= w_n tr Sigma``, whatever the basis;
* upper: ``||X||_* >= tr X``. With ``Sigma = U diag(lambda) U^T`` (``lambda`` descending) take ``L_0 = Sigma^{1/2} U``
  and ``L_{i+1} = sqrt(c) L_i B_{i+1}`` (``B`` the Bartlett factor of ``Wishart_d(k, I)``, independent of the past,
  lower triangular; rotation invariance makes this the process), so ``E L_n = c^{n/2} L_0 diag(e_1..e_d)^n`` with
  ``e_i = E chi_{k-i+1} = sqrt(2) Gamma((k-i+2)/2) / Gamma((k-i+1)/2)``, and
  ``E F_n >= c^{n/2} sum_i lambda_i e_i^n``:
  ``E W2^2 <= E ||mu_n - mu||^2 + E tr Sigma_n + tr Sigma - 2 c^{n/2} sum_i lambda_i e_i^n``.

For ``d = 1`` both are the 1-D chain's exact ``E W2^2``. The paper's lower bound ``E W2^2 >= tr Sigma sum_i 1/M_i``
(up to higher orders): for the unbiased learner with ``A = 1`` it holds exactly for every ``n`` (already
``E ||mu_n - mu||^2 = n tr Sigma / M``); for the MLE with ``A = 1`` it fails for large ``n`` (``E W2^2 <= 2 tr Sigma``
while ``n tr Sigma / M`` grows; :func:`w2_sq_bounds` says at which ``n`` the exact bounds decide it).

**Evaluation.** Every value is computed in :mod:`mpmath` at ``40 + 2 log10(M) + log10(d)`` digits (the trace
variance cancels about ``log10(d M/n)`` digits, the log-det drift about ``log10(M log M / d)``) and rounded once to
float64: correctly rounded when representable, ``inf``/``0`` beyond float64's range (``r^{2n}`` and the determinant
powers overflow for large ``n``). The inputs ``t``, ``s``, ``t^2 - s`` are formed exactly from the float64 entries of
``Sigma``; ``log det Sigma`` (used only by ``det_mean``/``det_var``) comes from a float64 ``slogdet`` (relative error
about ``d`` times the unit roundoff times the condition number). Cost O(d^2 + d) per generation, any ``n``.
"""

from __future__ import annotations

import mpmath
import numpy as np

from .._errors import ParameterError
from ..chain import GaussianChain, check_generations
from ..chain._multivariate import MultivariateGaussianChain, check_multivariate_chain

#: The keys of :func:`multivariate_exact_values` that have a value at each generation (``w2_sq_mean`` is None).
MULTIVARIATE_QUANTITIES: tuple[str, ...] = (
    "mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean", "w2_sq_mean",
)


def working_precision(chain: MultivariateGaussianChain) -> int:
    """Decimal digits for the mpmath evaluation (see the module doc)."""
    return 40 + 2 * len(str(chain.sample_size)) + len(str(chain.dimension))


def _trace_terms(covariance: np.ndarray):
    """``t = tr Sigma``, ``s = tr Sigma^2`` and ``t^2 - s = 2 sum_{i<j} (Sigma_ii Sigma_jj - Sigma_ij^2)`` in mpmath
    (exact products of the float64 entries; the last has no cancellation against ``t^2``)."""
    d = covariance.shape[0]
    entries = [[mpmath.mpf(float(x)) for x in row] for row in covariance]
    t = mpmath.fsum(entries[i][i] for i in range(d))
    s = mpmath.fsum(entries[i][j] ** 2 for i in range(d) for j in range(d))
    t2_minus_s = 2 * mpmath.fsum(entries[i][i] * entries[j][j] - entries[i][j] ** 2
                                 for i in range(d) for j in range(i + 1, d))
    return t, s, t2_minus_s


def multivariate_exact_values(chain: MultivariateGaussianChain, generations) -> dict:
    """Exact moments of the multivariate chain at each generation (replace workflow), as float64 arrays.

    Returns a dict with ``"generations"`` (the list given) and, aligned with it:

    ======================  ===================================================================================
    ``mean_sq_error``       ``E ||mu_n - mu||^2 = (tr Sigma / M) sum_{i<n} r^i``
    ``trace_mean``          ``E tr Sigma_n = r^n tr Sigma``
    ``trace_var``           ``Var tr Sigma_n`` (the two-eigenvalue closed form of the module doc)
    ``det_mean``            ``E det Sigma_n = det Sigma [c^d prod_i (k - i + 1)]^n``
    ``log_det_mean``        ``E log det Sigma_n - log det Sigma = n [d log c + sum_i (psi((k-i+1)/2) + log 2)]``
    ``w2_sq_mean``          ``None``: the Bures-Wasserstein ``E W2^2`` has no closed form (Monte Carlo only)
    ``covariance_mean``     ``(n_gens, d, d)``: ``E Sigma_n = r^n Sigma``
    ``det_var``             ``Var det Sigma_n`` (extra)
    ``log_det_var``         ``Var log det Sigma_n = n sum_i psi'((k - i + 1)/2)`` (extra)
    ``bounds``              ``{"w2_sq_mean": (lower, upper)}``: exact bounds on ``E W2^2`` (:func:`w2_sq_bounds`)
    ======================  ===================================================================================

    with ``k = M - 1``, ``c = A / divisor``, ``r = c k``, and ``"notes"`` (a dict: quantity -> sentence). Values
    beyond float64's range are ``inf`` (or ``0.0``); see the module doc for the precision.

    Examples
    --------
    >>> import numpy as np
    >>> from theory.chain._multivariate import MultivariateGaussianChain
    >>> v = multivariate_exact_values(MultivariateGaussianChain(11, np.eye(2)), [0, 1, 10])
    >>> [float(x) for x in v["mean_sq_error"]]  # unbiased: n tr Sigma / M
    [0.0, 0.18181818181818182, 1.8181818181818181]
    >>> [float(x) for x in v["trace_mean"]]
    [2.0, 2.0, 2.0]
    >>> float(v["det_mean"][1])  # (k - 1)/k = 9/10
    0.9
    >>> float(v["trace_var"][1])  # 2 tr Sigma^2 / k
    0.4
    """
    chain = check_multivariate_chain(chain)
    if not chain.workflow.is_replace:  # until the workflows' routes land: never a replace answer for another workflow
        raise ParameterError("workflow", "replace (the other workflows' exact values are not implemented yet)",
                             str(chain.workflow))
    gens = check_generations(generations)
    d, m, k = chain.dimension, chain.sample_size, chain.degrees_of_freedom
    count = len(gens)
    out = {key: np.empty(count) for key in
           ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean", "det_var", "log_det_var")}
    covariance_mean = np.empty((count, chain.dimension, chain.dimension))
    sign, log_det0 = np.linalg.slogdet(chain.covariance)
    if sign <= 0:  # cannot happen for a checked covariance; a guard against a future change
        raise ParameterError("covariance", "positive definite", chain.covariance.tolist())
    with mpmath.workdps(working_precision(chain)):
        a = mpmath.mpf(chain.variance_scale)
        c = a / chain.divisor
        r = c * k
        t, s, t2_minus_s = _trace_terms(chain.covariance)
        dofs = [k - i + 1 for i in range(1, d + 1)]  # k, k - 1, ..., k - d + 1 (all >= 1 as M >= d + 1)
        log_growth = mpmath.fsum(mpmath.log(c * v) for v in dofs)  # log E det(Sigma_{n+1}) / det(Sigma_n)
        log_growth2 = mpmath.fsum(mpmath.log(c * c * v * (v + 2)) for v in dofs)
        drift = d * mpmath.log(c) + mpmath.fsum(mpmath.digamma(mpmath.mpf(v) / 2) + mpmath.log(2) for v in dofs)
        step_var = mpmath.fsum(mpmath.psi(1, mpmath.mpf(v) / 2) for v in dofs)
        up = mpmath.log1p(mpmath.mpf(2) / k)
        down = mpmath.log1p(-mpmath.mpf(1) / k)  # -inf for k = 1 (then d = 1 and t^2 - s = 0)
        log_det0_mp = mpmath.mpf(float(log_det0))
        for j, n in enumerate(gens):
            if n == 0:
                out["mean_sq_error"][j] = 0.0
                out["trace_mean"][j] = float(t)
                out["trace_var"][j] = 0.0
                out["det_mean"][j] = float(mpmath.exp(log_det0_mp))
                out["det_var"][j] = 0.0
                out["log_det_mean"][j] = 0.0
                out["log_det_var"][j] = 0.0
                continue
            rn = r**n
            geometric = mpmath.mpf(n) if r == 1 else mpmath.expm1(n * mpmath.log(r)) / (r - 1)
            out["mean_sq_error"][j] = float(t / m * geometric)
            out["trace_mean"][j] = float(rn * t)
            expm_down = mpmath.mpf(-1) if down == -mpmath.inf else mpmath.expm1(n * down)
            bracket = (t * t + 2 * s) / 3 * mpmath.expm1(n * up) + 2 * t2_minus_s / 3 * expm_down
            out["trace_var"][j] = float(rn * rn * bracket)
            log_mean = log_det0_mp + n * log_growth
            out["det_mean"][j] = float(mpmath.exp(log_mean))
            # Var det = (E det)^2 [exp(n (log_growth2 - 2 log_growth)) - 1]
            out["det_var"][j] = float(mpmath.exp(2 * log_mean) * mpmath.expm1(n * (log_growth2 - 2 * log_growth)))
            out["log_det_mean"][j] = float(n * drift)
            out["log_det_var"][j] = float(n * step_var)
            factor = float(rn)
            if 2.0**-960 < factor < 2.0**960:  # r^n Sigma_ij is within float64's range: one rounding more
                covariance_mean[j] = factor * chain.covariance
            else:  # r^n itself over- or underflows: each entry in mpmath (0 stays 0, never inf * 0 = nan)
                covariance_mean[j] = [[float(rn * mpmath.mpf(float(x))) for x in row] for row in chain.covariance]
        covariance_mean[[j for j, n in enumerate(gens) if n == 0]] = chain.covariance
    notes = {
        "w2_sq_mean": "E W2^2(p_n, p_0) (Bures-Wasserstein) has no closed form in general: Monte Carlo only",
        "log_det_mean": "E log det Sigma_n - log det Sigma; log det Sigma_n is a random walk whose drift "
                        f"{float(drift):.6g} per generation is its almost-sure rate",
        "covariance_mean": "E Sigma_n = r^n Sigma with r = A (M - 1)/divisor",
        "precision": f"mpmath at {working_precision(chain)} digits, rounded once to float64 (log det Sigma from "
                     "a float64 slogdet)",
    }
    return {
        "generations": gens,
        **{key: out[key] for key in ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean")},
        "w2_sq_mean": None,
        "covariance_mean": covariance_mean,
        "det_var": out["det_var"],
        "log_det_var": out["log_det_var"],
        "bounds": {"w2_sq_mean": _w2_bounds(chain, gens, out["mean_sq_error"], out["trace_mean"])},
        "notes": notes,
    }


def _w2_bounds(chain: MultivariateGaussianChain, gens, mean_sq_error, trace_mean):
    """``(lower, upper)`` float64 arrays bounding ``E W2^2(p_n, p_0)`` (module doc)."""
    from ._exact import exact_values

    trace = float(np.trace(chain.covariance))
    unit = exact_values(GaussianChain(chain.sample_size, learner=chain.learner,
                                      variance_scale=chain.variance_scale), gens)["w2_sq_mean"]
    lower = trace * np.asarray(unit, dtype=np.float64)
    eigenvalues = np.linalg.eigvalsh(chain.covariance)[::-1]  # descending
    k = chain.degrees_of_freedom
    upper = np.empty(len(gens))
    with mpmath.workdps(working_precision(chain)):
        half_log_c = mpmath.log(mpmath.mpf(chain.variance_scale) / chain.divisor) / 2
        log_e = [mpmath.log(2) / 2 + mpmath.loggamma(mpmath.mpf(k - i + 2) / 2)
                 - mpmath.loggamma(mpmath.mpf(k - i + 1) / 2) for i in range(1, chain.dimension + 1)]
        lam = [mpmath.mpf(float(x)) for x in eigenvalues]
        for j, n in enumerate(gens):
            fidelity = mpmath.fsum(lam_i * mpmath.exp(n * (half_log_c + le)) for lam_i, le in zip(lam, log_e))
            # mean_sq_error and trace_mean were rounded to float64: recompute them here in mpmath
            r = mpmath.mpf(chain.variance_scale) / chain.divisor * k
            t = mpmath.fsum(lam)
            geometric = mpmath.mpf(n) if r == 1 else mpmath.expm1(n * mpmath.log(r)) / (r - 1)
            upper[j] = float(t / chain.sample_size * geometric + r**n * t + t - 2 * fidelity)
    return lower, upper


def w2_sq_bounds(chain: MultivariateGaussianChain, generations) -> dict:
    """Exact bounds on ``E W2^2(p_n, p_0)`` (Bures-Wasserstein) for every ``n``, and the paper's lower bound
    ``tr Sigma sum_{i<n} 1/M`` checked against them.

    Returns ``{"generations", "lower", "upper", "paper_lower_bound", "paper_bound_holds"}``: ``lower``/``upper``
    float64 arrays (module doc); ``paper_lower_bound = n tr Sigma / M``; ``paper_bound_holds`` a list of ``True``
    (``lower >= paper``: it holds), ``False`` (``upper < paper``: it fails) or ``None`` (the bounds do not decide).

    >>> import numpy as np
    >>> b = w2_sq_bounds(MultivariateGaussianChain(10, np.eye(3), learner="mle"), [1, 10, 30, 100])
    >>> b["paper_bound_holds"]
    [True, True, False, False]
    """
    chain = check_multivariate_chain(chain)
    gens = check_generations(generations)
    values = multivariate_exact_values(chain, gens)
    lower, upper = values["bounds"]["w2_sq_mean"]
    paper = np.array([n * float(np.trace(chain.covariance)) / chain.sample_size for n in gens])
    holds = [True if lo >= pa else (False if up < pa else None) for lo, up, pa in zip(lower, upper, paper)]
    return {"generations": gens, "lower": lower, "upper": upper, "paper_lower_bound": paper,
            "paper_bound_holds": holds}


def log_det_drift(chain: MultivariateGaussianChain) -> float:
    """The almost-sure rate of the volume's collapse: ``lim (log det Sigma_n)/n = d log(A/divisor) +
    sum_{i=1}^d (psi((M - i)/2) + log 2)`` (a strong law; ``E log det Sigma_n - log det Sigma`` is exactly ``n``
    times it).

    >>> import numpy as np
    >>> round(log_det_drift(MultivariateGaussianChain(101, np.eye(10))), 6)  # about -d(d+1)/(2k) = -0.55
    -0.570139
    """
    chain = check_multivariate_chain(chain)
    k, d = chain.degrees_of_freedom, chain.dimension
    with mpmath.workdps(working_precision(chain)):
        c = mpmath.mpf(chain.variance_scale) / chain.divisor
        return float(d * mpmath.log(c) + mpmath.fsum(mpmath.digamma(mpmath.mpf(k - i + 1) / 2) + mpmath.log(2)
                                                     for i in range(1, d + 1)))


def marginal_chain(chain: MultivariateGaussianChain, direction) -> GaussianChain:
    """The 1-D chain followed by the projection ``u^T x`` of the multivariate chain: an exact identity in law
    (module doc), with ``sigma^2 = u^T Sigma u``, ``mu = u^T mu``, the same ``M``, learner and ``A``.

    ``direction`` is a coordinate index ``j`` (``u = e_j``: the ``j``-th marginal) or a length-``d`` vector ``u``
    (nonzero). Every :func:`theory.numeric.exact_values` result for it holds for the projection.

    >>> import numpy as np
    >>> marginal_chain(MultivariateGaussianChain(5, [[4.0, 1.0], [1.0, 2.0]]), 0).sigma
    2.0
    """
    chain = check_multivariate_chain(chain)
    d = chain.dimension
    if isinstance(direction, (int, np.integer)) and not isinstance(direction, bool):
        if not 0 <= int(direction) < d:
            raise ParameterError("direction", f"a coordinate index in [0, {d - 1}] or a vector of length {d}",
                                 direction)
        u = np.zeros(d)
        u[int(direction)] = 1.0
    else:
        try:
            u = np.asarray(direction, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError("direction", f"a coordinate index or a vector of length {d}", direction) from None
        if u.shape != (d,) or not np.all(np.isfinite(u)) or not np.any(u):
            raise ParameterError("direction", f"a nonzero finite vector of length {d}", direction)
    variance = float(u @ chain.covariance @ u)
    return GaussianChain(chain.sample_size, learner=chain.learner, variance_scale=chain.variance_scale,
                         sigma=float(np.sqrt(variance)), mu=float(u @ chain.mean))
