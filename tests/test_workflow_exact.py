"""Exact moments of the non-replace workflows: special cases that must reduce to known chains, precision, and a
literal simulation (drawing and fitting the points in NumPy) by z-test.

False-failure budget of the z-tests: every |z| is asserted below 4.5 (two-sided 6.8e-6 each); this file runs at
most 276 of them (216 by default, 60 more in the slow test), so the chance that a correct implementation fails is
below 2e-3 (the seeds are fixed, so a run is reproducible). ``Var sigma_n^2`` is z-tested only in the first three
generations: its standard error needs eighth moments, which grow fast (with one real point under ``mix`` or
``mix-fixed`` the fourth moments themselves diverge), so later sample variances are too heavy-tailed for a z-test.
"""

import math
import zlib

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory import GaussianChain, exact_values
from theory.numeric._workflow_exact import workflow_states

KEYS = ("mean_sq_error", "variance_mean", "variance_var")
Z_LIMIT = 4.5


def _close(x, y, rel=1e-13):
    np.testing.assert_allclose(np.asarray(x, float), np.asarray(y, float), rtol=rel, atol=1e-300)


# ---------------------------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("kind", ["mix:0", "mix-fixed:0"])
def test_mix_without_real_points_is_replace(kind, learner):
    gens = [0, 1, 2, 5, 50]
    got = exact_values(GaussianChain(7, learner=learner, variance_scale=1.3, workflow=kind), gens)
    want = exact_values(GaussianChain(7, learner=learner, variance_scale=1.3), gens, tolerance=0)
    for q in KEYS:
        _close(got[q], want[q])


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_mix_with_only_real_points_is_a_fresh_fit(learner):
    m, scale = 6, 0.8
    got = exact_values(GaussianChain(m, learner=learner, variance_scale=scale, workflow="mix:1"), [1, 2, 30])
    div = m - 1 if learner == "unbiased" else m
    _close(got["mean_sq_error"], [1 / m] * 3)
    _close(got["variance_mean"], [scale * (m - 1) / div] * 3)
    _close(got["variance_var"], [scale**2 * 2 * (m - 1) / div**2] * 3)  # Var of A chi2_{M-1}/div


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_first_step_of_the_pools_is_replace(learner):
    replace = exact_values(GaussianChain(8, learner=learner, variance_scale=1.2), [1], tolerance=0)
    acc = exact_values(GaussianChain(8, learner=learner, variance_scale=1.2, workflow="accumulate"), [1])
    sub = exact_values(GaussianChain(8, learner=learner, variance_scale=1.2, workflow="accumulate-subsample:8"), [1])
    for q in KEYS:
        _close(acc[q], replace[q])
    for q in KEYS:
        _close(sub[q], replace[q])
    # a subsample of K < M_0 real points is K i.i.d. points: replace with M = K
    smaller = exact_values(GaussianChain(8, learner=learner, workflow="accumulate-subsample:3"), [1])
    want = exact_values(GaussianChain(3, learner=learner), [1], tolerance=0)
    for q in KEYS:
        _close(smaller[q], want[q])


def test_mix_weight_equal_to_the_plain_fraction_is_the_plain_fit():
    from theory.chain import Workflow

    plain = exact_values(GaussianChain(10, workflow="mix:0.3"), [1, 4, 20])

    weighted = exact_values(GaussianChain(10, workflow=Workflow("mix", 0.3, real_weight=0.3)), [1, 4, 20])
    for q in KEYS:
        _close(plain[q], weighted[q])


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_subsample_fourth_order_system_agrees_with_the_second_order_one(learner):
    """E d^2 and E v from the 22-monomial power-sum system equal those of the 5-monomial (a, S, d, v) system."""
    from theory.symbolic import _workflow_moments as wm

    small = wm.workflow_system("accumulate-subsample", learner)
    rows, constants = small["pool"]
    chain = GaussianChain(4, learner=learner, variance_scale=1.3, workflow="accumulate-subsample:3")
    got = exact_values(chain, [1, 2, 6])
    with mpmath.workdps(40):
        x, pool, out = [mpmath.mpf(float(c)) for c in small["initial"]], 0, {}
        for step in range(6):
            subs = {wm.N: pool, wm.M: 4, wm.A: sp.Rational(13, 10), wm.K: 3}
            x = [sum(mpmath.mpf(sp.N(c.subs(subs), 50)) * y for c, y in zip(row, x)) + mpmath.mpf(sp.N(k.subs(subs), 50))
                 for row, k in zip(rows, constants)]
            pool += 4
            out[step + 1] = x
    basis = small["basis"]
    for i, g in enumerate([1, 2, 6]):
        assert got["mean_sq_error"][i] == pytest.approx(float(out[g][basis.index(wm.d**2)]), rel=1e-14)
        assert got["variance_mean"][i] == pytest.approx(float(out[g][basis.index(wm.v)]), rel=1e-14)


