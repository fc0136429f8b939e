"""What kind of account made a revision: an IP editor, a temporary account or a registered one,
and whether its name is a bot's.

Three kinds, apart, because from 2025 Wikimedia's wikis no longer let people edit under their
IP address: an unregistered editor gets a **temporary account**, created automatically, with
a user id and a generated name (``~2025-12345-67``). An analyst who counts "anonymous" edits
by ``user_is_anonymous`` (an IP address, as in mediawiki_history, ``privacy.is_ip_name``) sees
them vanish after that date; ``user_is_temporary`` tells those accounts from people who
registered. A name is temporary when it is a registered name (not an IP address, not
deleted) that ``--temp-user-pattern`` matches: a Python regular expression searched in the
name (``re.search``: anchor it with ``^``), by default ``^~[0-9]{4}-``, the form Wikimedia's
wikis generate (``~`` and the year). A wiki configured otherwise (MediaWiki's
``$wgAutoCreateTempUser['matchPattern']``) is given its own pattern.

**Bots by name** follow mediawiki_history's ``is_bot_by`` value ``name``
(analytics-refinery-source, ``UserEventBuilder.isBotBy`` with ``botUsernamePattern``,
``(?i)^.*bot([^a-z].*$|$)`` found in the name): a name is a bot's when it holds ``bot``, in
any mix of cases, that no letter follows, the end of the name or any other character does
(``ClueBot NG``, ``MyBot2``, ``noncapbot``; not ``Botany``, ``nonBotnameeither``). Java
applies ``(?i)`` to ASCII letters only, so a non-ASCII letter after ``bot`` is "not a
letter" (``Boté`` is a bot name) and only ASCII ``b``, ``o``, ``t`` spell it; the rule also
takes names that merely end in ``bot`` (``Abbot``), as the Data Lake does. It is applied to
registered names only, temporary ones included: an IP address holds no ``bot``, and
mediawiki_history gives anonymous editors no bot flag. MediaWiki names never hold a line
break, so Java's ``.`` stopping at one does not arise.

Under ``--ips hash`` or ``drop`` both flags are decided on the name as the dump gives it,
before any address in it is replaced: the flags describe the account, not what the output
writes for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["DEFAULT_TEMP_USER_PATTERN", "FLAGS", "AccountKinds", "is_bot_by_name", "temp_user_pattern",
           "with_flags"]

#: The columns this module's flags fill, in ``revisions`` and ``users``.
FLAGS = ("user_is_temporary", "user_is_bot_by_name")
#: The names Wikimedia's wikis give temporary accounts: ``~``, the year, ``-`` (``~2025-12345-67``).
DEFAULT_TEMP_USER_PATTERN = r"^~[0-9]{4}-"

# "bot", its letters ASCII in any case, not followed by an ASCII letter (Java's (?i) is ASCII only).
_BOT = re.compile(r"bot(?![a-z])", re.IGNORECASE | re.ASCII)


def is_bot_by_name(name: str | None) -> bool:
    """Whether ``name`` is a bot's by mediawiki_history's name rule (see the module docstring)."""
    return name is not None and _BOT.search(name) is not None


def temp_user_pattern(pattern: str) -> re.Pattern:
    """``--temp-user-pattern`` compiled; a ``ValueError`` of one line when it is no regular expression."""
    if not isinstance(pattern, str):
        raise TypeError(f"--temp-user-pattern must be a string, not {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"--temp-user-pattern {pattern!r} is not a regular expression: {exc}") from None


@lru_cache(maxsize=1 << 16)  # names recur: an editor's revisions, page after page
def _registered_flags(pattern: re.Pattern, name: str) -> tuple[bool, bool]:
    return pattern.search(name) is not None, is_bot_by_name(name)


@dataclass(frozen=True)
class AccountKinds:
    """Tells a revision's account apart: ``flags(name, anonymous)`` gives (temporary, bot by name)."""

    temp_user_pattern: str = DEFAULT_TEMP_USER_PATTERN
    _pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", temp_user_pattern(self.temp_user_pattern))

    def flags(self, name: str | None, anonymous: bool) -> tuple[bool, bool]:
        """``(user_is_temporary, user_is_bot_by_name)`` of a contributor, from the dump's own name.

        Both are false for an IP editor and for a deleted name (``None``).
        """
        if anonymous or name is None:
            return False, False
        return _registered_flags(self._pattern, name)


def with_flags(table):
    """A pyarrow table of ``user_text`` and ``user_is_anonymous`` with the ``FLAGS`` columns.

    A table that has them is returned as it is. One that an older dumpproc wrote has none: they
    are worked out from its names as written, with the default pattern (``--temp-user-pattern``
    came with the columns).
    """
    import pyarrow as pa

    missing = [name for name in FLAGS if name not in table.column_names]
    if not missing:
        return table
    kinds = AccountKinds()
    flags = [kinds.flags(text, anonymous) for text, anonymous
             in zip(table["user_text"].to_pylist(), table["user_is_anonymous"].to_pylist())]
    for name in missing:
        at = FLAGS.index(name)
        table = table.append_column(name, pa.array([f[at] for f in flags], pa.bool_()))
    return table
