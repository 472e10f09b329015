"""The SymPy symbols every derivation shares, with their assumptions."""

import sympy as sp

n = sp.Symbol("n", integer=True, nonnegative=True)
"""Generation index ``n >= 0``."""
j = sp.Symbol("j", integer=True, nonnegative=True)
"""Summation index."""
M = sp.Symbol("M", integer=True, positive=True)
"""Constant sample size; every result assumes ``M >= 2``."""
A = sp.Symbol("A", positive=True)
"""Variance multiplier applied after fitting."""
sigma = sp.Symbol("sigma", positive=True)
"""Standard deviation of generation 0."""
