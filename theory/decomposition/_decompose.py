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

That is the replace workflow. Under the others (``workflow=``; real points from ``D_0``, or ``G`` with X off):

    S off:  e_T(n) = sigma^2 [ (sqrt(v_n) - 1)^2 + 2 sqrt(v_n) (1 - rho_T) ]

with ``v_n`` the infinite-data variance recursion of :func:`infinite_data_variance` (``a^n`` under replace), and

    S on:   e_T(n) = E(mu_n - mu)^2 + E sigma_n^2 + sigma^2 - 2 rho_T sigma E sigma_n

where the first two are exact (:func:`theory.exact_values`: second-moment functionals, the same for ``D_0`` and
``G``) and ``E sigma_n``, which has no closed form off replace, is a Monte Carlo mean of the literal process with
its standard error (real points drawn from ``D_0`` or ``G`` at every step).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .._errors import ParameterError, check_integer, check_key
from ..chain import GaussianChain, check_generations
from ._distributions import as_distribution
from ._first_fit import FirstFitSd, first_fit_sd
from ._subsets import SUBSETS as SUBSETS

SOURCES: tuple[str, ...] = ("statistical", "expressivity", "approximation")
_LETTER = {"statistical": "S", "expressivity": "X", "approximation": "P"}
#: Every subset of sources, as a string of letters in the order S, X, P ("" is none).
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
    workflow: object = None  # theory.chain.Workflow (replace when None)
    methods: dict = dataclasses.field(default_factory=dict)
    chains: int = 0  # Monte Carlo chains behind the values marked "monte carlo" (0: none)

    def __repr__(self) -> str:
        return (f"Decomposition(d0={self.d0.spec!r}, generations={self.generations!r}, "
                f"sample_size={_size_text(self.sample_sizes)}, learner={self.learner!r}, "
                f"variance_scale={self.variance_scale:g}, "
                + ("" if self.workflow is None or self.workflow.is_replace else f"workflow='{self.workflow}', ")
                + f"total={_short(self.total)})")

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
            "workflow": str(self.workflow) if self.workflow is not None else "replace",
            "methods": self.methods,
            "chains": int(self.chains),
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


#: Default Monte Carlo chains of a decomposition under a workflow other than replace.
DEFAULT_CHAINS = 2**15


def infinite_data_variance(chain: GaussianChain, a: float, generations: list[int]) -> np.ndarray:
    """``v_n = sigma_n^2 / sigma^2`` of the chain with infinite data (statistical source off) under its workflow.

    With infinite data the learner gets the exact moments of its training distribution; the mean stays ``mu``
    (every part of the training set has mean ``mu``), so the between-group term ``w(1 - w)(mu_D0 - mu_i)^2`` of a
    mixture vanishes and the variances follow linear recursions (``v_0 = 1``, ``w_i`` the weight of the real data):

    * replace: ``v_{i+1} = a v_i``, so ``v_n = a^n``;
    * mix, mix-fixed (a fixed real set of infinite size is ``D_0`` itself):
      ``v_{i+1} = a [w_i + (1 - w_i) v_i]``; for constant ``M``, ``q = a(1 - w)``:
      ``v_n = v* + (1 - v*) q^n`` with ``v* = a w/(1 - q)`` (``v_n = 1 + n a w`` when ``q = 1``);
    * accumulate, accumulate-subsample (an infinite subsample of the pool is the pool):
      ``v_{i+1} = a sum_{j <= i} (M_j/N_i) v_j``; for constant ``M``,
      ``v_n = Gamma(n + a)/(Gamma(a) n!)`` (``~ n^(a - 1)/Gamma(a)``: bounded for ``a <= 1``).

    >>> from theory.chain import GaussianChain
    >>> infinite_data_variance(GaussianChain(10, workflow="mix:0.5"), 1.2, [1, 2]).round(12).tolist()
    [1.2, 1.32]
    >>> infinite_data_variance(GaussianChain(10, workflow="accumulate"), 2.0, [1, 2, 3]).round(12).tolist()
    [2.0, 3.0, 4.0]
    """
    from scipy.special import gammaln

    wf = chain.workflow
    n = np.asarray(generations, dtype=float)
    with np.errstate(over="ignore"):
        if wf.is_replace:
            return np.exp(n * math.log(a))
        if chain.is_constant:
            m = int(chain.sample_size)
            if wf.kind in ("mix", "mix-fixed"):
                w = float(wf.weight(m))
                q = a * (1 - w)
                if q == 1.0:
                    return 1 + n * a * w
                fixed = a * w / (1 - q)
                return fixed + (1 - fixed) * np.exp(n * math.log(q)) if q > 0 else np.full(n.shape, fixed)
            return np.exp(gammaln(n + a) - gammaln(a) - gammaln(n + 1))
        n_max = int(max(generations))
        sizes = [float(m) for m in chain.sample_sizes(n_max + 1)]
        v = [1.0]
        pooled, pool = sizes[0], sizes[0]  # sum_j M_j v_j and N_i
        for i in range(n_max):
            if wf.kind in ("mix", "mix-fixed"):
                w = float(wf.weight(int(sizes[i])))
                v.append(a * (w + (1 - w) * v[-1]))
            else:
                v.append(a * pooled / pool)
                pooled += sizes[i + 1] * v[-1]
                pool += sizes[i + 1]
        return np.asarray([v[g] for g in generations])


