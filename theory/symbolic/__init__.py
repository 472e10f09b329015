"""Symbolic derivation: one-step moments from sympy.stats, the moment recursion, closed forms proved by
induction, leading-order expansions, and the proof documents rendered from them."""

from ._closed_form import Derivation as Derivation
from ._closed_form import ProofError as ProofError
from ._closed_form import derive as derive
from ._one_step import one_step as one_step
from ._symbols import A as A
from ._symbols import M as M
from ._symbols import n as n
from ._symbols import sigma as sigma
