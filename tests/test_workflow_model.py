"""The workflow model: spelling, sizes and the errors of bad workflows (theory/chain/_workflow.py)."""

import pytest

from theory import GaussianChain, ParameterError, Workflow


@pytest.mark.parametrize(
    "text, kind, lam, k",
    [
        ("replace", "replace", 0.0, None),
        ("mix:0.25", "mix", 0.25, None),
        ("mix-fixed:1", "mix-fixed", 1.0, None),
        ("accumulate", "accumulate", 0.0, None),
        ("accumulate-subsample:7", "accumulate-subsample", 0.0, 7),
    ],
)
def test_parse_round_trip(text, kind, lam, k):
    w = Workflow.parse(text)
    assert (w.kind, w.real_fraction, w.subsample) == (kind, lam, k)
    assert Workflow.parse(str(w)) == w


def test_real_count_rounds_half_up():
    w = Workflow.parse("mix:0.5")
    assert [w.real_count(m) for m in (2, 3, 5, 10)] == [1, 2, 3, 5]
    assert w.weight(10) == 0.5 and Workflow.parse("mix:0.5", real_weight=0.6).weight(10) == 0.6
    assert Workflow.parse("replace").real_count(10) == 0


def test_pool_sizes():
    assert Workflow.parse("accumulate").pool_sizes([3, 4, 5]) == [3, 7, 12]


def test_chain_takes_spelling_and_defaults_to_replace():
    assert GaussianChain(10).workflow.is_replace
    assert GaussianChain(10, workflow="accumulate").workflow == Workflow("accumulate")


@pytest.mark.parametrize(
    "make, parameter",
    [
        (lambda: Workflow.parse("mix:1.5"), "workflow"),
        (lambda: Workflow.parse("mix:-0.1"), "workflow"),
        (lambda: Workflow.parse("mix"), "workflow"),
        (lambda: Workflow.parse("mix:abc"), "workflow"),
        (lambda: Workflow.parse("accumulate-subsample:1"), "workflow"),
        (lambda: Workflow.parse("accumulate-subsample:x"), "workflow"),
        (lambda: Workflow.parse("accumulate:3"), "workflow"),
        (lambda: Workflow.parse("pool"), "workflow"),
        (lambda: Workflow.parse("mix:0.5", real_weight=1.0), "real_weight"),
        (lambda: Workflow.parse("mix:0.5", real_weight=0.0), "real_weight"),
        (lambda: Workflow.parse("accumulate", real_weight=0.5), "real_weight"),
        (lambda: Workflow("mix", real_fraction=float("nan")), "real_fraction"),
        (lambda: Workflow("accumulate-subsample", subsample=2.5), "subsample"),
        (lambda: GaussianChain(3, workflow="mix:0.1"), "workflow"),  # round(0.3) = 0 real points
        (lambda: GaussianChain(5, workflow="accumulate-subsample:6"), "workflow"),  # K > M_0
        (lambda: GaussianChain(4, workflow=Workflow.parse("mix:1", real_weight=0.5)), "real_weight"),  # no synthetic
        (lambda: GaussianChain((4, 6), workflow="mix-fixed:0.5"), "sample_size"),  # R changes: 2 then 3
        (lambda: GaussianChain(lambda i: 10 - i, workflow="accumulate-subsample:11").check_workflow(3), "workflow"),
    ],
)
def test_bad_workflow_names_parameter(make, parameter):
    with pytest.raises(ParameterError) as info:
        make()
    assert str(info.value).startswith(parameter + ":")


def test_real_count_rounds_the_decimal_not_the_float():
    # 0.29 * 50 = 14.499999999999998 in float64; the rule rounds 14.5 up
    assert Workflow.parse("mix:0.29").real_count(50) == 15
    assert Workflow.parse("mix:0.58").real_count(25) == 15
    assert Workflow.parse("mix:0.35").real_count(90) == 32


def test_spelling_keeps_every_digit():
    w = Workflow.parse("mix-fixed:0.123456789", real_weight=0.999999999)
    assert str(w) == "mix-fixed:0.123456789 (real weight 0.999999999)"
