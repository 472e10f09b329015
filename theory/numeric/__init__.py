"""Exact numeric evaluation of the chain's moments (float64 where a proved error bound is below the tolerance,
high precision elsewhere), expansions, schedules (as runs of equal sample sizes) and collapse times; the discrete
(Wright-Fisher) chain's exact loss, fixation and diversity (``discrete_exact_values``: per category for the MLE and
add-alpha learners, M up to 1e7 with a proved bracket; ``joint_exact_values``: the chain on compositions for any
learner, small K and M) and Suresh et al.'s survival bounds beside them (``bound_verdicts``); the multivariate Gaussian chain's exact
moments (``multivariate_exact_values``: every workflow, every n; what has no exact route under a workflow is None
with a note and exact bounds).

SciPy is imported only when a collapse time or a median is computed, so the moment path stays light."""

from ._categorical_bounds import bound_verdicts as bound_verdicts
from ._categorical_bounds import survival_bounds as survival_bounds
from ._categorical_exact import CategoryExact as CategoryExact
from ._categorical_exact import category_exact as category_exact
from ._categorical_exact import discrete_exact_values as discrete_exact_values
from ._categorical_exact import loss_time_distribution as loss_time_distribution
from ._categorical_joint import JointCategoryExact as JointCategoryExact
from ._categorical_joint import joint_category_exact as joint_category_exact
from ._categorical_joint import joint_exact_values as joint_exact_values
from ._categorical_joint import joint_state_count as joint_state_count
from ._collapse_time import collapse_time as collapse_time
from ._collapse_time import median_sd_ratio as median_sd_ratio
from ._collapse_time import sd_ratio_cdf as sd_ratio_cdf
from ._exact import EXTRA_QUANTITIES as EXTRA_QUANTITIES
from ._exact import QUANTITIES as QUANTITIES
from ._exact import exact_state as exact_state
from ._exact import exact_values as exact_values
from ._exact import step_moments as step_moments
from ._expansions import accuracy_limit as accuracy_limit
from ._expansions import expansion_error as expansion_error
from ._expansions import leading_order as leading_order
from ._expansions import published_expansions as published_expansions
from ._kde_exact import KDE_QUANTITIES as KDE_QUANTITIES
from ._kde_exact import kde_exact_values as kde_exact_values
from ._multivariate_exact import MULTIVARIATE_QUANTITIES as MULTIVARIATE_QUANTITIES
from ._multivariate_exact import log_det_drift as log_det_drift
from ._multivariate_exact import marginal_chain as marginal_chain
from ._multivariate_exact import multivariate_exact_values as multivariate_exact_values
from ._multivariate_exact import w2_sq_bounds as w2_sq_bounds
from ._schedules import BoundedDrift as BoundedDrift
from ._schedules import bounded_drift as bounded_drift
from ._schedules import drift_partial_sums as drift_partial_sums
from ._workflow_limits import workflow_limits as workflow_limits
