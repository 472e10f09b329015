"""Chain models: what each generation is fitted to and how (the Gaussian chain and its workflows; categorical
sources for the discrete chain)."""

from ._categorical import MAX_CATEGORIES as MAX_CATEGORIES
from ._categorical import CategoricalSource as CategoricalSource
from ._categorical import parse_source as parse_source
from ._discrete import DISCRETE_WORKFLOWS as DISCRETE_WORKFLOWS
from ._discrete import DiscreteChain as DiscreteChain
from ._discrete import DiscreteLearner as DiscreteLearner
from ._gmm import SOURCES as GMM_SOURCES
from ._gmm import GMMChain as GMMChain
from ._gmm import GMMLearner as GMMLearner
from ._gmm import GMMSource as GMMSource
from ._gmm import parse_gmm_learner as parse_gmm_learner
from ._gmm import parse_gmm_source as parse_gmm_source
from ._kde import KDEChain as KDEChain
from ._kde import KDELearner as KDELearner
from ._kde import NormalSource as NormalSource
from ._kde import parse_kde_learner as parse_kde_learner
from ._kde import parse_kde_source as parse_kde_source
from ._kde import silverman_bandwidth as silverman_bandwidth
from ._learners import LEARNED_MODELS as LEARNED_MODELS
from ._learners import parse_learner as parse_learner
from ._model import LEARNERS as LEARNERS
from ._model import GaussianChain as GaussianChain
from ._model import check_chain as check_chain
from ._model import check_generations as check_generations
from ._multivariate import MultivariateGaussianChain as MultivariateGaussianChain
from ._multivariate import check_covariance as check_covariance
from ._multivariate import check_multivariate_chain as check_multivariate_chain
from ._multivariate import parse_covariance as parse_covariance
from ._vae import VAEChain as VAEChain
from ._vae import VAELearner as VAELearner
from ._vae import load_digits_source as load_digits_source
from ._vae import parse_vae_learner as parse_vae_learner
from ._workflow import REPLACE as REPLACE
from ._workflow import WORKFLOWS as WORKFLOWS
from ._workflow import Workflow as Workflow