def _statistical_on_errors(dist, chain: GaussianChain, gens: list[int], key, chains: int):
    """``e_T`` for ``T`` in ``S, SX, SP, SXP`` under a workflow other than replace, with their Monte Carlo noise.

    ``E(mu_n - mu)^2`` and ``E sigma_n^2`` are second-moment functionals of the real data (quadratic forms of the
    points), the same for ``D_0`` and ``G``: exact from :func:`theory.exact_values` where it gives them. Then
    ``W2^2(p_n, D_0) = (mu_n - mu)^2 + sigma_n^2 + sigma^2 - 2 rho sigma sigma_n`` (the 1-D lemma), so only
    ``E sigma_n`` is needed, under real points from ``D_0`` (X on) or ``G`` (X off): a Monte Carlo mean (with the
    control variate ``sigma_n^2``, whose mean is exact) with its standard error (:func:`theory.simulate` for a Gaussian source, :func:`workflow_trajectories` for a
    non-Gaussian ``D_0``), or exact where ``exact_values`` has ``E W2^2`` and the source is Gaussian.
    Returns ``(e, noise, methods)``: ``noise[label][T]`` is the one-standard-error shift of ``e_T`` due to the
    independent Monte Carlo run ``label``.
    """
    import jax

    from ..montecarlo import simulate
    from ..numeric import exact_values
    from ._montecarlo import workflow_trajectories

    sigma, mu = float(dist.sd), float(dist.mean)
    rho = dist.rho()[0]
    wf = chain.workflow
    big_a = float(chain.variance_scale)
    e, noise, methods = {}, {}, {}
    runs = {}
    for t in ("S", "SX", "SP", "SXP"):
        a = big_a if "P" in t else 1.0
        gaussian = "X" not in t or dist.is_gaussian
        r = 1.0 if gaussian else rho
        label = f"monte carlo ({'G' if gaussian else 'D_0'} real points, A = {a:g})"
        if (a, gaussian) not in runs:
            g = GaussianChain(chain.sample_size, learner=chain.learner, variance_scale=a, sigma=sigma, mu=mu,
                              workflow=wf)
            with np.errstate(all="ignore"):
                exact = exact_values(g, gens)
            msq, vm, w2 = (exact.get(q) for q in ("mean_sq_error", "variance_mean", "w2_sq_mean"))
            if gaussian and w2 is not None:
                runs[(a, gaussian)] = (np.asarray(w2, dtype=float), None, "exact")
                e[t], methods[t] = runs[(a, gaussian)][0], "exact"
                continue
            sub = jax.random.fold_in(key, 2 * len(runs) + (0 if gaussian else 1))
            if gaussian:
                mode = "samples" if wf.kind == "accumulate-subsample" else "sufficient"
                with jax.enable_x64(True):
                    sim = simulate(sub, g, chains=chains, generations=gens, mode=mode, dtype="float64",
                                   trajectories=True, progress=False)
                mu_n, sd_n = np.asarray(sim.mu_trajectories), np.asarray(sim.sigma_trajectories)
            else:
                mu_n, sd_n = workflow_trajectories(sub, dist, g, gens, chains=chains)
            runs[(a, gaussian)] = (msq, vm, (mu_n, sd_n))
        entry = runs[(a, gaussian)]
        if entry[2] == "exact":
            e[t], methods[t] = entry[0], "exact"
            continue
        msq, vm, (mu_n, sd_n) = entry
        if msq is not None and vm is not None:  # only sigma_n is random: the exact parts carry no noise
            # control variate sigma_n^2, whose mean vm is exact: E[sd - (sd^2 - vm)/(2 sqrt(vm))] = E sd, with a
            # residual of order (sd^2 - vm)^2 (as for E sigma_1 in _first_fit)
            vm = np.asarray(vm, dtype=float)[:, None]
            y = -2 * r * sigma * (sd_n - (sd_n**2 - vm) / (2 * np.sqrt(vm)))
            base = np.asarray(msq, dtype=float) + vm[:, 0] + sigma**2
        else:
            y = (mu_n - mu) ** 2 + sd_n**2 - 2 * r * sigma * sd_n
            base = sigma**2
        e[t] = base + y.mean(axis=1)
        noise.setdefault(label, {})[t] = y.std(axis=1, ddof=1) / math.sqrt(y.shape[1])
        methods[t] = label
    return e, noise, methods


