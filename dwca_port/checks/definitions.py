"""The GBIF core/extension definitions and vocabularies shipped in dwca_port/schemas (offline).

They say which rowTypes are registered (the IPT knows them), which terms each one defines,
each term's type and, where the vocabulary file is available here, its allowed values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from dwca_port.meta.xmlsafe import local_name
from dwca_port.schemas import SCHEMA_DIR, safe_parser

_DEFINITIONS = SCHEMA_DIR / "gbif-extensions"
_VOCABULARY_HOSTS = ("http://rs.gbif.org/", "https://rs.gbif.org/")
_DC = "{http://purl.org/dc/terms/}"


@dataclass(frozen=True)
class Property:
    term: str
    type: str | None = None  # date, decimal, integer, uri (None: text)
    thesaurus: str | None = None  # vocabulary URL
    required: bool = False


@dataclass
class Definition:
    row_type: str
    title: str
    properties: dict[str, Property] = field(default_factory=dict)


@functools.cache
def definitions() -> dict[str, Definition]:
    """Registered rowType -> its definition (two versions of one rowType are merged)."""
    found: dict[str, Definition] = {}
    for path in sorted(list((_DEFINITIONS / "core").glob("*.xml")) + list((_DEFINITIONS / "extension").rglob("*.xml"))):
        root = etree.parse(str(path), safe_parser()).getroot()
        row_type = root.get("rowType")
        definition = found.setdefault(row_type, Definition(row_type, root.get(f"{_DC}title") or root.get("name") or ""))
        for element in root:
            if local_name(element) != "property":
                continue
            term = element.get("qualName") or (element.get("namespace", "") + element.get("name", ""))
            definition.properties[term] = Property(
                term=term,
                type=element.get("type"),
                thesaurus=element.get("thesaurus"),
                required=element.get("required") == "true",
            )
    return found


def _vocabulary_path(url: str) -> Path | None:
    for host in _VOCABULARY_HOSTS:
        if url.startswith(host):
            path = _DEFINITIONS / url[len(host) :]
            return path if path.is_file() else None
    return None


@dataclass(frozen=True)
class Vocabulary:
    identifiers: frozenset[str]  # the concepts' identifiers, e.g. MachineObservation
    labels: frozenset[str]  # casefolded identifiers, preferred and alternative labels (what GBIF parses)


@functools.cache
def vocabulary(url: str) -> Vocabulary | None:
    """The vocabulary file at `url`, or None when it is not shipped with the toolkit."""
    path = _vocabulary_path(url)
    if path is None:
        return None
    root = etree.parse(str(path), safe_parser()).getroot()
    identifiers: set[str] = set()
    labels: set[str] = set()
    for concept in root:
        if local_name(concept) != "concept":
            continue
        identifier = concept.get(f"{_DC}identifier") or ""
        identifiers.add(identifier)
        labels.add(identifier.casefold())
        for term in concept.iter():
            if local_name(term) == "term" and term.get(f"{_DC}title"):
                labels.add(term.get(f"{_DC}title").casefold())
    identifiers.discard("")
    labels.discard("")
    return Vocabulary(frozenset(identifiers), frozenset(labels))
