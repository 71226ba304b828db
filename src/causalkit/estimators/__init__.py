"""Registered estimators, one module each.

Every public module in this package registers itself with
:func:`causalkit.register` when imported; the registry imports them all the
first time it is asked for an estimator.  See :func:`causalkit.available`.
"""
