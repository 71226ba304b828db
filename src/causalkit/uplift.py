"""Alias of :mod:`causalkit.cate.uplift`, the module's home in the cate family.

Kept so that ``import causalkit.uplift`` (the name before the family layout) keeps
working: both names are the same module object.
"""

import sys

from .cate import uplift as _home

sys.modules[__name__] = _home