def test_accumulate_unbiased_variance_is_the_product():
    # E sigma_n^2 = prod_{j=2}^{n} (1 - 1/(j (j M - 1))) (derived by hand from the pool recursion)
    m, n = 5, 40
    got = exact_values(GaussianChain(m, workflow="accumulate"), [n])["variance_mean"][0]
    want = math.prod(1 - 1 / (j * (j * m - 1)) for j in range(2, n + 1))
    assert got == pytest.approx(want, rel=1e-14)
    mle = exact_values(GaussianChain(m, learner="mle", workflow="accumulate"), [n])["variance_mean"][0]
    assert mle == pytest.approx(math.prod(1 - 1 / (k * k * m) for k in range(1, n + 1)), rel=1e-14)


# ---------------------------------------------------------------------------------------------- shape of the result
def test_keys_notes_and_bounds():
    v = exact_values(GaussianChain(20, workflow="mix:0.2"), [0, 1, 10])
    for q in ("sd_mean", "log_variance_mean", "w2_sq_mean", "w2_sq_var", "sd_sq_error"):
        assert v[q] is None and "no exact value" in v["notes"][q]
    lo, hi = v["bounds"]["sd_mean"]
    assert np.all(lo <= hi) and lo[0] <= 1 <= hi[0]
    lo, hi = v["bounds"]["w2_sq_mean"]
    assert np.all(lo <= hi) and lo[0] == 0.0
    sub = exact_values(GaussianChain(20, workflow="accumulate-subsample:10"), [3])
    assert np.isfinite(sub["variance_var"][0]) and "variance_var" not in sub["notes"]


def test_replace_result_is_unchanged_in_shape():
    v = exact_values(GaussianChain(20), [1])
    assert "notes" not in v and all(isinstance(v[q], np.ndarray) for q in KEYS)


def test_schedule_and_sigma():
    sched = GaussianChain([4, 4, 9, 9, 9], workflow="mix:0.5", sigma=2.0)
    v = exact_values(sched, [5])
    one = exact_values(GaussianChain([4, 4, 9, 9, 9], workflow="mix:0.5"), [5])
    assert v["mean_sq_error"][0] == pytest.approx(4 * one["mean_sq_error"][0], rel=1e-15)
    assert v["variance_var"][0] == pytest.approx(16 * one["variance_var"][0], rel=1e-15)
    acc = exact_values(GaussianChain(lambda i: 3 + i, workflow="accumulate"), [6])
    assert np.isfinite(acc["variance_var"][0])


# ---------------------------------------------------------------------------------------------- precision
@pytest.mark.parametrize("workflow", ["mix:0.3", "mix-fixed:0.25", "accumulate", "accumulate-subsample:6"])
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_float64_results_are_correctly_rounded(workflow, learner):
    """The default working precision rounds to the same float64 as 60 more digits."""
    chain = GaussianChain(12, learner=learner, variance_scale=1.1, workflow=workflow)
    gens = [1, 7, 200]
    low, dps = workflow_states(chain, gens)
    high, _ = workflow_states(chain, gens, dps=dps + 60)
    for g in gens:
        for x, y in zip(low[g], high[g]):
            if x is not None:
                assert float(x) == float(y)
        if low[g][2] is not None:
            with mpmath.workdps(dps + 60):
                assert float(low[g][2] - low[g][1] ** 2) == float(high[g][2] - high[g][1] ** 2)


