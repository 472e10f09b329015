"""The two generation-0 ("real data") distributions of the GMM experiment.

* ``"blob"``: one standard 2-D Gaussian, what the authors' notebook samples as its real data, fitted by a
  two-component GMM (the two components split the blob);
* ``"two_gaussians"``: a two-component mixture, what the paper's text describes.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..montecarlo._gmm import GMM

SETUPS = ("blob", "two_gaussians")
SETUP_LABELS = {
    "blob": "notebook set-up: real data one standard 2-D Gaussian",
    "two_gaussians": "text's set-up: real data a mixture of two Gaussians",
}


def real_distribution(setup: str) -> GMM:
    """Generation 0's distribution as a (float64 when x64 is on) GMM."""
    if setup == "blob":
        return GMM(jnp.array([0.5, 0.5]), jnp.zeros((2, 2)), jnp.stack([jnp.eye(2), jnp.eye(2)]))
    if setup == "two_gaussians":
        return GMM(
            jnp.array([0.5, 0.5]),
            jnp.array([[-1.2, 0.8], [1.0, -0.9]]),
            jnp.array([[[0.30, 0.10], [0.10, 0.25]], [[0.35, -0.12], [-0.12, 0.30]]]),
        )
    raise ValueError(f"unknown set-up {setup!r}")
