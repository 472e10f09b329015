"""The learner spellings of the command line: ``unbiased`` and ``mle`` (the Gaussian chain's variance divisors)
and the learned models ``gmm:K``, ``kde:H`` and ``vae[:...]``.

:func:`parse_learner` turns a spelling into the learner's spec (a string for the Gaussian learners, a
:class:`GMMLearner`, :class:`KDELearner` or :class:`VAELearner` otherwise); each learned model's own parser
(``parse_gmm_learner`` and its siblings) reads what follows the colon.
"""

from __future__ import annotations

from .._errors import ParameterError

#: The learned models, by the prefix of their spelling.
LEARNED_MODELS: tuple[str, ...] = ("gmm", "kde", "vae")

LEARNER_SPELLING = "unbiased, mle, gmm:K (K >= 1 components), kde:H (bandwidth H > 0) or vae[:...]"


def learned_model(text: str) -> str | None:
    """The learned model a spelling names (``"gmm"``, ``"kde"``, ``"vae"``), or ``None`` for ``unbiased``/``mle``.

    >>> learned_model("gmm:2"), learned_model("vae"), learned_model("mle")
    ('gmm', 'vae', None)
    """
    if not isinstance(text, str):
        raise ParameterError("learner", LEARNER_SPELLING, text)
    prefix = text.strip().split(":", 1)[0].strip().lower()
    if prefix in ("unbiased", "mle") and ":" not in text:
        return None
    if prefix in LEARNED_MODELS:
        return prefix
    raise ParameterError("learner", LEARNER_SPELLING, text)


def parse_learner(text: str):
    """The learner a command-line spelling names.

    ``"unbiased"`` and ``"mle"`` come back as strings (the Gaussian chain's ``learner``); ``"gmm:K"``,
    ``"kde:H"`` and ``"vae[:...]"`` as the learned model's spec, read by its own parser.

    >>> parse_learner("mle")
    'mle'
    >>> parse_learner("svm")
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: learner: must be unbiased, mle, gmm:K (K >= 1 components), kde:H (bandwidth H > 0) or vae[:...], got 'svm'
    """
    model = learned_model(text)
    if model is None:
        return text.strip()
    head, colon, rest = text.strip().partition(":")
    rest = rest.strip() if colon else None
    if model == "gmm":
        from ._gmm import parse_gmm_learner

        return parse_gmm_learner(rest)
    if model == "kde":
        from ._kde import parse_kde_learner

        return parse_kde_learner(rest)
    from ._vae import parse_vae_learner

    return parse_vae_learner(rest)
