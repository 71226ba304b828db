"""The graph layer: causal DAGs, d-separation, adjustment sets and identification.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG.from_dagitty("dag { X [exposure]; Y [outcome]; Z -> X -> Y; Z -> Y }")
>>> dag.identify().strategy
'backdoor'
"""

from .adjustment import AdjustmentCheck
from .admg import ADMG, latent_projection
from .distribution import DiscreteDistribution
from .estimand import Estimand, Hedge
from .graph import CausalDAG
from .id_algorithm import identify_id
from .identify import Identification, identify
from .instruments import Instrument
from .paths import BackdoorPath
from .pdag import CausalPDAG

__all__ = ["ADMG", "AdjustmentCheck", "BackdoorPath", "CausalDAG", "CausalPDAG",
           "DiscreteDistribution", "Estimand", "Hedge", "Identification", "Instrument",
           "identify", "identify_id", "latent_projection"]
