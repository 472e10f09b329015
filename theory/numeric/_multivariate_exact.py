r"""Exact moments of the multivariate Gaussian chain, for every generation ``n``: replace, then the other workflows.

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

**Workflows** (``mix:LAMBDA``, ``mix-fixed:LAMBDA``, ``accumulate``, ``accumulate-subsample:K``; definitions in
:mod:`theory.chain._multivariate`).

* *Marginals, every workflow.* The fit (plain or weighted mean and scatter) commutes with projections, so for any
  ``u`` the projection ``u^T x`` is exactly the 1-D chain with the same workflow and ``sigma^2 = u^T Sigma u``
  (:func:`marginal_chain`). With ``e_n``, ``v_n`` the 1-D chain's exact ``E (mu_n - mu)^2`` and ``E sigma_n^2`` at
  ``sigma = 1`` (:func:`theory.numeric.exact_values`): ``E ||mu_n - mu||^2 = sum_j E (e_j^T (mu_n - mu))^2 =
  e_n tr Sigma``, ``u^T E Sigma_n u = v_n u^T Sigma u`` for every ``u`` so (polarization, both symmetric)
  ``E Sigma_n = v_n Sigma`` and ``E tr Sigma_n = v_n tr Sigma``.
* *Generation 1*, under every workflow with the plain fit, is a fit to ``M`` (``accumulate-subsample``: ``K``) points
  of the source: replace's generation 1; its exact values tighten the bounds below at ``n = 1``.
* *``mix``/``mix-fixed`` with ``LAMBDA = 0`` or ``1``* are replace chains (``LAMBDA = 1``: every generation ``n >= 1``
  is a fit to ``M`` real points, replace's generation 1 in law): every value is exact.
* *``accumulate``* (constant ``M``). The pool after step ``i`` holds ``N_i = (i + 1) M`` points with mean ``m_i``
  and scatter ``Q_i``; model ``i + 1`` is ``mu_{i+1} = m_i``, ``Sigma_{i+1} = c_i Q_i``, ``c_i = A / D(N_i)``
  (``D(N) = N - 1`` unbiased, ``N`` mle), and ``Q_0 ~ Wishart_d(k, Sigma)``. Adding ``M`` points of model ``i``
  (mean ``ybar``, scatter ``S``): ``Q_i = Q_{i-1} + S + (N_{i-1} M / N_i)(ybar - m_{i-1})(ybar - m_{i-1})^T`` with
  ``S ~ Wishart_d(k, Sigma_i)`` independent of ``ybar - m_{i-1} ~ N(0, Sigma_i / M)``, so
  ``Q_i = Q^{1/2} G_i Q^{1/2}`` (``Q = Q_{i-1}``), ``G_i = I + c_{i-1} (W + beta_i g g^T)``, ``W ~ Wishart_d(k, I)``,
  ``g ~ N(0, I)``, ``beta_i = N_{i-1}/N_i = i/(i + 1)``: independent of the past and orthogonally invariant in law.

  - Second moments: ``E G_ab G_cd = g1^2 d_ab d_cd + q (d_ac d_bd + d_ad d_bc)`` with ``g1 = 1 + c (k + beta)``,
    ``q = c^2 (k + beta^2)`` (Wishart and Isserlis), so for any fixed symmetric ``A`` (``B = Q^{1/2} A Q^{1/2}``):
    ``E (tr A Q_i)^2 = g1^2 (tr A Q)^2 + 2 q tr (A Q)^2`` and ``E tr (A Q_i)^2 = q (tr A Q)^2 + (g1^2 + q) tr (A Q)^2``,
    ``E tr A Q_i = g1 tr A Q``. Tracked as (mean, variance, second invariant) every term is positive (the variance
    obeys ``V_i = g1^2 V_{i-1} + 2 q E tr (A Q_{i-1})^2``, ``V_0 = 2 k tr (A Sigma)^2``): no cancellation. ``A = I``
    gives ``Var tr Sigma_n = c_{n-1}^2 V_{n-1}``, exact for every ``n``.
  - Determinant: ``det Q_i = det Q_{i-1} det G_i``; with ``Z`` the ``d x M`` normal matrix of ``W + beta g g^T =
    Z B Z^T`` (``B = diag(1, .., 1, beta)``), ``det(I + c Z B Z^T) = sum_j c^j e_j(Z B Z^T)`` and, by Cauchy-Binet,
    each principal ``j``-minor has mean ``j! e_j(B)``: ``E det G = sum_{j=0}^d c^j d!/(d - j)! [C(k, j) + beta
    C(k, j - 1)]``. With ``E det Q_0 = det Sigma k (k - 1) .. (k - d + 1)``:
    ``E det Sigma_n = c_{n-1}^d det Sigma prod_{j<d} (k - j) prod_{i=1}^{n-1} E det G_i``.
  - ``E log det G_i`` has no closed form, so ``log_det_mean`` is ``None`` with exact bounds: upper, Jensen per step
    (``E log det G_i <= log E det G_i``); lower, ``G_i >= I + c W`` (PSD order) and Minkowski's
    ``det(I + c W)^{1/d} >= 1 + c det(W)^{1/d}``, then Jensen on the convex ``x -> log(1 + e^x)``:
    ``E log det G_i >= d log(1 + c exp(ell / d))``, ``ell = E log det W = sum_{j=1}^d (psi((k - j + 1)/2) + log 2)``;
    each summed over ``i = 1 .. n - 1`` and added to the exact ``E log det (c_{n-1} Q_0) - log det Sigma =
    d log c_{n-1} + ell``.
  - ``E W2^2`` upper: with ``X = Sigma^{1/2} Sigma_n Sigma^{1/2}`` (eigenvalues ``x_j``), Hoelder gives
    ``sum x_j^{1/2} >= (sum x_j)^{3/2} / (sum x_j^2)^{1/2}``, and ``(a, b) -> a^{3/2} b^{-1/2}`` is jointly convex
    (a perspective), so ``E F_n >= (E tr X)^{3/2} / (E tr X^2)^{1/2}``; ``E tr X^2 = E tr (Sigma Sigma_n)^2`` is the
    recursion above with ``A = Sigma``. For ``d = 1`` this is the 1-D chain's bound.
* *``mix``* (fresh real points; plain or weighted fit): ``Var tr Sigma_n``. The fit is ``Sigma' = a_x S_x + a_y S_y
  + g w w^T``, ``delta' = p (xbar - mu) + (1 - p)(ybar - mu)`` (``w = xbar - ybar``, ``delta = mu_n - mu``; plain:
  ``a_x = a_y = A/D``, ``g = A R (M - R)/(M D)``, ``p = R/M``; weighted: ``a_x = A w/(R D')``, ``a_y = A (1 - w)/
  ((M - R) D')``, ``g = A w (1 - w)/D'``, ``p = w``, ``D' = 1 - sum omega^2`` unbiased, 1 mle). The invariants
  ``(tr Sigma_n)^2, tr Sigma_n^2, |delta|^2 tr Sigma_n, delta^T Sigma_n delta, |delta|^4`` and ``tr Sigma_n,
  tr(Sigma Sigma_n), |delta|^2, delta^T Sigma delta`` close an affine system (:func:`derive_mix_system`: derived
  symbolically from the normal and Wishart moments with generic ``d = 2`` matrices, checked unique and without
  remainder, the same at ``d = 3`` in a slow test), walked with binary powers in mpmath. For ``d = 1`` it reproduces
  the 1-D chain's ``Var sigma_n^2`` (an independent derivation) to 2e-16.
* *``mix``, ``mix-fixed``, ``accumulate-subsample``*: otherwise only the marginal quantities are exact here;
  ``trace_var`` (but under ``mix``), ``det_mean``, ``log_det_mean``, ``det_var``, ``log_det_var`` are ``None`` with a
  note (the fit mixes the model's scatter with other points' and a between-group term: no factorisation into
  independent steps; under ``mix-fixed`` the shared real points add invariants not derived here).

Bounds under every workflow (``"bounds"``, rounded outward): ``E W2^2 >= tr Sigma`` times the 1-D chain's exact
lower bound at ``sigma = 1`` (the projection argument below, with each projection the 1-D workflow chain);
``E W2^2 <= E ||mu_n - mu||^2 + E tr Sigma_n + tr Sigma`` (the independent coupling; under ``accumulate`` also the
Hoelder bound above, whichever is lower); ``E log det Sigma_n - log det Sigma <= d log v_n`` (``log det`` is concave:
``E log det Sigma_n <= log det E Sigma_n``); under ``mix``/``mix-fixed`` with ``R >= d + 1`` real points,
``Sigma_{n+1} >= c' S_real`` in the PSD order (the total scatter dominates the real points' own scatter, ``S_real ~
Wishart_d(R - 1, Sigma)``; ``c' = A / D`` for the plain fit, ``A w / R`` weighted, divided by ``1 - sum omega^2`` for
``unbiased``), so ``E log det Sigma_n - log det Sigma >= d log c' + sum_{i=1}^d (psi((R - i)/2) + log 2)``. A lower
end with no bound derived is ``-inf``.

**Evaluation (workflows).** The marginal quantities are the 1-D chain's exact values (correctly rounded float64,
:mod:`theory.numeric._workflow_exact`) times ``tr Sigma`` or ``Sigma``: within 2 ulp. The accumulate recursion is
walked in :mod:`mpmath` (one step per generation, every term positive: no cancellation); ``log E det G_i`` is summed
from float64 terms with a proved relative error bound (:func:`_det_growth`: 1e-11 at ``d = 10``, ``n = 10^4``), which
the note on ``det_mean`` states and the log-det bounds are widened by. Cost: the 1-D walk dominates (``accumulate``
``n = 10^4`` in about 5 s, ``accumulate-subsample`` about 10 times more).

**Evaluation (replace).** Every value is computed in :mod:`mpmath` at ``40 + 2 log10(M) + log10(d)`` digits (the trace
variance cancels about ``log10(d M/n)`` digits, the log-det drift about ``log10(M log M / d)``) and rounded once to
float64: correctly rounded when representable, ``inf``/``0`` beyond float64's range (``r^{2n}`` and the determinant
powers overflow for large ``n``). The inputs ``t``, ``s``, ``t^2 - s`` are formed exactly from the float64 entries of
``Sigma``; ``log det Sigma`` (used only by ``det_mean``/``det_var``) comes from a float64 ``slogdet`` (relative error
about ``d`` times the unit roundoff times the condition number). Cost O(d^2 + d) per generation, any ``n``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import mpmath
import numpy as np

from .._errors import ParameterError
from ..chain import REPLACE, GaussianChain, check_generations
from ..chain._multivariate import MultivariateGaussianChain, check_multivariate_chain
from ._walk import walk

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
    """Exact moments of the multivariate chain at each generation, under any workflow, as float64 arrays.

    Returns a dict with ``"generations"`` (the list given) and, aligned with it (replace workflow):

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

    Under the other workflows (module doc, "Workflows") the same keys: ``mean_sq_error``, ``trace_mean`` and
    ``covariance_mean`` for every workflow (from the exact 1-D marginals), ``trace_var`` and ``det_mean`` also
    under ``accumulate``, ``trace_var`` under ``mix``; every other quantity is ``None`` and ``"notes"`` says why.
    ``"bounds"`` then holds ``w2_sq_mean`` and ``log_det_mean`` as ``(lower, upper)`` float64 arrays (a lower end
    with no bound derived at some generation is ``-inf`` there). ``mix``/``mix-fixed`` with no real or no
    synthetic point are replace chains (every value exact).

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
    >>> a = multivariate_exact_values(MultivariateGaussianChain(11, np.eye(2), workflow="accumulate"), [2])
    >>> float(a["trace_mean"][0])  # (1 + (k + 1/2)/k) k / (2M - 1) tr Sigma
    1.9523809523809523
    >>> a["log_det_mean"] is None
    True
    """
    chain = check_multivariate_chain(chain)
    gens = check_generations(generations)
    workflow = chain.workflow
    if workflow.is_replace:
        return _replace_values(chain, gens)
    if workflow.kind in ("mix", "mix-fixed") and workflow.real_count(chain.sample_size) in (0, chain.sample_size):
        return _no_mixing(chain, gens)
    return _workflow_values(chain, gens)


def _replace_values(chain: MultivariateGaussianChain, gens: list) -> dict:
    """:func:`multivariate_exact_values` for the replace workflow."""
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


# ------------------------------------------------------------------------------------------------------ workflows
_U = 2.0**-53

_NONE_NOTES = {
    "trace_var": "no exact route under {kind}: Sigma_(n+1) is fitted to the model's points together with {other}, "
                 "so Var tr Sigma_n needs joint second-order invariants of Sigma_n, the other points' scatter and the "
                 "between-group term, derived here for mix (fresh real points) only; the Monte Carlo gives it",
    "det_mean": "no exact route under {kind}: the determinant of a fit to the model's points together with {other} "
                "does not factor into independent steps (it does under accumulate, det Q_i = det Q_(i-1) det G_i); "
                "the Monte Carlo gives it",
    "log_det_mean": "no exact value under {kind}: E log det Sigma_n has no closed form there; exact bounds in "
                    "'bounds' (upper: log det is concave, E log det Sigma_n <= log det E Sigma_n{lower}); the Monte "
                    "Carlo gives the value",
    "det_var": "no exact route under {kind} (needs E det^2 of a step that does not factor); the Monte Carlo only",
    "log_det_var": "no exact route under {kind} (E log det has none); the Monte Carlo only",
}
_OTHER = {"mix": "fresh real points (and the between-group term)",
          "mix-fixed": "the fixed real points (and the between-group term)",
          "accumulate": "the pool's earlier points",
          "accumulate-subsample": "a subsample of the pool (whose composition is random)"}
_LOWER = {"mix": "; lower, for R >= d + 1 real points: Sigma_(n+1) >= c' S_real in the PSD order, S_real ~ "
                 "Wishart_d(R - 1, Sigma)",
          "mix-fixed": "; lower, for R >= d + 1 real points: Sigma_(n+1) >= c' S_real in the PSD order, S_real ~ "
                       "Wishart_d(R - 1, Sigma)",
          "accumulate": "; sharper upper: Jensen on each step, E log det G_i <= log E det G_i; lower: "
                        "G_i >= I + c W and Minkowski's determinant inequality, then Jensen on log(1 + e^x)",
          "accumulate-subsample": ""}


def _no_mixing(chain: MultivariateGaussianChain, gens: list) -> dict:
    """``mix``/``mix-fixed`` with no real point (``LAMBDA = 0``: the replace chain itself) or no synthetic one
    (``round(LAMBDA M) = M``: generation ``n >= 1`` is a fit to ``M`` real points, in law the replace chain's
    generation 1): every value is the replace one's."""
    plain = dataclasses.replace(chain, workflow=REPLACE)
    if chain.workflow.real_count(chain.sample_size) == 0:
        return _replace_values(plain, gens)
    base = _replace_values(plain, [0, 1])
    index = [min(g, 1) for g in gens]
    out = {"generations": gens, "w2_sq_mean": None, "notes": base["notes"]}
    for key in ("mean_sq_error", "trace_mean", "trace_var", "det_mean", "log_det_mean", "covariance_mean",
                "det_var", "log_det_var"):
        out[key] = base[key][index]
    out["bounds"] = {key: tuple(None if end is None else end[index] for end in pair)
                     for key, pair in base["bounds"].items()}
    out["notes"] = {**base["notes"], "workflow": f"{chain.workflow}: every generation n >= 1 is a fit to M real "
                    "points, so each value is the replace chain's at generation min(n, 1)"}
    return out


