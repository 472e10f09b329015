"""Monte Carlo summaries: merge per-block central moments, turn them into means and standard errors.

Every simulated chain gives, at a reported generation ``n``, five per-chain values

======================  =============================================
``mean_sq_error``       ``(mu_n - mu)**2``
``variance``            ``sigma_n**2``
``sd``                  ``sigma_n``
``log_variance``        ``log sigma_n**2 - log sigma**2``
``w2_sq``               ``(mu_n - mu)**2 + (sigma_n - sigma)**2``
======================  =============================================

Each chain block (and each device) reduces them to ``(count, mean, C2, C3, C4)`` with
``Cp = sum (x - mean)**p``; blocks are merged on the host in float64 with the pairwise formulas of
Pébay (2008), so the result does not depend on how chains were split beyond floating-point order.

Standard errors: a mean's SE is ``sqrt(s**2 / K)`` (``s**2`` the sample variance, ``K`` chains). A sample
variance's SE is the delta-method/fourth-moment one, ``sqrt((m4 - m2**2 (K - 3)/(K - 1)) / K)`` with
``m_p = C_p / K``. It is only as good as the sample fourth moment; for heavy-tailed ``sigma_n**2``
(small ``M``, many generations) it is unreliable, which is why :func:`theory.montecarlo.verify` does not
z-test those cells.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..quantities import PER_CHAIN as PER_CHAIN
from ..quantities import QUANTITIES as QUANTITIES
from ..quantities import REGISTRY

# quantity -> (per-chain value, statistic): "mean" of the value or its "var" across chains
_SOURCE = {q.name: (q.per_chain, q.statistic) for q in REGISTRY.values()}


def merge_moments(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    """Merge two ``(..., 5)`` arrays of ``(count, mean, C2, C3, C4)`` (Pébay 2008, eqs. 2.1–2.4).

    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> def moments(v):
    ...     d = v - v.mean()
    ...     return np.array([v.size, v.mean(), (d**2).sum(), (d**3).sum(), (d**4).sum()])
    >>> bool(np.allclose(merge_moments(moments(x[:1]), moments(x[1:])), moments(x)))
    True
    """
    b = np.asarray(b, dtype=np.float64)
    if a is None:
        return b.copy()
    na, ma, a2, a3, a4 = np.moveaxis(a, -1, 0)
    nb, mb, b2, b3, b4 = np.moveaxis(b, -1, 0)
    n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = mb - ma
        mean = ma + delta * nb / n
        c2 = a2 + b2 + delta**2 * na * nb / n
        c3 = a3 + b3 + delta**3 * na * nb * (na - nb) / n**2 + 3 * delta * (na * b2 - nb * a2) / n
        c4 = (
            a4
            + b4
            + delta**4 * na * nb * (na**2 - na * nb + nb**2) / n**3
            + 6 * delta**2 * (na**2 * b2 + nb**2 * a2) / n**2
            + 4 * delta * (na * b3 - nb * a3) / n
        )
    return np.stack([n, mean, c2, c3, c4], axis=-1)


def summarise(moments: np.ndarray) -> dict[str, np.ndarray]:
    """MC estimates and standard errors from merged moments of shape ``(generations, 5 values, 5)``.

    Returns a dict with every key of :data:`QUANTITIES` and its ``"_se"`` twin, float64 arrays aligned with
    the generations.
    """
    out: dict[str, np.ndarray] = {}
    for name, (value, statistic) in _SOURCE.items():
        n, mean, c2, _, c4 = np.moveaxis(moments[:, PER_CHAIN.index(value), :], -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sample_var = c2 / (n - 1)
            if statistic == "mean":
                estimate, se = mean, np.sqrt(sample_var / n)
            else:
                m2, m4 = c2 / n, c4 / n
                estimate = sample_var
                se = np.sqrt(np.maximum(m4 - m2**2 * (n - 3) / (n - 1), 0.0) / n)
        out[name] = np.asarray(estimate, dtype=np.float64)
        out[name + "_se"] = np.asarray(se, dtype=np.float64)
    return out


def overflow_notes(estimates: dict[str, np.ndarray], generations: np.ndarray, dtype: str) -> dict[str, str]:
    """``{key: reason}`` for every estimate or standard error that is not a finite number (overflow).

    >>> overflow_notes({"variance_mean": np.array([1.0, np.inf])}, np.array([1, 900]), "float64")
    {'variance_mean': 'overflow: not representable in float64 at n = 900'}
    """
    notes = {}
    for key, values in estimates.items():
        bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
        if bad.any():
            where = ", ".join(str(int(g)) for g in np.asarray(generations)[bad])
            notes[key] = f"overflow: not representable in {dtype} at n = {where}"
    return notes


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns: MC means and standard errors aligned with ``generations``.

    Index it like the dict of :func:`theory.exact_values`: ``result["w2_sq_mean"]``,
    ``result["w2_sq_mean_se"]``; every key of :data:`QUANTITIES` is there with its ``"_se"`` twin.

    Attributes
    ----------
    generations:
        the reported generation indices ``n`` (int64).
    estimates:
        ``{quantity: array}`` and ``{quantity + "_se": array}``, float64.
    chains, mode, dtype, devices:
        how it was run (``devices`` is the number of devices the chains were split across).
    mu_trajectories, sigma_trajectories:
        ``(len(generations), chains)`` arrays of every chain's ``mu_n`` and ``sigma_n`` when
        ``trajectories=True``, else ``None``.
    notes:
        ``{key: reason}`` for every estimate or standard error that is ``inf``/``nan`` (overflow of the run's
        dtype); empty when every value is finite.
    """

    generations: np.ndarray
    estimates: dict
    chains: int
    mode: str
    dtype: str
    devices: int
    mu_trajectories: np.ndarray | None = None
    sigma_trajectories: np.ndarray | None = None
    notes: dict = dataclasses.field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        if key == "generations":
            return self.generations
        return self.estimates[key]

    def keys(self) -> list[str]:
        return ["generations", *self.estimates]

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``"generations"``, every estimate as lists (a non-finite value as ``None``) and
        ``"notes"`` (the reason for each ``None``)."""

        def clean(values):
            return [None if not np.isfinite(v) else float(v) for v in values]

        out: dict = {"generations": [int(g) for g in self.generations]}
        for key, values in self.estimates.items():
            out[key] = clean(values)
        out["notes"] = dict(self.notes)
        return out
