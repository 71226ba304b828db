"""The graph layer: causal DAGs, d-separation, adjustment sets and identification.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG.from_dagitty("dag { X [exposure]; Y [outcome]; Z -> X -> Y; Z -> Y }")
>>> dag.identify().strategy
'backdoor'
"""

from .adjustment import AdjustmentCheck
from .graph import CausalDAG
from .identify import Identification, identify
from .instruments import Instrument
from .paths import BackdoorPath

__all__ = ["AdjustmentCheck", "BackdoorPath", "CausalDAG", "Identification", "Instrument",
           "identify"]