def _workflow_values(chain: MultivariateGaussianChain, gens: list) -> dict:
    """:func:`multivariate_exact_values` for ``mix``, ``mix-fixed``, ``accumulate`` and ``accumulate-subsample``
    (module doc, "Workflows")."""
    from ._exact import exact_values

    kind = chain.workflow.kind
    d = chain.dimension
    one = exact_values(GaussianChain(chain.sample_size, learner=chain.learner, variance_scale=chain.variance_scale,
                                     workflow=chain.workflow), gens)  # sigma = 1: E(mu_n-mu)^2 and v_n = E sigma_n^2
    trace = math.fsum(float(x) for x in np.diag(chain.covariance))
    unit_msq = np.asarray(one["mean_sq_error"], dtype=np.float64)
    unit_var = np.asarray(one["variance_mean"], dtype=np.float64)
    mean_sq_error = trace * unit_msq
    trace_mean = trace * unit_var
    covariance_mean = unit_var[:, None, None] * chain.covariance[None, :, :]
    # E W2^2 lower: tr Sigma times the 1-D lower bound at sigma = 1 (already rounded outward)
    w2_lower = np.maximum(np.nextafter(trace * np.asarray(one["bounds"]["w2_sq_mean"][0]), -np.inf), 0.0)
    w2_upper = _round_up((mean_sq_error + trace_mean + trace) * (1 + 8 * _U))  # the independent coupling
    with np.errstate(divide="ignore"):
        log_upper = _round_up(d * np.log(unit_var * (1 + 4 * _U)))  # concavity: log det E Sigma_n = d log v_n + ...
    log_lower = _mix_log_det_lower(chain, gens) if kind in ("mix", "mix-fixed") else None
    out = {"generations": gens, "mean_sq_error": mean_sq_error, "trace_mean": trace_mean, "trace_var": None,
           "det_mean": None, "log_det_mean": None, "w2_sq_mean": None, "covariance_mean": covariance_mean,
           "det_var": None, "log_det_var": None}
    if kind == "mix":
        out["trace_var"] = _mix_trace_var(chain, gens)
    if kind == "accumulate":
        acc = _accumulate(chain, gens)
        out["trace_var"], out["det_mean"] = acc["trace_var"], acc["det_mean"]
        w2_upper = np.minimum(w2_upper, _round_up(mean_sq_error * (1 + 4 * _U) + trace_mean * (1 + 4 * _U) + trace
                                                  - 2 * acc["fidelity_lower"] * (1 - 8 * _U)))
        log_upper = np.minimum(log_upper, acc["log_det_upper"])
        log_lower = acc["log_det_lower"]
    if d == 1:  # Sigma_n = sigma_n^2: det, trace and their moments are the 1-D chain's (same workflow)
        if out["trace_var"] is None and one.get("variance_var") is not None:
            out["trace_var"] = trace * trace * np.asarray(one["variance_var"], dtype=np.float64)
        if out["det_mean"] is None:  # (accumulate's own det route is kept: the d = 1 test then checks it)
            out["det_mean"] = trace_mean.copy()
        out["det_var"] = None if out["trace_var"] is None else np.array(out["trace_var"], dtype=np.float64)
        if one.get("log_variance_mean") is not None:
            out["log_det_mean"] = np.asarray(one["log_variance_mean"], dtype=np.float64)
    zero = np.array([g == 0 for g in gens])
    if log_lower is None:
        log_lower = np.full(len(gens), -np.inf)
    for array in (w2_lower, w2_upper, log_upper, log_lower):
        array[zero] = 0.0
    first = np.array([g == 1 for g in gens])
    if first.any() and chain.workflow.real_weight is None:
        # generation 1 is a plain fit to M (accumulate-subsample: K) points of the source: replace's generation 1
        size = chain.workflow.subsample if kind == "accumulate-subsample" else chain.sample_size
        exact = _replace_values(dataclasses.replace(chain, sample_size=size, workflow=REPLACE), [1])
        w2_lower[first] = np.maximum(w2_lower[first], exact["bounds"]["w2_sq_mean"][0][0])
        w2_upper[first] = np.minimum(w2_upper[first], exact["bounds"]["w2_sq_mean"][1][0])
        log_lower[first] = log_upper[first] = exact["log_det_mean"][0]
    other = _OTHER[kind]
    notes = {key: text.format(kind=kind, other=other, lower=_LOWER[kind]) for key, text in _NONE_NOTES.items()
             if out[key] is None}
    notes["w2_sq_mean"] = ("E W2^2(p_n, p_0) (Bures-Wasserstein) has no closed form: Monte Carlo only; exact bounds "
                           "in 'bounds' (lower: tr Sigma times the 1-D chain's lower bound at sigma = 1; upper: the "
                           "independent coupling" + (", and Hoelder's E tr X^(1/2) >= (E tr X)^(3/2)/(E tr X^2)^(1/2)"
                           " with the exact accumulate moments" if kind == "accumulate" else "") + ")")
    notes["covariance_mean"] = ("E Sigma_n = v_n Sigma, v_n = E sigma_n^2 of the 1-D chain with the same workflow at "
                                "sigma = 1 (every projection u^T x is that 1-D chain; polarization)")
    notes["precision"] = ("the 1-D chain's exact values (correctly rounded) times tr Sigma: within 2 ulp"
                          + ("; trace_var in mpmath (a recursion of positive terms), det_mean from a float64 sum of "
                             f"log growth factors (relative error below {acc['det_error']:.2g})"
                             if kind == "accumulate" else "")
                          + ("; trace_var from the derived invariant system in mpmath, the precision raised until two "
                             "precisions agree in float64" if kind == "mix" else ""))
    out["bounds"] = {"w2_sq_mean": (w2_lower, w2_upper), "log_det_mean": (log_lower, log_upper)}
    out["notes"] = notes
    return out


