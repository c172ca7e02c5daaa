"""Referential integrity (checklist items 25, 27, 29 and every declared `Column.references`), and
the lines of repeated UUIDs (24, 26) and media pairs (31), found in a second pass over the files.

The first pass collected identifier sets; this pass streams each referencing file again and
checks its references in batches against those sets, so memory holds identifiers, never rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dwca_port.checks.identifiers import IdentifierSet, identifier_key
from dwca_port.checks.rows import EVENT, OCCURRENCE, RowChecks, media_pair_key, short
from dwca_port.findings import Finding, Severity
from dwca_port.tables.base import DWC, Table

BATCH = 65536


@dataclass
class Reference:
    index: int
    term: str
    targets: list[IdentifierSet]
    target_label: str
    item: int
    code: str
    severity: Severity
    lines: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


def plan_references(checks: list[RowChecks], declarations: dict[str, Table]) -> dict[int, list[Reference]]:
    """Table position -> the references its rows must satisfy."""
    sets = checks[0].state.identifier_sets if checks else {}
    core = next((c for c in checks if c.table.core), None)
    core_ids = sets.get((core.position, core.table.id_index)) if core and core.table.id_index is not None else None
    core_label = f"{core.table.file} ids" if core else "core ids"

    def identifier_sets(row_type: str, term: str) -> list[IdentifierSet]:
        found = []
        for other in checks:
            index = other.indexes.get(term) if other.table.row_type == row_type else None
            if index is not None and (other.position, index) in sets:
                found.append(sets[(other.position, index)])
        return found

    plans: dict[int, list[Reference]] = {}
    for check in checks:
        table, refs, used = check.table, [], set()
        if not table.core and table.id_index is not None and core_ids is not None:
            refs.append(
                Reference(
                    table.id_index,
                    "",
                    [core_ids],
                    core_label,
                    25,
                    "RECORD_REFERENTIAL_INTEGRITY_VIOLATION",
                    Severity.BLOCKING,
                )
            )
            used.add(table.id_index)
        occurrence_index = check.indexes.get(DWC + "occurrenceID")
        if table.row_type != OCCURRENCE and occurrence_index is not None and occurrence_index not in used:
            refs.append(
                Reference(
                    occurrence_index,
                    DWC + "occurrenceID",
                    identifier_sets(OCCURRENCE, DWC + "occurrenceID"),
                    "occurrenceIDs of the occurrence table",
                    27,
                    "OCCURRENCE_ID_NOT_FOUND",
                    Severity.LOCAL,
                )
            )
            used.add(occurrence_index)
        parent_index = check.indexes.get(DWC + "parentEventID")
        if (
            parent_index is not None
            and core_ids is not None
            and core
            and core.table.row_type == EVENT
            and parent_index not in used
        ):
            refs.append(
                Reference(
                    parent_index,
                    DWC + "parentEventID",
                    [core_ids],
                    core_label,
                    29,
                    "PARENT_EVENT_NOT_FOUND",
                    Severity.LOCAL,
                )
            )
            used.add(parent_index)
        if check.declaration is not None:
            for column in check.declaration.columns:
                index = check.indexes.get(column.term)
                if not column.references or index is None or index in used:
                    continue
                target = declarations.get(column.references)
                if target is None or not target.identifier_term:
                    continue
                label = f"{target.identifier_term.rsplit('/', 1)[-1]} of {target.file}"
                refs.append(
                    Reference(
                        index,
                        column.term,
                        identifier_sets(column.references, target.identifier_term),
                        label,
                        25,
                        "REFERENCE_NOT_FOUND",
                        Severity.LOCAL,
                    )
                )
                used.add(index)
        refs = [ref for ref in refs if all(target.complete for target in ref.targets)]
        if refs:
            plans[check.position] = refs
    return plans


class SecondPass:
    """Checks one file's references and locates its repeated identifiers, row by row."""

    def __init__(self, check: RowChecks, references: list[Reference], report: Callable[[Finding], None]):
        self.check = check
        self.references = references
        self.report = report
        sets = check.state.identifier_sets
        # unique identities with repeated keys: their lines are named now, the first spelling kept per key
        self.repeats = [
            (identity, sets[(check.position, identity.index)].duplicate_keys, {})
            for identity in check.identities
            if identity.unique and sets[(check.position, identity.index)].duplicate_keys
        ]
        pairs = check.state.media_pairs.get(check.position)
        self.pairs = (pairs, set()) if pairs is not None and pairs.duplicate_keys else None

    @property
    def needed(self) -> bool:
        return bool(self.references or self.repeats or self.pairs)

    def row(self, line: int, values: list[str]) -> None:
        for reference in self.references:
            value = values[reference.index]
            if value:
                reference.lines.append(line)
                reference.values.append(value)
                if len(reference.values) >= BATCH:
                    self._flush(reference)
        for identity, duplicates, first in self.repeats:
            value = values[identity.index]
            key = identifier_key(value) if value else None
            if key not in duplicates:
                continue
            if key not in first:
                first[key] = (value, line)
                continue
            earlier, earlier_line = first[key]
            if value == earlier:
                self.check.add(
                    identity.item,
                    identity.code,
                    identity.severity,
                    f"{short(value)} is not unique in the file (first on line {earlier_line})",
                    line,
                    identity.term,
                )
            else:
                code = (
                    identity.code if identity.case_severity is Severity.BLOCKING else "ID_NOT_UNIQUE_CASE_INSENSITIVE"
                )
                self.check.add(
                    identity.item,
                    code,
                    identity.case_severity,
                    f"{short(value)} repeats {short(earlier)} of line {earlier_line} but for case (the IPT compares "
                    "case-insensitively)",
                    line,
                    identity.term,
                )
        if self.pairs:
            owner, coreid, media = self.check.media_pair_source
            holder = owner(values) if owner else (values[coreid] if coreid is not None else "")
            key = media_pair_key(holder, media(values))
            duplicates, seen = self.pairs[0].duplicate_keys, self.pairs[1]
            if key in duplicates:
                if key in seen:
                    self.check.add(
                        31,
                        "MULTIMEDIA_DUPLICATE",
                        Severity.LOCAL,
                        f"media {short(media(values))} appears twice for {short(holder)}",
                        line,
                    )
                seen.add(key)

    def finish(self) -> None:
        for reference in self.references:
            self._flush(reference)

    def _flush(self, reference: Reference) -> None:
        values, lines = reference.values, reference.lines
        if not values:
            return
        present = [False] * len(values)
        for identifiers in reference.targets:
            for position, found in enumerate(identifiers.contains_many(values)):
                present[position] = present[position] or found
        for line, value, found in zip(lines, values, present):
            if not found:
                what = reference.term.rsplit("/", 1)[-1] if reference.term else "coreid"
                self.check.add(
                    reference.item,
                    reference.code,
                    reference.severity,
                    f"{what} {short(value)} is not among the {reference.target_label}",
                    line,
                    reference.term,
                    reference.index + 1,
                )
        reference.values, reference.lines = [], []
