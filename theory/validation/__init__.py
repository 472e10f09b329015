"""Validation: the ledger of published claims about model collapse, each checked exactly by the toolkit.

``check_claims()`` runs every check now and returns the verdicts with the numbers that decide them;
``collapse-theory claims`` prints them, and ``collapse-theory claims --markdown`` writes docs/claims.md.
This layer may import chain/, symbolic/, numeric/ and montecarlo/, never figures/ or cli/.
"""

from ._ledger import VERDICTS as VERDICTS
from ._ledger import Claim as Claim
from ._ledger import ClaimResult as ClaimResult
from ._ledger import Source as Source
from ._ledger import Verdict as Verdict
from ._markdown import render_markdown as render_markdown
from ._registry import check_claim as check_claim
from ._registry import check_claims as check_claims
from ._registry import claim_ids as claim_ids
from ._registry import claims as claims
from ._registry import get_claim as get_claim

__all__ = ["VERDICTS", "Claim", "ClaimResult", "Source", "Verdict", "check_claim", "check_claims", "claim_ids",
           "claims", "get_claim", "render_markdown"]
