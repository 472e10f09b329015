"""The claims ledger: one :class:`Claim` per published statement, each with a check that computes its verdict.

A claim's text (source, statement, setting, method) is fixed; its verdict and the numbers that decide it are
computed by the check when it runs (:func:`check_claim`), never stored. Verdict words (:data:`VERDICTS`):

* ``holds``: true exactly (to the precision of the exact evaluation, stated in the numbers);
* ``holds_to_leading_order``: a leading-order statement whose coefficient is the derived one; ``numbers`` give the
  region (in ``n/M``, or in ``M``) where it is within 1% of the exact value;
* ``holds_for_learner``: true for one learner only; ``numbers["learner"]`` names it;
* ``bound_holds``: an inequality that holds; ``numbers`` give its tightness (bound against the exact value);
* ``wrong``: false; ``numbers["correct_statement"]`` gives what is true, with the exact value beside the claimed
  one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

#: The verdict words, in the order of the module doc.
VERDICTS: tuple[str, ...] = ("holds", "holds_to_leading_order", "holds_for_learner", "bound_holds", "wrong")


@dataclass(frozen=True)
class Source:
    """Where a claim is published: ``authors``, ``title``, ``year``, ``reference`` (arXiv id or DOI) and ``where``
    (the equation, theorem or section; or how the claim reached the ledger when the text could not be read)."""

    authors: str
    title: str
    year: int
    reference: str
    where: str

    def short(self) -> str:
        """``"Authors year, reference, where"`` in one line."""
        return f"{self.authors} {self.year}, {self.reference}, {self.where}"


@dataclass(frozen=True)
class Verdict:
    """What a check computed: the verdict ``word`` (one of :data:`VERDICTS`), the deciding ``numbers`` (a JSON-ready
    dict) and ``summary``, one line with the key numbers for the table."""

    word: str
    numbers: dict
    summary: str

    def __post_init__(self):
        if self.word not in VERDICTS:
            raise ValueError(f"verdict {self.word!r} is not one of {VERDICTS}")


@dataclass(frozen=True)
class Claim:
    """One published claim: ``id`` (short slug), ``source`` (:class:`Source`), ``statement`` (as published, or as
    attributed when the text could not be read: ``source.where`` says which), ``setting`` (chain, learner,
    workflow, parameters), ``method`` (exact evaluation, symbolic proof, exact bound comparison, Monte Carlo
    z-test) and ``check``, a function of no arguments returning a :class:`Verdict`."""

    id: str
    source: Source
    statement: str
    setting: str
    method: str
    check: Callable[[], Verdict] = field(repr=False)


@dataclass(frozen=True)
class ClaimResult:
    """A claim with the verdict its check computed just now, and the seconds the check took."""

    claim: Claim
    verdict: Verdict
    seconds: float

    def to_json(self) -> dict:
        """The object printed by ``collapse-theory claims --json``: exactly ``id``, ``source``, ``statement``,
        ``verdict``, ``numbers``."""
        return {"id": self.claim.id, "source": self.claim.source.short(), "statement": self.claim.statement,
                "verdict": self.verdict.word, "numbers": jsonable(self.verdict.numbers)}


def jsonable(value):
    """``value`` with NumPy scalars and arrays, tuples and SymPy/mpmath numbers turned into JSON types (non-finite
    floats become the strings ``"inf"``, ``"-inf"``, ``"nan"``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy array or scalar
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
