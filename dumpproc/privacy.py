"""What is written for anonymous editors' IP addresses (``--ips keep|hash|drop``).

``hash`` replaces an IP with a keyed hash (HMAC-SHA256, hex) so that the same
address gives the same value within a run and across runs with the same key,
while nobody without the key can go back to the address. The key is read from
a file or the ``DUMPPROC_IP_KEY`` environment variable and never written to the
output.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

IP_MODES = ("keep", "hash", "drop")
KEY_ENV = "DUMPPROC_IP_KEY"


@dataclass(frozen=True)
class IpPolicy:
    """How to write an anonymous editor's ``user_text``."""

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

    def apply(self, ip: str | None) -> str | None:
        """The value to write for an anonymous editor's address."""
        if ip is None or self.mode == "keep":
            return ip
        if self.mode == "drop":
            return None
        return hmac.new(self.key, ip.encode("utf-8"), hashlib.sha256).hexdigest()  # type: ignore[arg-type]
