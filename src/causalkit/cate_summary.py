"""Alias of :mod:`causalkit.cate.cate_summary`, the module's home in the cate family.

Kept so that ``import causalkit.cate_summary`` (the name before the family layout) keeps
working: both names are the same module object.
"""

import sys

from .cate import cate_summary as _home

sys.modules[__name__] = _home
