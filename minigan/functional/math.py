"""Transitional: the names minigan/gan imports from here, whose homes are now
functional/arithmetic.py, reductions.py and shapes.py (``minigan.functional`` has them all).
Delete this file once these two lines read ``from minigan.functional import ...``:

    minigan/gan/blocks.py:  from minigan.functional.math import broadcast_to, cat, reshape
    minigan/gan/losses.py:  from minigan.functional.math import mean, sqrt, sum
"""
from minigan.functional.arithmetic import sqrt  # noqa: F401
from minigan.functional.reductions import broadcast_to, mean, sum  # noqa: F401
from minigan.functional.shapes import cat, reshape  # noqa: F401
