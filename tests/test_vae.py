"""The VAE chain on the 8x8 digits (theory.chain._vae, theory.montecarlo._vae, theory.decomposition._vae,
``simulate --learner vae``): shapes under replace and accumulate, reproducibility, vmapped seeds = separate runs,
training lowers the negative ELBO below the best latent-free model, bad input, the CLI's JSON; the collapse itself
(replace drifts further from the digits than accumulate) in a slow test."""

import json
import math

import numpy as np
import pytest

from theory import ParameterError
from theory.chain._vae import (
    DIGITS,
    VAEChain,
    VAELearner,
    load_digits_source,
    parse_vae_learner,
)

pytestmark = pytest.mark.usefixtures("x64")

#: A configuration that compiles and runs in seconds (not a useful VAE: shapes and plumbing only); the same as
#: the CLI's ``--learner vae:2,8,20 -M 64 --chains 2``, so that the compiled generation is shared.
TINY = VAELearner(latent=2, hidden=8, steps=20)
TINY_M = 64


def _simulate(workflow, seeds=2, generations=(0, 1, 2), key=4, **kwargs):
    import jax

    from theory.montecarlo._vae import simulate_vae

    return simulate_vae(jax.random.key(key), VAEChain(TINY, TINY_M, workflow), seeds=seeds,
                        generations=list(generations), **kwargs)


def test_digits_source():
    x = load_digits_source()
    assert x.shape == (DIGITS, 64) and x.min() == 0.0 and x.max() == 1.0
    assert not x.flags.writeable
    # grey levels 0..16 scaled by 1/16
    assert np.array_equal(np.unique(x * 16), np.arange(17))


@pytest.fixture(scope="module")
def tiny_runs():
    """The tiny chain under replace and accumulate, 2 seeds, generations 0..2 (run once for the module)."""
    import jax

    with jax.enable_x64(True):
        return {wf: _simulate(wf, keep_images=3, keep_codes=5) for wf in ("replace", "accumulate")}


@pytest.mark.parametrize("workflow", ["replace", "accumulate"])
def test_shapes_and_generation_zero(tiny_runs, workflow):
    from theory.montecarlo._vae import QUANTITIES

    out = tiny_runs[workflow]
    assert out["generations"] == [0, 1, 2]
    for q in QUANTITIES:
        assert out[q].shape == (3,) and out[q + "_se"].shape == (3,)
        assert out["per_seed"][q].shape == (2, 3)
    assert out["images"].shape == (3, 3, 8, 8)
    assert out["codes"].shape == (3, 5, TINY.latent) and np.all(np.isnan(out["codes"][0]))
    assert np.all(np.isfinite(out["codes"][1:]))
    # generation 0 is M real images: no model, no latent or loss
    assert math.isnan(out["loss"][0]) and math.isnan(out["latent_variance"][0])
    assert np.all(np.isfinite([out[q][1:] for q in QUANTITIES]))
    # samples are decoder means: inside [0, 1]
    assert out["images"].min() >= 0 and out["images"].max() <= 1
    # generation 0's images are real digits (rows of the data set)
    real = load_digits_source()
    first = out["images"][0].reshape(3, 64)
    assert all(np.any(np.all(np.isclose(real, row, atol=1e-7), axis=1)) for row in first)


def test_same_seed_same_numbers_other_seed_other_numbers(tiny_runs):
    from theory.montecarlo._vae import QUANTITIES

    a, b, c = tiny_runs["replace"], _simulate("replace"), _simulate("replace", key=1)
    for q in QUANTITIES:
        np.testing.assert_array_equal(a["per_seed"][q], b["per_seed"][q])
    assert not np.array_equal(a["per_seed"]["frechet"][:, 1:], c["per_seed"]["frechet"][:, 1:])


