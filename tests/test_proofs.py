"""The proof documents are rendered from machine-checked derivations; they must be current, and the checker must
be able to fail."""

import pathlib
import re

import pytest
import sympy as sp

from theory.symbolic import ProofError, _closed_form, derive
from theory.symbolic._proofs import HAND_WRITTEN, RENDERED_ELSEWHERE, documents
from theory.symbolic._symbols import M, n, sigma

PROOFS = pathlib.Path(__file__).resolve().parents[1] / "proofs"


def test_rendered_proofs_are_current():
    docs = documents()  # derives and proves every case; raises ProofError if any step fails
    for name, text in docs.items():
        path = PROOFS / name
        assert path.exists(), f"proofs/{name} is missing: run python -m theory.symbolic._proofs"
        assert path.read_text(encoding="utf-8") == text, f"proofs/{name} is stale: run python -m theory.symbolic._proofs"
    assert {p.name for p in PROOFS.glob("*.md")} == set(docs) | set(HAND_WRITTEN) | set(RENDERED_ELSEWHERE)


def test_workflow_proofs_are_current():
    from theory.numeric._workflow_proofs import NAME, render

    text = render()  # checks every stated identity (fixed points, Gamma forms) before writing; raises ProofError
    assert (PROOFS / NAME).read_text(encoding="utf-8") == text, (
        f"proofs/{NAME} is stale: run python -m theory.numeric._workflow_proofs")


def test_workflow_proof_checks_can_fail():
    from theory.numeric import _workflow_proofs as proofs
    from theory.symbolic._workflow_limits import _k

    with pytest.raises(proofs.ProofError):
        proofs._check_zero(sp.Symbol("x") - 1, "x = 1")
    rho_v = (M * _k**2 + 4 * M * _k + 4 * M - 1) / (M * (_k + 2) ** 2)  # the mle accumulate variance ratio
    with pytest.raises(proofs.ProofError):
        proofs._check_gamma_product(rho_v, sp.S(1))  # a wrong limit is rejected


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


@pytest.mark.parametrize(
    "args,parameter",
    [((M, "mle", 1, -1), "sigma"), ((M, "foo", 1, sigma), "learner"), ((M, "mle", -1, sigma), "variance_scale"),
     ((1, "mle", 1, sigma), "sample_size"), ((sp.Rational(5, 2), "mle", 1, sigma), "sample_size"),
     ((M, "mle", sp.Symbol("A"), sigma), "variance_scale"), ((M, "mle", 1, sp.nan), "sigma"),
     ((M, "mle", 1, sp.oo), "sigma"), ((M, "mle", 0, sigma), "variance_scale"), ((M, None, 1, sigma), "learner"),
     ((sp.Symbol("k", negative=True), "mle", 1, sigma), "sample_size"), (("M", "mle", 1, sigma), "sample_size")],
)
def test_derive_checks_every_input(args, parameter):
    from theory import ParameterError

    with pytest.raises(ParameterError) as err:
        derive(*args)
    assert err.value.parameter == parameter and str(err.value).startswith(parameter)


def test_derive_accepts_numbers_and_positive_symbols():
    assert derive(5, "mle", sp.Rational(1, 2), 2).outputs["variance_mean"] == 4 * (sp.Rational(2, 5)) ** n
    assert derive(M, "mle", 1, sigma).outputs["variance_mean"] == sigma**2 * ((M - 1) / M) ** n


