"""The exact split of ``e(n) = E W2^2(p_n, D_0)`` into the statistical, expressivity and approximation sources.

Sources (``proofs/decomposition.md`` has the derivations):

* ``S`` statistical: finite ``M_i``; off, the learner gets the previous generation's exact mean and variance;
* ``X`` expressivity: ``D_0`` itself; off, ``D_0`` is replaced by ``G = N(mu, sigma^2)`` (the learner's
  infinite-data fit) and the error is measured against ``G``;
* ``P`` approximation: the variance multiplier ``A``; off, ``A = 1``.

With ``a`` the multiplier in force (``A`` or 1), ``rho_T`` equal to ``rho`` (X on) or 1 (X off), and
``W(a) = E W2^2`` of the Gaussian chain from ``G`` (:func:`theory.exact_values`), for ``n >= 1``:

    S off:  e_T(n) = sigma^2 [ (a^{n/2} - 1)^2 + 2 a^{n/2} (1 - rho_T) ]
    S on, X off:  e_T(n) = W(a)
    S on, X on:   e_T(n) = W(a) + 2 sigma^2 K_n(a) (c_G - rho c_D)

where ``c_G`` and ``c_D`` are ``E sigma_1 / sigma`` (``A = 1``) for ``M_0`` samples of ``G`` and of ``D_0``,
and ``K_n(a) = sqrt(a) prod_{1 <= j < n} E R_j(a)`` is the growth of ``E sigma`` after generation 1 (read off
the Gaussian chain: ``E sigma_n = sigma c_G K_n(a)``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .._errors import ParameterError, check_key
from ..chain import GaussianChain, check_generations
from ._distributions import as_distribution
from ._first_fit import FirstFitSd, first_fit_sd

SOURCES: tuple[str, ...] = ("statistical", "expressivity", "approximation")
_LETTER = {"statistical": "S", "expressivity": "X", "approximation": "P"}
#: Every subset of sources, as a string of letters in the order S, X, P ("" is none).
SUBSETS: tuple[str, ...] = tuple(
    "".join(c) for r in range(4) for c in itertools.combinations("SXP", r)
)
PARTS: tuple[str, ...] = ("total", "statistical", "expressivity", "approximation", "interaction")


def _shapley(e: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Average over the 3! orders of switching sources on of each source's marginal contribution."""
    out = {}
    for name in SOURCES:
        i = _LETTER[name]
        others = [c for c in "SXP" if c != i]
        value = 0.0
        for r in range(3):
            weight = math.factorial(r) * math.factorial(2 - r) / 6
            for t in itertools.combinations(others, r):
                t = "".join(t)
                with_i = "".join(c for c in "SXP" if c in t + i)
                value = value + weight * (e[with_i] - e[t])
        out[name] = value
    return out