def test_vmapped_training_equals_separate_trainings():
    """One vmapped training (as simulate_vae runs the seeds) equals the trainings run one key after the other
    (lax.map: sequential, unbatched; float32: equal to rounding)."""
    import jax

    from theory.montecarlo._vae import _compiler_options, train

    data = jax.numpy.asarray(load_digits_source()[:TINY_M], jax.numpy.float32)

    def curve(k):
        return train(k, data, TINY_M, TINY)[1]

    keys = jax.random.split(jax.random.key(3), 3)
    fast = _compiler_options(0)  # quick to compile (see FAST_COMPILE_STEPS)
    batched, one_by_one = jax.jit(lambda ks: (jax.vmap(curve)(ks), jax.lax.map(curve, ks)),
                                  compiler_options=fast)(keys)
    np.testing.assert_allclose(np.asarray(batched), np.asarray(one_by_one), rtol=1e-5)
    assert not np.allclose(np.asarray(batched[0]), np.asarray(batched[1]))  # the keys differ


def test_training_lowers_the_negative_elbo_below_the_best_latent_free_model():
    """On the real digits, a trained VAE's negative ELBO (averaged over 16 noise draws on all 1,797 images) is below
    the cross-entropy of the best model that ignores the latent (every pixel a Bernoulli with the pixel's mean,
    KL 0): the VAE learned to use its code. Before training it is far above it. A real check: an optimiser that
    does not descend, a wrong sign in the KL, or a decoder that ignores z fails it."""
    import jax
    import jax.numpy as jnp

    from theory.montecarlo._vae import (
        _compiler_options,
        init_params,
        negative_elbo,
        train,
    )

    real = load_digits_source()
    p = np.clip(real.mean(axis=0), 1e-12, 1 - 1e-12)
    latent_free = float(np.mean(-(real * np.log(p) + (1 - real) * np.log(1 - p)).sum(axis=1)))
    learner = VAELearner(latent=2, hidden=16, steps=600, batch=64, learning_rate=1e-2)
    data = jnp.asarray(real, jnp.float32)

    def run(key):  # one compiled function: the ELBO before and after training, and the training curve
        params, losses = train(key, data, DIGITS, learner)
        start = init_params(jax.random.split(key)[0], learner)  # the initialisation train starts from
        noise = jax.random.split(jax.random.key(9), 16)

        def elbo(p_):
            return jnp.mean(jax.vmap(lambda kk: negative_elbo(p_, kk, data))(noise))

        return elbo(start), elbo(params), losses

    compiled = jax.jit(run, compiler_options=_compiler_options(0))  # quick to compile, slower to run
    before, after, losses = (np.asarray(v, dtype=np.float64) for v in compiled(jax.random.key(0)))
    assert before > latent_free > after
    # and the training curve went down: the last tenth of the steps below the first tenth
    losses = np.asarray(losses)
    assert losses[-60:].mean() < losses[:60].mean()


@pytest.mark.parametrize("make, parameter", [
    (lambda: VAELearner(latent=0), "latent"),
    (lambda: VAELearner(latent=64), "latent"),
    (lambda: VAELearner(hidden=0), "hidden"),
    (lambda: VAELearner(steps=0), "steps"),
    (lambda: VAELearner(batch=0), "batch"),
    (lambda: VAELearner(learning_rate=0.0), "learning_rate"),
    (lambda: VAELearner(learning_rate=float("nan")), "learning_rate"),
    (lambda: VAELearner(learning_rate=2.0), "learning_rate"),
    (lambda: VAEChain(VAELearner(batch=64), 63), "sample_size"),
    (lambda: VAEChain(VAELearner(), DIGITS + 1), "sample_size"),
    (lambda: VAEChain(VAELearner(), 500, source="mnist"), "source"),
    (lambda: VAEChain(VAELearner(), 500, __import__("theory").chain.Workflow.parse("mix:0.5", real_weight=0.7)),
     "real_weight"),
    (lambda: VAEChain(VAELearner(batch=64), 500, "accumulate-subsample:32"), "workflow"),
    (lambda: VAEChain("vae", 500), "learner"),
    (lambda: parse_vae_learner("x"), "learner"),
    (lambda: parse_vae_learner("2,8,10,4"), "learner"),
    (lambda: parse_vae_learner("2.5"), "learner"),
    (lambda: VAELearner(sampling="median"), "sampling"),
])
def test_bad_input(make, parameter):
    with pytest.raises(ParameterError) as err:
        make()
    assert err.value.parameter == parameter
    assert str(err.value).startswith(parameter + ":")


