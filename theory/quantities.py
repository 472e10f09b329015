"""The one registry of the quantities the toolkit reports (exact values, Monte Carlo, tables, figures, JSON).

Each :class:`Quantity` says what it is once: its JSON key, how it scales with ``sigma`` (``sigma**power``), which
per-chain value the Monte Carlo reduces and with which statistic (``mean`` of the value across chains, or its
``var``), a plain-text label for tables and a LaTeX label for figures and papers.

``p_n = N(mu_n, sigma_n**2)`` is generation ``n``, ``p_0 = N(mu, sigma**2)`` the source, and
``W2**2(p_n, p_0) = (mu_n - mu)**2 + (sigma_n - sigma)**2`` (1-D Gaussians).

>>> QUANTITIES
('mean_sq_error', 'variance_mean', 'variance_var', 'sd_mean', 'log_variance_mean', 'w2_sq_mean', 'w2_sq_var')
>>> REGISTRY["variance_var"].sigma_power, REGISTRY["variance_var"].per_chain, REGISTRY["variance_var"].statistic
(4, 'variance', 'var')
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Quantity:
    """One reported quantity (see the module doc)."""

    name: str
    sigma_power: int
    per_chain: str
    statistic: str  # "mean" or "var" of the per-chain value across chains
    text: str
    latex: str
    meaning: str


#: Per-chain values the Monte Carlo reduces at every reported generation, in the order kept on device, with what
#: each one is for one chain.
PER_CHAIN_VALUES = {
    "mean_sq_error": "(mu_n - mu)**2",
    "variance": "sigma_n**2",
    "sd": "sigma_n",
    "log_variance": "log sigma_n**2 - log sigma**2",
    "w2_sq": "(mu_n - mu)**2 + (sigma_n - sigma)**2",
}
PER_CHAIN: tuple[str, ...] = tuple(PER_CHAIN_VALUES)

_ENTRIES = (
    Quantity("mean_sq_error", 2, "mean_sq_error", "mean", "E(mu_n-mu)^2", r"\mathbb{E}(\mu_n-\mu)^2",
             "E (mu_n - mu)^2"),
    Quantity("variance_mean", 2, "variance", "mean", "E sigma_n^2", r"\mathbb{E}\,\sigma_n^2", "E sigma_n^2"),
    Quantity("variance_var", 4, "variance", "var", "Var sigma_n^2", r"\mathrm{Var}\,\sigma_n^2", "Var sigma_n^2"),
    Quantity("sd_mean", 1, "sd", "mean", "E sigma_n", r"\mathbb{E}\,\sigma_n", "E sigma_n"),
    Quantity("log_variance_mean", 0, "log_variance", "mean", "E log(s_n^2/s^2)",
             r"\mathbb{E}\log(\sigma_n^2/\sigma^2)", "E log sigma_n^2 - log sigma^2"),
    Quantity("w2_sq_mean", 2, "w2_sq", "mean", "E W2^2", r"\mathbb{E}\,W_2^2(p_n, p_0)", "E W2^2(p_n, p_0)"),
    Quantity("w2_sq_var", 4, "w2_sq", "var", "Var W2^2", r"\mathrm{Var}\,W_2^2(p_n, p_0)", "Var W2^2(p_n, p_0)"),
)

#: name -> :class:`Quantity`, in the order of the tables and the JSON.
REGISTRY: dict[str, Quantity] = {q.name: q for q in _ENTRIES}
#: The reported quantities' names (the keys of ``exact_values`` and ``simulate``), in order.
QUANTITIES: tuple[str, ...] = tuple(REGISTRY)
#: name -> power of ``sigma`` it scales with.
SIGMA_POWER: dict[str, int] = {q.name: q.sigma_power for q in _ENTRIES}

#: Exact quantities reported besides :data:`QUANTITIES` by ``exact_values``: name -> sigma power.
#: ``sd_sq_error = E(sigma_n - sigma)^2``.
EXTRA_QUANTITIES: dict[str, int] = {"sd_sq_error": 2}


@dataclasses.dataclass(frozen=True)
class DiscreteQuantity:
    """One whole-distribution quantity of the discrete chain (JSON key, per-chain value, labels)."""

    name: str
    per_chain: str
    text: str
    latex: str
    meaning: str


_DISCRETE_ENTRIES = (
    DiscreteQuantity("surviving_mean", "#{k : p_{n,k} > 0}", "E surviving", r"\mathbb{E}\,\#\{k: p_{n,k}>0\}",
                     "expected number of categories still present at generation n"),
    DiscreteQuantity("tail_mass_lost_mean", "sum_k p_{0,k} 1{p_{n,k} = 0}", "E mass lost",
                     r"\mathbb{E}\sum_k p_{0,k}\,\mathbf{1}\{p_{n,k}=0\}",
                     "expected generation-0 probability of the categories lost by generation n"),
    DiscreteQuantity("gini_simpson_mean", "1 - sum_k p_{n,k}^2", "E Gini-Simpson",
                     r"\mathbb{E}\,\bigl[1-\sum_k p_{n,k}^2\bigr]", "expected Gini-Simpson index of generation n"),
    DiscreteQuantity("collapse_probability", "1{#{k : p_{n,k} > 0} = 1}", "P(collapsed)", r"\Pr(\max_k p_{n,k}=1)",
                     "probability that one category holds everything at generation n (one category left)"),
    DiscreteQuantity("entropy_mean", "-sum_k p_{n,k} log p_{n,k}", "E entropy",
                     r"\mathbb{E}\,\bigl[-\sum_k p_{n,k}\log p_{n,k}\bigr]",
                     "expected Shannon entropy (nats) of generation n"),
)

#: name -> :class:`DiscreteQuantity`: the discrete chain's reported quantities (the keys of
#: ``discrete_exact_values``, and with ``_mc``/``_se`` of the discrete Monte Carlo), in table order.
DISCRETE_REGISTRY: dict[str, DiscreteQuantity] = {q.name: q for q in _DISCRETE_ENTRIES}
DISCRETE_QUANTITIES: tuple[str, ...] = tuple(DISCRETE_REGISTRY)