# ---------------------------------------------------------------------------------------------- the derivation cache
def test_cache_roundtrip_corruption_and_off_switch(tmp_path, monkeypatch):
    """An entry is written, read back instead of recomputing, and ignored (recomputed and rewritten) when it is
    truncated, when its checksum or key does not match, or when it fails the caller's shape check;
    COLLAPSE_THEORY_NO_CACHE=1 neither reads nor writes."""
    import json

    from theory.symbolic import _cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COLLAPSE_THEORY_NO_CACHE", raising=False)
    calls = []

    def compute():
        calls.append(1)
        return [M + 1, sigma**2]

    def check(value):
        return isinstance(value, list) and len(value) == 2

    assert _cache.cached("demo", compute, check) == [M + 1, sigma**2] and len(calls) == 1
    path = next((tmp_path / "collapse-theory").glob("demo-*.json"))
    assert _cache.cached("demo", compute, check) == [M + 1, sigma**2] and len(calls) == 1  # read, not derived
    assert _cache.cached("demo", compute, check)[0].free_symbols == {M}  # assumptions survive (same symbol)

    good = path.read_text()
    entry = json.loads(good)
    for bad in (good[: len(good) // 2],  # truncated
                json.dumps({**entry, "srepr": entry["srepr"].replace("Integer(1)", "Integer(7)")}),  # checksum mismatch
                json.dumps({**entry, "key": "0.0-old"}),  # stale key
                "not json"):
        path.write_text(bad)
        before = len(calls)
        assert _cache.cached("demo", compute, check) == [M + 1, sigma**2] and len(calls) == before + 1
        assert json.loads(path.read_text())["sha256"] == entry["sha256"]  # rewritten
    assert _cache.cached("demo", compute, lambda v: False) == [M + 1, sigma**2]  # shape check fails: recomputed

    monkeypatch.setenv("COLLAPSE_THEORY_NO_CACHE", "1")
    path.unlink()
    before = len(calls)
    _cache.cached("demo", compute, check)
    _cache.cached("demo", compute, check)
    assert len(calls) == before + 2 and not path.exists()


def test_cached_transition_equals_fresh_derivation(tmp_path, monkeypatch):
    """What the numeric code reads from the cache is what the derivation gives now."""
    from theory.numeric import _exact

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COLLAPSE_THEORY_NO_CACHE", raising=False)
    fresh = _exact._derive_transition_rows("mle")
    _exact.transition_rows.cache_clear()
    try:
        first = _exact.transition_rows("mle")  # derived and written
        _exact.transition_rows.cache_clear()
        second = _exact.transition_rows("mle")  # read back
    finally:
        _exact.transition_rows.cache_clear()
    assert first == fresh and second == fresh
    assert list((tmp_path / "collapse-theory").glob("transition_mle-*.json"))  # it was written, then read


# ---------------------------------------------------------------------------------------------- readable expectations
_OPERATORS = r"left|right|prod|sum|int|le|ge|leq|geq|to|sim|cdot|quad|qquad|mid|frac|tfrac|dfrac|big|Big"
_BARE = re.compile(  # E X^2, E\,V_n^{2}, E\sigma_{k+2}^2, E\log\sigma^2: a power right after a bare operand
    r"\\mathbb\{E\}(?:\\[,;!]|\s)*(?![\[(]|\\left|\\big|\\Big)"
    rf"((?:\\(?!(?:{_OPERATORS})(?![A-Za-z]))[A-Za-z]+(?:\{{[^{{}}]*\}})?|[A-Za-z0-9']|_\{{[^{{}}]*\}}|_[A-Za-z0-9])+)\^")
_ROUND = re.compile(r"\\mathbb\{E\}(?:\\[,;!]|\s)*(?:\\left)?\((?:[^()]|\([^()]*\))*(?:\\right)?\)\^")
"""E(mu_n - mu)^2: round brackets right after E with a power after them (E of a square, or a squared E?)."""


def unbracketed_powers(text: str) -> list[str]:
    """Every place where a power follows an expectation without square brackets saying what it applies to
    (``\\mathbb{E}\\,V_n^{2}`` reads as ``E[V_n^2]`` where ``(E V_n)^2`` was meant): the proofs write
    ``\\mathbb{E}[V_n^2]`` for the expectation of a power and ``\\left(\\mathbb{E}[V_n]\\right)^{2}`` for a power
    of an expectation."""
    return [m.group(0) for pattern in (_BARE, _ROUND) for m in pattern.finditer(text)]


def test_the_scan_finds_an_unbracketed_power():
    bad = [r"\mathbb{E}\,V_n^{2}", r"\mathbb{E}X_n^2", r"\mathbb{E}\sigma_{k+2}^2", r"\mathbb{E}\log\sigma_n^2",
           r"\mathbb{E}(\mu_n-\mu)^2", r"\mathbb{E}\left(X\right)^{2}", r"(\mathbb{E}\sigma^2)^{3/2}",
           r"3 \mathbb{E}\,V_n^{2} + 1"]
    good = [r"\mathbb{E}[V_n^2]", r"\left(\mathbb{E}[V_n]\right)^{2}", r"\mathbb{E}\left[(\mu_n-\mu)^2\right]",
            r"\mathbb{E}\sigma_n", r"\mathbb{E}\sigma_1\prod_{i=1}^{n-1}\mathbb{E}R_i", r"\mathbb{E}[v]_{+}",
            r"\mathbb{E}\operatorname{tr}\Sigma_n", r"\mathbb{E}\left[\lVert\mu_n - \mu\rVert^2\right]"]
    assert all(unbracketed_powers(t) for t in bad), [t for t in bad if not unbracketed_powers(t)]
    assert not any(unbracketed_powers(t) for t in good), [t for t in good if unbracketed_powers(t)]


def test_no_proof_has_a_power_after_an_unbracketed_expectation():
    """issue 12 point 6: in w2_sq_var.md step 2, (E V_n)^2 was set as \\mathbb{E}\\,V_n^{2} (read: E V_n^2)."""
    found = {p.name: unbracketed_powers(p.read_text(encoding="utf-8")) for p in sorted(PROOFS.glob("*.md"))}
    assert not {k: v for k, v in found.items() if v}
