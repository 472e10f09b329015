"""The proof documents are rendered from machine-checked derivations; they must be current, and the checker must
be able to fail."""

import pathlib

import pytest
import sympy as sp

from theory.symbolic import ProofError, derive
from theory.symbolic import _closed_form
from theory.symbolic._proofs import HAND_WRITTEN, documents
from theory.symbolic._symbols import M, n, sigma

PROOFS = pathlib.Path(__file__).resolve().parents[1] / "proofs"


def test_rendered_proofs_are_current():
    docs = documents()  # derives and proves every case; raises ProofError if any step fails
    for name, text in docs.items():
        path = PROOFS / name
        assert path.exists(), f"proofs/{name} is missing: run python -m theory.symbolic._proofs"
        assert path.read_text(encoding="utf-8") == text, f"proofs/{name} is stale: run python -m theory.symbolic._proofs"
    assert {p.name for p in PROOFS.glob("*.md")} == set(docs) | set(HAND_WRITTEN)


def test_zero_test_rejects_a_wrong_identity():
    assert _closed_form.is_zero(((M + 1) / (M - 1)) ** (n + 1) - (M + 1) ** (n + 1) / (M - 1) ** (n + 1))
    assert not _closed_form.is_zero(((M + 1) / (M - 1)) ** n - (M + 1) ** n / (M - 1) ** (n + 1))
    assert not _closed_form.is_zero(n / M - (n + 1) / M)


def test_a_wrong_closed_form_fails_the_induction(monkeypatch):
    real = sp.summation

    def off_by_one(expr, limits):  # a plausible mistake: sum one term too many
        var, lo, hi = limits
        return real(expr, (var, lo, hi + 1))

    derive.cache_clear()
    monkeypatch.setattr(_closed_form.sp, "summation", off_by_one)
    try:
        with pytest.raises(ProofError):
            derive(M, "unbiased", 1, sigma)
    finally:
        monkeypatch.undo()
        derive.cache_clear()


def test_known_closed_forms():
    d = derive(M, "unbiased", 1, sigma)
    assert d.outputs["mean_sq_error"] == n * sigma**2 / M
    assert d.outputs["variance_mean"] == sigma**2
    mle = derive(M, "mle", 1, sigma)
    # MLE keeps the total variance: E(mu_n - mu)^2 + E sigma_n^2 = sigma^2 for every n.
    assert sp.simplify(mle.outputs["mean_sq_error"] + mle.outputs["variance_mean"] - sigma**2) == 0
