"""The Arrow schemas of every output table, exactly as ``SPEC.md`` fixes them.

One definition serves the writer, the tests and ``docs/schema.md``. Types are
those Spark reads as they are: signed integers, ``timestamp[us, UTC]``, UTF-8
strings. ``wiki_db`` and ``snapshot`` are partition folders, never columns.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, nullable: bool, doc: str) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


REVISIONS = pa.schema(
    [
        _field("page_id", pa.int64(), False, "the page's id"),
        _field("page_namespace", pa.int32(), False, "the page's namespace id"),
        _field("page_title", pa.string(), False, "title as in the dump, namespace prefix included"),
        _field("page_redirect_title", pa.string(), True, "the redirect target; null when not a redirect"),
        _field("revision_id", pa.int64(), False, "the revision's id"),
        _field("revision_parent_id", pa.int64(), True, "the parent revision's id; null when the dump has none"),
        _field("revision_dt", TIMESTAMP, False, "when the revision was saved"),
        _field("revision_minor_edit", pa.bool_(), False, "marked minor"),
        _field("revision_comment", pa.string(), True, "edit summary; null when deleted"),
        _field(
            "revision_text_bytes",
            pa.int64(),
            True,
            "UTF-8 bytes of the main slot's text (the bytes attribute when the text is deleted or not in the dump); "
            "null when neither is known (a negative attribute is unknown)",
        ),
        _field(
            "revision_text_sha1",
            pa.string(),
            True,
            "base-36 sha1 of the main slot's text: <text sha1=...> (0.11), else the revision's <sha1> when it has "
            "one slot, else computed from the text as XML delivers it (line ends read as LF); null when none is known",
        ),
        _field(
            "revision_sha1",
            pa.string(),
            True,
            "sha1 over all content slots: the revision's <sha1>, else computed as MediaWiki's "
            "RevisionSlots::computeSha1 (one slot: the main slot's sha1); null when not known; identity reverts "
            "compare it",
        ),
        _field(
            "revision_size",
            pa.int64(),
            True,
            "bytes of all content slots together (the main slot's for a one-slot revision; the others' as the "
            "content table's content_size); null when one is unknown",
        ),
        _field(
            "revision_slots",
            pa.list_(pa.string()),
            False,
            "the revision's slot roles, main first, then the others by name",
        ),
        _field("revision_content_model", pa.string(), True, "content model of the main slot"),
        _field("revision_content_format", pa.string(), True, "serialisation format of the main slot"),
        _field("user_id", pa.int64(), True, "null for anonymous and deleted users"),
        _field("user_text", pa.string(), True, "user name, or the IP as --ips says; null when deleted"),
        _field("user_is_anonymous", pa.bool_(), False, "edited by an IP address"),
        _field("user_is_temporary", pa.bool_(), False,
               "a temporary account (MediaWiki's automatic accounts for unregistered editors, from 2025): "
               "a registered name matching --temp-user-pattern"),
        _field("user_is_bot_by_name", pa.bool_(), False,
               "a registered name that mediawiki_history's bot-name rule (is_bot_by 'name') takes for a bot's"),
        _field("user_is_visible", pa.bool_(), False, "false when the contributor is deleted"),
        _field("comment_is_visible", pa.bool_(), False, "false when the comment is deleted"),
        _field("content_is_visible", pa.bool_(), False, "false when the text is deleted"),
        _field(
            "revision_text_bytes_diff",
            pa.int64(),
            True,
            "bytes minus the previous revision's bytes in the page; null on the page's first",
        ),
        _field("revision_is_identity_revert", pa.bool_(), False, "it is an identity revert"),
        _field("revision_is_identity_reverted", pa.bool_(), False, "a later identity revert reverted it"),
        _field(
            "revision_first_identity_reverting_revision_id",
            pa.int64(),
            True,
            "the first revert that reverted it",
        ),
        _field("revision_seconds_to_identity_revert", pa.int64(), True, "seconds from it to that revert"),
        _field("page_revision_count", pa.int64(), False, "1-based position of this revision in its page's history"),
        _field(
            "page_seconds_since_previous_revision",
            pa.int64(),
            True,
            "seconds since the page's revision saved just before this one, by timestamp and then revision id "
            "as mediawiki_history orders a page: never negative, also where the dump is not in time order "
            "(an imported or merged history), whose previous revision in the dump may be a later one; "
            "null on the page's earliest",
        ),
        _field("diff_lines_added", pa.int64(), True, "lines added against the base text"),
        _field("diff_lines_removed", pa.int64(), True, "lines removed from the base text"),
        _field("diff_words_added", pa.int64(), True, "words added (runs of Unicode word characters)"),
        _field("diff_words_removed", pa.int64(), True, "words removed (runs of Unicode word characters)"),
        _field("diff_chars_added", pa.int64(), True, "characters (code points) added"),
        _field("diff_chars_removed", pa.int64(), True, "characters (code points) removed"),
    ]
)

OP = pa.struct(
    [
        pa.field("a_start", pa.int32(), nullable=False),
        pa.field("a_end", pa.int32(), nullable=False),
        pa.field("b_start", pa.int32(), nullable=False),
        pa.field("b_end", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)

DIFFS = pa.schema(
    [
        _field("page_id", pa.int64(), False, "the page's id"),
        _field("revision_id", pa.int64(), False, "the revision's id"),
        _field(
            "base_revision_id",
            pa.int64(),
            True,
            "the revision diffed against (the last visible one before); null for a page's first visible revision",
        ),
        _field(
            "ops",
            pa.list_(pa.field("element", OP, nullable=False)),
            False,
            "sorted, non-overlapping replacements of base lines a[a_start:a_end] by new lines "
            "b[b_start:b_end], whose joined text is text",
        ),
    ]
)

PAGES = pa.schema(
    [
        _field("page_id", pa.int64(), False, "the page's id"),
        _field("page_namespace", pa.int32(), False, "the page's namespace id"),
        _field("page_title", pa.string(), False, "title as in the dump, namespace prefix included"),
        _field("page_redirect_title", pa.string(), True, "the redirect target; null when not a redirect"),
        _field("revision_count", pa.int64(), False, "revisions of the page in the dump"),
        _field("first_revision_id", pa.int64(), False, "the page's first revision in dump order"),
        _field("first_revision_dt", TIMESTAMP, False, "when it was saved"),
        _field("last_revision_id", pa.int64(), False, "the page's last revision in dump order"),
        _field("last_revision_dt", TIMESTAMP, False, "when it was saved"),
        _field("creator_user_text", pa.string(), True, "who made the first revision (as --ips says); null when deleted"),
        _field("distinct_editors", pa.int64(), False, "distinct visible contributors"),
        _field("last_text_bytes", pa.int64(), False, "size of the last revision's text; 0 when not known"),
        _field("identity_revert_count", pa.int64(), False, "identity reverts in the page"),
    ]
)

USERS = pa.schema(
    [
        _field("user_id", pa.int64(), True, "null for anonymous users"),
        _field("user_text", pa.string(), False, "user name, or the IP (hashed when --ips hash)"),
        _field("user_is_anonymous", pa.bool_(), False, "an IP editor"),
        _field("user_is_temporary", pa.bool_(), False, "a temporary account (a name matching --temp-user-pattern)"),
        _field("user_is_bot_by_name", pa.bool_(), False, "a bot by mediawiki_history's name rule"),
        _field("revision_count", pa.int64(), False, "revisions made in the run's dumps"),
        _field("first_revision_dt", TIMESTAMP, False, "the first of them"),
        _field("last_revision_dt", TIMESTAMP, False, "the last of them"),
        _field("pages_edited", pa.int64(), False, "distinct pages edited"),
        _field("identity_reverts_made", pa.int64(), False, "identity reverts made"),
        _field("revisions_identity_reverted", pa.int64(), False, "own revisions that an identity revert reverted"),
    ]
)

#: One content slot of the ``content`` table's ``revision_content_slots``, as the Data Lake's
#: ``mediawiki_content_history_v1`` has its ``revision_content_slots`` values.
SLOT = pa.struct(
    [
        pa.field("content_body", pa.string()),
        pa.field("content_model", pa.string()),
        pa.field("content_format", pa.string()),
        pa.field("content_sha1", pa.string()),
        pa.field("content_size", pa.int64()),
    ]
)

CONTENT = pa.schema(
    [
        _field("page_id", pa.int64(), False, "the page's id"),
        _field("revision_id", pa.int64(), False, "the revision's id"),
        _field("revision_text", pa.string(), True, "the main slot's text; null when deleted"),
        _field(
            "revision_content_slots",
            pa.map_(pa.string(), SLOT),
            True,
            "every slot but main, by role, as mediawiki_content_history_v1 has them (content_body as --ips says; "
            "content_sha1 the dump's, else computed; content_size the bytes attribute, MediaWiki's size of the slot, "
            "which for Wikibase content is not its JSON's bytes, else the body's bytes); null when only main",
        ),
    ]
)

#: Every table dumpproc writes, by name.
TABLES: dict[str, pa.Schema] = {
    "revisions": REVISIONS,
    "diffs": DIFFS,
    "pages": PAGES,
    "users": USERS,
    "content": CONTENT,
}
