"""What a word and white space are, as SPEC defines them (UTS #18's classes, the ``regex`` module's).

Kept apart from the compiled kernels so that counting words (``count_words``) and
importing the diff's Python side need no numba; ``tokens`` builds its class table
from these same patterns.
"""

from __future__ import annotations

import regex

#: A word, as SPEC defines it; ``count_words`` and the kernels' table both come from it.
WORD = regex.compile(r"\w+")
#: White space, Unicode's ``White_Space`` property (``regex``'s ``\s``).
SPACE = regex.compile(r"\s+")
