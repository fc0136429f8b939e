"""The scanner's field table to the raw records every reader hands ``parse.normalise``.

This is the first, per-record way to use the columns: one ``RawRevision`` per revision, checked
by the same code as the lxml reader's, so that equality is a matter of the scanner finding and
decoding the same bytes, and of reading them with the lxml walker's rules (``parse.revision``,
``Dump._page_header``), which this module mirrors: the last of a field written twice counts, the
first ``<text>`` is the main one, an empty ``<model>`` is None as lxml's ``.text`` is. (Next: the
stages take the columns as they are; see ``docs/fast-reader-plan.md``.)
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from ..parse.normalise import RawRevision, RawText
from . import scan as kernel
from .blocks import Scanned

E, A = kernel.E, kernel.A


def _field(parent: str, name: str) -> int:
    return E[parent] * 32 + E[name]


def _attribute(element: str, name: str) -> int:
    return kernel.ATTRIBUTE + E[element] * 8 + A[name]


#: (parent, element) -> the key a page's or revision's dict keeps its value under
PAGE_FIELDS = {_field("page", name): name for name in ("title", "ns", "id", "redirect", "restrictions")}
REVISION_FIELDS = {_field("revision", name): name for name in (
    "id", "parentid", "timestamp", "minor", "comment", "model", "format", "text", "sha1", "contributor", "content")}
CONTRIBUTOR_FIELDS = {_field("contributor", name): name for name in ("username", "id", "ip")}
SLOT_FIELDS = {_field("content", name): name for name in ("role", "model", "format", "text")}
#: read and not needed (lxml's walker passes over them too)
IGNORED = {_field("revision", "origin"), _field("content", "origin")}
ATTRIBUTES = {code: name for code, name in
              ((kernel.ATTRIBUTE + E[element] * 8 + A[name], name) for element in kernel.ATTRIBUTES_OF
               for name in kernel.ATTRIBUTES_OF[element])}


class RawPage(NamedTuple):
    """A page's header fields as written (None: absent), as ``normalise.page_header`` takes them."""

    id: str | None
    title: str | None
    ns: str | None
    redirect: str | None
    restrictions: str | None
    offset: int  # the XML byte of its <page>


def _text(value: bytes, attributes: dict) -> RawText:
    deleted = "deleted" in attributes
    return RawText(None if deleted else value, deleted, attributes.get("bytes"), attributes.get("sha1"),
                   "id" in attributes or "location" in attributes)


def _none_if_empty(value: bytes) -> str | None:
    """An element's text as lxml's ``.text`` has it: None when empty."""
    return value.decode("utf-8") or None


def units(scanned: Iterator[Scanned]) -> Iterator[tuple]:
    """``("page", RawPage)`` at each page's header end, ``("revision", RawRevision, XML byte)`` at
    each revision's end, ``("end", None)`` at each page's end, in file order."""
    page = revision = slot = None
    attributes: dict = {}  # the attributes of the element whose row comes next
    for block in scanned:
        out = block.out
        for code, start, end, offset in block.fields.tolist():
            if code >= kernel.PAGE_START:
                if code == kernel.PAGE_START:
                    page = {"offset": offset}
                elif code == kernel.HEADER_END:
                    yield "page", RawPage(page.get("id"), page.get("title"), page.get("ns"), page.get("redirect"),
                                          page.get("restrictions"), page["offset"])
                    page = None
                elif code == kernel.PAGE_END:
                    yield "end", None
                elif code == kernel.REVISION_START:
                    revision = {"offset": offset, "contents": [], "comment": ""}
                else:  # REVISION_END
                    yield "revision", _raw_revision(revision), revision["offset"]
                    revision = None
                continue
            if code >= kernel.ATTRIBUTE:
                attributes[ATTRIBUTES[code]] = out[start:end].tobytes().decode("utf-8")
                continue
            got, attributes = attributes, {}
            if code in IGNORED:
                continue
            value = out[start:end].tobytes()
            if revision is None:
                if page is None:
                    continue  # a page's field after its first revision: lxml reads the header before it
                name = PAGE_FIELDS[code]
                if name == "title":
                    page["title"] = value.decode("utf-8")
                elif name == "redirect":
                    page["redirect"] = got.get("title", "")
                elif name == "restrictions":
                    page["restrictions"] = _none_if_empty(value)
                else:
                    page[name] = value.decode("utf-8")
                continue
            name = REVISION_FIELDS.get(code)
            if name is not None:
                if name == "text":
                    revision.setdefault("text", _text(value, got))  # the first <text> is the main one
                elif name == "contributor":
                    revision["contributor_deleted"] = "deleted" in got
                    revision["user_deleted"] = revision.get("user_deleted", False) or "deleted" in got
                elif name == "content":
                    slot = [None, None, None, None]  # role, model, format, text
                    revision["contents"].append(slot)
                elif name == "comment":
                    if "deleted" in got:
                        revision["comment"], revision["comment_deleted"] = None, True
                    else:
                        revision["comment"] = value.decode("utf-8")
                elif name == "minor":
                    revision["minor"] = True
                elif name in ("model", "format", "sha1"):
                    revision[name] = _none_if_empty(value)
                else:
                    revision[name] = value.decode("utf-8")
                continue
            name = CONTRIBUTOR_FIELDS.get(code)
            if name is not None:
                if revision.get("contributor_deleted"):
                    continue  # lxml reads no field of a deleted contributor
                if name == "id":
                    revision["user_id"] = value.decode("utf-8")
                else:
                    revision["user_text"] = _none_if_empty(value)
                    if name == "ip":
                        revision["anonymous"] = True
                continue
            name = SLOT_FIELDS[code]
            if name == "text":
                slot[3] = _text(value, got)
            else:
                slot[("role", "model", "format").index(name)] = _none_if_empty(value)


def _raw_revision(revision: dict) -> RawRevision:
    return RawRevision(
        id=revision.get("id"), timestamp=revision.get("timestamp"), parent_id=revision.get("parentid"),
        user_id=revision.get("user_id"), user_text=revision.get("user_text"),
        anonymous=revision.get("anonymous", False), user_deleted=revision.get("user_deleted", False),
        minor=revision.get("minor", False), comment=revision["comment"],
        comment_deleted=revision.get("comment_deleted", False), model=revision.get("model"),
        format=revision.get("format"), sha1=revision.get("sha1"), text=revision.get("text"),
        contents=tuple(tuple(slot) for slot in revision["contents"]))
