"""Peer libraries in causalkit's registry: EconML, DoubleML, DoWhy and CausalML.

Each adapter is an ordinary registry entry named ``<library>.<Class or
method>`` (``econml.LinearDML``, ``doubleml.DoubleMLIRM``,
``dowhy.backdoor.propensity_score_matching``, ``causalml.BaseXRegressor``, ...),
so :func:`causalkit.estimate`, the benchmark runner and the CLI use it like a
built-in estimator.  The peer package is imported only when the adapter is
fitted: a missing package raises :class:`PeerUnavailableError` (a benchmark
row with the reason, never a crash).  Every adapter takes the same nuisance
models as causalkit's learners (``outcome_model=``, ``propensity_model=``,
default the learners' histogram gradient boosting) where the peer allows it,
and reports the peer's own standard error and interval, saying so in
``Effect.inference``.  The peers are optional: ``pip install
"causalkit[peers]"``.

>>> from causalkit import registry
>>> registry.get("econml.LinearDML").estimands
('ATE', 'CATE')
"""

from ._common import PEER_PACKAGES, PeerUnavailableError, peer_status

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("econml", "doubleml", "dowhy", "causalml")

__all__ = ["ESTIMATORS", "PEER_PACKAGES", "PeerUnavailableError", "peer_status"]
