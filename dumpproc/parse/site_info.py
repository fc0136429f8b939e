"""The dump's ``<siteinfo>`` and root attributes to a ``SiteInfo`` record.

A namespace's ``key`` is checked as any other value (``values``): an int32;
one that is not, or a missing one, is ``MalformedXML`` with the line (of the
current parse) of its ``<namespace>``, which the ``Dump`` places in the file.
"""

from __future__ import annotations

import re
from collections import Counter

from ..errors import MalformedXML
from ..records import SiteInfo
from . import values
from .revision import _local

_VERSION_IN_NS = re.compile(r"export-(\d+\.\d+)")


def export_version(root) -> tuple[str | None, str | None]:
    """(schema version, language) from the root element's attributes, else its namespace."""
    version = root.get("version")
    if version is None:
        found = _VERSION_IN_NS.search(root.tag)
        version = found.group(1) if found else None
    return version, root.get("{http://www.w3.org/XML/1998/namespace}lang")


def site_info_from_element(element, root, unknown: Counter) -> SiteInfo:
    """Build the ``SiteInfo`` from a finished ``<siteinfo>`` and the document's root."""
    version, lang = export_version(root)
    fields: dict[str, str | None] = {}
    namespaces: dict[int, str] = {}
    for child in element:
        tag = _local(child.tag)
        if tag != "namespaces":
            fields[tag] = child.text
            continue
        for ns in child:
            if _local(ns.tag) != "namespace":
                unknown[f"namespaces:{_local(ns.tag)}"] += 1
                continue
            try:
                namespaces[values.namespace(ns.get("key"), "namespace key")] = ns.text or ""
            except MalformedXML as exc:
                exc.line = ns.sourceline
                raise
    return SiteInfo(
        dbname=fields.get("dbname"),
        sitename=fields.get("sitename"),
        base=fields.get("base"),
        generator=fields.get("generator"),
        case=fields.get("case"),
        namespaces=namespaces,
        schema_version=version,
        lang=lang,
    )