def _exact_rational_walk(kind, learner, m, scale, steps, **extra):
    """E d^2, E v, E v^2 after each step by exact rational arithmetic on the derived system (SymPy Rationals)."""
    from theory.chain import Workflow
    from theory.symbolic import _workflow_moments as wm

    if kind == "accumulate-subsample":
        system = wm.subsample_fourth_system(learner)
    else:
        system = wm.workflow_system(kind, learner)
    basis = system["basis"]
    wf = Workflow(kind, **extra)
    r = wf.real_count(m)
    base = {wm.M: m, wm.R: max(r, 1), wm.A: scale, wm.w: sp.Rational(r, m)}
    x = [sp.sympify(c).subs(base) for c in system["initial"]]
    pool = m if kind == "accumulate" else 0
    out = {}
    for step in range(1, steps + 1):
        subs = {**base, wm.N: pool}
        if kind == "accumulate-subsample":
            k, size = wf.subsample, pool + m
            phi, value = [], sp.S.One
            for q in range(4):
                value = value * (k - q) / (size - q) if q < k else sp.S.Zero
                phi.append(value)
            subs.update({wm.K: k, **dict(zip(wm.PHI, phi))})
        shape = "pool" if kind in ("accumulate", "accumulate-subsample") else "both"
        rows, constants = system[shape]
        x = [sum(sp.sympify(c).subs(subs) * y for c, y in zip(row, x)) + sp.sympify(c0).subs(subs)
             for row, c0 in zip(rows, constants)]
        pool += m
        generation = step + 1 if kind == "accumulate" else step
        coeffs = [[sp.sympify(c).subs({wm.N: pool, wm.A: scale}) for c in row] for row in system["outputs"]]
        out[generation] = [sum(c * y for c, y in zip(row, x)) for row in coeffs]
    return out


@pytest.mark.parametrize("kind,extra", [("mix", {"real_fraction": 0.3}), ("mix-fixed", {"real_fraction": 0.3}),
                                        ("accumulate", {}), ("accumulate-subsample", {"subsample": 3})])
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_equals_exact_rational_arithmetic(kind, extra, learner):
    """The float64 results are the correctly rounded values of the exact rationals (same derived system, SymPy
    Rationals): catches any float64 arithmetic inside the mpmath walk."""
    from theory.chain import Workflow

    m = 7
    # A = 1.1 as the binary fraction float64 holds, exactly
    exact = _exact_rational_walk(kind, learner, m, sp.Rational(1.1), 4, **extra)
    chain = GaussianChain(m, learner=learner, variance_scale=1.1, workflow=Workflow(kind, **extra))
    gens = sorted(exact)
    got = exact_values(chain, gens)
    for i, g in enumerate(gens):
        d2, var, fourth = exact[g]
        assert got["mean_sq_error"][i] == float(d2)
        assert got["variance_mean"][i] == float(var)
        assert got["variance_var"][i] == float(fourth - var**2)


# ---------------------------------------------------------------------------------------------- literal simulation
def _fit(x, weights, learner, scale):
    mean = np.sum(weights * x, axis=1)
    q = np.sum(weights * (x - mean[:, None]) ** 2, axis=1)
    div = 1 - np.sum(weights**2) if learner == "unbiased" else 1.0
    return mean, scale * q / div


def simulate(workflow, m, learner, scale, generations, chains, seed, weight=None):
    """(mu_n, sigma_n^2) for n = 1..generations by drawing and fitting the points (mu = 0, sigma = 1)."""
    from theory.chain import Workflow

    wf = Workflow.parse(workflow, real_weight=weight)
    rng = np.random.default_rng(seed)
    mu, var = np.zeros(chains), np.ones(chains)
    out = []
    if wf.kind in ("mix", "mix-fixed"):
        r = wf.real_count(m)
        w = wf.weight(m)
        weights = np.concatenate([np.full(r, w / r if r else 0.0), np.full(m - r, (1 - w) / (m - r) if m > r else 0.0)])
        fixed = rng.standard_normal((chains, r))
        for _ in range(generations):
            real = fixed if wf.kind == "mix-fixed" else rng.standard_normal((chains, r))
            synth = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, m - r))
            mu, var = _fit(np.concatenate([real, synth], axis=1), weights, learner, scale)
            out.append((mu, var))
        return out
    pool = np.empty((chains, 0))
    for _ in range(generations):
        new = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, m))
        pool = np.concatenate([pool, new], axis=1)
        size = pool.shape[1]
        if wf.kind == "accumulate":
            data = pool
        else:
            pick = np.argsort(rng.random((chains, size)), axis=1)[:, : wf.subsample]
            data = np.take_along_axis(pool, pick, axis=1)
        k = data.shape[1]
        mu, var = _fit(data, np.full(k, 1.0 / k), learner, scale)
        out.append((mu, var))
    return out


