"""Claims about the training workflows (accumulate, fresh data, weighting, subsampling) and the discrete chain
(Wright-Fisher, Suresh et al.'s survival bounds). The workflow checks call :mod:`theory.numeric._workflow_claims`
and the pool limits; the discrete ones :mod:`theory.numeric._discrete_proofs`; nothing is recomputed here.
"""

from __future__ import annotations

import math

import numpy as np

from ._claims_gaussian import LEARNERS, _g
from ._ledger import Claim, Source, Verdict

#: Sample sizes of the accumulate checks (pi^2/6 and 6/pi^2), and the M at which the breaking A* is found.
ACCUMULATE_SIZES = (2, 10, 1000)
BREAKING_SIZES = (10,)


def _check_gerstgrasser() -> Verdict:
    from ..numeric import _workflow_claims as wc

    r = wc.gerstgrasser(sample_sizes=ACCUMULATE_SIZES, breaking=())
    # the variance multiplier A* above which the bound fails (bisection on the exact limit; unbiased learner)
    breaking = {"unbiased": {m: wc.breaking_scale("unbiased", m) for m in BREAKING_SIZES}}
    rows = r["numbers"]["rows"]
    tight = max(row["tightness"] for row in rows)
    numbers = {"bound": r["numbers"]["bound"], "rows": rows, "largest_ratio_over_bound": tight,
               "breaking_A": breaking}
    if r["verdict"] == "wrong":
        numbers["correct_statement"] = r["detail"]
    ratio = {lr: {row["M"]: row["ratio"] for row in rows if row["learner"] == lr} for lr in LEARNERS}
    breaks = "; ".join(f"A > {_g(v, 5)} breaks it ({lr}, M = {m})" for lr, d in breaking.items()
                       for m, v in d.items())
    summary = (f"sup_n E(mu_n-mu)^2 / E(mu_1-mu)^2 = {_g(ratio['unbiased'][ACCUMULATE_SIZES[0]], 5)} ... "
               f"{_g(ratio['unbiased'][ACCUMULATE_SIZES[-1]], 6)} (unbiased, M = {ACCUMULATE_SIZES[0]} ... "
               f"{ACCUMULATE_SIZES[-1]}) <= pi^2/6 = {_g(math.pi**2 / 6, 6)} (tightness {_g(tight, 5)}); {breaks}")
    return Verdict(r["verdict"], numbers, summary)


def _check_dey_donoho() -> Verdict:
    from ..numeric import _workflow_claims as wc

    r = wc.dey_donoho(sample_sizes=ACCUMULATE_SIZES)
    rows = r["numbers"]["rows"]
    low = min(rows, key=lambda row: row["efficiency"])
    numbers = {"bound": r["numbers"]["bound"], "rows": rows, "smallest_efficiency": low["efficiency"],
               "at": {"learner": low["learner"], "M": low["M"]}}
    if r["verdict"] == "wrong":
        numbers["correct_statement"] = r["detail"]
    summary = (f"smallest efficiency {_g(low['efficiency'], 6)} ({low['learner']}, M = {low['M']}) >= 6/pi^2 = "
               f"{_g(6 / math.pi**2, 6)} (margin {_g(low['margin'] - 1, 3)}); fails where pi^2/6 fails (A > A*)")
    return Verdict(r["verdict"], numbers, summary)


