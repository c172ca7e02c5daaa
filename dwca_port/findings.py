"""What the checks report: one Finding per problem, tied to a checklist item and a place."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Severity(str, enum.Enum):
    """Checklist severities (reference dwca-standards.md section 4).

    BLOCKING: GBIF would not index the data or the IPT refuses it.
    LOCAL: a robustness rule without which common readers break.
    WARNING: GBIF flags it but indexes the data.
    BLOCKING and LOCAL both fail validation; WARNING does not.
    """

    BLOCKING = "B"
    LOCAL = "L"
    WARNING = "W"

    @property
    def blocks(self) -> bool:
        return self is not Severity.WARNING


@dataclass(frozen=True)
class Finding:
    item: int  # checklist item number, 1-47 (reference section 4); 0 for toolkit-specific rules
    code: str  # a stable upper-case code, e.g. DWCA_META_XML_SCHEMA, OCCURRENCE_NOT_UNIQUELY_IDENTIFIED
    severity: Severity
    message: str
    file: str = ""  # archive member, e.g. "occurrence.txt" or "meta.xml"
    line: int | None = None  # 1-based physical line in that member
    column: int | None = None  # 1-based column (field position) in a data file
    term: str = ""  # the term (column) concerned, when there is one

    @property
    def blocks(self) -> bool:
        return self.severity.blocks

    def location(self) -> str:
        place = self.file or "archive"
        if self.line is not None:
            place += f", line {self.line}"
        if self.column is not None:
            place += f", column {self.column}"
        if self.term:
            place += f" ({self.term.rsplit('/', 1)[-1]})"
        return place

    def __str__(self) -> str:
        return f"{self.location()}: {self.message} [{self.severity.value} #{self.item} {self.code}]"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    columnar: bool = False  # the data files were proven clean set-wise (dwca_port/checks/columnar.py)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocks]

    @property
    def ok(self) -> bool:
        return not self.blocking


def one_line(error: BaseException) -> str:
    """An error's text on one line (a database error's DETAIL and HINT lines joined), for a refusal."""
    return " ".join(str(error).split()) or type(error).__name__