def _round_up(values) -> np.ndarray:
    return np.nextafter(np.asarray(values, dtype=np.float64), np.inf)


def _mix_log_det_lower(chain: MultivariateGaussianChain, gens: list):
    """``E log det Sigma_n - log det Sigma >= d log c' + sum_i (psi((R - i)/2) + log 2)`` for ``n >= 1`` (mix and
    mix-fixed with ``R >= d + 1`` real points; module doc), else ``None``."""
    workflow, m, d = chain.workflow, chain.sample_size, chain.dimension
    r = workflow.real_count(m)
    if r < d + 1:
        return None
    with mpmath.workdps(30):
        a = mpmath.mpf(chain.variance_scale)
        if workflow.real_weight is None:  # the plain fit: every point weighs 1/M
            factor = a / chain.divisor
        else:
            w = mpmath.mpf(workflow.real_weight)
            factor = a * w / r
            if chain.learner == "unbiased":
                factor /= 1 - (w * w / r + (1 - w) ** 2 / (m - r))
        value = d * mpmath.log(factor) + mpmath.fsum(mpmath.digamma(mpmath.mpf(r - i) / 2) + mpmath.log(2)
                                                     for i in range(1, d + 1))
        low = float(value) - 1e-14 * (1 + abs(float(value)))  # outward by far more than the rounding
    return np.array([0.0 if g == 0 else low for g in gens])