def _z_scores(samples_mu, samples_var, exact, g):
    zs = {}
    for q, x in (("mean_sq_error", samples_mu**2), ("variance_mean", samples_var)):
        zs[q] = (x.mean() - exact[q][g - 1]) / (x.std(ddof=1) / math.sqrt(len(x)))
    if exact.get("variance_var") is not None:
        c = (samples_var - samples_var.mean()) ** 2
        n = len(c)
        zs["variance_var"] = (c.sum() / (n - 1) - exact["variance_var"][g - 1]) / (c.std(ddof=1) / math.sqrt(n))
    return zs


CASES = [("mix:0.5", 4, None), ("mix:0.34", 6, 0.7), ("mix:0.25", 4, None), ("mix-fixed:0.5", 4, None),
         ("mix-fixed:0.5", 4, 0.3), ("mix-fixed:0.25", 4, None),
         ("accumulate", 3, None), ("accumulate-subsample:2", 3, None), ("accumulate-subsample:3", 4, None)]


@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("workflow,m,weight", CASES)
def test_exact_moments_match_a_literal_simulation(workflow, m, weight, learner):
    """First three generations, 40000 chains, small M (largest departures from the replace chain)."""
    from theory.chain import Workflow

    gens = 3
    chain = GaussianChain(m, learner=learner, variance_scale=1.15,
                          workflow=Workflow.parse(workflow, real_weight=weight))
    exact = exact_values(chain, list(range(1, gens + 1)))
    seed = zlib.crc32(f"{workflow} {m} {weight} {learner}".encode())
    sims = simulate(workflow, m, learner, 1.15, gens, 40_000, seed=seed, weight=weight)
    for g, (mu, var) in enumerate(sims, start=1):
        for q, z in _z_scores(mu, var, exact, g).items():
            assert abs(z) < Z_LIMIT, (q, g, z)
        lo, hi = exact["bounds"]["sd_mean"]
        sd = np.sqrt(var)
        se = sd.std(ddof=1) / math.sqrt(len(sd))
        assert lo[g - 1] - Z_LIMIT * se <= sd.mean() <= hi[g - 1] + Z_LIMIT * se


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
@pytest.mark.parametrize("workflow,m,weight", CASES)
def test_second_moments_match_a_literal_simulation_at_generation_20(workflow, m, weight, learner):
    from theory.chain import Workflow

    chain = GaussianChain(m, learner=learner, workflow=Workflow.parse(workflow, real_weight=weight))
    exact = exact_values(chain, list(range(1, 21)))
    exact = {**exact, "variance_var": None}
    seed = zlib.crc32(f"20 {workflow} {m} {weight} {learner}".encode())
    mu, var = simulate(workflow, m, learner, 1.0, 20, 20_000, seed=seed, weight=weight)[-1]
    for q, z in _z_scores(mu, var, exact, 20).items():
        assert abs(z) < Z_LIMIT, (q, z)


@pytest.mark.parametrize("kind", ["mix", "mix-fixed"])
@pytest.mark.parametrize("learner", ["unbiased", "mle"])
def test_no_mixing_is_the_replace_chain_exactly(kind, learner):
    """LAMBDA = 0 is the replace chain; LAMBDA = 1 is a fresh (mix) or the same (mix-fixed) fit to real points, in
    law the replace chain's generation 1: every quantity exact, none None."""
    from theory import GaussianChain, exact_values

    gens = [0, 1, 4, 9]
    plain = exact_values(GaussianChain(6, learner=learner, variance_scale=1.1), gens)
    none = exact_values(GaussianChain(6, learner=learner, variance_scale=1.1, workflow=f"{kind}:0"), gens)
    full = exact_values(GaussianChain(6, learner=learner, variance_scale=1.1, workflow=f"{kind}:1"), gens)
    first = exact_values(GaussianChain(6, learner=learner, variance_scale=1.1), [0, 1, 1, 1])
    for key in ("mean_sq_error", "variance_mean", "variance_var", "sd_mean", "log_variance_mean", "w2_sq_mean",
                "w2_sq_var"):
        assert list(none[key]) == list(plain[key])
        assert list(full[key]) == list(first[key])
