"""The paper's figures, remade with the exact theory drawn over the simulations (``collapse-theory figures``).

One module per figure (``_f1_gaussian_drift``, ``_f2_mean_error``, ``_f3_pooling``, ``_f4_gmm_scatter``,
``_f5_gmm_distance``, ``_f6_discrete``, ``_tail_loss``, ``_expansions``, ``_decomposition``, ``_workflows``,
``_multivariate``); each computes its numbers
from an explicit PRNG key by calling the library (:mod:`theory.numeric`, :mod:`theory.montecarlo`,
:mod:`theory.decomposition`: the figures hold no simulation of their own), saves them with the seed, sizes,
standard errors and package versions, then plots from the saved file in the committed style
(``collapse.mplstyle``), as byte-reproducible PDF and PNG. This is the top layer: nothing in the library imports it.
"""

from ._make import FIGURES as FIGURES
from ._make import default_output_dir as default_output_dir
from ._make import make_figure as make_figure
from ._make import make_figures as make_figures

__all__ = ["FIGURES", "default_output_dir", "make_figure", "make_figures"]