def test_simulate_bad_input():
    with pytest.raises(ParameterError, match="seeds"):
        _simulate("replace", seeds=1)
    with pytest.raises(ParameterError, match="training_multiple"):
        _simulate("accumulate", training_multiple=2)
    with pytest.raises(ParameterError, match="key"):
        from theory.montecarlo._vae import simulate_vae

        simulate_vae(0, VAEChain(TINY, TINY_M), seeds=2, generations=[1])


def test_parse_vae_learner():
    assert parse_vae_learner(None) == VAELearner() == parse_vae_learner("")
    assert parse_vae_learner("3") == VAELearner(latent=3)
    assert parse_vae_learner("3, 16") == VAELearner(latent=3, hidden=16)
    assert parse_vae_learner("3,16,50") == VAELearner(latent=3, hidden=16, steps=50)
    assert parse_vae_learner("3,16,50,bernoulli") == VAELearner(latent=3, hidden=16, steps=50, sampling="bernoulli")
    assert str(parse_vae_learner("3,16,50,bernoulli")) == "vae:3,16,50,bernoulli"


def test_cli_json_and_table(run_cli, tiny_runs):
    status, out, err = run_cli(["simulate", "--learner", "vae:2,8,20", "-M", "64", "-n", "0", "2", "--chains", "2",
                                "--json", "--seed", "4"])
    assert status == 0, err
    data = json.loads(out)
    for key in ("learner", "sample_size", "workflow", "source", "seed", "generations", "exact", "z", "notes",
                "gaussian_pixel_variance", "real"):
        assert key in data
    assert data["learner"] == "vae:2,8,20" and data["source"] == "digits" and data["seeds"] == 2
    assert data["generations"] == [0, 2]
    for q in ("pixel_variance", "pairwise_distance", "effective_rank", "frechet", "latent_variance", "loss"):
        assert len(data[q]) == 2 and len(data[q + "_se"]) == 2
    # the Gaussian chain's prediction starts at the real digits' pixel variance (generation 0 = D_0's moments)
    # (the Gaussian fit's covariance has divisor N = 1797, the reported pixel variance N - 1)
    assert data["gaussian_pixel_variance"][0] == pytest.approx(data["real"]["pixel_variance"] * (DIGITS - 1) / DIGITS,
                                                               rel=1e-12)
    status, table, err = run_cli(["simulate", "--learner", "vae:2,8,20", "-M", "64", "-n", "2", "--chains", "2",
                                  "--seed", "4"])
    assert status == 0, err
    assert "frechet" in table and "Gaussian chain" in table
    # the same numbers as the JSON run (same seed)
    line = next(s for s in table.splitlines() if s.strip().startswith("frechet"))
    assert float(line.split()[1]) == pytest.approx(data["frechet"][1], rel=1e-5)
    # and the library's numbers (the CLI runs simulate_vae with the seed's key)
    assert data["frechet"][1] == pytest.approx(float(tiny_runs["replace"]["frechet"][2]), rel=1e-6)


