"""The discrete chain's source: every spec form, normalisation, exact grouping, and every bad input naming its part."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from theory import ParameterError
from theory.chain._categorical import MAX_CATEGORIES, CategoricalSource, parse_source

# ------------------------------------------------------------------------------------------------ spec forms


def test_weights_list_is_normalised_and_keeps_its_spec():
    source = parse_source(" 1, 0, 3 ")
    np.testing.assert_array_equal(source.probabilities, [0.25, 0.0, 0.75])
    assert source.probabilities.dtype == np.float64
    assert source.size == len(source) == 3 and source.support_size == 2
    assert source.spec == " 1, 0, 3 " and source.labels is None
    with pytest.raises(ValueError):  # read-only: a source cannot be changed behind the exact theory's back
        source.probabilities[0] = 1.0


def test_direct_construction_spec_reparses_to_the_same_source():
    source = CategoricalSource([0.1, 2, 3.25], labels=["a", "b", "c"])
    assert source.labels == ("a", "b", "c")
    np.testing.assert_array_equal(parse_source(source.spec).probabilities, source.probabilities)
    assert parse_source(source) is source


def test_zipf_matches_its_definition():
    a, k = 1.1, 1000
    source = parse_source(f"zipf:{a}:{k}")
    w = np.arange(1, k + 1, dtype=float) ** -a
    np.testing.assert_allclose(source.probabilities, w / w.sum(), rtol=1e-13)
    assert math.isclose(source.probabilities.sum(), 1.0, rel_tol=1e-14)
    assert np.all(np.diff(source.probabilities) < 0)


def test_zipf_mandelbrot_matches_its_definition_and_reduces_to_zipf_at_b_zero():
    source = parse_source("zipf-mandelbrot:1.5:2.7:500")
    w = (np.arange(1, 501) + 2.7) ** -1.5
    np.testing.assert_allclose(source.probabilities, w / w.sum(), rtol=1e-13)
    np.testing.assert_allclose(
        parse_source("zipf-mandelbrot:2:0:50").probabilities, parse_source("zipf:2:50").probabilities, rtol=1e-14
    )


def test_zipf_large_k_and_steep_exponent_stay_finite():
    source = parse_source("zipf:1:1e5")  # K written as 1e5
    assert source.size == 100_000 and np.all(source.probabilities > 0)
    harmonic = np.sum(1.0 / np.arange(1, 100_001))
    assert math.isclose(source.probabilities[0], 1 / harmonic, rel_tol=1e-13)
    steep = parse_source("zipf:400:100")  # k^-400 underflows for k >= 7: exact zeros, p_1 ~ 1
    assert np.all(np.isfinite(steep.probabilities)) and steep.probabilities[0] == pytest.approx(1.0)


def test_uniform():
    source = parse_source("uniform:7")
    np.testing.assert_array_equal(source.probabilities, np.full(7, 1 / 7))
    assert math.isclose(source.entropy, math.log(7), rel_tol=1e-14)
    assert math.isclose(source.gini_simpson, 1 - 1 / 7, rel_tol=1e-14)


def test_entropy_and_gini_simpson_against_direct_sums():
    p = np.array([0.5, 0.2, 0.2, 0.1, 0.0])
    source = CategoricalSource(p * 3)
    assert math.isclose(source.entropy, -sum(x * math.log(x) for x in p if x > 0), rel_tol=1e-14)
    assert math.isclose(source.gini_simpson, 1 - float(np.sum(p**2)), rel_tol=1e-14)


def test_file_plain_and_labelled(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("# counts\n3\n\n1\n")
    source = parse_source(f"file:{plain}")
    np.testing.assert_array_equal(source.probabilities, [0.75, 0.25])
    assert source.labels is None and source.spec == f"file:{plain}"
    labelled = tmp_path / "labelled.csv"
    labelled.write_text('cat,2\n"dog, golden",6\nfish,0\n')
    source = parse_source(f"file:{labelled}")
    assert source.labels == ("cat", "dog, golden", "fish")
    np.testing.assert_array_equal(source.probabilities, [0.25, 0.75, 0.0])


# ------------------------------------------------------------------------------------------------ grouping


def test_grouping_is_exact_and_rebuilds_the_sorted_vector():
    source = CategoricalSource([1, 3, 1, 0, 3, 3, 2])
    values, multiplicities = source.grouped()
    np.testing.assert_array_equal(values, np.array([3, 2, 1, 0]) / 13)
    np.testing.assert_array_equal(multiplicities, [3, 1, 2, 1])
    assert multiplicities.dtype == np.int64
    np.testing.assert_array_equal(np.repeat(values, multiplicities), np.sort(source.probabilities)[::-1])


def test_grouping_large_sources():
    values, multiplicities = parse_source("uniform:100000").grouped()
    assert values.tolist() == [1e-5] and multiplicities.tolist() == [100_000]
    values, multiplicities = parse_source("zipf:1.2:100000").grouped()  # all distinct
    assert values.size == 100_000 and np.all(multiplicities == 1)


# ------------------------------------------------------------------------------------------------ words


def test_words_en_1000_basic_facts():
    source = parse_source("words:en:1000")
    p = source.probabilities
    assert source.size == 1000 and len(source.labels) == 1000 and len(set(source.labels)) == 1000
    assert source.labels[0] == "the"
    assert math.isclose(p.sum(), 1.0, rel_tol=1e-14) and np.all(p > 0)
    assert np.all(np.diff(p) <= 0) and p[0] > 10 * p[-1]  # non-increasing (wordfreq's buckets make ties)
    values, multiplicities = source.grouped()
    assert values.size < 1000 and multiplicities.sum() == 1000  # ties exist and grouping uses them


def test_words_are_wordfreq_frequencies_renormalised():
    wordfreq = pytest.importorskip("wordfreq")
    source = parse_source("words:en:200")
    assert list(source.labels) == wordfreq.top_n_list("en", 200)
    unrounded = np.array([wordfreq.get_frequency_dict("en")[w] for w in source.labels])
    np.testing.assert_allclose(source.probabilities, unrounded / unrounded.sum(), rtol=1e-14)
    # word_frequency is the same list value rounded to 3 significant digits (a 0.5% difference at most)
    raw = np.array([wordfreq.word_frequency(w, "en") for w in source.labels])
    np.testing.assert_allclose(raw, unrounded, rtol=5e-3)


def test_wordfreq_is_imported_only_for_words():
    code = (
        "import sys; from theory.chain._categorical import parse_source; parse_source('zipf:1:10');"
        "assert 'wordfreq' not in sys.modules; parse_source('words:fr:10'); assert 'wordfreq' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_words_en_100000():  # about 0.3 s: wordfreq's list is read once per language
    source = parse_source("words:en:100000")
    assert source.size == 100_000 and source.labels[0] == "the"
    values, multiplicities = source.grouped()
    assert values.size < 1000 and multiplicities.sum() == 100_000


# ------------------------------------------------------------------------------------------------ bad input

BAD = [
    ("1,-1", "source", "weight 2 is -1.0"),
    ("1,nan", "source", "weight 2 is nan"),
    ("1,inf", "source", "weight 2 is inf"),
    ("0,0,0", "source", "all weights 0"),
    ("1,abc", "source", "weight 2 is 'abc'"),
    ("1,,2", "source", "weight 2 is ''"),
    ("5", "source K", "1"),
    ("", "source", None),
    ("gauss:1:2", "source", None),
    ("uniform:1", "source K", "1"),
    ("uniform:2.5", "source K", "2.5"),
    ("uniform:x", "source K", "x"),
    (f"uniform:{MAX_CATEGORIES + 1}", "source K", None),
    ("uniform:", "source", "of the form uniform:K"),
    ("zipf:1", "source", "of the form zipf:A:K"),
    ("zipf:-1:10", "source A", "-1"),
    ("zipf:nan:10", "source A", "nan"),
    ("zipf:x:10", "source A", "x"),
    ("zipf:1:1", "source K", "1"),
    ("zipf-mandelbrot:1:-1:10", "source B", "-1"),
    ("zipf-mandelbrot:1:inf:10", "source B", "inf"),
    ("zipf-mandelbrot:-2:1:10", "source A", "-2"),
    ("zipf-mandelbrot:1:1:0", "source K", "0"),
    ("zipf-mandelbrot:1:1", "source", "of the form zipf-mandelbrot:A:B:K"),
    ("words:xx:10", "source language", "one of wordfreq's languages: ar, "),
    ("words:en:1", "source K", "1"),
    ("words:en:10000000", "source K", "an integer from 2 to "),
    ("words:en", "source", "of the form words:LANG:K"),
    ("file:/nonexistent/weights.txt", "source file", "a readable UTF-8 text file"),
]


@pytest.mark.parametrize(("spec", "parameter", "fragment"), BAD)
def test_bad_spec_names_its_parameter(spec, parameter, fragment):
    with pytest.raises(ParameterError) as err:
        parse_source(spec)
    assert err.value.parameter == parameter
    message = str(err.value)
    assert message.startswith(parameter + ": must be ") and "\n" not in message
    if fragment is not None:
        assert fragment in message


def test_words_k_too_large_says_the_largest():
    with pytest.raises(ParameterError) as err:
        parse_source("words:en:10000000")
    import wordfreq

    largest = len(wordfreq.top_n_list("en", 10**7))
    assert f"from 2 to {largest} " in str(err.value) and largest > 100_000


@pytest.mark.parametrize(
    ("content", "parameter", "fragment"),
    [
        ("", "source K", "got 0"),
        ("# nothing\n\n", "source K", "got 0"),
        ("1\n", "source K", "got 1"),
        ("1\n-2\n", "source", "weight 2 is -2.0"),
        ("0\n0\n", "source", "all weights 0"),
        ("1\nabc\n", "source", "line 2"),
        ("a,1\n2\n", "source file", "label,weight on every line"),
        ("a,1,2\nb,1\n", "source file", "line 1"),
        ("a,1\na,2\n", "source", "distinct labels"),
        (b"\xff\xfe1\n", "source file", "UnicodeDecodeError"),
    ],
)
def test_bad_file_names_its_parameter(tmp_path, content, parameter, fragment):
    path = tmp_path / "weights.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ParameterError) as err:
        parse_source(f"file:{path}")
    assert err.value.parameter == parameter and fragment in str(err.value)


def test_bad_direct_construction():
    cases = [([[1, 2], [3, 4]], "one-dimensional"), (["a", 1], "non-negative"), ([1, 1e308, 1e308], "overflows")]
    for weights, fragment in cases:
        with pytest.raises(ParameterError, match="^source: ") as err:
            CategoricalSource(weights)
        assert fragment in str(err.value)
    with pytest.raises(ParameterError, match="^source: must be one label per weight"):
        CategoricalSource([1, 2], labels=["a"])
    with pytest.raises(ParameterError, match="^source: must be "):
        parse_source(3)
