"""What a word and white space are, as SPEC defines them (UTS #18's classes, the ``regex`` module's).

Kept apart from the compiled kernels so that counting words (``count_words``) and
importing the diff's Python side need no numba; ``tokens`` builds its class table
from these same patterns. ``WORD`` and ``SPACE`` are compiled on first use: the
fast path reads the class table from its disk cache and never needs them, and
importing ``regex`` is a twentieth of a second of a small run.
"""

from __future__ import annotations

#: The patterns' sources: ``WORD`` (a word, as SPEC defines it; ``count_words`` and the kernels'
#: table both come from it) and ``SPACE`` (Unicode's ``White_Space`` property, ``regex``'s ``\s``).
SOURCES = {"WORD": r"\w+", "SPACE": r"\s+"}


def __getattr__(name: str):
    if name not in SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import regex

    pattern = regex.compile(SOURCES[name])
    globals()[name] = pattern
    return pattern
