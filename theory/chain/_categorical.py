r"""Categorical sources: the generation-0 distribution of the discrete chain.

A source is a probability vector :math:`p_0 = (p_{0,1}, \dots, p_{0,K})` over :math:`K \ge 2` categories, held as a
read-only float64 array, normalised, with optional labels (the words of a vocabulary, the labels of a file).
:func:`parse_source` builds one from a short text spec, the form the command line takes:

=========================  ===========================================================================
spec                       categories
=========================  ===========================================================================
``0.5,0.3,0.2``            non-negative weights, normalised
``file:PATH``              one weight per line, or ``label,weight`` CSV lines (``#`` comments, blanks skipped)
``zipf:A:K``               :math:`p_k \propto k^{-A}`, :math:`k = 1..K`, :math:`A \ge 0`
``zipf-mandelbrot:A:B:K``  :math:`p_k \propto (k + B)^{-A}`, :math:`A \ge 0`, :math:`B > -1`
``uniform:K``              :math:`p_k = 1/K`
``words:LANG:K``           the K most common words of language LANG in the ``wordfreq`` package, renormalised
=========================  ===========================================================================

Bad input raises :class:`theory.ParameterError` naming the part of the spec that is wrong (``source``,
``source K``, ``source A``, ``source B``, ``source language``, ``source file``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence

import numpy as np

from .._errors import ParameterError, check_integer

__all__ = ["MAX_CATEGORIES", "CategoricalSource", "parse_source"]

MAX_CATEGORIES = 10**8
"""Largest K accepted (800 MB of float64), so that a typo such as ``zipf:1:1e12`` is an error, not a MemoryError."""

_FORMS = (
    "comma-separated non-negative weights, file:PATH, zipf:A:K, zipf-mandelbrot:A:B:K, uniform:K or words:LANG:K"
)


class CategoricalSource:
    r"""A probability vector over :math:`K \ge 2` categories.

    Parameters
    ----------
    weights
        Non-negative finite numbers, not all zero; they are divided by their sum.
    labels
        Optional distinct names of the categories, one per weight.
    spec
        The text the source came from (:func:`parse_source` sets it); by default the weights, comma-separated.

    Examples
    --------
    >>> source = CategoricalSource([2, 1, 1])
    >>> source.probabilities
    array([0.5 , 0.25, 0.25])
    >>> source.size, source.spec
    (3, '2,1,1')
    >>> source.gini_simpson  # 1 - (1/4 + 1/16 + 1/16)
    0.625
    >>> source.grouped()  # distinct probabilities, largest first, and how many categories have each
    (array([0.5 , 0.25]), array([1, 2]))
    >>> CategoricalSource([1, -1])
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: source: must be non-negative finite weights, not all zero, got 'weight 2 is -1.0'
    """

    __slots__ = ("_labels", "_probabilities", "_spec")

    def __init__(self, weights: Iterable[float], labels: Sequence[str] | None = None, *, spec: str | None = None):
        try:
            w = np.array(list(weights) if not isinstance(weights, np.ndarray) else weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError("source", "non-negative finite weights, not all zero", weights) from None
        if w.ndim != 1:
            raise ParameterError("source", "a one-dimensional list of weights", f"shape {w.shape}")
        _check_size(w.size)
        _check_weights(w)
        if labels is not None:
            labels = tuple(str(label) for label in labels)
            if len(labels) != w.size:
                raise ParameterError("source", f"one label per weight ({w.size})", f"{len(labels)} labels")
            if len(set(labels)) != len(labels):
                seen: set[str] = set()
                duplicate = next(label for label in labels if label in seen or seen.add(label))
                raise ParameterError("source", "distinct labels", f"{duplicate!r} twice")
        p = w / w.sum()
        p.flags.writeable = False
        self._probabilities = p
        self._labels = labels
        self._spec = spec if spec is not None else ",".join(_format_weight(x) for x in w)

    @property
    def probabilities(self) -> np.ndarray:
        """The probability vector, float64, shape ``(K,)``, summing to 1 (read-only)."""
        return self._probabilities

    @property
    def labels(self) -> tuple[str, ...] | None:
        """The category names (words for ``words:``, labels for a labelled file), or ``None``."""
        return self._labels

    @property
    def spec(self) -> str:
        """The spec string the source came from."""
        return self._spec

    @property
    def size(self) -> int:
        """K, the number of categories (zero-probability ones included)."""
        return int(self._probabilities.size)

    def __len__(self) -> int:
        return self.size

    @property
    def support_size(self) -> int:
        """The number of categories with positive probability."""
        return int(np.count_nonzero(self._probabilities))

    @property
    def entropy(self) -> float:
        r"""Shannon entropy in nats, :math:`-\sum_k p_k \log p_k` (terms with :math:`p_k = 0` are 0).

        >>> round(parse_source("uniform:8").entropy / math.log(2), 12)  # 3 bits
        3.0
        """
        p = self._probabilities[self._probabilities > 0]
        return float(-np.sum(p * np.log(p)))

    @property
    def gini_simpson(self) -> float:
        r"""The Gini–Simpson index :math:`1 - \sum_k p_k^2` (the chance two draws differ)."""
        p = self._probabilities
        return float(1.0 - np.dot(p, p))

    def grouped(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact grouping of equal probabilities: ``(values, multiplicities)``.

        ``values`` are the distinct probabilities (float64, largest first, a zero included if some category has
        probability 0), ``multiplicities`` (int64) how many categories have each; so
        ``np.repeat(values, multiplicities)`` is the probability vector sorted in decreasing order. Equality is
        exact equality of the float64 values (equal weights give equal probabilities), which is what lets the
        exact theory treat the K categories in a few groups (``uniform:100000`` is one group).

        >>> parse_source("uniform:100000").grouped()
        (array([1.e-05]), array([100000]))
        """
        values, counts = np.unique(self._probabilities, return_counts=True)
        return values[::-1].copy(), counts[::-1].astype(np.int64)

    def __repr__(self) -> str:
        spec = self._spec if len(self._spec) <= 60 else self._spec[:57] + "..."
        return f"CategoricalSource(spec={spec!r}, K={self.size})"