def _check_fresh_data() -> Verdict:
    from ..numeric import _workflow_claims as wc

    r = wc.fresh_data_fixed_point()
    rows = [{k: v for k, v in row.items() if k != "exact_variance"} for row in r["numbers"]["rows"]]
    expressions = {lr: {k: str(v) for k, v in e.items()} for lr, e in r["numbers"]["expressions"].items()}
    numbers = {"rows": rows, "expressions": expressions}
    if r["verdict"] == "holds_for_learner":
        numbers["learner"] = r["learners"][0]
    elif r["verdict"] == "wrong":
        numbers["correct_statement"] = r["detail"]

    def at(lr, m, lam):
        return next(row["variance"] for row in rows if row["learner"] == lr and row["M"] == m
                    and row["lambda"] == lam)

    summary = (f"MLE: E sigma_inf^2 = (1 - 1/D) sigma^2 with D = {expressions['mle']['D_in_lambda']} "
               f"({_g(at('mle', 10, 0.5), 6)} sigma^2 at M = 10, lambda = 0.5); unbiased: above sigma^2 "
               f"({_g(at('unbiased', 10, 0.5), 6)} there, {_g(at('unbiased', 100, 0.1), 6)} at M = 100, lambda = 0.1)")
    return Verdict(r["verdict"], numbers, summary)


def _check_he_xu_cheng() -> Verdict:
    from ..numeric import _workflow_claims as wc

    r = wc.he_xu_cheng()
    rows = r["numbers"]["rows"]
    within = r["numbers"]["within_1_percent_from_M"]
    numbers = {"target": r["numbers"]["target"], "rows": rows,
               "leading_order_condition": str(r["numbers"]["leading_order_condition"]),
               "leading_order_root": [str(x) for x in r["numbers"]["leading_order_root"]],
               "region_M_within_1pct_from": within}
    if r["verdict"] == "wrong":
        numbers["correct_statement"] = r["detail"]
    first = {lr: next(row["w_opt"] for row in rows if row["learner"] == lr) for lr in LEARNERS}
    m0 = rows[0]["M"]
    summary = (f"leading order: {numbers['leading_order_condition']} = 0, root 1/phi = {_g(numbers['target'], 6)}; "
               f"exact optimum at M = {m0}: {_g(first['unbiased'], 4)} (unbiased), {_g(first['mle'], 4)} (MLE); "
               f"within 1% from M = {within['unbiased']} (unbiased), {within['mle']} (MLE)")
    return Verdict(r["verdict"], numbers, summary)


# ------------------------------------------------------------------------------- Kazdan, Schaeffer et al.
KAZDAN_DIMENSION = 7
KAZDAN_SAMPLE_SIZE = 89  # their defaults d = 7, n = 89; accumulate-subsample draws M = K points from the pool
KAZDAN_GENERATIONS = (10, 100)


