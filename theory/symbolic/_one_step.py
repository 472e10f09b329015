"""One generation of the chain, as moments derived with :mod:`sympy.stats`.

Given generation ``i`` with parameters ``(mu_i, sigma_i)``, the fit to ``M`` samples gives

* ``sigma_{i+1}^2 = A sigma_i^2 X / d`` with ``X ~ ChiSquared(M - 1)`` and ``d = M - 1`` (unbiased)
  or ``d = M`` (mle);
* ``mu_{i+1} = mu_i + sigma_i Z / sqrt(M)`` with ``Z ~ Normal(0, 1)`` independent of ``X``.

So the ratio ``R = sigma_{i+1} / sigma_i`` is independent of the past, and its moments
``r_p = E[R^p]`` and ``E[log R^2]`` drive every exact result.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import sympy as sp
from sympy.stats import E, ChiSquared, Normal


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: one_step() caches instances
class OneStep:
    """Moments of one generation's step.

    Attributes
    ----------
    ratio:
        ``{p: E[R^p]}`` for ``p = 1..4``, ``R = sigma_{i+1}/sigma_i``.
    log_ratio:
        ``E[log R^2]``.
    normal:
        ``{p: E[Z^p]}`` for ``p = 2, 4``, ``Z`` standard normal (the mean's innovation).
    chi_square_moments:
        ``{p: E[X^{p/2}]}`` as sympy.stats returned them, for the proof documents.
    """

    sample_size: sp.Expr
    learner: str
    variance_scale: sp.Expr
    ratio: dict
    log_ratio: sp.Expr
    normal: dict
    chi_square_moments: dict


def divisor(sample_size, learner: str):
    return sample_size - 1 if learner == "unbiased" else sample_size


_k = sp.Symbol("k", positive=True)


def gamma_ratio_symbol() -> sp.Symbol:
    """``c_M = sqrt(2/(M-1)) Gamma(M/2) / Gamma((M-1)/2) = E[sqrt(ChiSquared(M-1)/(M-1))]``, kept as a symbol
    in symbolic results (see :func:`gamma_ratio_value`)."""
    return sp.Symbol("c_M", positive=True)


def gamma_ratio_value(sample_size) -> sp.Expr:
    """The value of ``c_M``, derived from sympy.stats (``E[sqrt(X)] / sqrt(M - 1)``)."""
    return sp.gammasimp(_chi_square_moments()[1].subs(_k, sample_size - 1) / sp.sqrt(sample_size - 1))


@lru_cache(maxsize=None)
def _chi_square_moments() -> dict:
    """``E[X^{p/2}]`` (p = 1..4) and ``E[log X]`` for ``X ~ ChiSquared(k)``, from sympy.stats."""
    X = ChiSquared("X", _k)
    moments = {p: sp.gammasimp(E(X ** sp.Rational(p, 2))) for p in (1, 2, 3, 4)}
    moments["log"] = sp.simplify(E(sp.log(X)))
    return moments


@lru_cache(maxsize=None)
def _normal_moments() -> dict:
    Z = Normal("Z", 0, 1)
    return {p: E(Z**p) for p in (2, 4)}


@lru_cache(maxsize=None)
def one_step(sample_size: sp.Expr, learner: str, variance_scale: sp.Expr) -> OneStep:
    """Derive the one-step moments from sympy.stats.

    >>> from theory.symbolic._symbols import M
    >>> one_step(M, "unbiased", sp.S(1)).ratio[4]
    (M + 1)/(M - 1)
    >>> one_step(M, "mle", sp.S(1)).ratio[2]
    (M - 1)/M
    """
    d = divisor(sample_size, learner)
    k = sample_size - 1
    chi = {p: sp.gammasimp(m.subs(_k, k)) for p, m in _chi_square_moments().items()}
    if sp.sympify(sample_size).free_symbols:
        # Name the gamma ratio: E[X^(1/2)] = c_M sqrt(M - 1), and E[X^(3/2)] = E[X^(1/2)] * (its gammasimp'd ratio).
        c_m = gamma_ratio_symbol()
        odd_ratio = sp.gammasimp(chi[3] / chi[1])
        if odd_ratio.has(sp.gamma):
            raise AssertionError(f"E[X^(3/2)]/E[X^(1/2)] did not reduce to a rational function: {odd_ratio}")
        chi = {**chi, 1: c_m * sp.sqrt(k), 3: odd_ratio * c_m * sp.sqrt(k)}
    ratio = {p: sp.factor((variance_scale / d) ** sp.Rational(p, 2) * chi[p]) for p in (1, 2, 3, 4)}
    log_ratio = sp.expand_log(sp.log(variance_scale) - sp.log(d) + chi["log"], force=True)
    normal = _normal_moments()
    return OneStep(sp.sympify(sample_size), learner, sp.sympify(variance_scale), ratio, log_ratio, normal, chi)