def _accumulate(chain: MultivariateGaussianChain, gens: list) -> dict:
    """The accumulate route (module doc): ``Var tr Sigma_n``, ``E det Sigma_n``, bounds on ``E log det Sigma_n``
    and Hoelder's lower bound on ``E tr (Sigma^(1/2) Sigma_n Sigma^(1/2))^(1/2)``, at each generation."""
    d, m, k = chain.dimension, chain.sample_size, chain.degrees_of_freedom
    top = max(gens)
    unbiased = chain.learner == "unbiased"
    covariance = chain.covariance
    _sign, log_det0 = np.linalg.slogdet(covariance)
    targets = set(gens)
    result = {}
    with mpmath.workdps(30 + 2 * len(str(m * (top + 1))) + len(str(d))):
        a = mpmath.mpf(chain.variance_scale)

        def coefficient(j):  # c_j = A / D(N_j), N_j = (j + 1) M
            pool = (j + 1) * m
            return a / (pool - 1 if unbiased else pool)

        t, s, _ = _trace_terms(covariance)
        # tr Sigma^4, only for the Hoelder bound (widened by 1e-12 below); scaled to stay within float64's range
        scale = float(np.max(np.abs(covariance)))
        square = (covariance / scale) @ (covariance / scale)
        s4 = mpmath.mpf(scale) ** 4 * mpmath.mpf(float(np.sum(square * square)))
        # (mean, variance, second invariant) of tr(A Q_i): A = I (trace) and A = Sigma (fidelity bound)
        states = [[k * t, 2 * k * s, k * t * t + k * (k + 1) * s],
                  [k * s, 2 * k * s4, k * s * s + k * (k + 1) * s4]]
        ell = mpmath.fsum(mpmath.digamma(mpmath.mpf(k - j + 1) / 2) + mpmath.log(2) for j in range(1, d + 1))
        log_q0 = mpmath.fsum(mpmath.log(k - j) for j in range(d))  # log E det Q_0 - log det Sigma
        growth_sum = mpmath.mpf(0)  # sum_{i<n} log E det G_i
        lower_sum = mpmath.mpf(0)  # sum_{i<n} d log(1 + c_(i-1) exp(ell/d))
        log_growth, error = _det_growth(chain, top)
        for i in range(1, top + 1):  # generation i = c_(i-1) Q_(i-1)
            if i > 1:  # Q_(i-2) -> Q_(i-1) with G_(i-1): c = c_(i-2), beta = (i-1)/i
                c, beta = coefficient(i - 2), mpmath.mpf(i - 1) / i
                g1, q = 1 + c * (k + beta), c * c * (k + beta * beta)
                g2 = g1 * g1
                for state in states:
                    mean, var, second = state
                    state[:] = [g1 * mean, g2 * var + 2 * q * second, q * (var + mean * mean) + (g2 + q) * second]
                growth_sum += mpmath.mpf(log_growth[i - 2])
                lower_sum += d * mpmath.log1p(c * mpmath.exp(ell / d))
            if i in targets:
                c = coefficient(i - 1)
                base = d * mpmath.log(c) + ell
                fid_mean, fid_second = c * states[1][0], c * c * states[1][2]
                result[i] = (float(c * c * states[0][1]),
                             float(mpmath.exp(mpmath.mpf(float(log_det0)) + d * mpmath.log(c) + log_q0 + growth_sum)),
                             float(base + lower_sum), float(base + growth_sum),
                             fid_mean ** mpmath.mpf(1.5) / mpmath.sqrt(fid_second), float(growth_sum))
    with mpmath.workdps(30):
        det0 = float(mpmath.exp(mpmath.mpf(float(log_det0))))  # inf or 0 beyond float64's range, no warning
    rows = [result.get(g, (0.0, det0, 0.0, 0.0, 0.0, 0.0)) for g in gens]
    margin = error * np.array([r[5] for r in rows])  # absolute error bound of the float64 growth sum
    return {"trace_var": np.array([r[0] for r in rows]), "det_mean": np.array([r[1] for r in rows]),
            "log_det_lower": np.nextafter(np.array([r[2] for r in rows]) - margin, -np.inf),
            "log_det_upper": _round_up(np.array([r[3] for r in rows]) + margin),
            "fidelity_lower": np.nextafter(np.array([float(r[4]) for r in rows]) * (1 - 1e-12), -np.inf),
            "det_error": float(np.max(margin, initial=0.0) * 1.01)}