def _check_kazdan() -> Verdict:
    from ..chain import MultivariateGaussianChain
    from ..numeric import multivariate_exact_values
    from ..numeric._workflow_limits import pool_limits_numeric

    d, m = KAZDAN_DIMENSION, KAZDAN_SAMPLE_SIZE
    numbers: dict = {"d": d, "M": m, "K": m, "covariance": "identity"}
    plateau = {}
    for lr in LEARNERS:
        sub = pool_limits_numeric("accumulate-subsample", lr, m, 1.0, m)
        acc = pool_limits_numeric("accumulate", lr, m, 1.0)
        # the fit commutes with projections: the multivariate limits are d times the 1-D marginal's (sigma = 1)
        limits = {"E||mu_inf-mu||^2": d * float(sub["mean_sq_error"]),
                  "E tr Sigma_inf": d * float(sub["variance_mean"]),
                  "variance_growth_exponent": float(sub["exponent"]),
                  "accumulate E||mu_inf-mu||^2": d * float(acc["mean_sq_error"]),
                  "accumulate E tr Sigma_inf": d * float(acc["variance_mean"])}
        # a plateau: finite, positive limits, with the error of the mean above accumulate's
        plateau[lr] = (all(math.isfinite(v) and v > 0 for v in (limits["E||mu_inf-mu||^2"], limits["E tr Sigma_inf"]))
                       and limits["E||mu_inf-mu||^2"] > limits["accumulate E||mu_inf-mu||^2"])
        numbers[lr] = limits
    # the approach to the plateau at finite n, for their learner (exact, through the 1-D marginals)
    chain = MultivariateGaussianChain(m, np.eye(d), learner="mle", workflow=f"accumulate-subsample:{m}")
    values = multivariate_exact_values(chain, list(KAZDAN_GENERATIONS))
    numbers["mle"]["E||mu_n-mu||^2"] = dict(zip(KAZDAN_GENERATIONS, map(float, values["mean_sq_error"])))
    numbers["mle"]["E tr Sigma_n"] = dict(zip(KAZDAN_GENERATIONS, map(float, values["trace_mean"])))
    numbers["plateau"] = plateau
    if plateau["mle"] and not plateau["unbiased"]:
        word = "holds_for_learner"
        numbers["learner"] = "mle"
    elif all(plateau.values()):
        word = "holds"
    elif plateau["unbiased"]:
        word = "holds_for_learner"
        numbers["learner"] = "unbiased"
    else:
        word = "wrong"
        numbers["correct_statement"] = "no finite plateau for either learner (see the limits)"
    mle, unb = numbers["mle"], numbers["unbiased"]
    summary = (f"d = {d}, M = K = {m}, MLE (their np.cov(bias=True)): E||mu_n-mu||^2 = "
               f"{_g(mle['E||mu_n-mu||^2'][KAZDAN_GENERATIONS[-1]], 5)} at n = {KAZDAN_GENERATIONS[-1]}, -> "
               f"{_g(mle['E||mu_inf-mu||^2'], 5)}, E tr Sigma_n -> {_g(mle['E tr Sigma_inf'], 5)} (accumulate: "
               f"{_g(mle['accumulate E||mu_inf-mu||^2'], 5)}, {_g(mle['accumulate E tr Sigma_inf'], 5)}); unbiased: "
               f"no plateau, E tr Sigma_n grows like n^{_g(unb['variance_growth_exponent'], 4)} (= n^(1/K))")
    return Verdict(word, numbers, summary)


# ----------------------------------------------------------------------------------- discrete chain
def _check_wright_fisher() -> Verdict:
    from ..numeric._discrete_proofs import identity_claim, wright_fisher_identity

    _, ratio, h = wright_fisher_identity()  # raises ProofError if the induction fails
    r = identity_claim()
    numbers = {"proved_ratio_per_generation": str(ratio), "proved_form": str(h),
               "max_rel_diff": r["max_rel_diff"],
               "cases": sorted({f"{row['source']}, M = {row['M']}, {row['route']}" for row in r["rows"]})}
    holds = r["verdict"] == "holds"
    if not holds:
        numbers["correct_statement"] = "see cases"
    summary = (f"proved by induction (ratio {ratio} per generation, SymPy); exact count-chain law, "
               f"discrete_exact_values and the chain on compositions agree with it "
               f"{'to below 1e-9' if holds else 'only to ' + format(r['max_rel_diff'], '.3g')} (relative) at "
               "n = 1, 10, 100")
    return Verdict("holds" if holds else "wrong", numbers, summary)


def _check_suresh_discrete() -> Verdict:
    from ..numeric._discrete_proofs import bound_claim

    r = bound_claim()
    rows = r["rows"]
    picked = [row for row in rows if row["quantity"] == "surviving_mean" and row["bound"] == "published"]
    later = [row for row in picked if row["generation"] >= 10]
    tight = {f"M = {row['M']}, n = {row['generation']}": {"bound": row["value"], "exact": row["exact"],
                                                        "bound_over_exact": row["ratio"]} for row in picked}
    iterate = [row["ratio"] for row in rows if row["quantity"] == "surviving_mean" and row["bound"] == "iterate"]
    numbers = {"source": "words:en:1000", "violated": r["violated"], "rows_checked": len(rows),
               "per_category_pairs": r["per_category"]["pairs"], "published_form": tight,
               "iterate_bound_over_exact_min": min(iterate),
               "misread_k_equals_n_minus_1_at_n_2": {"bound": r["misread"], "exact": r["exact_n2"]}}
    holds = r["violated"] == 0
    if not holds:
        numbers["correct_statement"] = "see rows: the violated bounds"
    worst = min(later, key=lambda row: row["ratio"])
    summary = (f"{len(rows)} bound/exact comparisons and {r['per_category']['pairs']} per-category ones, "
               f"{r['violated']} violated; sum 1 - exp(-M p/n) is {_g(worst['ratio'], 3)} of the exact E surviving "
               f"at M = {worst['M']}, n = {worst['generation']}; the iterate bound >= {_g(min(iterate), 4)} of it; "
               f"read with k = n - 1 it fails ({_g(r['misread'], 4)} > exact {_g(r['exact_n2'], 4)} at M = 100, n = 2)")
    return Verdict("bound_holds" if holds else "wrong", numbers, summary)


