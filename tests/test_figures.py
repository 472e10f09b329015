"""``collapse-theory figures``: every figure in quick mode, the data behind it, and byte-identical reruns.

Simulation-versus-theory checks assert on z-scores from the standard errors saved in the data files, with a
false-failure budget of 1e-4 per test: the bound is the two-sided normal quantile for 1e-4 split (Bonferroni)
over the comparisons made in the test.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from theory.cli import main
from theory.figures import FIGURES, make_figure, make_figures

BUDGET = 1e-4
AVAILABLE = list(FIGURES)


def z_bound(comparisons: int) -> float:
    return float(norm.isf(BUDGET / (2 * comparisons)))


def arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures_quick")
    make_figures(out, only=AVAILABLE, seed=0, quick=True, progress=False)
    return out


def load(quick, name):
    return json.loads((quick / f"{name}.json").read_text())


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_writes_png_pdf_and_data(quick, name):
    png, pdf = (quick / f"{name}.png").read_bytes(), (quick / f"{name}.pdf").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert b"CreationDate" not in pdf  # fixed metadata
    data = load(quick, name)
    assert data["figure"] == name and data["seed"] == 0 and data["quick"] is True
    assert data["caption"] and data["title"] and data["reproduces"]
    assert {"python", "jax", "numpy", "matplotlib", "collapse-theory"} <= set(data["versions"])


def test_f2_mean_error_matches_exact_half_normal_mean(quick):
    data = load(quick, "f2_mean_error")
    n = np.asarray(data["sample_sizes"], dtype=float)
    assert data["sample_sizes"] == [10, 30, 100, 500, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    assert np.allclose(arr(data["exact_mean"]), data["sigma"] * np.sqrt(2 / (np.pi * n)))
    assert f"{data['repeats']} repeats" in data["caption"]
    z = (arr(data["abs_error_mean"]) - arr(data["exact_mean"])) / arr(data["abs_error_se"])
    assert np.all(np.abs(z) < z_bound(len(z)))
    assert set(data["simulation_mode"]) == {"samples", "sufficient"}


def test_f6_discrete_matches_exact_survival_and_diversity(quick):
    data = load(quick, "f6_discrete")
    m, chains = data["sample_size"], data["chains"]
    assert f"M = {m}" in data["caption"] and f"{chains} chains" in data["caption"]
    checks = []
    for d in data["distributions"].values():
        p = arr(d["p0"])
        assert np.isclose(p.sum(), 1.0)
        exact = arr(d["survive_one_generation_exact"])
        assert np.allclose(exact, 1 - (1 - p) ** m)
        mc, se = arr(d["survive_one_generation_mc"]), arr(d["survive_one_generation_se"])
        degenerate = se == 0  # every chain agreed: exact must then be (numerically) 0 or 1 there
        assert np.all(np.abs(mc[degenerate] - exact[degenerate]) < 20 / chains)
        checks.append((mc[~degenerate] - exact[~degenerate]) / se[~degenerate])
        gens = np.arange(1, data["generations"] + 1)
        assert np.allclose(arr(d["diversity_exact"]), np.sum(p * (1 - p)) * (1 - 1 / m) ** gens)
        checks.append((arr(d["diversity_mean"]) - arr(d["diversity_exact"])) / arr(d["diversity_se"]))
    z = np.concatenate(checks)
    assert np.all(np.abs(z) < z_bound(z.size))
    a, b = (arr(d["survive_one_generation_exact"]) for d in data["distributions"].values())
    cut = arr(data["distributions"]["A"]["expected_count"]) >= 1
    assert np.allclose(a[cut], b[cut], atol=0.05)  # the bulk survives alike in both


def test_f6_discrete_exact_chain_matches_simulate_discrete(quick):
    # f6 is drawn with theory.montecarlo.simulate_discrete: its surviving bins and absorption frequency against
    # theory.numeric.discrete_exact_values at every generation (z from the saved SE; where every chain agreed
    # (SE 0) the exact value must be within 20/chains). Budget 1e-4, Bonferroni over all comparisons.
    data = load(quick, "f6_discrete")
    chains = data["chains"]
    z = []
    for d in data["distributions"].values():
        for mean, se, exact in (("surviving_bins_mean", "surviving_bins_se", "surviving_bins_exact"),
                                ("absorbed_fraction", "absorbed_se", "absorbed_exact")):
            mean, se, exact = arr(d[mean]), arr(d[se]), arr(d[exact])
            assert mean.shape == exact.shape == (data["generations"],)
            assert np.all(np.abs(mean[se == 0] - exact[se == 0]) < 20 / chains)
            z.append((mean[se > 0] - exact[se > 0]) / se[se > 0])
        one_run = arr(d["surviving_bins_one_run"])
        assert np.all(np.diff(one_run) <= 0) and one_run[-1] >= 1  # loss is absorbing
        counts = arr(d["one_generation_counts"])
        assert counts.sum() == data["sample_size"] and np.sum(counts > 0) == one_run[0]
    z = np.concatenate(z)
    assert np.all(np.abs(z) < z_bound(z.size)), np.sort(np.abs(z))[-5:]


def test_tail_loss_exact_lines_over_monte_carlo_and_labelled_monte_carlo_only_curves(quick):
    # Panels (b)-(d): wherever discrete_exact_values has a value, the Monte Carlo mean of simulate_discrete must
    # agree with it (z from the saved SE, generations >= 1; budget 1e-4, Bonferroni over all comparisons).
    # Curves with no exact value (temperature, top-p at this K) must be labelled "Monte Carlo" in the legend.
    from matplotlib import pyplot as plt

    from theory.figures import _tail_loss

    data = load(quick, "tail_loss")
    k = data["categories"]
    gens = np.asarray(data["reported_generations"])
    assert gens[0] == 0 and np.all(np.diff(gens) > 0)
    assert {s["generation"] for s in data["snapshots"]} <= set(gens.tolist())
    z = []
    mc_only = []
    curves = data["by_sample_size"] + data["by_learner"]
    assert [c["sample_size"] for c in data["by_sample_size"]] == data["sample_sizes"]
    for curve in curves:
        for q in ("surviving_mean", "tail_mass_lost_mean"):
            mean, se = arr(curve["monte_carlo"][q]["mean"]), arr(curve["monte_carlo"][q]["se"])
            assert mean[0] == (k if q == "surviving_mean" else 0.0) and se[0] == 0
            # lost words never come back (no smoothing): every chain's count of survivors is non-increasing
            assert np.all(np.diff(mean) <= 1e-9 * k) if q == "surviving_mean" else np.all(np.diff(mean) >= -1e-12)
            exact = curve["exact"][q]
            if exact is None:
                mc_only.append(curve["label"])
                continue
            exact = arr(exact)
            assert exact[0] == mean[0]
            if q in curve["exact_bounds"]:  # exact up to a proved truncation bracket: the value lies inside it
                lower, upper = (arr(b) for b in curve["exact_bounds"][q])
                assert np.all(lower <= exact) and np.all(exact <= upper)
            shown = (gens >= 1) & (se > 0)
            assert np.all(np.abs(mean - exact)[(gens >= 1) & (se == 0)] < 20 / curve["chains"])
            z.append((mean[shown] - exact[shown]) / se[shown])
    # the MLE (the per-category chain) is exact at every M of the figure
    assert all(c["exact"]["surviving_mean"] is not None for c in data["by_sample_size"])
    assert data["by_learner"][0]["label"] == "MLE" and data["by_learner"][0]["exact"]["surviving_mean"] is not None
    assert mc_only, "temperature / top-p have no exact value at this K: the figure must show Monte Carlo only"
    z = np.concatenate(z)
    assert np.all(np.abs(z) < z_bound(z.size)), np.sort(np.abs(z))[-5:]
    # (a): one chain's rank-frequency curves are probability vectors of counts / M, the tail shrinking
    m = data["snapshot_sample_size"]
    surviving = []
    for shot in data["snapshots"]:
        values, mult = arr(shot["probabilities"]), np.asarray(shot["multiplicities"])
        assert np.all(np.diff(values) < 0) and math.isclose(float(values @ mult), 1.0, rel_tol=1e-8)
        assert shot["surviving"] == mult.sum()
        if shot["generation"] > 0:
            assert np.allclose(values * m, np.round(values * m), atol=1e-4)
        surviving.append(shot["surviving"])
    assert surviving[0] == k and np.all(np.diff(surviving) <= 0) and surviving[-1] < k
    fig = _tail_loss.plot(data)
    try:
        labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    finally:
        plt.close(fig)
    for label in mc_only:
        assert f"{label}: Monte Carlo" in labels, labels


def test_f4_and_f5_gmm_data(quick):
    f4 = load(quick, "f4_gmm_scatter")
    assert set(f4["setups"]) == {"blob", "two_gaussians"}
    for setup in f4["setups"].values():
        gens = [s["generation"] for s in setup["snapshots"]]
        assert gens == f4["snapshot_generations"]
        for shot in setup["snapshots"]:
            assert np.asarray(shot["points"]).shape == (f4["sample_size"], 2)
            assert math.isclose(sum(shot["weights"]), 1.0, rel_tol=1e-9)
    f5 = load(quick, "f5_gmm_distance")
    for setup in f5["setups"].values():
        assert [r["sample_size"] for r in setup["runs"]] == f5["sample_sizes"]
        for run in setup["runs"]:
            dist = arr(run["l2_squared"])
            assert dist.shape == (f5["generations"],) and abs(dist[0]) < 1e-12 and np.all(dist > -1e-12)
            assert max(run["em_iterations"]) <= f5["em_max_iter"]


def test_f1_rms_errors_match_exact(quick):
    # (mu_n - mu)^2 is a scale mixture of chi2_1: skewed, so the normal bound is approximate at 200 chains;
    # checked at two generations only, with the Bonferroni bound over all (learner, M, generation) cells.
    data = load(quick, "f1_gaussian_drift")
    assert f"over {data['chains']} chains" in data["caption"]
    z = []
    for runs in data["learners"].values():
        for run in runs:
            for n in (10, data["generations"]):
                z.append(run["z_mean_square_mean_error"][n])
                z.append(run["z_mean_square_sd_error"][n])
    z = np.asarray(z, dtype=float)
    assert np.all(np.abs(z) < z_bound(z.size))


def test_f3_pooling_matches_exact_mean_error_and_first_generation_is_replace(quick):
    # z = (MC mean square - exact) / SE: the pooled chains' E(mu_n - mu)^2 against exact_values of the workflow
    # at n = 1, 10 and the last generation, and generation 1 of the whole pool against replace's exact values
    # (step 0 of accumulate is replace's). Bonferroni over all of them (budget 1e-4).
    data = load(quick, "f3_pooling")
    last = data["generations"]
    z = []
    for variant, prefix in (("a_subsample_pool", "accumulate-subsample:"), ("b_whole_pool", "accumulate")):
        runs = data["variants"][variant]
        assert runs and all(r["workflow"] == (f"{prefix}{r['sample_size']}" if prefix.endswith(":") else prefix)
                            for r in runs)
        for run in runs:
            stats = run["mean_error"]
            exact = arr(run["exact_mean_rms"]) ** 2
            for n in (1, 10, last):
                z.append((stats["mean_square"][n] - exact[n]) / stats["mean_square_se"][n])
    for run, ref in zip(data["variants"]["b_whole_pool"], data["replace_exact"]):
        assert run["sample_size"] == ref["sample_size"]
        stats = run["sd_error"]
        z.append((stats["mean_square"][1] - ref["exact_sd_rms"][1] ** 2) / stats["mean_square_se"][1])
    z = np.asarray(z)
    assert np.all(np.abs(z) < z_bound(z.size)), z


def test_workflows_monte_carlo_bands_contain_the_exact_values_and_bounds(quick):
    # Every exact value of the figure (lines) against its Monte Carlo mean (bands): z = (MC - exact) / SE, and
    # where only exact bounds exist, the MC mean must not lie beyond a bound by more than the same z bound.
    # Replace is checked only up to n = 0.1 M: beyond, sigma_n^2 of the replace chain is heavy-tailed (its
    # log-variance grows like 2n/M) and the normal approximation of the MC mean fails; the other workflows keep
    # sigma_n^2 bounded and are checked at every reported generation. Budget 1e-4, Bonferroni over all checks.
    data = load(quick, "workflows")
    assert data["workflows"] == ["replace", "mix:0.1", "mix:0.5", "mix-fixed:0.1", "mix-fixed:0.5", "accumulate",
                                 f"accumulate-subsample:{data['sample_size']}"]
    assert data["quantities"] == ["w2_sq_mean", "variance_mean", "mean_sq_error"]
    gens = np.asarray(data["reported_generations"])
    assert gens[0] == 0 and gens[-1] == data["generations"] and np.all(np.diff(gens) > 0)
    z, beyond = [], []
    for learner in data["learners"]:
        for curve in data["curves"][learner]:
            shown = gens >= 1
            if curve["workflow"] == "replace":
                shown &= gens <= 0.1 * data["sample_size"]
                assert all(curve["exact"][q] is not None for q in data["quantities"])
            else:
                assert curve["exact"]["w2_sq_mean"] is None and "w2_sq_mean" in curve["exact_notes"]
                assert curve["exact"]["mean_sq_error"] is not None and curve["exact"]["variance_mean"] is not None
            assert curve["mode"] == ("samples" if curve["workflow"].startswith("accumulate-subsample") else
                                     "sufficient")
            for q in data["quantities"]:
                mc = curve["monte_carlo"][q]
                mean, se = arr(mc["mean"]), arr(mc["se"])
                assert mean[0] == pytest.approx(1.0 if q == "variance_mean" else 0.0, abs=1e-12)
                assert np.all(se[shown] > 0)
                if curve["exact"][q] is not None:
                    exact = arr(curve["exact"][q])
                    assert exact[0] == pytest.approx(mean[0], abs=1e-12)
                    z.append((mean[shown] - exact[shown]) / se[shown])
                    assert np.allclose(arr(curve["z"][q])[shown], z[-1], rtol=1e-6, atol=1e-6)
                else:
                    lower, upper = (arr(b) for b in curve["exact_bounds"][q])
                    assert np.all(lower[shown] <= upper[shown])
                    beyond.append(np.maximum(lower[shown] - mean[shown], mean[shown] - upper[shown]) / se[shown])
    z, beyond = np.concatenate(z), np.concatenate(beyond)
    bound = z_bound(z.size + beyond.size)
    assert np.all(np.abs(z) < bound), np.sort(np.abs(z))[-5:]
    assert np.all(beyond < bound), np.sort(beyond)[-5:]
    # the contrast the figure is about (maximum-likelihood learner): replace collapses, E sigma_n^2 = (1 - 1/M)^n
    # and E(mu_n - mu)^2 = 1 - (1 - 1/M)^n; accumulate keeps E(mu_n - mu)^2 below pi^2/6 of one generation's 1/M
    assert data["learners"] == ["mle"]
    m, n = data["sample_size"], gens[-1]
    replace, accumulate = (next(c for c in data["curves"]["mle"] if c["workflow"] == w)
                           for w in ("replace", "accumulate"))
    assert arr(replace["exact"]["variance_mean"])[-1] == pytest.approx((1 - 1 / m) ** n, rel=1e-9)
    assert arr(replace["exact"]["mean_sq_error"])[-1] == pytest.approx(1 - (1 - 1 / m) ** n, rel=1e-9)
    accumulated, replaced = (arr(c["exact"]["mean_sq_error"])[-1] for c in (accumulate, replace))
    assert accumulated < math.pi**2 / 6 / m < replaced


def test_expansions_monte_carlo_matches_exact_at_small_n_over_m(quick):
    # only n/M = 0.1: at larger n/M, sigma_n^2 is close to log-normal with a large log-variance and the
    # standard errors of the mean and (especially) the variance are unreliable.
    data = load(quick, "expansions")
    z = []
    for curve in data["curves"]:
        mc = curve["mc"]
        i = mc["generations"].index(max(1, round(0.1 * curve["sample_size"])))
        z += [mc["z_w2_sq_mean"][i], mc["z_w2_sq_var"][i]]
    z = np.asarray(z, dtype=float)
    assert np.all(np.abs(z) < z_bound(z.size))


def test_decomposition_figure_agrees_with_monte_carlo_and_its_parts_add_up(quick):
    # moved from tests/test_decomposition.py with the figure (theory/figures/_decomposition.py)
    data = load(quick, "decomposition")
    z = data["monte_carlo"]["z"]
    assert max(abs(v) for v in z) < z_bound(len(z)), z
    d = data["decomposition"]
    for i in range(len(d["generations"])):
        parts = sum(d[k][i] for k in ("statistical", "expressivity", "approximation", "interaction"))
        assert parts == pytest.approx(d["total"][i], rel=1e-8)  # 9 significant digits in the file
    # its byte-identical rerun is in the slow test_every_quick_figure_is_byte_identical_on_rerun (a second
    # decomposition run doubled this test's cost in the default run)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    make_figure("f2_mean_error", tmp_path / "a", seed=7, quick=True)
    make_figure("f2_mean_error", tmp_path / "b", seed=7, quick=True)
    make_figure("f2_mean_error", tmp_path / "c", seed=8, quick=True)
    a, b, c = _digests(tmp_path / "a"), _digests(tmp_path / "b"), _digests(tmp_path / "c")
    assert len(a) == 3 and a == b
    assert a["f2_mean_error.json"] != c["f2_mean_error.json"]


@pytest.mark.slow
def test_every_quick_figure_is_byte_identical_on_rerun(quick, tmp_path):
    make_figures(tmp_path, only=AVAILABLE, seed=0, quick=True, progress=False)
    assert _digests(tmp_path) == _digests(quick)


def test_cli_figures(tmp_path, capsys):
    assert main(["figures", "--quick", "--only", "f2_mean_error", "--out", str(tmp_path), "--seed", "3"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f2_mean_error.json", "f2_mean_error.pdf",
                                                         "f2_mean_error.png"]
    assert json.loads((tmp_path / "f2_mean_error.json").read_text())["seed"] == 3
    assert main(["figures", "--list"]) == 0
    assert "f5_gmm_distance" in capsys.readouterr().out
    assert main(["figures", "--quick", "--only", "no_such_figure", "--out", str(tmp_path)]) == 2
    assert "only: must be figure names among" in capsys.readouterr().err


def test_cli_figures_quiet_prints_only_the_paths(tmp_path, capsys):
    assert main(["figures", "--quick", "--quiet", "--only", "f2_mean_error", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.split() == [str(tmp_path / f"f2_mean_error.{ext}") for ext in ("json", "pdf", "png")]


@pytest.mark.parametrize("case", ["existing_file", "below_a_file", "bad_name", "bad_seed", "huge_seed"])
def test_cli_figures_bad_input_is_one_line_and_exit_2_before_computing(tmp_path, capsys, case):
    existing = tmp_path / "taken.txt"
    existing.write_text("keep me\n")
    argv = {
        "existing_file": ["--out", str(existing)],
        "below_a_file": ["--out", str(existing / "sub")],
        "bad_name": ["--only", "f2_mean_error", "f9", "--out", str(tmp_path / "o")],
        "bad_seed": ["--seed", "-3", "--out", str(tmp_path / "o")],
        "huge_seed": ["--seed", str(2**64), "--out", str(tmp_path / "o")],
    }[case]
    assert main(["figures", "--quick", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert ("out:" if case in ("existing_file", "below_a_file") else "only:" if case == "bad_name" else "seed:") in err
    assert existing.read_text() == "keep me\n"
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_api_bad_seed_and_output(tmp_path):
    from theory import ParameterError

    with pytest.raises(ParameterError, match="^seed:"):
        make_figures(tmp_path, only=["f2_mean_error"], seed=1.5, quick=True, progress=False)
    with pytest.raises(ParameterError, match="^out:"):
        make_figures(__file__, only=["f2_mean_error"], quick=True, progress=False)
    assert not any(tmp_path.iterdir())


def test_interrupted_save_leaves_no_partial_file(tmp_path):
    from theory.figures._io import write_atomically

    target = tmp_path / "figure.png"
    target.write_bytes(b"old")

    def interrupted(path):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, interrupted)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    write_atomically(target, lambda path: path.write_bytes(b"new"))
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["figure.png"]


def test_compilation_cache_is_opt_out_and_off_until_called(tmp_path, monkeypatch):
    import jax

    from theory._jax_cache import default_cache_dir, enable_compilation_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "collapse-theory" / "jax"
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")
    before = jax.config.jax_compilation_cache_dir
    assert enable_compilation_cache(tmp_path / "c") is None
    assert jax.config.jax_compilation_cache_dir == before and not (tmp_path / "c").exists()
    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "0")
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert enable_compilation_cache(blocked / "sub") is None  # cannot be created: stays off, no error
    assert jax.config.jax_compilation_cache_dir == before


def test_style_uses_matplotlib_own_fonts():
    # pinned fonts: a system copy of DejaVu (another version) must never be picked, regular or mathtext italic
    from pathlib import Path

    import matplotlib
    from matplotlib import font_manager

    from theory.figures._style import style

    bundled = (Path(matplotlib.get_data_path()) / "fonts" / "ttf").resolve()
    with style():
        for props in ({"family": "DejaVu Sans"}, {"family": "DejaVu Sans", "style": "italic"}):
            path = Path(font_manager.findfont(font_manager.FontProperties(**props), fallback_to_default=False))
            assert path.resolve().parent == bundled
        assert matplotlib.rcParams["text.hinting"] == "no_hinting"


def test_figures_help_names_every_figure():
    from theory.cli import _cmd_figures

    for name in FIGURES:
        assert name in _cmd_figures.DESCRIPTION, name