def _det_growth(chain: MultivariateGaussianChain, top: int):
    """``log E det G_i`` for ``i = 1 .. top - 1`` (float64) and a relative error bound of their sum.

    ``E det G = 1 + sum_{j=1}^d c^j d!/(d-j)! [C(k, j) + beta C(k, j - 1)]`` (Cauchy-Binet, module doc); the
    coefficients' logs and ``log c`` come from mpmath rounded to float64, each term is ``exp(log coefficient +
    j log c + log beta)`` in float64: the exponent is off by at most ``3 P u`` (``P`` the sum of its parts'
    magnitudes, at most ``worst``), the term by ``(3 worst + 2) u`` relative; the positive sum adds ``(2 d + 2) u``,
    and ``log1p`` keeps a relative error ``e`` of its argument below ``e`` of the result (``log1p(S) >= S/(1+S)``;
    the ``S > 1`` branch at most ``e / log 2``). The returned bound, ``2 (3 worst + 2 d + 8) u``, covers it.
    """
    d, m, k = chain.dimension, chain.sample_size, chain.degrees_of_freedom
    steps = max(top - 1, 0)
    if steps == 0:
        return np.zeros(0), 0.0
    with mpmath.workdps(40):
        falling = [mpmath.mpf(1)]
        for j in range(1, d + 1):
            falling.append(falling[-1] * (d - j + 1))
        log_a = np.array([float(mpmath.log(falling[j] * mpmath.binomial(k, j))) for j in range(1, d + 1)])
        log_b = np.array([float(mpmath.log(falling[j] * mpmath.binomial(k, j - 1))) for j in range(1, d + 1)])
        a = mpmath.mpf(chain.variance_scale)
        unbiased = chain.learner == "unbiased"
        log_c = np.array([float(mpmath.log(a / ((i * m) - 1 if unbiased else i * m))) for i in range(1, steps + 1)])
    beta = np.arange(1, steps + 1) / np.arange(2, steps + 2)
    powers = np.arange(1, d + 1)
    exponent_a = log_a[None, :] + powers[None, :] * log_c[:, None]
    exponent_b = log_b[None, :] + powers[None, :] * log_c[:, None] + np.log(beta)[:, None]
    top_exponent = np.maximum(exponent_a.max(axis=1), exponent_b.max(axis=1))
    scaled = (np.exp(exponent_a - top_exponent[:, None]) + np.exp(exponent_b - top_exponent[:, None])).sum(axis=1)
    log_sum = top_exponent + np.log(scaled)  # log of the sum over j >= 1
    growth = np.where(log_sum > 0, log_sum + np.log1p(np.exp(-np.abs(log_sum))), np.log1p(np.exp(log_sum)))
    parts = np.abs(log_a).max() + np.abs(log_b).max() + d * np.abs(log_c).max() + np.abs(np.log(beta)).max()
    return growth, 2 * (3 * float(parts) + 2 * d + 8) * _U


