"""Argument types shared by every command, so that a value parses the same way everywhere.

Each type turns the command-line text into a Python value or raises ``argparse.ArgumentTypeError`` with a
message that starts with the parameter's name and says what is allowed (argparse prints it as one line and
exits 2). Numbers are read the same way in every command: ``1e3`` and ``1000`` are the same sample size.
"""

from __future__ import annotations

import argparse
import decimal
import math


def _fail(name: str, allowed: str, text: str):
    raise argparse.ArgumentTypeError(f"{name}: must be {allowed}, got {text!r}")


def _float(name: str, text: str, allowed: str) -> float:
    try:
        value = float(text)
    except ValueError:
        _fail(name, allowed, text)
    return value


def integer(name: str, minimum: int, maximum: int | None = None):
    """An integer in ``[minimum, maximum]``; whole numbers in float notation (``1e7``, ``100.0``) are accepted."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            # exact decimal reading: '1e23' is 10**23 (through float it would be 99999999999999991611392)
            try:
                number = decimal.Decimal(text.strip())
            except decimal.InvalidOperation:
                _fail(name, allowed, text)
            if not number.is_finite() or number != number.to_integral_value():
                _fail(name, allowed, text)
            if number.adjusted() > 308:  # as float notation always did: beyond float64, write the digits out
                _fail(name, f"{allowed} (in float notation at most 1e308; write larger integers in full)", text)
            value = int(number)
        if value < minimum or (maximum is not None and value > maximum):
            _fail(name, allowed, text)
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse


def _checked_float(name: str, allowed: str, accept):
    """A float for which ``accept(value)`` holds; otherwise one line saying what is ``allowed``."""

    def parse(text: str) -> float:
        value = _float(name, text, allowed)
        if not accept(value):
            _fail(name, allowed, text)
        return value

    parse.__name__ = name
    return parse


def positive(name: str):
    """A finite number > 0."""
    return _checked_float(name, "a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def finite(name: str):
    """A finite real number."""
    return _checked_float(name, "a finite real number", math.isfinite)


def probability(name: str):
    """A number in the open interval (0, 1)."""
    return _checked_float(name, "a probability in (0, 1)", lambda v: 0 < v < 1)


def nonnegative(name: str):
    """A finite number >= 0."""
    return _checked_float(name, "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)


def mass(name: str):
    """A number in the half-open interval (0, 1] (a probability mass to keep, as top-p's)."""
    return _checked_float(name, "a number in (0, 1]", lambda v: 0 < v <= 1)


_seed = integer("seed", 0, 2**63 - 1)


def seed_argument(text: str) -> int:
    """Type of every ``--seed``: an integer in ``[0, 2**63)``, what ``jax.random.key`` accepts (``1e3`` too)."""
    try:
        return _seed(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"seed: must be an integer in [0, 2**63), got {text!r}") from None


#: ``--sample-size/-M``: an integer >= 2 (``1e3`` accepted).
sample_size = integer("sample_size", 2)
#: ``--generations/-n``: an integer >= 0.
generation = integer("generations", 0)


# ----------------------------------------------------------------------------------------------- workflows
#: What ``--help`` says about ``--workflow`` (the same text in every command).
WORKFLOW_HELP = (
    "what generation i+1 is fitted to: replace = M samples of model i; mix:LAMBDA = "
    "round(LAMBDA M) fresh real points from D_0 (new every generation) + the rest samples of model i; "
    "mix-fixed:LAMBDA = the same with one set of real points drawn once and reused; accumulate = all data so far "
    "(M_0 real points + every generation's M samples); accumulate-subsample:K = K points drawn without replacement "
    "from that pool (2 <= K <= M_0)"
)
REAL_WEIGHT_HELP = ("with mix/mix-fixed: total weight w in (0, 1) of the real points in the fit (He, Xu & Cheng's "
                    "weighted fit; default: the plain fit, w = R/M)")


def workflow(text: str):
    """Type of every ``--workflow``: a :class:`theory.chain.Workflow` from ``Workflow.parse`` (its message)."""
    from .._errors import ParameterError
    from ..chain import Workflow

    try:
        return Workflow.parse(text)
    except ParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def real_weight(text: str) -> float:
    """Type of every ``--real-weight``: a number in the open interval (0, 1)."""
    return _checked_float("real_weight", "a number in (0, 1) (the total weight of the real points)",
                          lambda v: 0 < v < 1)(text)


def add_workflow_arguments(parser, *, many: bool = False, help_extra: str = "") -> None:
    """``--workflow`` (several with ``many``) and ``--real-weight``, the same in every command; :func:`workflow_of`
    combines them."""
    parser.add_argument("--workflow", type=workflow, default=None, metavar="WORKFLOW", nargs="+" if many else None,
                        help=WORKFLOW_HELP + (help_extra or " (default replace)"))
    parser.add_argument("--real-weight", type=real_weight, default=None, metavar="W", help=REAL_WEIGHT_HELP)


def workflow_of(args, wf=None):
    """The :class:`theory.chain.Workflow` of parsed ``args`` (replace by default; ``wf`` instead of
    ``args.workflow`` when given); ``--real-weight`` without a mix workflow is a :class:`theory.ParameterError`
    naming ``real_weight``."""
    from .._errors import ParameterError
    from ..chain import REPLACE, Workflow

    if wf is None:
        wf = args.workflow if args.workflow is not None else REPLACE
    weight = getattr(args, "real_weight", None)
    if weight is None:
        return wf
    if wf.kind not in ("mix", "mix-fixed"):
        raise ParameterError("real_weight", f"given only with --workflow mix:LAMBDA or mix-fixed:LAMBDA (the "
                             f"workflow is {wf})", weight)
    return Workflow.parse(wf, real_weight=weight)


# ----------------------------------------------------------------------------------------------- multivariate
#: ``--dimension``: an integer >= 1.
dimension = integer("dimension", 1)

#: What ``--help`` says about ``--covariance`` (the same text in every command).
COVARIANCE_HELP = (
    "covariance Sigma of generation 0 of the multivariate chain: iso (the identity; needs --dimension), iso:S2 "
    "(S2 times the identity), diag:a,b,... (a diagonal matrix; gives d), file:PATH (a text file, one row per line, "
    "entries separated by spaces or commas; gives d); must be symmetric positive definite"
)
#: The quantities of the multivariate chain and their column labels.
MULTIVARIATE_LABELS = {
    "mean_sq_error": "E||mu_n-mu||^2",
    "trace_mean": "E tr Sigma_n",
    "trace_var": "Var tr Sigma_n",
    "det_mean": "E det Sigma_n",
    "log_det_mean": "E log det ratio",
    "w2_sq_mean": "E W2^2",
}


def covariance_spec(text: str) -> str:
    """Type of every ``--covariance``: the spelling, checked for its form only (``iso`` needs ``--dimension``,
    so the matrix is built by :func:`multivariate_covariance`, which names the flag on any error)."""
    text = text.strip()
    if text.partition(":")[0] not in ("iso", "diag", "file"):
        raise argparse.ArgumentTypeError(f"covariance: must be 'iso', 'iso:S2', 'diag:a,b,...' or 'file:PATH', "
                                         f"got {text!r}")
    return text


def add_multivariate_arguments(parser) -> None:
    """``--dimension`` and ``--covariance``, the same in every command; either selects the multivariate chain."""
    parser.add_argument("--dimension", "-d", type=dimension, default=None, metavar="D",
                        help="dimension d >= 1 of the multivariate chain (selects it; alone: the identity "
                        "covariance; M must be >= d + 1)")
    parser.add_argument("--covariance", type=covariance_spec, default=None, metavar="SPEC", help=COVARIANCE_HELP
                        + " (selects the multivariate chain)")


def is_multivariate(args) -> bool:
    """Whether ``--dimension`` or ``--covariance`` was given."""
    return getattr(args, "dimension", None) is not None or getattr(args, "covariance", None) is not None


def refuse_one_dimensional(args, options) -> None:
    """With the multivariate flags, each of ``options`` (``(attribute, flag, why)``) given is a
    :class:`theory.ParameterError` naming it."""
    from .._errors import ParameterError

    for attribute, flag, why in options:
        value = getattr(args, attribute, None)
        if value is not None:
            raise ParameterError(attribute, f"left out with --dimension/--covariance ({flag} is the 1-D chain's; "
                                 f"{why})", value)


def multivariate_covariance(args, d: int | None = None):
    """The covariance matrix of ``--covariance`` (default ``iso``) in ``--dimension`` (or ``d``) dimensions, as
    :func:`theory.chain.parse_covariance`; a spelling whose size disagrees with ``--dimension`` is a
    :class:`theory.ParameterError` naming ``covariance`` and both sizes."""
    from .._errors import ParameterError
    from ..chain import parse_covariance

    d = getattr(args, "dimension", None) if d is None else d
    spec = getattr(args, "covariance", None) or "iso"
    if spec.partition(":")[0] == "iso":
        if d is None:
            raise ParameterError("dimension", "given with --covariance iso (the identity needs its size d)", None)
        return parse_covariance(spec, d)
    try:
        matrix = parse_covariance(spec)
    except (UnicodeDecodeError, OSError) as err:  # a binary or unreadable file: one line, naming the flag
        raise ParameterError("covariance", "file:PATH naming a readable text file of numbers",
                             f"{spec} ({type(err).__name__})") from None
    if d is not None and matrix.shape[0] != d:
        raise ParameterError("covariance", f"a {d} x {d} matrix to agree with --dimension {d}",
                             f"a {matrix.shape[0]} x {matrix.shape[0]} matrix ({spec})")
    return matrix


def learner_argument(text: str) -> str:
    """A learner spelling (``unbiased``, ``mle``, ``gmm:K``, ``kde:H``, ``vae[:...]``): the prefix is checked here,
    what follows the colon by the learned model's own parser when the command runs."""
    from .._errors import ParameterError
    from ..chain._learners import learned_model

    try:
        learned_model(text)
    except ParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text.strip()


def z_score(mc, se, exact):
    """``(mc - exact) / se`` for a table or JSON cell; ``None`` where any of them is missing or not finite (JSON
    has no infinity), and ``0.0`` for a zero standard error only when the two values are equal."""
    if mc is None or se is None or exact is None or not (math.isfinite(mc) and math.isfinite(se)
                                                          and math.isfinite(exact)):
        return None
    if se > 0:
        return (mc - exact) / se
    return 0.0 if mc == exact else None


def finite_or_none(x):
    """``float(x)`` when it is finite, else ``None`` (JSON has no infinity or NaN); ``None`` stays ``None``."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def json_safe(value):
    """``value`` with every non-finite float (NaN, infinity) replaced by ``None``, through dicts, lists and tuples,
    so that ``json.dumps(..., allow_nan=False)`` writes valid JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(out) -> None:
    """Print one JSON object on one line (non-finite floats as null, see :func:`json_safe`)."""
    import json
    import sys

    json.dump(json_safe(out), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
