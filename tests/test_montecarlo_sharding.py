"""Chains split across several devices give the same results as one device.

XLA's forced host devices must be set before JAX is imported, so the run happens in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=4``. Random draws are partitionable Threefry, so the same
key gives the same chains on 1 or 4 devices: the results agree to summation order (asserted), and the
four-device run is also z-tested against the textbook log-variance law (false-failure budget 1e-4). Every
workflow's kernel (mix, mix-fixed, accumulate, accumulate-subsample) gives the same results on 4 devices as on 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from scipy import stats

SCRIPT = textwrap.dedent(
    """
    import json, jax
    jax.config.update("jax_enable_x64", True)
    from theory import GaussianChain
    from theory.montecarlo import simulate
    out = {"devices": len(jax.devices())}
    for mode in ("sufficient", "samples"):
        chain = GaussianChain(7, learner="mle")
        kw = dict(chains=4002, generations=[1, 5], mode=mode, trajectories=True)
        many = simulate(jax.random.key(9), chain, **kw)
        one = simulate(jax.random.key(9), chain, devices=jax.devices()[:1], **kw)
        out[mode] = {"devices_used": [many.devices, one.devices], "many": many.to_dict(), "one": one.to_dict(),
                     "traj_diff": float(abs(many.sigma_trajectories - one.sigma_trajectories).max())}
    for spelling, mode in (("mix-fixed:0.4", "sufficient"), ("mix:0.4", "samples"), ("accumulate", "sufficient"),
                           ("accumulate-subsample:3", "samples")):
        chain = GaussianChain(7, learner="mle", workflow=spelling)
        kw = dict(chains=4002, generations=[1, 5], mode=mode, trajectories=True)
        many = simulate(jax.random.key(9), chain, **kw)
        one = simulate(jax.random.key(9), chain, devices=jax.devices()[:1], **kw)
        out[spelling] = {"devices_used": [many.devices, one.devices], "many": many.to_dict(), "one": one.to_dict(),
                         "traj_diff": float(abs(many.sigma_trajectories - one.sigma_trajectories).max())}
    print(json.dumps(out))
    """
)


def test_four_host_devices_match_one():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 4
    import math

    from scipy.special import digamma

    budget = 1e-4
    z_bound = stats.norm.isf(budget / (2 * 4))
    for mode in ("sufficient", "samples"):
        res = out[mode]
        assert res["devices_used"] == [4, 1]
        assert res["traj_diff"] < 1e-10
        many, one = res["many"], res["one"]
        for key in many:
            if key == "generations":
                continue
            for a, b in zip(many[key], one[key]):
                assert a == pytest.approx(b, rel=1e-8, abs=1e-12), key
        exact = [n * (digamma(3.0) + math.log(2 / 7)) for n in (1, 5)]
        for j in range(2):
            z = (many["log_variance_mean"][j] - exact[j]) / many["log_variance_mean_se"][j]
            assert abs(z) < z_bound
    for spelling in ("mix-fixed:0.4", "mix:0.4", "accumulate", "accumulate-subsample:3"):  # every workflow's kernel
        res = out[spelling]
        assert res["devices_used"] == [4, 1]
        assert res["traj_diff"] < 1e-10, spelling
        many, one = res["many"], res["one"]
        for key in many:
            if key in ("generations", "notes"):
                continue
            for a, b in zip(many[key], one[key]):
                assert a == pytest.approx(b, rel=1e-8, abs=1e-12), (spelling, key)