def parse_source(spec: str | CategoricalSource) -> CategoricalSource:
    r"""Build a :class:`CategoricalSource` from a spec string (a source is returned as it is).

    Examples
    --------
    >>> parse_source("3,1").probabilities
    array([0.75, 0.25])
    >>> zipf = parse_source("zipf:1:4")  # p_k = (1/k) / (1 + 1/2 + 1/3 + 1/4)
    >>> zipf.probabilities * 25 / 12
    array([1.  , 0.5 , 0.333, 0.25 ])
    >>> parse_source("zipf-mandelbrot:2:1:3").probabilities * (1/4 + 1/9 + 1/16)  # (k + 1)^-2
    array([0.25      , 0.11111111, 0.0625    ])
    >>> parse_source("uniform:4").probabilities
    array([0.25, 0.25, 0.25, 0.25])
    >>> words = parse_source("words:en:1000")
    >>> words.labels[:5], words.size
    (('the', 'to', 'and', 'of', 'a'), 1000)
    >>> parse_source("zipf:1:1")
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: source K: must be an integer >= 2, got 1
    """
    if isinstance(spec, CategoricalSource):
        return spec
    if not isinstance(spec, str):
        raise ParameterError("source", _FORMS, spec)
    text = spec.strip()
    form, _, rest = text.partition(":")
    form = form.strip().lower()
    if form == "file" and rest:
        return _from_file(rest, spec)
    if form == "uniform":
        (k,) = _fields(rest, 1, "uniform:K", spec)
        size = _parse_size(k)
        return CategoricalSource(np.ones(size), spec=spec)
    if form == "zipf":
        a, k = _fields(rest, 2, "zipf:A:K", spec)
        return _power_law(_parse_exponent(a), 0.0, _parse_size(k), spec)
    if form == "zipf-mandelbrot":
        a, b, k = _fields(rest, 3, "zipf-mandelbrot:A:B:K", spec)
        exponent = _parse_exponent(a)
        shift = _parse_float(b, "source B", "a finite number > -1")
        if not shift > -1:
            raise ParameterError("source B", "a finite number > -1", b.strip())
        return _power_law(exponent, shift, _parse_size(k), spec)
    if form == "words":
        lang, k = _fields(rest, 2, "words:LANG:K", spec)
        return _words(lang.strip(), _parse_size(k), spec)
    if ":" in text:
        raise ParameterError("source", _FORMS, spec)
    fields = [field.strip() for field in text.split(",")]
    weights = [_parse_weight(field, i) for i, field in enumerate(fields, start=1)]
    return CategoricalSource(weights, spec=spec)


# --- the spec forms -------------------------------------------------------------------------------------------


