"""Estimators for effects that identification beyond back-door adjustment opens.

* :mod:`~causalkit.general.frontdoor`: the front-door functional (plug-in and the
  one-step estimator of Fulcher et al. 2020);
* :mod:`~causalkit.general.mediation`: natural direct and indirect effects (the
  multiply robust estimator of Tchetgen Tchetgen & Shpitser 2012);
* :mod:`~causalkit.general.id_plugin`: any Estimand of the ID algorithm on discrete data.

The front-door and mediation estimators share the mediator nuisance models of
``_mediators``.

>>> from causalkit.general import ESTIMATORS
>>> ESTIMATORS
('frontdoor', 'id_plugin', 'mediation')
"""

#: Modules of this family that register an estimator (the registry imports them).
ESTIMATORS: tuple[str, ...] = ("frontdoor", "id_plugin", "mediation")
