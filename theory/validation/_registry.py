"""The ledger's registry: every claim of :mod:`._claims_gaussian` and :mod:`._claims_other` by id, and the functions
that run their checks (:func:`check_claim`, :func:`check_claims`).

Kept apart from :mod:`._ledger` (the types) so that the claim modules import the types and this module imports the
claims, with no circle between them.
"""

from __future__ import annotations

import time

from .._errors import ParameterError
from ._claims_gaussian import GAUSSIAN_CLAIMS
from ._claims_other import OTHER_CLAIMS
from ._ledger import Claim, ClaimResult


def _registry() -> dict:
    claims = {}
    for c in GAUSSIAN_CLAIMS + OTHER_CLAIMS:
        if c.id in claims:
            raise AssertionError(f"duplicate claim id {c.id}")
        claims[c.id] = c
    return claims


def claims() -> tuple[Claim, ...]:
    """Every claim of the ledger, in ledger order."""
    return tuple(_registry().values())


def claim_ids() -> tuple[str, ...]:
    """The ids of every claim, in ledger order.

    >>> claim_ids()[:2]
    ('nature-si-w2-mean', 'arxiv-v2-w2-mean')
    """
    return tuple(_registry())


def get_claim(claim_id: str) -> Claim:
    """The claim with this id (:class:`~theory.ParameterError` naming ``claim_id`` otherwise)."""
    registry = _registry()
    if claim_id not in registry:
        raise ParameterError("claim_id", f"one of {', '.join(registry)}", claim_id)
    return registry[claim_id]


def check_claim(claim_id: str) -> ClaimResult:
    """Run one claim's check now and return its :class:`ClaimResult` (verdict, numbers, seconds)."""
    claim = get_claim(claim_id)
    start = time.perf_counter()
    verdict = claim.check()
    return ClaimResult(claim, verdict, time.perf_counter() - start)


def check_claims(ids=None) -> list[ClaimResult]:
    """Run the checks of ``ids`` (default: every claim, in ledger order); an unknown id raises
    :class:`~theory.ParameterError` naming ``claim_id`` before anything runs."""
    wanted = claim_ids() if ids is None else tuple(ids)
    for claim_id in wanted:
        get_claim(claim_id)
    return [check_claim(claim_id) for claim_id in wanted]
