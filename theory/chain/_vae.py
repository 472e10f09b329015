"""A small variational autoencoder as the learner of a chain, on scikit-learn's 8x8 handwritten digits.

The source ``D_0`` is the empirical distribution of the 1,797 images of :func:`sklearn.datasets.load_digits` (it
ships inside scikit-learn; nothing is downloaded), each an 8x8 image of grey levels ``0..16`` scaled to ``[0, 1]``
(a vector of 64 pixels). Generation ``i + 1`` is a VAE trained from a fresh initialisation on the training set
``T_i`` of the workflow (:mod:`theory.chain._workflow`): under ``replace`` ``T_i`` is ``M`` samples of generation
``i`` (generation 0's samples are ``M`` real images drawn without replacement). The model
(:class:`VAELearner`, engine in :mod:`theory.montecarlo._vae`):

* encoder: 64 -> ``hidden`` (tanh) -> a mean and a log-variance in ``R^latent``; prior ``N(0, I)``;
* decoder: ``latent`` -> ``hidden`` (tanh) -> 64 logits; likelihood: Bernoulli cross-entropy with the continuous
  grey levels as targets (the usual choice for [0, 1] pixels);
* training: Adam, ``steps`` minibatches of ``batch`` images drawn uniformly with replacement from ``T_i``, the
  negative ELBO (cross-entropy + KL) averaged over the batch, one reparameterised draw per image;
* sampling ("a sample of generation ``i``"): ``z ~ N(0, I)``, the image is the decoder's mean ``sigmoid(logits)``
  (the grey-level image a VAE is shown by; a Bernoulli draw would turn the grey digits into binary ones).

Workflows, with the 1-D chain's definitions applied to images: ``mix:LAMBDA`` takes ``R = round(LAMBDA M)`` fresh
real images each step (drawn without replacement from the 1,797, independently across steps), ``mix-fixed:LAMBDA``
draws the ``R`` once and reuses them; ``accumulate`` trains each generation for the same ``steps`` on minibatches
drawn uniformly from the whole pool (``M`` real images plus ``M`` samples of every generation so far);
``accumulate-subsample:K`` draws ``K`` images without replacement from the pool and trains on them. A weight on the
real points (``real_weight``) has no meaning for a network trained by minibatches and is refused.

What cannot train is refused (:class:`~theory.ParameterError` naming the field): ``latent`` must be in
``[1, 63]`` (a code as wide as the image is no bottleneck), ``hidden >= 1``, ``steps >= 1``, ``batch`` in
``[1, M]`` and ``learning_rate`` finite in ``(0, 1]``. A VAE has far more weights than images (9,160 at the
defaults for 1,797 images) by design, so the sample size is not compared with the number of weights; instead
``M`` must be at least ``batch`` (a minibatch no larger than the training set it is drawn from) and at most the 1,797 images of ``D_0``, so that
generation 0 is ``M`` distinct real images.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .._errors import ParameterError, check_integer
from ._workflow import REPLACE, Workflow

#: Pixels per image (8 x 8).
PIXELS = 64
#: Images in scikit-learn's digits data set.
DIGITS = 1797
#: What a sample of a VAE is (:class:`VAELearner`'s ``sampling``).
SAMPLINGS: tuple[str, ...] = ("mean", "bernoulli")
#: The sources a VAE chain can start from.
SOURCES: tuple[str, ...] = ("digits",)

_SPELLING = ("vae, vae:LATENT, vae:LATENT,HIDDEN or vae:LATENT,HIDDEN,STEPS (integers >= 1), optionally followed by "
             ",bernoulli or ,mean (what a sample is)")


@functools.lru_cache(maxsize=1)
def _digits() -> np.ndarray:
    from sklearn.datasets import load_digits  # lazy: import theory stays light

    images = np.asarray(load_digits().data, dtype=np.float64) / 16.0
    images.setflags(write=False)
    return images


def load_digits_source() -> np.ndarray:
    """The 1,797 8x8 digits of :func:`sklearn.datasets.load_digits` as a read-only float64 array ``(1797, 64)``
    with values in ``[0, 1]`` (grey level / 16).

    >>> x = load_digits_source()
    >>> x.shape, float(x.min()), float(x.max())
    ((1797, 64), 0.0, 1.0)
    """
    return _digits()


@dataclasses.dataclass(frozen=True)
class VAELearner:
    """The VAE fitted at every generation (see the module doc).

    Parameters
    ----------
    latent:
        dimension of the latent code, in ``[1, 63]``.
    hidden:
        width of the one hidden layer of the encoder and of the decoder (``>= 1``).
    steps:
        Adam steps per generation (``>= 1``).
    batch:
        images per minibatch (``>= 1``; at most the chain's ``sample_size``).
    learning_rate:
        Adam's step size, in ``(0, 1]``.
    sampling:
        what a sample of the model is: ``"mean"`` (default: the decoder's mean image ``sigmoid(logits)``, grey
        levels) or ``"bernoulli"`` (each pixel drawn 0 or 1 with that probability).

    Examples
    --------
    >>> VAELearner()
    VAELearner(latent=4, hidden=64, steps=2000, batch=64, learning_rate=0.003, sampling='mean')
    >>> VAELearner(latent=4).parameter_count
    9160
    >>> VAELearner(latent=64)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: latent: must be an integer in [1, 63] (a latent code narrower than the 64 \
pixels), got 64
    """

    latent: int = 4
    hidden: int = 64
    steps: int = 2000
    batch: int = 64
    learning_rate: float = 3e-3
    sampling: str = "mean"

    def __post_init__(self) -> None:
        latent = check_integer("latent", self.latent, minimum=1)
        if latent >= PIXELS:
            raise ParameterError("latent", f"an integer in [1, {PIXELS - 1}] (a latent code narrower than the "
                                 f"{PIXELS} pixels)", self.latent)
        object.__setattr__(self, "latent", latent)
        object.__setattr__(self, "hidden", check_integer("hidden", self.hidden, minimum=1))
        object.__setattr__(self, "steps", check_integer("steps", self.steps, minimum=1))
        object.__setattr__(self, "batch", check_integer("batch", self.batch, minimum=1))
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) \
                or not 0 < rate <= 1:
            raise ParameterError("learning_rate", "a finite number in (0, 1] (Adam's step size)", rate)
        object.__setattr__(self, "learning_rate", float(rate))
        if self.sampling not in SAMPLINGS:
            raise ParameterError("sampling", "'mean' (the decoder's mean image) or 'bernoulli' (a Bernoulli draw of "
                                 "every pixel)", self.sampling)

    @property
    def parameter_count(self) -> int:
        """Weights and biases of the encoder and the decoder."""
        h, z = self.hidden, self.latent
        encoder = PIXELS * h + h + h * 2 * z + 2 * z
        decoder = z * h + h + h * PIXELS + PIXELS
        return encoder + decoder

    def __str__(self) -> str:
        text = f"vae:{self.latent},{self.hidden},{self.steps}"
        return text if self.sampling == "mean" else f"{text},{self.sampling}"


def parse_vae_learner(rest: str | None) -> VAELearner:
    """The :class:`VAELearner` of the command-line spelling after ``vae``: ``None`` or ``""`` (``--learner vae``)
    gives the defaults; ``"LATENT"``, ``"LATENT,HIDDEN"`` or ``"LATENT,HIDDEN,STEPS"`` set those fields; a last
    item ``bernoulli`` (or ``mean``) sets ``sampling`` (``"bernoulli"`` alone: the defaults with Bernoulli samples).

    >>> parse_vae_learner(None) == VAELearner()
    True
    >>> parse_vae_learner("2,32,500")
    VAELearner(latent=2, hidden=32, steps=500, batch=64, learning_rate=0.003, sampling='mean')
    >>> parse_vae_learner("bernoulli").sampling
    'bernoulli'
    """
    if rest is None or rest.strip() == "":
        return VAELearner()
    parts = [p.strip() for p in rest.split(",")]
    text = f"vae:{rest}"
    sampling = "mean"
    if parts and parts[-1] in SAMPLINGS:
        sampling = parts.pop()
    if len(parts) > 3:
        raise ParameterError("learner", _SPELLING, text)
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ParameterError("learner", _SPELLING, text) from None
    fields = dict(zip(("latent", "hidden", "steps"), numbers))
    return VAELearner(**fields, sampling=sampling)


@dataclasses.dataclass(frozen=True)
class VAEChain:
    """A chain of VAEs on the digits (see the module doc).

    Parameters
    ----------
    learner:
        the :class:`VAELearner` fitted at every generation.
    sample_size:
        ``M``: images per training set (generation 0: ``M`` distinct real images); in ``[batch, 1797]``.
    workflow:
        a :class:`~theory.chain.Workflow` or its spelling; every kind, without a real weight.
    source:
        ``"digits"`` (the only source).

    Examples
    --------
    >>> str(VAEChain(VAELearner(), 500, "accumulate").workflow)
    'accumulate'
    >>> VAEChain(VAELearner(batch=64), 32)
    Traceback (most recent call last):
    ...
    theory._errors.ParameterError: sample_size: must be an integer in [batch = 64, 1797] (a minibatch no \
larger than the training set; generation 0 is M distinct real digits), got 32
    """

    learner: VAELearner = VAELearner()
    sample_size: int = DIGITS
    workflow: Workflow = REPLACE
    source: str = "digits"

    def __post_init__(self) -> None:
        if not isinstance(self.learner, VAELearner):
            raise ParameterError("learner", "a VAELearner", self.learner)
        size = check_integer("sample_size", self.sample_size, minimum=1)
        if not self.learner.batch <= size <= DIGITS:
            raise ParameterError(
                "sample_size", f"an integer in [batch = {self.learner.batch}, {DIGITS}] (a minibatch no larger than "
                f"the training set; generation 0 is M distinct real digits)", self.sample_size)
        object.__setattr__(self, "sample_size", size)
        source = "digits" if self.source is None else self.source
        if source not in SOURCES:
            raise ParameterError("source", "'digits' (scikit-learn's 8x8 handwritten digits)", self.source)
        object.__setattr__(self, "source", source)
        workflow = self.workflow if isinstance(self.workflow, Workflow) else Workflow.parse(self.workflow)
        if workflow.real_weight is not None:
            raise ParameterError("real_weight", "None for a VAE chain (a network trained on minibatches has no "
                                 "weighted fit; mix uses the plain share R/M)", workflow.real_weight)
        workflow.check_sizes([size])
        if workflow.kind in ("mix", "mix-fixed") and workflow.real_count(size) > DIGITS:  # pragma: no cover
            raise ParameterError("workflow", f"at most {DIGITS} real images per step", str(workflow))
        if workflow.kind == "accumulate-subsample" and workflow.subsample < self.learner.batch:
            raise ParameterError("workflow", f"accumulate-subsample:K with K >= batch = {self.learner.batch}",
                                 str(workflow))
        object.__setattr__(self, "workflow", workflow)

    @property
    def real_count(self) -> int:
        """``R``: real images in each training set under ``mix`` / ``mix-fixed`` (0 otherwise)."""
        return self.workflow.real_count(self.sample_size)