OTHER_CLAIMS: tuple[Claim, ...] = (
    Claim(
        "gerstgrasser-pi2-6", Source("Gerstgrasser, Schaeffer, Dey, Rafailov, Pai, et al.",
                                     "Is Model Collapse Inevitable? Breaking the Curse of Recursion by Accumulating "
                                     "Real and Synthetic Data", 2024, "arXiv:2404.01413",
                                     "linear-regression theorem for accumulated data; the abstract was read on "
                                     "this machine (a finite bound independent of the iterations), the pi^2/6 "
                                     "form as quoted in REFERENCES.md section 2 and in Dey-Donoho's abstract"),
        "with accumulated data the test error stays below (pi^2/6) sigma^2 d/(T - d - 1): at most pi^2/6 times one "
        "generation's, for every number of iterations",
        f"Gaussian-mean analogue: 1-D Gaussian chain, accumulate, both learners, A = 1, M in {ACCUMULATE_SIZES}; "
        f"sup_n E(mu_n - mu)^2 / E(mu_1 - mu)^2 against pi^2/6; the breaking variance multiplier A* (unbiased) at M in "
        f"{BREAKING_SIZES}",
        "exact evaluation of the pool's limit (pool_limits_numeric: Gamma products and a hypergeometric series, "
        "derived symbolically), via theory.numeric._workflow_claims.gerstgrasser",
        _check_gerstgrasser,
    ),
    Claim(
        "dey-donoho-6-pi2", Source("Dey, Donoho", "Universality of the pi^2/6 Pathway in Avoiding Model Collapse",
                                   2024, "arXiv:2410.22812", "abstract (read on this machine): under the "
                                   "augment workflow the asymptotic relative efficiency is bounded below by 6/pi^2 "
                                   "(exponential families, asymptotically linear estimators)"),
        "under augmentation (accumulate) the relative efficiency of the estimate stays >= 6/pi^2",
        f"1-D Gaussian chain, accumulate, both learners, A = 1, M in {ACCUMULATE_SIZES}: efficiency "
        "(sigma^2/M) / E(mu_inf - mu)^2",
        "exact evaluation of the pool's limit (theory.numeric._workflow_claims.dey_donoho)",
        _check_dey_donoho,
    ),
    Claim(
        "fresh-data-fixed-point", Source("Bhavya-Dhoot (repository Model_collapse); Bertrand et al.",
                                         "Model_collapse README; On the Stability of Iterative Retraining", 2024,
                                         "github Bhavya-Dhoot/Model_collapse; arXiv:2310.00429",
                                         "fixed point stated in the repository's README, as quoted in REFERENCES.md "
                                         "section 3 (not read on this machine)"),
        "with fresh real data mixed in each generation the fitted variance converges to (1 - 1/D) sigma^2 for "
        "some D > 1",
        "1-D Gaussian chain, mix:lambda (fresh real data, plain fit), both learners, A = 1, M in 10, 100, 1000, "
        "lambda in 0.1, 0.5",
        "symbolic proof (the exact fixed point of the derived moment system, solved by SymPy) and exact evaluation "
        "(theory.numeric._workflow_claims.fresh_data_fixed_point)",
        _check_fresh_data,
    ),
    Claim(
        "he-xu-cheng-golden", Source("He, Xu, Cheng", "Recursive Learning Without Collapse: A Weighting-Based "
                                     "Stabilization Framework", 2025, "arXiv:2502.18049 (JRSS-B)",
                                     "Gaussian estimation, optimal weight (abstract: 'the reciprocal of the golden "
                                     "ratio')"),
        "with half fresh real data and half synthetic, the optimal weight on the real data tends to 1/phi = "
        "(sqrt 5 - 1)/2",
        "1-D Gaussian chain, mix with R = M/2 and real weight w, both learners, A = 1, M from 4 to 1e4: the w "
        "minimising the stationary E(mu_n - mu)^2",
        "symbolic proof at leading order (root of the derivative) and exact fixed point for every M "
        "(theory.numeric._workflow_claims.he_xu_cheng)",
        _check_he_xu_cheng,
    ),
    Claim(
        "kazdan-subsample-plateau", Source("Kazdan, Schaeffer, et al.", "Collapse or Thrive? Perils and Promises of "
                                           "Synthetic Data in a Self-Generating World", 2024, "arXiv:2410.16713",
                                           "accumulate-subsample results for Gaussians; the paper's text could not "
                                           "be read on this machine: the form checked is the one attributed to it"),
        "under accumulate-subsample (a fixed-size training set drawn from the growing pool) the error grows more "
        "than under accumulate but reaches a finite plateau instead of diverging",
        f"multivariate Gaussian chain, d = {KAZDAN_DIMENSION}, Sigma = I, M = K = {KAZDAN_SAMPLE_SIZE} (their "
        f"defaults), accumulate-subsample:{KAZDAN_SAMPLE_SIZE} against accumulate, both learners (theirs: "
        f"np.cov(bias=True), the MLE), A = 1",
        "exact evaluation (pool limits, derived symbolically: pool_limits_numeric; finite n: "
        "multivariate_exact_values through the exact 1-D marginals)",
        _check_kazdan,
    ),
    Claim(
        "wright-fisher-identity", Source("Wright; Fisher (population genetics), used by Shumailov et al. for the "
                                         "discrete case", "Evolution in Mendelian Populations (Genetics 16)", 1931,
                                         "doi:10.1093/genetics/16.2.97", "the decay of heterozygosity under "
                                         "Wright-Fisher resampling; derived in proofs/discrete.md"),
        "E[p_n (1 - p_n)] = p_0 (1 - p_0) (1 - 1/M)^n",
        "discrete chain, replace, MLE (multinomial resampling), words:en:1000 at M = 100 and 1000, zipf:1:3 at "
        "M = 30, (0.5, 0.3, 0.15, 0.05) at M = 12; n = 1, 10, 100",
        "symbolic proof (induction on the binomial step, SymPy) and exact evaluation (count-chain law, "
        "discrete_exact_values, the chain on compositions)",
        _check_wright_fisher,
    ),
    Claim(
        "suresh-discrete-survival", Source("Suresh, Thangaraj, Khandavally", "Rate of Model Collapse in Recursive "
                                           "Training", 2025, "arXiv:2412.17646", "discrete theorem; only the "
                                           "abstract could be read on this machine: the form checked is a third-"
                                           "party summary's, Pr(survive to k) >= 1 - exp(-lambda_i/k)"),
        "a symbol seen lambda_i = M p_i times survives to generation k with probability >= 1 - exp(-lambda_i/k), so "
        "the expected number of surviving symbols is >= sum_i 1 - exp(-M p_i/k)",
        "discrete chain, replace, MLE, words:en:1000 at M = 100 and 1000, n = 1, 10, 100 (k = n: the draw from the "
        "source counted)",
        "exact bound comparison (bound_verdicts against discrete_exact_values; per category against category_exact)",
        _check_suresh_discrete,
    ),
)