@pytest.mark.parametrize("argv, parameter", [
    (["--learner", "vae:0"], "latent"),
    (["--learner", "vae:2,8,20,1"], "learner"),
    (["--learner", "vae", "-M", "32"], "sample_size"),
    (["--learner", "vae:2,8,20", "--source", "mnist"], "source"),
    (["--learner", "vae:2,8,20", "--workflow", "mix:0.5", "--real-weight", "0.7"], "real_weight"),
    (["--learner", "vae:2,8,20", "--workflow", "accumulate", "--decompose"], "decompose"),
    (["--learner", "vae:2,8,20", "--dimension", "3"], "dimension"),
    (["--learner", "vae:2,8,20", "-n", "1000000"], "generations"),
    (["--learner", "vae:2,8,2", "--workflow", "accumulate", "-n", "10000", "--chains", "50"], "generations"),
])
def test_cli_bad_input_one_line_exit_2(run_cli, argv, parameter):
    base = ["simulate", "-M", "64", "-n", "1", "--chains", "2"]
    if "-M" in argv:
        base = ["simulate", "-n", "1", "--chains", "2"]
    status, out, err = run_cli(base + argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and parameter in err


@pytest.mark.slow
def test_vmapped_seeds_equal_separate_runs(tiny_runs):
    """Seed s runs on fold_in(key, s): the first two seeds of a 3-seed run are the 2-seed run (float32 vmapped over
    a different number of seeds: equal to rounding)."""
    two, three = tiny_runs["accumulate"], _simulate("accumulate", seeds=3, keep_images=3, keep_codes=5)
    for q in ("pixel_variance", "frechet", "latent_variance", "loss"):
        np.testing.assert_allclose(three["per_seed"][q][:2], two["per_seed"][q], rtol=1e-4, equal_nan=True)


@pytest.mark.slow
@pytest.mark.parametrize("workflow", ["mix:0.5", "mix-fixed:0.25", "accumulate-subsample:64"])
def test_other_workflows_run(workflow):
    from theory.montecarlo._vae import QUANTITIES

    out = _simulate(workflow, generations=(0, 3))
    assert str(VAEChain(TINY, TINY_M, workflow).workflow) == workflow
    for q in QUANTITIES:
        assert out[q].shape == (2,) and np.isfinite(out[q][1])


@pytest.mark.slow
def test_decomposition_step_zero_has_no_statistical_part(run_cli):
    """Step 0 trains both runs of the decomposition on the same M real images (the switched-off run on F copies,
    the same minibatch law), so at n = 1 the two runs are one process in law and the statistical part must be 0
    within its standard error: a z-test per quantity (3 assertions, false-failure budget 1e-4 in all; the SE is
    estimated from 12 seeds per run, so the bound is Student's t with 11 degrees of freedom, a conservative
    choice for Welch's). The CLI reports the same split."""
    import jax
    from scipy import stats

    from theory.decomposition._vae import vae_decomposition

    seeds = 12
    d = vae_decomposition(jax.random.key(5), VAEChain(TINY, TINY_M), seeds=seeds, generations=[1, 2])
    bound = stats.t.ppf(1 - 1e-4 / (2 * len(d["quantities"])), seeds - 1)
    for q in d["quantities"]:
        part = d[q]
        assert abs(part["statistical"][0]) < bound * part["statistical_se"][0], q
        np.testing.assert_allclose(np.add(part["statistical"], part["approximation"]), part["total"], rtol=1e-12,
                                   atol=1e-12)
    status, out, err = run_cli(["simulate", "--learner", "vae:2,8,20", "-M", "64", "-n", "1", "2", "--chains", "12",
                                "--json", "--decompose", "--seed", "5"])
    assert status == 0, err
    cli = json.loads(out)["decomposition"]
    for q in d["quantities"]:
        np.testing.assert_allclose(cli[q]["statistical"], d[q]["statistical"], rtol=1e-6)


@pytest.mark.slow
def test_replace_drifts_further_from_the_digits_than_accumulate():
    """The collapse the figure shows, at the default learner, M = 1797, 5 seeds, 5 generations: the Frechet
    distance to the digits at generation 5 is larger under replace than under accumulate, and the pixel variance
    smaller, each by a test on the difference of the means over independent seeds. A power test: the statistic
    (difference / its standard error from 5 + 5 seeds) is referred to Student's t with 4 degrees of freedom (the
    fewest Welch's correction can give), one-sided at 5e-5 each, so that with no true difference the two
    assertions pass together with probability below 1e-4; bound t_4 = 15.5."""
    import jax

    from theory.montecarlo._vae import simulate_vae

    learner = VAELearner()
    runs = {wf: simulate_vae(jax.random.fold_in(jax.random.key(11), i), VAEChain(learner, DIGITS, wf), seeds=5,
                             generations=[0, 5]) for i, wf in enumerate(("replace", "accumulate"))}
    r, a = runs["replace"], runs["accumulate"]

    def z(q):
        return (r[q][1] - a[q][1]) / math.hypot(r[q + "_se"][1], a[q + "_se"][1])

    from scipy.stats import t

    bound = float(t.isf(5e-5, 4))
    assert z("frechet") > bound
    assert z("pixel_variance") < -bound
