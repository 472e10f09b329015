"""Exact numeric evaluation of the chain's moments (high precision, then float64)."""

from ._exact import QUANTITIES as QUANTITIES
from ._exact import exact_state as exact_state
from ._exact import exact_values as exact_values
from ._exact import step_moments as step_moments
