"""What a run is asked to do: ``Options``, picklable, the same for every unit and the manifest."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import asdict, dataclass, field

from .. import ownership
from ..accounts import DEFAULT_TEMP_USER_PATTERN, temp_user_pattern
from ..engines import ENGINES
from ..parse import ON_ERROR
from ..parse.readers import choices as parser_choices
from ..privacy import IpPolicy
from ..schema import TABLES

DEFAULT_TABLES = ("revisions", "diffs", "pages", "users")
#: Per-unit intermediate files (the users totals before the reduce); readers skip names starting with _.
STAGING = ownership.STAGING
_SNAPSHOT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_WIKI_DB = re.compile(r"^[a-z0-9_]+$")


#: Bytes (as stored) per unit when a file is split (--split-size), unless told otherwise.
DEFAULT_SPLIT_SIZE = 256 << 20


@dataclass(frozen=True)
class Options:
    """Everything a unit needs to know about the run; picklable."""

    out: str
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    tables: tuple[str, ...] = DEFAULT_TABLES
    namespaces: frozenset[int] | None = None
    snapshot: str | None = None
    group_readable: bool = False
    ips: IpPolicy = field(default_factory=IpPolicy)
    revert_radius: int = 0
    engine: str = "local"
    resume: bool = False
    split_size: int | None = DEFAULT_SPLIT_SIZE
    #: absolute path -> (algorithm, digest) to verify before reading; None: do not verify
    checksums: dict[str, tuple[str, str]] | None = None
    #: what malformed XML inside a page does: fail the unit, or skip the page
    on_error: str = "fail-unit"
    #: which registered reader reads the XML (``parse.readers``), or ``auto``: the fast one, falling
    #: back to lxml for a unit it does not fully cover (SPEC ``--parser``); every one gives the same
    #: rows, so --resume may mix them
    parser: str = "auto"
    #: the wiki_db= partition of inputs whose siteinfo and file name give none (--wiki-db)
    wiki_db: str | None = None
    #: a registered name this regular expression finds is a temporary account (--temp-user-pattern)
    temp_user_pattern: str = DEFAULT_TEMP_USER_PATTERN
    #: the snapshot= partition of inputs with no date in their name: the month the run began (UTC),
    #: set by ``run`` (or kept from the run being resumed), so a run over midnight stays in one
    run_month: str | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}; dumpproc writes {', '.join(TABLES)}")
        if not self.tables:
            raise ValueError("--tables names no table")
        if self.snapshot is not None and not _SNAPSHOT.match(self.snapshot):
            raise ValueError(f"--snapshot must be YYYY-MM, not {self.snapshot!r}")
        if self.workers < 1:
            raise ValueError("--workers must be at least 1")
        if self.engine not in ENGINES:
            raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.on_error not in ON_ERROR:
            raise ValueError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {self.on_error!r}")
        if self.parser not in parser_choices():
            raise ValueError(f"--parser must be one of {', '.join(parser_choices())}, not {self.parser!r}")
        if self.revert_radius < 0:
            raise ValueError("--revert-radius must be 0 (unlimited) or positive")
        temp_user_pattern(self.temp_user_pattern)  # a ValueError saying what is wrong with it
        if self.wiki_db is not None and not _WIKI_DB.match(self.wiki_db):
            raise ValueError(f"--wiki-db must be a database name such as enwiki (a-z, 0-9, _), not {self.wiki_db!r}")

    def describe(self) -> dict:
        """The options as the manifest records them (never the IP key)."""
        described = asdict(self)
        described["ips"] = self.ips.mode
        described["tables"] = list(self.tables)
        described["namespaces"] = sorted(self.namespaces) if self.namespaces is not None else None
        described["verify_checksums"] = self.checksums is not None
        del described["checksums"]
        # which key hashed the IPs, without the key: --resume must not mix two keys' hashes
        described["ips_fingerprint"] = (
            hmac.new(self.ips.key, b"dumpproc: which key", hashlib.sha256).hexdigest()[:16] if self.ips.key else None)
        return described
