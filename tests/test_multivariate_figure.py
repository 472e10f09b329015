"""The ``multivariate`` figure (theory/figures/_multivariate.py): its data against the library, its Monte Carlo
bands against the exact lines, its plot, and its determinism.

Monte Carlo checks assert on z-scores from the standard errors in the data, with a false-failure budget of 1e-4 per
test: the bound is the two-sided normal quantile for 1e-4 split (Bonferroni) over the comparisons made in the test.
``E tr Sigma_n`` is compared only where its exact ``Var tr Sigma_n / (E tr Sigma_n)^2 <= 1``: beyond, tr Sigma_n is
heavy-tailed (its log-variance grows like 2n/M per direction) and the normal approximation of the Monte Carlo mean
and the sample standard error fail (the figure's caption says where); ``log det Sigma_n - log det Sigma`` is a sum of
independent log-chi-square steps (light tails) and is compared at every generation.
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from scipy.stats import norm

from theory.chain import MultivariateGaussianChain
from theory.figures import _multivariate as figure
from theory.figures._io import _plain, load_data, save_data
from theory.figures._make import figure_key
from theory.numeric import log_det_drift, multivariate_exact_values

BUDGET = 1e-4


def z_bound(comparisons: int, *, sides: int = 2) -> float:
    return float(norm.isf(BUDGET / (sides * comparisons)))


def compute(seed: int = 0, *, quick: bool = True) -> dict:
    with jax.enable_x64(True):
        return figure.compute(figure_key(seed, figure.NAME), quick=quick)


@pytest.fixture(scope="module")
def data():
    return compute()


def chain_of(run) -> MultivariateGaussianChain:
    d = run["dimension"]
    return MultivariateGaussianChain(run["sample_size"], figure.covariance_of(run["covariance"], d),
                                     learner=run["learner"])


def test_runs_cover_every_setting(data):
    assert data["dimensions"] == list(figure.QUICK_DIMENSIONS)
    assert data["exact_generations"] == list(range(figure.QUICK_GENERATIONS + 1))
    settings = {(r["dimension"], r["covariance"], r["learner"]) for r in data["runs"]}
    assert settings == {(d, k, learner) for d in figure.QUICK_DIMENSIONS for k in figure.COVARIANCES
                        for learner in figure.LEARNERS}
    for run in data["runs"]:
        assert run["sample_size"] == figure.SAMPLE_SIZE_FACTOR * run["dimension"]
        assert run["mode"] == "sufficient"
        assert run["chains"] == figure.QUICK_RUNS[run["dimension"]][0]
        gens = run["monte_carlo_generations"]
        assert gens[0] == 0 and gens[-1] == data["generations"] and set(gens) <= set(data["exact_generations"])
    assert len({r["seed"] for r in data["runs"]}) == len(data["runs"])  # independent runs


def test_exact_lines_are_multivariate_exact_values(data):
    gens = data["exact_generations"]
    for run in data["runs"]:
        chain = chain_of(run)
        exact = multivariate_exact_values(chain, gens)
        for q in ("trace_mean", "trace_var", "log_det_mean"):
            assert np.array_equal(run["exact"][q], np.asarray(exact[q], dtype=np.float64)), (run["dimension"], q)
        assert run["drift"] == log_det_drift(chain)
        assert run["trace"] == float(np.trace(chain.covariance))


def test_exact_trace_ratio_and_log_det_do_not_depend_on_sigma(data):
    # the plot draws one exact line per (d, learner) for both sources: E tr Sigma_n / tr Sigma = r^n and
    # E log det Sigma_n - log det Sigma = n * drift hold for any Sigma (affine equivariance of the fit)
    for d in data["dimensions"]:
        for learner in data["learners"]:
            iso, aniso = (next(r for r in data["runs"] if (r["dimension"], r["learner"], r["covariance"])
                               == (d, learner, kind)) for kind in ("isotropic", "anisotropic"))
            np.testing.assert_allclose(iso["exact"]["trace_mean"] / iso["trace"],
                                       aniso["exact"]["trace_mean"] / aniso["trace"], rtol=1e-13)
            np.testing.assert_allclose(iso["exact"]["log_det_mean"], aniso["exact"]["log_det_mean"], rtol=1e-13,
                                       atol=0)
            assert iso["drift"] == aniso["drift"]
            assert not np.allclose(iso["exact"]["trace_var"][1:] / iso["trace"] ** 2,
                                   aniso["exact"]["trace_var"][1:] / aniso["trace"] ** 2)  # the spread does


def test_monte_carlo_bands_contain_the_exact_values(data):
    check_bands(data)


@pytest.mark.slow
def test_full_figure_monte_carlo_bands_contain_the_exact_values():
    # the figure as committed (d = 2, 10, 100; 100 generations): about 1100 comparisons, about a minute
    full = compute(0, quick=False)
    assert full["dimensions"] == list(figure.DIMENSIONS)
    check_bands(full)


def check_bands(data):
    gens = np.asarray(data["exact_generations"])
    z = []
    for run in data["runs"]:
        at = np.searchsorted(gens, run["monte_carlo_generations"])
        later = np.asarray(run["monte_carlo_generations"]) >= 1
        spread = run["exact"]["trace_var"][at] / run["exact"]["trace_mean"][at] ** 2
        for q, shown in (("log_det_mean", later), ("trace_mean", later & (spread <= 1))):
            mc = run["monte_carlo"][q]
            mean, se, exact = mc["mean"], mc["se"], run["exact"][q][at]
            assert mean[0] == pytest.approx(exact[0], abs=1e-9 * max(1.0, abs(exact[0])))  # generation 0
            assert np.all(se[shown] > 0)
            z.append((mean[shown] - exact[shown]) / se[shown])
            np.testing.assert_allclose(run["z"][q][shown], z[-1], rtol=1e-12)
    z = np.concatenate(z)
    assert z.size > 100
    assert np.all(np.abs(z) < z_bound(z.size)), np.sort(np.abs(z))[-5:]


def test_spectrum(data):
    # panels (c), (d): the eigenvalue means add up to the trace's mean (same chains), start at Sigma's spectrum, and
    # the smallest falls below Sigma's smallest eigenvalue (one-sided z, budget 1e-4 over the two sources) while
    # the spectrum of the exact E Sigma_n = Sigma stays
    spectra = [r for r in data["runs"] if "eigenvalues_mean" in r]
    assert {(r["dimension"], r["learner"], r["covariance"]) for r in spectra} == {
        (data["spectrum_dimension"], data["spectrum_learner"], k) for k in figure.COVARIANCES}
    bound = z_bound(len(spectra), sides=1)
    for run in spectra:
        sigma = figure.covariance_of(run["covariance"], run["dimension"])
        start = np.linalg.eigvalsh(sigma)
        mean, se = run["eigenvalues_mean"], run["eigenvalues_se"]
        assert mean.shape == (len(run["monte_carlo_generations"]), run["dimension"]) == se.shape
        assert np.all(np.diff(mean, axis=1) >= 0)  # ascending
        np.testing.assert_allclose(mean[0], start, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mean.sum(axis=1), run["monte_carlo"]["trace_mean"]["mean"], rtol=1e-9)
        np.testing.assert_allclose(run["exact_mean_covariance_eigenvalues"],
                                   np.broadcast_to(start, mean.shape), rtol=1e-9)
        assert (start[0] - mean[-1, 0]) / se[-1, 0] > bound


def test_effective_rank_is_monte_carlo_only_and_starts_at_sigma(data):
    # panel (c) has no exact line: no z is stored for it; at n = 0 every chain has Sigma_0 = Sigma, so the mean is
    # exp(H) of Sigma's normalised eigenvalues (d for Sigma = I) with zero spread, and it never exceeds d
    for run in data["runs"]:
        mc = run["monte_carlo"]["effective_rank_mean"]
        assert "effective_rank_mean" not in run["z"]
        p = np.linalg.eigvalsh(figure.covariance_of(run["covariance"], run["dimension"]))
        p = p / p.sum()
        assert mc["mean"][0] == pytest.approx(float(np.exp(-np.sum(p * np.log(p)))), rel=1e-9)
        assert np.all(mc["mean"] <= run["dimension"] * (1 + 1e-12)) and np.all(mc["mean"] >= 1)


def test_anisotropic_covariance():
    for d in (1, 2, 10, 100):
        sigma = figure.anisotropic_covariance(d)
        assert np.array_equal(sigma, sigma.T)
        np.testing.assert_allclose(np.linalg.eigvalsh(sigma), np.geomspace(1.0, figure.SMALLEST_EIGENVALUE, d)[::-1],
                                   rtol=1e-10)
        assert np.array_equal(sigma, figure.anisotropic_covariance(d))
        if d > 1:
            assert np.count_nonzero(np.abs(sigma - np.diag(np.diag(sigma))) > 1e-3) > 0  # rotated, not diagonal
    with pytest.raises(ValueError):
        figure.covariance_of("diagonal", 2)


def test_plot_makes_a_figure_from_the_saved_data(data, tmp_path):
    import matplotlib.figure
    import matplotlib.pyplot as plt

    from theory.figures._style import style

    loaded = load_data(save_data({"figure": figure.NAME, **data}, tmp_path / "multivariate.json"))
    with style():
        fig = figure.plot(loaded)
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert len(fig.axes) == 5
        assert all(ax.has_data() for ax in fig.axes)
    finally:
        plt.close(fig)


def test_same_key_same_data_and_another_key_other_monte_carlo(data):
    again, other = compute(0), compute(1)
    text = json.dumps(_plain(data), sort_keys=True)
    assert json.dumps(_plain(again), sort_keys=True) == text
    assert json.dumps(_plain(other), sort_keys=True) != text
    for a, b in zip(data["runs"], other["runs"]):
        for q in ("trace_mean", "trace_var", "log_det_mean"):
            assert np.array_equal(a["exact"][q], b["exact"][q])
        assert not np.array_equal(a["monte_carlo"]["log_det_mean"]["mean"][1:],
                                  b["monte_carlo"]["log_det_mean"]["mean"][1:])