# ---------------------------------------------------------------------------------- mix: the trace variance
#: The state of the mix trace-variance system: second-order invariants of ``(Sigma_n, delta = mu_n - mu)``, then
#: first-order ones, then the constant 1 (``t = tr Sigma``, ``s = tr Sigma^2`` enter the transition's entries).
MIX_STATE = ("(tr S)^2", "tr S^2", "|d|^2 tr S", "d'Sd", "|d|^4", "tr S", "tr(Sigma S)", "|d|^2", "d'Sigma d")


def _mix_symbols():
    import sympy as sp

    return sp.symbols("R Mp a_x a_y g p t s", positive=True)


def derive_mix_system(dimension: int = 2):
    """The affine one-step map of :data:`MIX_STATE` under ``mix`` (fresh real points), derived symbolically.

    Given ``(Sigma_n, delta)`` the training set is ``R`` real points (mean ``xbar``, scatter ``S_x``) and ``Mp``
    synthetic ones (``ybar``, ``S_y``): ``xbar - mu = L_x e_x``, ``e_x ~ N(0, I/R)``, ``S_x = L_x W_x L_x^T``,
    ``W_x ~ Wishart(R - 1, I)`` (``Sigma = L_x L_x^T``), and ``ybar - mu = delta + L_y e_y``, ``e_y ~ N(0, I/Mp)``,
    ``S_y = L_y W_y L_y^T``, ``W_y ~ Wishart(Mp - 1, I)`` (``Sigma_n = L_y L_y^T``), all independent. The fit is
    ``Sigma' = a_x S_x + a_y S_y + g w w^T`` with ``w = xbar - ybar`` and ``delta' = p (xbar - mu) +
    (1 - p)(ybar - mu)``. Each target (the next state's invariants) is expanded block by block, its expectation
    taken monomial by monomial (normal moments; Wishart first and second moments ``E W = k I``, ``E W_ab W_cd = k^2
    d_ab d_cd + k (d_ac d_bd + d_ad d_bc)``), and the result is matched against the invariants (times ``t``, ``s``)
    with generic lower-triangular ``L_x``, ``L_y`` and ``delta`` in ``dimension`` dimensions: the linear system for
    the coefficients must have exactly one solution and leave no remainder (``ArithmeticError`` otherwise).
    Returns the ``10 x 10`` matrix (rows: next state, columns: :data:`MIX_STATE` and 1) as nested lists.
    """
    import sympy as sp

    r_, mp_, a_x, a_y, g_, p_, t_, s_ = _mix_symbols()
    d = dimension

    def lower(name):
        return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{i}{j}") if i >= j else 0)

    l_x, l_y = lower("lx"), lower("ly")
    dl = sp.Matrix(sp.symbols(f"dl0:{d}"))
    e_x, e_y = sp.Matrix(sp.symbols(f"ex0:{d}")), sp.Matrix(sp.symbols(f"ey0:{d}"))
    w_x = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"wx{min(i, j)}{max(i, j)}"))
    w_y = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"wy{min(i, j)}{max(i, j)}"))
    normals = {**{z: 1 / r_ for z in e_x}, **{z: 1 / mp_ for z in e_y}}
    wishart = {}
    for matrix, dof in ((w_x, r_ - 1), (w_y, mp_ - 1)):
        for i in range(d):
            for j in range(i, d):
                wishart[matrix[i, j]] = (id(matrix), i, j, dof)

    def delta(a, b):
        return 1 if a == b else 0

    def expect(expression):
        gens = list(normals) + list(wishart)
        terms = []
        for powers, coefficient in sp.Poly(sp.expand(expression), *gens).terms():
            power = dict(zip(gens, powers))
            if any(power[z] % 2 for z in normals):
                continue
            factor = coefficient
            for z, variance in normals.items():
                if power[z]:
                    factor *= sp.factorial2(power[z] - 1) * variance ** (power[z] // 2)
            for group in (id(w_x), id(w_y)):
                index = [(i, j, dof) for sym, (gid, i, j, dof) in wishart.items() if gid == group
                         for _ in range(power[sym])]
                if len(index) == 1:
                    a, b, dof = index[0]
                    factor *= dof * delta(a, b)
                elif len(index) == 2:
                    (a, b, dof), (c, e, _) = index
                    factor *= dof**2 * delta(a, b) * delta(c, e) + dof * (delta(a, c) * delta(b, e)
                                                                           + delta(a, e) * delta(b, c))
                elif index:
                    raise ArithmeticError("a Wishart entry of degree > 2")
            terms.append(factor)
        return sp.expand(sp.Add(*terms))

    sigma, current = l_x * l_x.T, l_y * l_y.T
    xbar, ybar = l_x * e_x, dl + l_y * e_y
    w = xbar - ybar
    blocks = [(a_x, l_x * w_x * l_x.T), (a_y, l_y * w_y * l_y.T), (g_, w * w.T)]
    means = [(p_, xbar), (1 - p_, ybar)]

    def tr(m):
        return m.trace()

    def dot(u, v):
        return (u.T * v)[0]

    targets = [
        sum(a * b * expect(tr(x) * tr(y)) for a, x in blocks for b, y in blocks),
        sum(a * b * expect(tr(x * y)) for a, x in blocks for b, y in blocks),
        sum(a * u * v * expect(dot(x, y) * tr(z)) for a, z in blocks for u, x in means for v, y in means),
        sum(a * u * v * expect((x.T * z * y)[0]) for a, z in blocks for u, x in means for v, y in means),
        sum(u1 * v1 * u2 * v2 * expect(dot(x1, y1) * dot(x2, y2)) for u1, x1 in means for v1, y1 in means
            for u2, x2 in means for v2, y2 in means),
        sum(a * expect(tr(x)) for a, x in blocks),
        sum(a * expect(tr(sigma * x)) for a, x in blocks),
        sum(u * v * expect(dot(x, y)) for u, x in means for v, y in means),
        sum(u * v * expect((x.T * sigma * y)[0]) for u, x in means for v, y in means),
    ]
    t, s = tr(sigma), tr(sigma * sigma)
    invariants = [tr(current) ** 2, tr(current * current), dot(dl, dl) * tr(current), (dl.T * current * dl)[0],
                  dot(dl, dl) ** 2, tr(current), tr(sigma * current), dot(dl, dl), (dl.T * sigma * dl)[0]]
    # the candidate terms: each invariant, the first-order ones times t, and the constants t, s, t^2
    candidates = ([(i, sp.S.One, inv) for i, inv in enumerate(invariants)]
                  + [(i, t_, t * invariants[i]) for i in (5, 7)] + [(9, t_, t), (9, s_, s), (9, t_**2, t * t)])
    coordinates = sorted(l_x.free_symbols | l_y.free_symbols | set(dl), key=str)
    rows = []
    for target in targets:
        unknowns = sp.symbols(f"u0:{len(candidates)}")
        residual = sp.expand(target - sum(u * term for u, (_, _, term) in zip(unknowns, candidates)))
        equations = sp.Poly(residual, *coordinates).coeffs()
        solution = sp.solve(equations, unknowns, dict=True)
        if len(solution) != 1 or set(solution[0]) != set(unknowns):
            raise ArithmeticError("the invariants do not determine the mix step uniquely")
        row = [sp.S.Zero] * (len(invariants) + 1)
        for u, (column, factor, _) in zip(unknowns, candidates):
            row[column] += sp.factor(solution[0][u] * factor)
        back = {t_: t, s_: s}
        if sp.expand(target - sum(row[i].subs(back) * invariants[i] for i in range(len(invariants)))
                     - row[9].subs(back)) != 0:
            raise ArithmeticError("the mix step leaves a remainder outside the invariants")
        rows.append(row)
    rows.append([sp.S.Zero] * len(invariants) + [sp.S.One])
    return rows


@functools.cache
def _mix_transition():
    """:func:`derive_mix_system`, cached across processes (keyed by this file's text) and lambdified to mpmath."""
    import hashlib
    import pathlib

    import sympy as sp

    from ..symbolic._cache import cached

    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()[:16]
    symbols = set(_mix_symbols())

    def check(value) -> bool:
        return (isinstance(value, list) and len(value) == 10 and all(len(row) == 10 for row in value)
                and all(sp.sympify(x).free_symbols <= symbols for row in value for x in row))

    rows = cached(f"multivariate_mix_{digest}", derive_mix_system, check)
    return sp.lambdify(_mix_symbols(), rows, modules="mpmath")


def _mix_parameters(chain: MultivariateGaussianChain):
    """``(R, Mp, a_x, a_y, g, p)`` of :func:`derive_mix_system` for a mix chain (plain or weighted fit)."""
    workflow, m = chain.workflow, chain.sample_size
    r = workflow.real_count(m)
    a = mpmath.mpf(chain.variance_scale)
    if workflow.real_weight is None:  # the plain fit: divisor D, between-group weight R (M - R)/M
        c = a / chain.divisor
        return r, m - r, c, c, c * r * (m - r) / m, mpmath.mpf(r) / m
    w = mpmath.mpf(workflow.real_weight)
    scale = 1 - (w * w / r + (1 - w) ** 2 / (m - r)) if chain.learner == "unbiased" else mpmath.mpf(1)
    return r, m - r, a * w / r / scale, a * (1 - w) / (m - r) / scale, a * w * (1 - w) / scale, w


def _mix_trace_var(chain: MultivariateGaussianChain, gens: list) -> np.ndarray:
    """``Var tr Sigma_n`` under ``mix`` (fresh real points): the derived affine system walked with binary powers
    in mpmath, the precision raised until two precisions give the same float64 values."""
    transition = _mix_transition()
    digits = 30 + 2 * len(str(chain.sample_size)) + len(str(max(gens)))

    def evaluate(dps):
        with mpmath.workdps(dps):
            t, s, _ = _trace_terms(chain.covariance)
            step = mpmath.matrix(transition(*[mpmath.mpf(x) for x in _mix_parameters(chain)], t, s))
            start = mpmath.matrix([t * t, s, 0, 0, 0, t, s, 0, 0, 1])
            states = walk([(chain.sample_size, max(gens))], gens, lambda _m: step, lambda a, b: a * b,
                          lambda a, b: a * b, start)
            return np.array([float(states[g][0] - states[g][5] ** 2) for g in gens])

    values = evaluate(digits)
    while True:
        digits += 20
        again = evaluate(digits)
        if np.array_equal(values, again):
            return values
        if digits > 1000:
            raise ArithmeticError("the mix trace variance did not settle to float64 below 1000 digits")
        values = again


def _w2_bounds(chain: MultivariateGaussianChain, gens, mean_sq_error, trace_mean):
    """``(lower, upper)`` float64 arrays bounding ``E W2^2(p_n, p_0)`` (module doc)."""
    from ._exact import exact_values

    trace = float(np.trace(chain.covariance))
    unit = exact_values(GaussianChain(chain.sample_size, learner=chain.learner,
                                      variance_scale=chain.variance_scale), gens)["w2_sq_mean"]
    # rounded outward: unit is correctly rounded, the trace a float64 sum of d entries, the product one rounding
    d = chain.dimension
    lower = np.maximum(trace * np.asarray(unit, dtype=np.float64) * (1 - (d + 4) * _U), 0.0)
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
            terms = t / chain.sample_size * geometric + r**n * t + t
            # rounded outward: eigvalsh's eigenvalues are within p(d) u ||Sigma|| <= p(d) u t of the true ones (exact
            # for d = 1), which moves the fidelity by at most d p(d) u t r^(n/2) <= d p(d) u (t + r^n t)/2, covered by
            # 32 d (d - 1) u; the rest is mpmath at working precision, then one rounding up (nextafter)
            slack = 32 * d * (d - 1) * _U * (terms + 2 * fidelity)
            upper[j] = 0.0 if n == 0 else np.nextafter(float(terms - 2 * fidelity + slack), np.inf)  # W2(p_0, p_0) = 0
    return lower, upper


def w2_sq_bounds(chain: MultivariateGaussianChain, generations) -> dict:
    """Exact bounds on ``E W2^2(p_n, p_0)`` (Bures-Wasserstein) for every ``n``, under any workflow, and the paper's
    lower bound ``tr Sigma sum_{i<n} 1/M`` checked against them.

    Returns ``{"generations", "lower", "upper", "paper_lower_bound", "paper_bound_holds"}``: ``lower``/``upper``
    float64 arrays (module doc); ``paper_lower_bound = n tr Sigma / M``; ``paper_bound_holds`` a list of ``True``
    (``lower >= paper``: it holds), ``False`` (``upper < paper``: it fails) or ``None`` (the bounds do not decide).
    The paper states its bound for the replace chain; under another workflow the same comparison is made with that
    workflow's bounds (module doc, "Workflows").

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

    Replace workflow only (another workflow's ``log det Sigma_n`` is not a random walk with i.i.d. steps):
    :class:`~theory.ParameterError` naming ``workflow`` otherwise.
    """
    chain = check_multivariate_chain(chain)
    if not chain.workflow.is_replace:
        raise ParameterError("workflow", "replace (log det Sigma_n is a random walk with i.i.d. steps only under "
                             "replace; see multivariate_exact_values' bounds on E log det Sigma_n)",
                             str(chain.workflow))
    k, d = chain.degrees_of_freedom, chain.dimension
    with mpmath.workdps(working_precision(chain)):
        c = mpmath.mpf(chain.variance_scale) / chain.divisor
        return float(d * mpmath.log(c) + mpmath.fsum(mpmath.digamma(mpmath.mpf(k - i + 1) / 2) + mpmath.log(2)
                                                     for i in range(1, d + 1)))


def marginal_chain(chain: MultivariateGaussianChain, direction) -> GaussianChain:
    """The 1-D chain followed by the projection ``u^T x`` of the multivariate chain: an exact identity in law
    (module doc), with ``sigma^2 = u^T Sigma u``, ``mu = u^T mu``, the same ``M``, learner and ``A``.

    ``direction`` is a coordinate index ``j`` (``u = e_j``: the ``j``-th marginal) or a length-``d`` vector ``u``
    (nonzero). Every :func:`theory.numeric.exact_values` result for it holds for the projection; the workflow is
    carried over (the fit commutes with projections under every workflow).

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
                         sigma=float(np.sqrt(variance)), mu=float(u @ chain.mean), workflow=chain.workflow)
