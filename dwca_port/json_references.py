"""Primary keys inside JSON fields (graph.Node.json_references), as UUIDs in the archive.

Upstream keeps ids of other rows in JSON (a capture set's `kwargs.image_ids`, a data export's
`filters.collection_id`). Primary keys mean nothing on another instance, so the archive carries
the rows' UUIDs instead and the importer maps them back. Ids of rows that no longer exist are
dropped. These tables are small (configuration), so each document is translated on its own.
"""

from __future__ import annotations

import copy
import uuid as uuid_module
from collections.abc import Callable

from dwca_port import graph
from dwca_port.values import CellError, canonical_json


def _is_reference(value) -> bool:
    """A value that can name a row: an id (export) or a UUID text (import), nothing nested."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _translate(document, key: str, lookup: Callable[[list], dict], strict: bool = False):
    """`document` with document[key] (one reference or a list of them) translated by `lookup`.
    Values that cannot name a row are dropped, or refused when `strict` (an archive's)."""
    if not isinstance(document, dict) or key not in document or document[key] is None:
        return document
    value = document[key]
    values = value if isinstance(value, list) else [value]
    if strict and not all(_is_reference(v) for v in values):
        bad = next(v for v in values if not _is_reference(v))
        raise CellError(f"{key} must hold UUIDs (one or a list), not {canonical_json(bad)[:60]}")
    values = [v for v in values if _is_reference(v)]
    found = lookup(values)
    translated = [found[v] for v in values if v in found]
    document = copy.deepcopy(document)
    document[key] = translated if isinstance(value, list) else (translated[0] if translated else None)
    return document


def to_uuids(node: graph.Node, field_name: str, document):
    """Export: the ids in `document` replaced by the referenced rows' UUIDs (as strings)."""
    for name, key, label in node.json_references:
        if name == field_name:
            model = graph.NODES_BY_LABEL[label].model

            def lookup(values, model=model):
                ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
                return {pk: str(u) for pk, u in model._base_manager.filter(pk__in=ids).values_list("pk", "uuid")}

            document = _translate(document, key, lookup)
    return document


def to_pks(node: graph.Node, field_name: str, document, rows: Callable | None = None):
    """Import: the UUIDs in `document` replaced by this instance's primary keys. `rows(node)`:
    the rows a UUID may stand for (default: all of the model's). Raises CellError when a
    reference is not a UUID text or id (a list, an object...)."""
    for name, key, label in node.json_references:
        if name == field_name:
            target = graph.NODES_BY_LABEL[label]
            candidates = rows(target) if rows else target.model._base_manager.all()

            def lookup(values, candidates=candidates):
                wanted = {}
                for value in values:
                    try:
                        wanted[uuid_module.UUID(str(value))] = value
                    except ValueError:
                        continue
                found = candidates.filter(uuid__in=list(wanted)).values_list("uuid", "pk")
                return {wanted[u]: pk for u, pk in found}

            document = _translate(document, key, lookup, strict=True)
    return document
