"""Collects findings for a Report, keeping a defect repeated on a million rows to a readable size."""

from __future__ import annotations

from collections import Counter

from dwca_port.findings import Finding, Report

MAX_PER_CODE_AND_FILE = 20


class FindingCollector:
    def __init__(self, max_per_code: int = MAX_PER_CODE_AND_FILE):
        self.report = Report()
        self._max = max_per_code
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._first: dict[tuple[str, str, str], Finding] = {}

    def add(self, finding: Finding) -> None:
        key = (finding.file, finding.code, finding.severity.value)
        self._counts[key] += 1
        if self._counts[key] <= self._max:
            self.report.add(finding)
            self._first.setdefault(key, finding)

    def extend(self, findings) -> None:
        for finding in findings:
            self.add(finding)

    def finish(self) -> Report:
        """Add one summary finding per capped (file, code): same rule, the count of the rest."""
        for key, count in self._counts.items():
            if count > self._max:
                first = self._first[key]
                self.report.add(
                    Finding(
                        first.item,
                        first.code,
                        first.severity,
                        f"... and {count - self._max} more like this (not listed)",
                        file=first.file,
                        term=first.term,
                    )
                )
        self._counts.clear()
        return self.report