def _power_law(exponent: float, shift: float, size: int, spec: str) -> CategoricalSource:
    """Weights (k + shift)^-exponent for k = 1..size, computed in log space relative to the largest (k = 1)."""
    k = np.arange(1, size + 1, dtype=np.float64)
    log_w = -exponent * (np.log(k + shift) - math.log(1.0 + shift))
    return CategoricalSource(np.exp(log_w), spec=spec)


def _words(lang: str, size: int, spec: str) -> CategoricalSource:
    """The ``size`` most common words of ``lang`` in wordfreq's 'best' list, frequencies renormalised over them.

    The frequencies are wordfreq's own list values (``get_frequency_dict``: the centibel buckets, unrounded);
    ``word_frequency`` gives the same numbers rounded to 3 significant digits, and it re-tokenises the word, which
    for zh/ja/ko needs jieba or MeCab. Imported here only, so that ``import theory`` does not load wordfreq.
    """
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - wordfreq is a dependency
        raise ParameterError("source", "a spec whose package is installed (pip install wordfreq)", spec) from None
    languages = sorted(wordfreq.available_languages())
    if lang not in languages:
        raise ParameterError("source language", "one of wordfreq's languages: " + ", ".join(languages), lang)
    words = wordfreq.top_n_list(lang, size)
    if len(words) < size:
        raise ParameterError(
            "source K", f"an integer from 2 to {len(words)} (the words in wordfreq's {lang!r} list)", size
        )
    frequencies = wordfreq.get_frequency_dict(lang)
    return CategoricalSource(np.array([frequencies[w] for w in words]), labels=words, spec=spec)


def _from_file(path: str, spec: str) -> CategoricalSource:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        got = f"{path} ({error.__class__.__name__})"
        raise ParameterError("source file", "a readable UTF-8 text file", got) from None
    labels: list[str] = []
    weights: list[float] = []
    labelled: bool | None = None
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) > 2 or (labelled is not None and labelled != (len(row) == 2)):
            got = f"{path} line {number}: {','.join(row)}"
            raise ParameterError("source file", "one weight per line, or label,weight on every line", got)
        labelled = len(row) == 2
        if labelled:
            labels.append(row[0].strip())
        weights.append(_parse_weight(row[-1].strip(), len(weights) + 1, where=f"{path} line {number}"))
    return CategoricalSource(weights, labels=labels if labelled else None, spec=spec)


# --- checks -------------------------------------------------------------------------------------------------


def _fields(rest: str, count: int, form: str, spec: str) -> list[str]:
    fields = rest.split(":") if rest else []
    if len(fields) != count or not all(field.strip() for field in fields):
        raise ParameterError("source", f"of the form {form}", spec)
    return fields


def _parse_float(text: str, parameter: str, allowed: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ParameterError(parameter, allowed, text.strip()) from None
    if not math.isfinite(value):
        raise ParameterError(parameter, allowed, text.strip())
    return value


def _parse_exponent(text: str) -> float:
    value = _parse_float(text, "source A", "a finite number >= 0")
    if value < 0:
        raise ParameterError("source A", "a finite number >= 0", text.strip())
    return value


def _parse_size(text: str) -> int:
    text = text.strip()
    try:
        value: object = int(text)
    except ValueError:
        try:
            value = float(text)  # 1e5
        except ValueError:
            raise ParameterError("source K", "an integer >= 2", text) from None
    size = check_integer("source K", value, minimum=2)
    _check_size(size)
    return size


def _check_size(size: int) -> None:
    if size < 2:
        raise ParameterError("source K", "an integer >= 2", size)
    if size > MAX_CATEGORIES:
        raise ParameterError("source K", f"an integer from 2 to {MAX_CATEGORIES}", size)


def _parse_weight(text: str, index: int, where: str | None = None) -> float:
    allowed = "non-negative finite weights, not all zero"
    try:
        return float(text)
    except ValueError:
        got = f"{where}: {text!r}" if where else f"weight {index} is {text!r}"
        raise ParameterError("source", allowed, got) from None


def _check_weights(w: np.ndarray) -> None:
    allowed = "non-negative finite weights, not all zero"
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ParameterError("source", allowed, f"weight {bad[0] + 1} is {float(w[bad[0]])!r}")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not total > 0:
        raise ParameterError("source", allowed, "all weights 0")
    if not math.isfinite(total):
        raise ParameterError("source", "weights whose sum is finite", "a sum that overflows")


def _format_weight(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(float(x))
