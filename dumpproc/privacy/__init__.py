"""What is written for IP addresses (``--ips keep|hash|drop``).

``keep`` writes the dump's values as they are. ``hash`` and ``drop`` leave no IP address of
the input in the output: an anonymous editor's ``user_text`` becomes a keyed hash of the
address (HMAC-SHA256, hex) or null, and every address inside a title, a comment, a user
name or a text (``addresses`` says exactly what counts as one) becomes that same hash, or
the fixed marker ``DROPPED``. The same address gives the same hash within a run and across
runs with the same key, however it is written (``2001:DB8:0:0:0:0:0:1``, ``2001:db8::1``),
while nobody without the key can go back to the address. The key is read from a file or
the ``DUMPPROC_IP_KEY`` environment variable and never written to the output.

Whether a contributor is anonymous does not depend on the mode: an ``<ip>`` contributor, or
one whose whole name is an IP address (``addresses.is_ip_name``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import lru_cache

from .addresses import canonical, is_ip_name, replace_addresses

__all__ = ["DROPPED", "IP_MODES", "KEY_ENV", "IpPolicy", "is_ip_name"]

IP_MODES = ("keep", "hash", "drop")
KEY_ENV = "DUMPPROC_IP_KEY"
#: What ``--ips drop`` writes for an address inside a text: no title can hold ``<`` or ``>``,
#: so a replaced title never takes a real page's name, and wikitext shows it as it is.
DROPPED = "<ip>"
_DROPPED = DROPPED.encode("ascii")


@lru_cache(maxsize=1 << 16)  # addresses recur (signatures, reverts of their edits): hash each once
def _keyed_hash(key: bytes, address: str) -> bytes:
    return hmac.new(key, address.encode("ascii"), hashlib.sha256).hexdigest().encode("ascii")


@dataclass(frozen=True)
class IpPolicy:
    """How to write IP addresses: an anonymous editor's name, and the addresses inside texts."""

    mode: str = "keep"
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in IP_MODES:
            raise ValueError(f"--ips must be one of {', '.join(IP_MODES)}, not {self.mode!r}")
        if self.mode == "hash" and not self.key:
            raise ValueError(f"--ips hash needs a key: --ip-key-file FILE or the {KEY_ENV} environment variable")

    @classmethod
    def from_options(cls, mode: str, key_file: str | None = None) -> "IpPolicy":
        """The policy for ``--ips`` and ``--ip-key-file`` (else the environment variable)."""
        key = None
        if mode == "hash":
            if key_file:
                with open(key_file, "rb") as fh:
                    key = fh.read().strip()
            elif os.environ.get(KEY_ENV):
                key = os.environ[KEY_ENV].encode("utf-8")
        return cls(mode, key)

    @property
    def replaces(self) -> bool:
        """Whether addresses inside texts are replaced (``hash`` and ``drop``)."""
        return self.mode != "keep"

    def apply(self, ip: str | None) -> str | None:
        """The value to write for an anonymous editor's address (``user_text``)."""
        if ip is None or self.mode == "keep":
            return ip
        if self.mode == "drop":
            return DROPPED  # SPEC: a fixed marker; null stays "deleted"
        # a name that is no address we can read (999.1.1.1) is hashed as it is written
        return _keyed_hash(self.key, canonical(ip) or ip).decode("ascii")  # type: ignore[arg-type]

    def _token(self, address: str) -> bytes:
        if self.mode == "drop":
            return _DROPPED
        return _keyed_hash(self.key, address)  # type: ignore[arg-type]

    def replace_utf8(self, text: bytes | None) -> bytes | None:
        """UTF-8 ``text`` with every IP address in it replaced as the mode says (as it is with ``keep``)."""
        if text is None or self.mode == "keep":
            return text
        return replace_addresses(text, self._token)

    def replace(self, text: str | None) -> str | None:
        """``replace_utf8`` for a string: a title, a comment, a user name."""
        if text is None or self.mode == "keep" or ("." not in text and ":" not in text):
            return text  # most names and comments: no address can be in them
        utf8 = text.encode("utf-8")
        replaced = replace_addresses(utf8, self._token)
        return text if replaced is utf8 else replaced.decode("utf-8")
