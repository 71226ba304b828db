"""Alias of :mod:`causalkit.backdoor.balance`, the module's home in the backdoor family.

Kept so that ``import causalkit.balance`` (the name before the family layout) keeps
working: both names are the same module object.
"""

import sys

from .backdoor import balance as _home

sys.modules[__name__] = _home