def _moebius(e: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pairwise and triple interaction terms (Moebius inversion of ``e_T``): they add up to the remainder.

    Written as differences of marginal contributions, so that a source that changes nothing (expressivity for a
    Gaussian ``D_0``, approximation at ``A = 1``) gives exactly zero in every term that involves it.
    """
    pair = {t: (e[t] - e[t[0]]) - e[t[1]] for t in ("SX", "SP", "XP")}
    triple = ((e["SXP"] - e["SX"]) - (e["SP"] - e["S"])) - ((e["XP"] - e["X"]) - (e["P"] - e[""]))
    return {**pair, "SXP": triple}


@dataclasses.dataclass(frozen=True)
class Decomposition:
    """The decomposition of ``e(n) = E W2^2(p_n, D_0)`` at each requested generation (float64 arrays).

    ``total`` is ``e``; ``statistical``, ``expressivity``, ``approximation`` the single-source errors
    ``e_S``, ``e_X``, ``e_P``; ``interaction`` the sum of the Moebius interaction terms ``interactions``
    (``"SX"``, ``"SP"``, ``"XP"``, ``"SXP"``), computed from the subset errors without using the total, so that
    ``statistical + expressivity + approximation + interaction == total`` (to rounding) is a check of the
    Moebius algebra, not a definition; ``shapley`` the Shapley attribution (adds up to the total); ``errors``
    every ``e_T`` keyed by subset (``""``, ``"S"``, ..., ``"SXP"``); ``stderr`` the standard error of every
    reported array due to the Monte Carlo estimate of ``E sigma_1`` (zero when it is exact).

    Values whose true result overflows float64 are ``inf``; values that cannot be formed in float64 because an
    ingredient overflows (``inf - inf``) are ``nan``. Either way ``notes`` says where, and :meth:`to_dict` gives
    ``None`` for them. ``notes`` also flags integer-valued data.
    """

    d0: object
    generations: list[int]
    sample_sizes: np.ndarray  # M_0 .. M_{n_max - 1} for a schedule; one value when M is constant
    learner: str
    variance_scale: float
    mean: float
    sd: float
    rho: float
    rho_error: float
    w2_sq_projection: float
    first_fit: FirstFitSd
    errors: dict[str, np.ndarray]
    total: np.ndarray
    statistical: np.ndarray
    expressivity: np.ndarray
    approximation: np.ndarray
    interaction: np.ndarray
    shapley: dict[str, np.ndarray]
    interactions: dict[str, np.ndarray]
    stderr: dict
    notes: tuple = ()

    def __repr__(self) -> str:
        return (f"Decomposition(d0={self.d0.spec!r}, generations={self.generations!r}, "
                f"sample_size={_size_text(self.sample_sizes)}, learner={self.learner!r}, "
                f"variance_scale={self.variance_scale:g}, total={_short(self.total)})")

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: ``generations``, the part lists, ``shapley``, ``rho``, ``w2_sq_projection``, ...,
        ``notes``; a value that is not a finite number (overflow) is ``None``."""

        def lst(a):
            return [float(x) if math.isfinite(x) else None for x in np.asarray(a, dtype=float)]

        return {
            "d0": self.d0.spec,
            "generations": list(self.generations),
            **{p: lst(getattr(self, p)) for p in PARTS},
            "shapley": {k: lst(v) for k, v in self.shapley.items()},
            "rho": float(self.rho),
            "w2_sq_projection": float(self.w2_sq_projection),
            "rho_error": float(self.rho_error),
            "mean": float(self.mean),
            "sd": float(self.sd),
            # one value when M is constant (the schedule is n long), else M_0 .. M_{n-1}
            "sample_sizes": [int(m) for m in (self.sample_sizes[:1] if _constant(self.sample_sizes)
                                              else self.sample_sizes)],
            "learner": self.learner,
            "variance_scale": float(self.variance_scale),
            "first_fit_sd": {
                "value": float(self.first_fit.ratio * self.sd),
                "stderr": float(self.first_fit.stderr * self.sd),
                "method": self.first_fit.method,
                "draws": int(self.first_fit.draws),
                "note": "E sigma_1 for M_0 samples of D_0 at A = 1",
            },
            "errors": {(k or "none"): lst(v) for k, v in self.errors.items()},
            "interactions": {k: lst(v) for k, v in self.interactions.items()},
            "stderr": {k: (lst(v) if not isinstance(v, dict) else {(kk or "none"): lst(vv) for kk, vv in v.items()})
                       for k, v in self.stderr.items()},
            "notes": list(self.notes),
        }


def _short(values) -> str:
    values = np.asarray(values, dtype=float)
    text = ", ".join(f"{v:.6g}" for v in values[:4])
    return f"[{text}{', ...' if values.size > 4 else ''}]"


def _constant(sizes) -> bool:
    sizes = np.asarray(sizes)
    return bool(sizes.size) and bool(np.all(sizes == sizes[0]))


def _size_text(sizes) -> str:
    return str(int(np.asarray(sizes)[0])) if _constant(sizes) else _short(sizes)


def _shifted(sample_size):
    """The schedule of the Gaussian chain after generation 1 (``M_1, M_2, ...``)."""
    if isinstance(sample_size, tuple):
        return sample_size[1:] if len(sample_size) > 1 else 2  # a placeholder: only generation 0 is needed
    if callable(sample_size):
        return lambda i: sample_size(i + 1)
    return sample_size


def subset_errors(
    d0, chain: GaussianChain, generations: list[int], c_d: float, c_g: float
) -> dict[str, np.ndarray]:
    """Every ``e_T(n)`` (keys of :data:`SUBSETS`) from ``c_D = E sigma_1/sigma`` and ``c_G`` (both at ``A = 1``)."""
    from ..numeric import exact_values

    sigma = float(d0.sd)
    rho = d0.rho()[0]
    big_a = float(chain.variance_scale)
    n = np.asarray(generations, dtype=float)
    out: dict[str, np.ndarray] = {"": np.zeros(len(generations))}
    gaussian: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for a in sorted({1.0, big_a}):
        g = GaussianChain(chain.sample_size, learner=chain.learner, variance_scale=a, sigma=sigma)
        with np.errstate(all="ignore"):
            v = exact_values(g, generations)
        w2 = np.asarray(v["w2_sq_mean"], dtype=float)
        growth = np.asarray(v["sd_mean"], dtype=float) / (sigma * c_g)  # K_n(a)
        gaussian[a] = (w2, growth)
    for t in SUBSETS[1:]:
        a = big_a if "P" in t else 1.0
        r = rho if "X" in t else 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            if "S" not in t:
                excess = np.expm1(0.5 * n * math.log(a))  # a^{n/2} - 1, accurate near a = 1
                value = sigma**2 * excess**2
                if r != 1.0:  # (no 0 * inf when the multiplier overflows)
                    value = value + 2 * sigma**2 * (excess + 1) * (1 - r)
            else:
                w2, growth = gaussian[a]
                gap = c_g - rho * c_d  # 0 for a Gaussian D_0: no 0 * inf when the growth overflows
                value = w2 if ("X" not in t or gap == 0) else w2 + 2 * sigma**2 * growth * gap
        out[t] = np.asarray(value, dtype=float)
    return out


def _parts(e: dict[str, np.ndarray]) -> dict:
    with np.errstate(invalid="ignore"):  # inf - inf where an ingredient overflows: nan, noted by decompose
        moebius = _moebius(e)
        return {
            "total": e["SXP"],
            "statistical": e["S"],
            "expressivity": e["X"],
            "approximation": e["P"],
            # the Moebius terms' sum, not the remainder total - e_S - e_X - e_P: the parts adding up is then a check
            "interaction": (moebius["SX"] + moebius["SP"]) + (moebius["XP"] + moebius["SXP"]),
            "shapley": _shapley(e),
            "interactions": moebius,
        }


def _overflow_notes(parts: dict, generations: list[int]) -> list[str]:
    notes = []
    named = {p: parts[p] for p in PARTS}
    named.update({f"shapley {k}": v for k, v in parts["shapley"].items()})
    for name, values in named.items():
        values = np.asarray(values, dtype=float)
        if np.isfinite(values).all():
            continue
        where = ", ".join(str(g) for g, v in zip(generations, values) if not math.isfinite(v))
        kind = "exceeds float64" if np.isinf(values).any() and not np.isnan(values).any() else \
            "not representable in float64 (an ingredient overflows)"
        notes.append(f"overflow: {name} {kind} at n = {where}")
    return notes


def decompose(
    d0,
    generations,
    *,
    sample_size,
    learner: str = "unbiased",
    variance_scale: float = 1.0,
    key=None,
    draws: int | None = None,
) -> Decomposition:
    """Split the collapse error ``e(n) = E W2^2(p_n, D_0)`` into statistical, expressivity and approximation parts.

    Parameters
    ----------
    d0:
        the real-data distribution: a :mod:`theory.decomposition` distribution (``Normal``, ``GaussianMixture``,
        ``StudentT``, ``Laplace``, ``Uniform``, ``Empirical``), a SPEC string (``"mixture:1,-2,1;1,2,1"``,
        see :data:`SPEC_HELP`) or an array of samples (its empirical distribution).
    generations:
        ``n >= 1`` or a list of them.
    sample_size:
        ``M`` (an integer ``>= 2``), a schedule ``[M_0, M_1, ...]`` or a function ``i -> M_i``, as for
        :class:`theory.GaussianChain`.
    learner, variance_scale:
        ``"unbiased"`` or ``"mle"``; ``A > 0``.
    key, draws:
        for a non-Gaussian ``D_0``, ``E sigma_1`` is a Monte Carlo estimate from ``draws`` fits (a pure function
        of ``key``, default ``jax.random.key(0)``); its standard error is propagated into ``stderr``.

    Data given as an array (or ``"data:PATH"``) need at least ``MIN_DATA_POINTS`` (20) values; integer-valued
    data are accepted with a note in ``notes``. Overflowing values: see :class:`Decomposition`.

    Examples
    --------
    >>> r = decompose("normal", [1, 10], sample_size=100, variance_scale=0.9)
    >>> r.expressivity.tolist(), r.shapley["expressivity"].tolist()
    ([0.0, 0.0], [0.0, 0.0])
    >>> r  # doctest: +ELLIPSIS
    Decomposition(d0='normal:0,1', generations=[1, 10], sample_size=100, learner='unbiased', variance_scale=0.9, ...)
    >>> u = decompose("uniform", 1, sample_size=10**6)
    >>> round(float(u.expressivity[0]), 12)  # 2 sigma^2 (1 - rho) = (1 - sqrt(3/pi))/6
    0.003799162699
    """
    dist = as_distribution(d0)
    if key is not None:
        key = check_key(key)
    gens = check_generations(generations)
    if min(gens) < 1:
        raise ParameterError("generations", "integers >= 1 (generation 0 is D_0 itself)", min(gens))
    chain = GaussianChain(sample_size, learner=learner, variance_scale=variance_scale)
    runs = chain.sample_size_runs(max(gens))  # O(1) for constant M, whatever n
    # the schedule M_0 .. M_{n-1} when it varies; one value when M is constant (no n-long array)
    sizes = np.asarray([runs[0][0]] if len(runs) == 1 else [m for m, count in runs for _ in range(count)])
    big_a = float(chain.variance_scale)
    m0 = int(sizes[0])
    # the Gaussian chain after generation 1 is the same for D_0 and G; only E sigma_1 tells them apart
    c_g = first_fit_sd(_gaussian_like(dist), m0, learner).ratio
    fit = first_fit_sd(dist, m0, learner, key=key, draws=draws)
    e = subset_errors(dist, chain, gens, fit.ratio, c_g)
    parts = _parts(e)
    reported = {**parts, "errors": e}
    if fit.stderr > 0:  # every output is affine in c_D: its standard error is |slope| x se(c_D)
        e_shift = subset_errors(dist, chain, gens, fit.ratio + fit.stderr, c_g)
        shifted = {**_parts(e_shift), "errors": e_shift}
        with np.errstate(invalid="ignore"):
            stderr = {
                k: ({kk: np.abs(shifted[k][kk] - vv) for kk, vv in v.items()} if isinstance(v, dict)
                    else np.abs(shifted[k] - v))
                for k, v in reported.items()
            }
    else:
        stderr = {k: ({kk: np.zeros(len(gens)) for kk in v} if isinstance(v, dict) else np.zeros(len(gens)))
                  for k, v in reported.items()}
    rho, rho_error = dist.rho()
    notes = _overflow_notes(parts, gens)
    if getattr(dist, "is_integer_valued", False):
        notes.append(f"data: all {dist.data.size} values are integers (discrete data: D_0 is their empirical "
                     "distribution, ties included; the expressivity part includes the discreteness)")
    return Decomposition(
        d0=dist,
        generations=gens,
        sample_sizes=sizes,
        learner=chain.learner,
        variance_scale=big_a,
        mean=float(dist.mean),
        sd=float(dist.sd),
        rho=rho,
        rho_error=rho_error,
        w2_sq_projection=2 * dist.sd**2 * (1 - rho),
        first_fit=fit,
        errors=e,
        stderr=stderr,
        notes=tuple(notes),
        **parts,
    )


def _gaussian_like(dist):
    from ._distributions import Normal

    return dist if dist.is_gaussian else Normal(dist.mean, dist.sd)

