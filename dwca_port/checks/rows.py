"""Row checks of the first pass over each data file (checklist items 24-40, 46, 47 and the declarations).

One `RowChecks` per table is compiled from meta.xml (which column holds which term), the Table
declaration of its rowType (kind, required, vocabulary, unique) and the GBIF definition (types
and vocabularies of registered terms); `check(line, values)` then runs on every row.

Severity rule: a value that breaks its *declared* column is LOCAL (the importer cannot take it);
the same problem on an undeclared standard term is a WARNING (GBIF flags it and indexes the rest);
checklist items GBIF treats as blocking stay BLOCKING.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dwca_port.checks.definitions import Definition, vocabulary
from dwca_port.checks.identifiers import IdentifierSet
from dwca_port.checks.syntax import kind_parser, parse_event_date, parse_mime_type, sql_shape
from dwca_port.eml import DatasetMetadata, parse_licence
from dwca_port.eml.checks import EMAIL
from dwca_port.findings import Finding, Severity
from dwca_port.meta.model import TableDescriptor
from dwca_port.tables.base import AC, ANTENNA, DC, DCTERMS, DWC, ECO, GBIF, GBIF_PROFILE, Table
from dwca_port.values import CellError, Kind, Unstorable, parse_value
from dwca_port.versions import unsupported

OCCURRENCE = DWC + "Occurrence"
EVENT = DWC + "Event"
MULTIMEDIA_ROW_TYPES = {GBIF + "Multimedia", AC + "Multimedia"}
BOOLEAN_VOCABULARY = "https://rs.gbif.org/vocabulary/basic/boolean.xml"
FORMAT_VERSION_TERM = ANTENNA + "formatVersion"

# Syntax of standard terms that are not declared by the toolkit (checked as warnings).
STANDARD_KINDS = {
    DWC + "eventDate": Kind.EVENT_DATE,
    DWC + "dateIdentified": Kind.EVENT_DATE,
    DCTERMS + "modified": Kind.EVENT_DATE,
    DWC + "decimalLatitude": Kind.DECIMAL,
    DWC + "decimalLongitude": Kind.DECIMAL,
    DWC + "coordinateUncertaintyInMeters": Kind.DECIMAL,
    DWC + "individualCount": Kind.INTEGER,
    DWC + "year": Kind.INTEGER,
    DWC + "month": Kind.INTEGER,
    DWC + "day": Kind.INTEGER,
}
DEFINITION_KINDS = {"date": Kind.EVENT_DATE, "decimal": Kind.DECIMAL, "integer": Kind.INTEGER, "uri": Kind.URI}
MULTIMEDIA_URI_TERMS = {
    DCTERMS + "identifier": "MULTIMEDIA_URI_INVALID",
    AC + "accessURI": "MULTIMEDIA_URI_INVALID",
    DCTERMS + "references": "REFERENCES_URI_INVALID",
}

# Checklist item and GBIF-style code of a value problem on a given term.
TERM_RULES: dict[str, tuple[int, str]] = {
    DWC + "eventDate": (33, "RECORDED_DATE_INVALID"),
    DWC + "dateIdentified": (33, "IDENTIFIED_DATE_INVALID"),
    DCTERMS + "modified": (33, "MODIFIED_DATE_INVALID"),
    DWC + "decimalLatitude": (34, "COORDINATE_INVALID"),
    DWC + "decimalLongitude": (34, "COORDINATE_INVALID"),
    DWC + "coordinateUncertaintyInMeters": (34, "COORDINATE_UNCERTAINTY_METERS_INVALID"),
    DWC + "basisOfRecord": (32, "BASIS_OF_RECORD_INVALID"),
    DWC + "occurrenceStatus": (37, "OCCURRENCE_STATUS_UNPARSABLE"),
    DWC + "individualCount": (37, "INDIVIDUAL_COUNT_INVALID"),
    DWC + "scientificName": (38, "SCIENTIFIC_NAME_MISSING"),
    DCTERMS + "license": (40, "LICENSE_INVALID"),
    FORMAT_VERSION_TERM: (0, "FORMAT_VERSION_INVALID"),
    **{term: (39, code) for term, code in MULTIMEDIA_URI_TERMS.items()},
}
PAIRED_TERMS = [
    (DWC + "sampleSizeValue", DWC + "sampleSizeUnit"),
    (DWC + "organismQuantity", DWC + "organismQuantityType"),
    (ECO + "samplingEffortValue", ECO + "samplingEffortUnit"),
    (ECO + "eventDurationValue", ECO + "eventDurationUnit"),
    (ECO + "geospatialScopeAreaValue", ECO + "geospatialScopeAreaUnit"),
    (ECO + "totalAreaSampledValue", ECO + "totalAreaSampledUnit"),
]
# Humboldt: a "false" flag contradicts a filled detail term.
HUMBOLDT_CONSISTENCY = [
    (ECO + "hasMaterialSamples", ECO + "materialSampleTypes", "HAS_MATERIAL_SAMPLES_MISMATCH"),
    (ECO + "hasNonTargetTaxa", ECO + "nonTargetTaxa", "HAS_NON_TARGET_TAXA_MISMATCH"),
    (ECO + "hasVouchers", ECO + "voucherInstitutions", "HAS_VOUCHERS_MISMATCH"),
    (ECO + "isAbsenceReported", ECO + "absentTaxa", "IS_ABSENCE_REPORTED_MISMATCH"),
]
_HTML_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_UNIT_SEPARATOR = "\x1f"

Rule = Callable[[int, list[str]], None]


@dataclass(frozen=True)
class RuleShape:
    """What the columnar fast path (checks/columnar.py) must know of a rule to run it set-wise: the
    columns it reads (None: every column) and, when there is one, an SQL condition (over columns
    c0, c1, ... and the raw line `line`) that holds only on rows the rule passes silently."""

    reads: tuple[int, ...] | None
    passes: str | None = None
    collects: bool = False  # gathers keys for a later check instead of reporting (media pairs)


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


@dataclass
class ArchiveState:
    """What the row checks of all tables share."""

    profile: str
    metadata: DatasetMetadata | None
    metadata_member: str
    today: dt.date = field(default_factory=dt.date.today)
    # (table position, column index) -> the identifier values of that column
    identifier_sets: dict[tuple[int, int], IdentifierSet] = field(default_factory=dict)
    # table position -> keys of (occurrence or event, media identifier) pairs (item 31)
    media_pairs: dict[int, IdentifierSet] = field(default_factory=dict)
    has_coordinates: bool = False
    has_dates: bool = False


@dataclass
class Identity:
    """An identifier column whose values are collected, and how repeats are reported."""

    index: int
    term: str
    item: int
    code: str
    severity: Severity  # of exact repeats
    case_severity: Severity  # of repeats differing only in case
    unique: bool
    empty: tuple[int, str, Severity] | None  # (item, code, severity) when an empty value is a finding


class RowChecks:
    def __init__(
        self,
        position: int,
        table: TableDescriptor,
        declaration: Table | None,
        definition: Definition | None,
        state: ArchiveState,
        report: Callable[[Finding], None],
    ):
        self.position = position
        self.table = table
        self.member = table.file
        self.declaration = declaration
        self.definition = definition
        self.state = state
        self.report = report
        self.rules: list[Rule] = []
        self.shapes: list[tuple[Rule, RuleShape]] = []  # the same rules, with what the fast path needs
        self.media_pair_sql: tuple[str, str] | None = None  # (holder, media) of item 31, as SQL
        self.identities: list[Identity] = []
        self.indexes = {f.term: f.index for f in table.fields if f.term and f.index is not None}
        self._defaults = {f.term: f.default for f in table.fields if f.term and f.default is not None}
        self._compile()

    # -- helpers ----------------------------------------------------------------------------

    def finding(
        self,
        item: int,
        code: str,
        severity: Severity,
        message: str,
        line: int | None = None,
        term: str = "",
        column: int | None = None,
    ) -> Finding:
        if column is None and term in self.indexes:
            column = self.indexes[term] + 1
        return Finding(item, code, severity, message, file=self.member, line=line, column=column, term=term)

    def add(self, *args, **kwargs) -> None:
        self.report(self.finding(*args, **kwargs))

    def has(self, term: str) -> bool:
        return term in self.indexes or term in self._defaults

    def getter(self, term: str) -> Callable[[list[str]], str]:
        """Value of `term` in a row: its column, else the meta.xml default, else ""."""
        index = self.indexes.get(term)
        default = self._defaults.get(term, "")
        if index is None:
            return lambda values: default
        if default:
            return lambda values: values[index] or default
        return lambda values: values[index]

    def add_rule(self, rule: Rule, reads: tuple[int, ...] | None, passes: str | None = None, collects=False) -> None:
        self.rules.append(rule)
        self.shapes.append((rule, RuleShape(reads, passes, collects)))

    def reads(self, *terms: str) -> tuple[int, ...]:
        """The column indexes the getters of `terms` read."""
        return tuple(sorted({self.indexes[term] for term in terms if term in self.indexes}))

    def sql(self, term: str) -> str:
        """The getter of `term` as SQL over the columns c0, c1, ..."""
        index = self.indexes.get(term)
        default = sql_text(self._defaults.get(term, ""))
        if index is None:
            return default
        if self._defaults.get(term):
            return f"(CASE WHEN c{index} = '' THEN {default} ELSE c{index} END)"
        return f"c{index}"

    @property
    def is_occurrence(self) -> bool:
        return self.table.row_type == OCCURRENCE

    # -- compiling ---------------------------------------------------------------------------

    def _compile(self) -> None:
        for term, index in self.indexes.items():
            self._column_rule(term, index)
        self._identity_rules()
        for build in (
            self._coordinate_rule,
            self._event_date_rule,
            self._identified_date_rule,
            self._paired_rules,
            self._humboldt_rules,
            self._occurrence_rules,
            self._licence_rule,
            self._multimedia_rules,
            self._format_version_rule,
            self._text_rule,
        ):
            build()

    def _column_rule(self, term: str, index: int) -> None:
        declared = None
        if self.declaration is not None and term in self.declaration.terms:
            declared = self.declaration.column(term)
        prop = self.definition.properties.get(term) if self.definition else None
        item, code = TERM_RULES.get(term, (0, ""))
        if declared is not None:
            kind, severity = declared.kind, Severity.LOCAL
        else:
            kind = STANDARD_KINDS.get(term) or (DEFINITION_KINDS.get(prop.type) if prop and prop.type else None)
            if prop and prop.thesaurus == BOOLEAN_VOCABULARY:
                kind = Kind.BOOLEAN
            if term in MULTIMEDIA_URI_TERMS and self.table.row_type in MULTIMEDIA_ROW_TYPES:
                kind = Kind.URI
            severity = Severity.WARNING
        if prop and prop.thesaurus == BOOLEAN_VOCABULARY and term.startswith(ECO):
            item, code = 36, f"{_constant(term)}_INVALID"
        if term == DWC + "basisOfRecord":
            return  # its own rule (item 32, blocking)
        parser = kind_parser(kind) if kind else None
        code = code or (f"{kind.value.upper()}_INVALID" if kind else "VALUE_INVALID")
        required = declared is not None and declared.required and term not in self._defaults
        allowed: frozenset[str] | None = (
            frozenset(declared.vocabulary) if declared is not None and declared.vocabulary else None
        )
        allowed_labels: frozenset[str] | None = None
        if term == DWC + "occurrenceStatus" and allowed is None:
            allowed, severity, item, code = (
                frozenset({"present", "absent"}),
                severity,
                37,
                "OCCURRENCE_STATUS_UNPARSABLE",
            )
        elif allowed is None and prop and prop.thesaurus and prop.thesaurus != BOOLEAN_VOCABULARY:
            known = vocabulary(prop.thesaurus)
            allowed_labels = known.labels if known else None
        limited = declared is not None and (declared.max_length is not None or declared.bounds is not None)
        if not (parser or required or allowed or allowed_labels or limited):
            return None
        add, what = self.add, kind.value if kind else "value"

        def rule(line: int, values: list[str]) -> None:
            value = values[index]
            if not value:
                if required:
                    add(
                        item,
                        code if item else "REQUIRED_VALUE_MISSING",
                        Severity.LOCAL,
                        "required value is empty",
                        line,
                        term,
                    )
                return
            if parser is not None:
                try:
                    parser(value)
                except ValueError as error:
                    generic = isinstance(error, CellError) and not isinstance(error, Unstorable)
                    reason = "" if generic else f": {error}"
                    add(item, code, severity, f"{short(value)} is not a valid {what}{reason}", line, term)
                    return
            if limited:
                problem = declared.limit_error(int(value) if kind is Kind.INTEGER else value)
                if problem:
                    add(item, "VALUE_OUT_OF_RANGE", severity, f"{short(value)}: {problem}", line, term)
                    return
            if allowed is not None and value not in allowed:
                add(
                    item,
                    code if item else "VOCABULARY_INVALID",
                    severity,
                    f"{short(value)} is not one of {', '.join(sorted(allowed))}",
                    line,
                    term,
                )
            elif allowed_labels is not None and value.casefold() not in allowed_labels:
                add(
                    item,
                    code if item else "VOCABULARY_INVALID",
                    Severity.WARNING,
                    f"{short(value)} is not in the GBIF vocabulary {prop.thesaurus}",
                    line,
                    term,
                )

        passes = _column_passes(f"c{index}", kind if parser else None, required, allowed, allowed_labels)
        self.add_rule(rule, (index,), _within_limits(passes, f"c{index}", declared) if limited else passes)

    def _identity_rules(self) -> None:
        table, declaration = self.table, self.declaration
        if table.id_index is not None:
            if table.core:
                self.identities.append(
                    Identity(
                        table.id_index,
                        "",
                        24,
                        "RECORD_NOT_UNIQUELY_IDENTIFIED",
                        Severity.BLOCKING,
                        Severity.LOCAL,
                        True,
                        (24, "RECORD_IDENTIFIER_NOT_FOUND", Severity.BLOCKING),
                    )
                )
            else:
                add = self.add

                def empty_coreid(line: int, values: list[str], index: int = table.id_index) -> None:
                    if not values[index]:
                        add(
                            25,
                            "RECORD_REFERENTIAL_INTEGRITY_VIOLATION",
                            Severity.BLOCKING,
                            "empty coreid",
                            line,
                            column=index + 1,
                        )

                self.add_rule(empty_coreid, (table.id_index,), f"c{table.id_index} <> ''")
        if self.is_occurrence:
            index = self.indexes.get(DWC + "occurrenceID")
            if index is None:
                self.add(
                    26,
                    "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED",
                    Severity.BLOCKING,
                    "no occurrenceID column: GBIF drops every occurrence",
                    term=DWC + "occurrenceID",
                )
            elif index != table.id_index:
                self.identities.append(
                    Identity(
                        index,
                        DWC + "occurrenceID",
                        26,
                        "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED",
                        Severity.BLOCKING,
                        Severity.BLOCKING,
                        True,
                        (26, "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED", Severity.BLOCKING),
                    )
                )
        if declaration is not None:
            taken = {identity.index for identity in self.identities}
            for column in declaration.columns:
                index = self.indexes.get(column.term)
                if index is None or index in taken or index == table.id_index:
                    continue
                if column.unique or column.term == declaration.identifier_term:
                    self.identities.append(
                        Identity(
                            index,
                            column.term,
                            24,
                            "VALUE_NOT_UNIQUE",
                            Severity.LOCAL,
                            Severity.LOCAL,
                            column.unique,
                            None,
                        )
                    )
                    taken.add(index)
        for identity in self.identities:
            self.state.identifier_sets[(self.position, identity.index)] = IdentifierSet()

    def collect_identifiers(self, line: int, values: list[str]) -> None:
        """Empty identifiers are reported now; repeats once all keys are known (second pass)."""
        for identity in self.identities:
            value = values[identity.index]
            if value:
                self.state.identifier_sets[(self.position, identity.index)].add(value)
            elif identity.empty:
                self.add(*identity.empty, "identifier is empty", line, identity.term)

    def _coordinate_rule(self) -> None:
        lat_term, lon_term = DWC + "decimalLatitude", DWC + "decimalLongitude"
        if not (self.has(lat_term) or self.has(lon_term)):
            return
        self.state.has_coordinates = True
        latitude, longitude = self.getter(lat_term), self.getter(lon_term)
        datum, uncertainty = self.getter(DWC + "geodeticDatum"), self.getter(DWC + "coordinateUncertaintyInMeters")
        box = self.state.metadata.geographic_coverage if self.state.metadata else None
        add, eml = self.add, self.state.metadata_member

        def rule(line: int, values: list[str]) -> None:
            lat_text, lon_text = latitude(values), longitude(values)
            if not lat_text and not lon_text:
                return
            if not lat_text or not lon_text:
                add(
                    34,
                    "COORDINATE_INCOMPLETE",
                    Severity.WARNING,
                    "only one of decimalLatitude and decimalLongitude is set",
                    line,
                    lat_term if not lat_text else lon_term,
                )
                return
            try:
                lat, lon = number(lat_text), number(lon_text)
            except ValueError:
                return  # reported by the column rule
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                swapped = " (latitude and longitude swapped?)" if abs(lat) > 90 and abs(lon) <= 90 else ""
                add(
                    34,
                    "COORDINATE_OUT_OF_RANGE",
                    Severity.LOCAL,
                    f"coordinate {lat}, {lon} is outside -90..90, -180..180{swapped}",
                    line,
                    lat_term,
                )
                return
            if lat == 0 and lon == 0:
                add(
                    34,
                    "ZERO_COORDINATE",
                    Severity.WARNING,
                    "coordinate is 0, 0 (usually a missing value)",
                    line,
                    lat_term,
                )
            if not datum(values):
                add(
                    34,
                    "GEODETIC_DATUM_ASSUMED_WGS84",
                    Severity.WARNING,
                    "coordinates without geodeticDatum",
                    line,
                    DWC + "geodeticDatum",
                )
            uncertainty_text = uncertainty(values)
            if uncertainty_text:
                try:
                    if number(uncertainty_text) <= 0:
                        add(
                            34,
                            "COORDINATE_UNCERTAINTY_METERS_INVALID",
                            Severity.WARNING,
                            "coordinateUncertaintyInMeters must be > 0",
                            line,
                            DWC + "coordinateUncertaintyInMeters",
                        )
                except ValueError:
                    pass
            if box and not box.contains(lat, lon):
                where = f"W {box.west} E {box.east} N {box.north} S {box.south}"
                add(
                    46,
                    "COVERAGE_MISMATCH",
                    Severity.LOCAL,
                    f"coordinate {lat}, {lon} is outside the bounding box of {eml} ({where})",
                    line,
                    lat_term,
                )

        self.add_rule(
            rule, self.reads(lat_term, lon_term, DWC + "geodeticDatum", DWC + "coordinateUncertaintyInMeters")
        )

    def _event_date_rule(self) -> None:
        term = DWC + "eventDate"
        if not self.has(term):
            return
        self.state.has_dates = True
        event_date = self.getter(term)
        year, month, day = (self.getter(DWC + name) for name in ("year", "month", "day"))
        has_parts = any(self.has(DWC + name) for name in ("year", "month", "day"))
        temporal = self.state.metadata.temporal_coverage if self.state.metadata else None
        add, eml, today = self.add, self.state.metadata_member, self.state.today

        def rule(line: int, values: list[str]) -> None:
            text = event_date(values)
            if not text:
                return
            try:
                dates = parse_event_date(text)
            except ValueError:
                return  # reported by the column rule
            if dates.start > today + dt.timedelta(days=1):
                add(33, "RECORDED_DATE_UNLIKELY", Severity.WARNING, f"eventDate {text} is in the future", line, term)
            if has_parts and not _parts_inside(dates, year(values), month(values), day(values)):
                add(
                    33,
                    "RECORDED_DATE_MISMATCH",
                    Severity.WARNING,
                    f"year/month/day fall outside eventDate {text} (GBIF keeps only the year)",
                    line,
                    term,
                )
            if temporal and (dates.start < temporal.begin or dates.end > temporal.end):
                add(
                    46,
                    "COVERAGE_MISMATCH",
                    Severity.LOCAL,
                    f"eventDate {text} is outside the temporal coverage of {eml} ({temporal.begin}/{temporal.end})",
                    line,
                    term,
                )

        self.add_rule(rule, self.reads(term, DWC + "year", DWC + "month", DWC + "day"))

    def _identified_date_rule(self) -> None:
        term = DWC + "dateIdentified"
        if not self.has(term):
            return
        date_identified, add, today = self.getter(term), self.add, self.state.today

        def rule(line: int, values: list[str]) -> None:
            text = date_identified(values)
            if not text:
                return
            try:
                dates = parse_event_date(text)
            except ValueError:
                return
            if dates.start > today + dt.timedelta(days=1):
                add(
                    33,
                    "IDENTIFIED_DATE_UNLIKELY",
                    Severity.WARNING,
                    f"dateIdentified {text} is in the future",
                    line,
                    term,
                )

        self.add_rule(rule, self.reads(term))

    def _paired_rules(self) -> None:
        for first, second in PAIRED_TERMS:
            if not (self.has(first) or self.has(second)):
                continue
            get_first, get_second, add = self.getter(first), self.getter(second), self.add

            def rule(
                line: int, values: list[str], first=first, second=second, get_first=get_first, get_second=get_second
            ) -> None:
                has_first, has_second = bool(get_first(values)), bool(get_second(values))
                if has_first != has_second:
                    present, missing = (first, second) if has_first else (second, first)
                    add(
                        35,
                        "PAIRED_TERM_MISSING",
                        Severity.WARNING,
                        f"{_local(present)} is set without {_local(missing)}",
                        line,
                        missing,
                    )

            self.add_rule(rule, self.reads(first, second), f"(({self.sql(first)} = '') = ({self.sql(second)} = ''))")

    def _humboldt_rules(self) -> None:
        for flag, detail, code in HUMBOLDT_CONSISTENCY:
            if not (self.has(flag) and self.has(detail)):
                continue
            get_flag, get_detail, add = self.getter(flag), self.getter(detail), self.add

            def rule(
                line: int,
                values: list[str],
                flag=flag,
                detail=detail,
                code=code,
                get_flag=get_flag,
                get_detail=get_detail,
            ) -> None:
                if get_flag(values) == "false" and get_detail(values):
                    add(
                        36,
                        code,
                        Severity.WARNING,
                        f"{_local(flag)} is false but {_local(detail)} is filled",
                        line,
                        flag,
                    )

            self.add_rule(
                rule, self.reads(flag, detail), f"NOT ({self.sql(flag)} = 'false' AND {self.sql(detail)} <> '')"
            )

    def _occurrence_rules(self) -> None:
        status_term, count_term = DWC + "occurrenceStatus", DWC + "individualCount"
        if self.has(count_term):
            status, count, add = self.getter(status_term), self.getter(count_term), self.add

            def count_rule(line: int, values: list[str]) -> None:
                text = count(values)
                if not text:
                    return
                try:
                    number = parse_value(Kind.INTEGER, text)
                except ValueError:
                    return  # reported by the column rule
                if number < 0:
                    add(
                        37,
                        "INDIVIDUAL_COUNT_INVALID",
                        Severity.WARNING,
                        f"individualCount {number} is negative",
                        line,
                        count_term,
                    )
                elif (number == 0) != (status(values) == "absent") and status(values):
                    add(
                        37,
                        "INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS",
                        Severity.WARNING,
                        f"individualCount {number} with occurrenceStatus {status(values)}",
                        line,
                        count_term,
                    )

            self.add_rule(count_rule, self.reads(status_term, count_term))
        if not self.is_occurrence:
            return
        basis_term = DWC + "basisOfRecord"
        if not self.has(basis_term):
            self.add(
                32,
                "BASIS_OF_RECORD_INVALID",
                Severity.BLOCKING,
                "no basisOfRecord column (the IPT refuses to publish)",
                term=basis_term,
            )
        else:
            known = vocabulary("http://rs.gbif.org/vocabulary/dwc/basis_of_record_2024-02-19.xml")
            allowed = {value.casefold() for value in known.identifiers} if known else set()
            basis, add = self.getter(basis_term), self.add

            def basis_rule(line: int, values: list[str]) -> None:
                value = basis(values)
                if not value:
                    add(32, "BASIS_OF_RECORD_INVALID", Severity.BLOCKING, "basisOfRecord is empty", line, basis_term)
                elif value.casefold() not in allowed:
                    add(
                        32,
                        "BASIS_OF_RECORD_INVALID",
                        Severity.BLOCKING,
                        f"{short(value)} is not a Darwin Core basisOfRecord (MachineObservation for camera traps)",
                        line,
                        basis_term,
                    )

            self.add_rule(basis_rule, self.reads(basis_term))
        for term in (DWC + "scientificName", DWC + "kingdom"):
            if not self.has(term):
                self.add(38, "TAXON_TERM_MISSING", Severity.WARNING, f"no {_local(term)} column", term=term)
            else:
                get, add = self.getter(term), self.add

                def name_rule(line: int, values: list[str], term=term, get=get) -> None:
                    if not get(values):
                        add(38, "TAXON_TERM_MISSING", Severity.WARNING, f"{_local(term)} is empty", line, term)

                self.add_rule(name_rule, self.reads(term), f"{self.sql(term)} <> ''")
        event_index = self.indexes.get(DWC + "eventID")
        coreid = self.table.id_index
        if not self.table.core and event_index is not None and coreid is not None and event_index != coreid:
            add = self.add

            def event_rule(line: int, values: list[str]) -> None:
                if values[event_index] and values[event_index] != values[coreid]:
                    add(
                        28,
                        "OCCURRENCE_EVENT_MISMATCH",
                        Severity.LOCAL,
                        f"eventID {short(values[event_index])} differs from the coreid {short(values[coreid])}",
                        line,
                        DWC + "eventID",
                    )

            self.add_rule(event_rule, (event_index, coreid), f"(c{event_index} = '' OR c{event_index} = c{coreid})")

    def _licence_rule(self) -> None:
        term = DCTERMS + "license"
        if not self.has(term):
            return
        get, add = self.getter(term), self.add
        dataset = self.state.metadata.licence if self.state.metadata else None
        eml = self.state.metadata_member

        def rule(line: int, values: list[str]) -> None:
            value = get(values)
            if not value:
                return
            licence = _licence(value)
            if licence is None:
                add(
                    40,
                    "LICENSE_UNSUPPORTED",
                    Severity.WARNING,
                    f"{short(value)} is not CC0 1.0, CC BY 4.0 or CC BY-NC 4.0",
                    line,
                    term,
                )
            elif dataset and licence != dataset:
                add(
                    40,
                    "LICENSE_CONFLICT",
                    Severity.LOCAL,
                    f"record licence {licence} differs from the dataset licence {dataset} in {eml}",
                    line,
                    term,
                )

        self.add_rule(rule, self.reads(term))

    def _multimedia_rules(self) -> None:
        if self.table.row_type not in MULTIMEDIA_ROW_TYPES:
            return
        add = self.add
        for term in (DCTERMS + "type", DC + "type"):
            if self.has(term):
                get = self.getter(term)

                def type_rule(line: int, values: list[str], term=term, get=get) -> None:
                    value = get(values)
                    if value and value.replace(" ", "").casefold() != "stillimage":
                        add(
                            39,
                            "MULTIMEDIA_TYPE",
                            Severity.WARNING,
                            f"type {short(value)} is not StillImage",
                            line,
                            term,
                        )

                self.add_rule(type_rule, self.reads(term))
        for term in (DCTERMS + "format", DC + "format"):
            if self.has(term):
                get = self.getter(term)

                def format_rule(line: int, values: list[str], term=term, get=get) -> None:
                    value = get(values)
                    if value:
                        try:
                            parse_mime_type(value)
                        except ValueError as error:
                            add(
                                39,
                                "MULTIMEDIA_FORMAT_INVALID",
                                Severity.WARNING,
                                f"{short(value)}: {error}",
                                line,
                                term,
                            )

                self.add_rule(format_rule, self.reads(term))
        media_term = DCTERMS + "identifier" if self.has(DCTERMS + "identifier") else AC + "accessURI"
        if not self.has(media_term):
            return
        owner = self.getter(DWC + "occurrenceID") if self.has(DWC + "occurrenceID") else None
        coreid = self.table.id_index
        media = self.getter(media_term)
        pairs = self.state.media_pairs.setdefault(self.position, IdentifierSet())

        def pair_rule(line: int, values: list[str]) -> None:
            holder = owner(values) if owner else (values[coreid] if coreid is not None else "")
            pairs.add_key(media_pair_key(holder, media(values)))

        self.add_rule(pair_rule, None, collects=True)
        self.media_pair_source = (owner, coreid, media)
        holder_sql = self.sql(DWC + "occurrenceID") if owner else (f"c{coreid}" if coreid is not None else "''")
        self.media_pair_sql = (holder_sql, self.sql(media_term))

    def _format_version_rule(self) -> None:
        if not self.has(FORMAT_VERSION_TERM):
            return
        get, add = self.getter(FORMAT_VERSION_TERM), self.add

        def rule(line: int, values: list[str]) -> None:
            value = get(values)
            if not value:
                return  # reported as a required value
            try:
                version = parse_value(Kind.INTEGER, value)
            except ValueError:
                return  # reported by the column rule
            refusal = unsupported(version)
            if refusal:
                add(0, "FORMAT_VERSION_UNSUPPORTED", Severity.BLOCKING, refusal, line, FORMAT_VERSION_TERM)

        self.add_rule(rule, self.reads(FORMAT_VERSION_TERM))

    def _text_rule(self) -> None:
        """Item 23 (literal NULL, HTML entities) and item 47 (e-mail addresses, gbif profile)."""
        terms = [""] * self.table.width
        for term, index in self.indexes.items():
            terms[index] = term
        emails = self.state.profile == GBIF_PROFILE
        member = self.member

        def at(item, code, severity, message, line, index):
            self.report(
                Finding(item, code, severity, message, file=member, line=line, column=index + 1, term=terms[index])
            )

        def rule(line: int, values: list[str]) -> None:
            text = _UNIT_SEPARATOR.join(values)
            if "\\N" in text or "ull" in text or "ULL" in text:
                for index, value in enumerate(values):
                    if value == "\\N" or value.casefold() == "null":
                        at(
                            23,
                            "LITERAL_NULL",
                            Severity.WARNING,
                            f"literal {value} (some readers turn it into an empty value)",
                            line,
                            index,
                        )
            if "&" in text and _HTML_ENTITY.search(text):
                for index, value in enumerate(values):
                    if "&" in value and _HTML_ENTITY.search(value):
                        at(
                            23,
                            "HTML_ENTITY",
                            Severity.WARNING,
                            f"HTML entity {_HTML_ENTITY.search(value).group(0)} (GBIF unescapes it)",
                            line,
                            index,
                        )
            if emails and "@" in text and EMAIL.search(text):
                for index, value in enumerate(values):
                    if "@" in value and EMAIL.search(value):
                        at(
                            47,
                            "PERSONAL_DATA_EMAIL",
                            Severity.LOCAL,
                            "e-mail address in a data file of the gbif profile",
                            line,
                            index,
                        )

        # the raw line holds every value: no rule finding without one of these substrings in it
        markers = ["\\N", "ull", "ULL", "&"] + (["@"] if emails else [])
        self.add_rule(rule, None, "NOT (" + " OR ".join(f"contains(line, {sql_text(m)})" for m in markers) + ")")

    # -- running ------------------------------------------------------------------------------

    def check_header(self, header: list[str]) -> None:
        """Item 19 (advisory): header cells name the mapped terms."""
        for term, index in self.indexes.items():
            if index < len(header) and index != self.table.id_index:
                expected = term.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
                if header[index] != expected:
                    self.add(
                        19,
                        "HEADER_NAME_MISMATCH",
                        Severity.WARNING,
                        f"header {header[index]!r} does not name the mapped term {expected}",
                        1,
                        term,
                        index + 1,
                    )
                    return

    def check(self, line: int, values: list[str]) -> None:
        for rule in self.rules:
            rule(line, values)
        if self.identities:
            self.collect_identifiers(line, values)


_DECIMAL_SHAPE = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def number(text: str) -> float:
    """A decimal cell as a float (the common shape directly, anything else through parse_value)."""
    return float(text) if _DECIMAL_SHAPE.fullmatch(text) else parse_value(Kind.DECIMAL, text)


_licence = functools.lru_cache(maxsize=256)(parse_licence)  # one or two licence URLs on millions of rows


def media_pair_key(holder: str, media: str) -> bytes:
    return hashlib.blake2b(f"{holder}\x1f{media}".encode(), digest_size=16).digest()


def _parts_inside(dates, year: str, month: str, day: str) -> bool:
    """year/month/day (when set) lie inside the eventDate interval."""
    try:
        y = int(year) if year else None
        m = int(month) if month else None
        d = int(day) if day else None
    except ValueError:
        return True  # reported as syntax
    if y is not None and not dates.start.year <= y <= dates.end.year:
        return False
    if y is not None and m is not None:
        if (y, m) < (dates.start.year, dates.start.month) or (y, m) > (dates.end.year, dates.end.month):
            return False
        if d is not None:
            try:
                return dates.start <= dt.date(y, m, d) <= dates.end
            except ValueError:
                return False
    return True


def _local(term: str) -> str:
    return term.rstrip("/").rsplit("/", 1)[-1]


def _constant(term: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", _local(term)).upper()


def _within_limits(passes: str | None, column: str, declared) -> str | None:
    """`passes` narrowed to values within the target column's limits (Column.max_length, .bounds):
    a longer text or an integer out of range must reach the Python rule, which names it."""
    if passes is None:
        return None
    conditions = [passes]
    if declared.max_length is not None:
        conditions.append(f"({column} = '' OR length({column}) <= {int(declared.max_length)})")
    if declared.bounds is not None:
        low, high = (int(bound) for bound in declared.bounds)
        conditions.append(f"({column} = '' OR try_cast({column} AS HUGEINT) BETWEEN {low} AND {high})")
    return " AND ".join(conditions)


def _column_passes(
    column: str,
    kind: Kind | None,
    required: bool,
    allowed: frozenset[str] | None,
    allowed_labels: frozenset[str] | None,
) -> str | None:
    """SQL that holds only where the column rule passes silently; None when it has no SQL form."""
    if allowed_labels is not None:
        return None  # case-folded vocabularies: few distinct values, checked in Python
    conditions = []
    if kind is not None:
        shape = sql_shape(kind, column)
        if shape is None:
            return None
        conditions.append(shape)
    if allowed is not None:
        conditions.append(f"{column} IN ({', '.join(sql_text(value) for value in sorted(allowed))})")
    body = " AND ".join(conditions) or "true"
    return f"({column} <> '' AND {body})" if required else f"({column} = '' OR ({body}))"
