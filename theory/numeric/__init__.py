"""Exact numeric evaluation of the chain's moments (high precision, then float64)."""

from ._exact import QUANTITIES as QUANTITIES
from ._exact import exact_state as exact_state
from ._exact import exact_values as exact_values
from ._exact import step_moments as step_moments
from ._expansions import accuracy_limit as accuracy_limit
from ._expansions import expansion_error as expansion_error
from ._expansions import leading_order as leading_order
from ._expansions import published_expansions as published_expansions