def _methods_of(parts: dict, e: dict, shifts: dict, exact_label: str) -> dict:
    """How each reported value was obtained: ``exact_label`` unless a Monte Carlo run moves it (then the runs)."""
    scale = max([float(np.nanmax(np.abs(np.where(np.isfinite(v), v, 0)))) for v in e.values()] + [1.0])

    def how(name_path):
        moved = []
        for label, shifted in shifts.items():
            value, other = parts, shifted
            for k in name_path:
                value, other = value[k], other[k]
            with np.errstate(invalid="ignore"):
                delta = np.abs(np.asarray(other, dtype=float) - np.asarray(value, dtype=float))
            if np.any(delta[np.isfinite(delta)] > 1e-12 * scale):
                moved.append(label)
        return exact_label if not moved else "; ".join(moved)

    out = {p: how((p,)) for p in PARTS}
    out["shapley"] = {k: how(("shapley", k)) for k in parts["shapley"]}
    out["interactions"] = {k: how(("interactions", k)) for k in parts["interactions"]}
    out["errors"] = {(k or "none"): how(("errors", k)) for k in parts["errors"]}
    return out


def decompose(
    d0,
    generations,
    *,
    sample_size,
    learner: str = "unbiased",
    variance_scale: float = 1.0,
    key=None,
    draws: int | None = None,
    workflow="replace",
    chains: int | None = None,
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
    workflow, chains:
        the training workflow (``"replace"``, ``"mix:0.1"``, ... or a :class:`theory.chain.Workflow`; the real
        points are drawn from ``D_0``, or from ``G`` with expressivity off). Under replace everything is exact (as
        above). Otherwise the subsets with the statistical source off are exact deterministic recursions
        (:func:`infinite_data_variance`), and those with it on need ``E sigma_n``, which has no closed form: a
        Monte Carlo mean over ``chains`` runs (default :data:`DEFAULT_CHAINS`; from ``key``), its standard error
        in ``stderr``. ``methods`` says, per value, ``"exact"`` or which Monte Carlo run it rests on.
        accumulate-subsample is refused for a non-Gaussian ``D_0`` (every chain would have to keep its whole pool
        of ``D_0`` points).

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
    chain = GaussianChain(sample_size, learner=learner, variance_scale=variance_scale, workflow=workflow)
    wf = chain.workflow
    chain.check_workflow(max(gens))
    if not wf.is_replace:
        if wf.kind == "accumulate-subsample" and not dist.is_gaussian:
            raise ParameterError(
                "workflow", "replace, mix, mix-fixed or accumulate for a non-Gaussian D_0 (accumulate-subsample "
                "needs every chain's whole pool of D_0 points; it is done for a Gaussian D_0 only)", str(wf))
        chains = DEFAULT_CHAINS if chains is None else check_integer("chains", chains, minimum=2)
        if chains * float(max(gens)) > 1e10:
            raise ParameterError("generations", f"at most {1e10 / chains:.3g} generations with {chains} chains "
                                 "(the Monte Carlo of the statistical source runs every generation)", max(gens))
    runs = chain.sample_size_runs(max(gens))  # O(1) for constant M, whatever n
    # the schedule M_0 .. M_{n-1} when it varies; one value when M is constant (no n-long array)
    sizes = np.asarray([runs[0][0]] if len(runs) == 1 else [m for m, count in runs for _ in range(count)])
    big_a = float(chain.variance_scale)
    m0 = int(sizes[0]) if wf.kind != "accumulate-subsample" else int(wf.subsample)  # T_0's size
    # the Gaussian chain after generation 1 is the same for D_0 and G; only E sigma_1 tells them apart
    c_g = first_fit_sd(_gaussian_like(dist), m0, learner).ratio
    fit = first_fit_sd(dist, m0, learner, key=key, draws=draws)
    if wf.is_replace:
        e = subset_errors(dist, chain, gens, fit.ratio, c_g)
        parts = _parts(e)
        reported = {**parts, "errors": e}
        shifts = {}
        if fit.stderr > 0:  # every output is affine in c_D: its standard error is |slope| x se(c_D)
            e_shift = subset_errors(dist, chain, gens, fit.ratio + fit.stderr, c_g)
            shifts[f"exact formula, E sigma_1 by {fit.method}"] = {**_parts(e_shift), "errors": e_shift}
        exact_label = "exact"
        mc_chains = 0
    else:
        import jax

        mc_key = jax.random.fold_in(jax.random.key(0) if key is None else key, 1)
        rho = dist.rho()[0]
        sigma = float(dist.sd)
        e = {"": np.zeros(len(gens))}
        for t in ("X", "P", "XP"):
            root = np.sqrt(infinite_data_variance(chain, big_a if "P" in t else 1.0, gens))
            with np.errstate(over="ignore", invalid="ignore"):
                e[t] = sigma**2 * ((root - 1) ** 2 + 2 * root * (1 - (rho if "X" in t else 1.0)))
        e_on, noise, _ = _statistical_on_errors(dist, chain, gens, mc_key, chains)
        e.update(e_on)
        e = {t: np.asarray(e[t], dtype=float) for t in SUBSETS}
        parts = _parts(e)
        reported = {**parts, "errors": e}
        shifts = {}
        for label, delta in noise.items():
            moved = {t: e[t] + delta.get(t, 0.0) for t in SUBSETS}
            shifts[label] = {**_parts(moved), "errors": moved}
        exact_label = "exact"
        mc_chains = chains if noise else 0

    def spread(k, kk=None):
        deltas = []
        for shifted in shifts.values():
            with np.errstate(invalid="ignore"):
                deltas.append(np.abs((shifted[k][kk] if kk is not None else shifted[k])
                                     - (reported[k][kk] if kk is not None else reported[k])))
        if not deltas:
            return np.zeros(len(gens))
        if len(deltas) == 1:
            return deltas[0]
        return np.sqrt(sum(d**2 for d in deltas))

    stderr = {k: ({kk: spread(k, kk) for kk in v} if isinstance(v, dict) else spread(k)) for k, v in reported.items()}
    methods = _methods_of(reported, e, shifts, exact_label)
    rho, rho_error = dist.rho()
    notes = _overflow_notes(parts, gens)
    if getattr(dist, "is_integer_valued", False):
        notes.append(f"data: all {dist.data.size} values are integers (discrete data: D_0 is their empirical "
                     "distribution, ties included; the expressivity part includes the discreteness)")
    if not wf.is_replace and mc_chains:
        notes.append(f"workflow {wf}: E sigma_n has no closed form with the statistical source on; those values are "
                     f"Monte Carlo means over {mc_chains} chains with their standard errors (see methods)")
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
        workflow=wf,
        methods=methods,
        chains=mc_chains,
        **parts,
    )


def _gaussian_like(dist):
    from ._distributions import Normal

    return dist if dist.is_gaussian else Normal(dist.mean, dist.sd)

