"""What supports an occurrence's determination, the rule written once, in Python and in SQL.

- The standing human identification: the latest one not withdrawn. Its identifier is named by
  role, never by name ("Identifier (Antenna project member)").
- The best machine evidence: among the classifications of the occurrence's detections, a
  terminal one first, then the highest score (a missing score counts as -1), then the earliest
  detection; within a detection the latest, then by UUID.
- A detection's top classification: terminal first, then score, then the latest, then by UUID.

`Evidence.of(occurrences, roles)` applies the rule to a chunk of occurrences (the portable
export); `evidence_ctes` gives the same as SQL common table expressions (the PostgreSQL export).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass, field

from ami.main.models import Classification, Detection, Identification

FORMER_MEMBER = "Former member"
MEMBER_SUFFIX = " (Antenna project member)"


def algorithm_label(name: str | None, version_name: str | None) -> str | None:
    """A model as published: "<name> (version <version_name>)"; None without a name."""
    return f"{name} (version {version_name})" if name else None


def algorithm_label_sql(alias: str) -> str:
    version = f"COALESCE({alias}.version_name, 'None')"
    return f"CASE WHEN {alias}.name <> '' THEN {alias}.name || ' (version ' || {version} || ')' END"


@dataclass(frozen=True)
class HumanIdentification:
    role: str
    created_at: datetime.datetime
    agreed: bool


@dataclass(frozen=True)
class MachineEvidence:
    algorithm: str | None
    timestamp: datetime.datetime
    label: str | None
    score: float | None


@dataclass(frozen=True)
class Capture:
    """The capture a detection was made on."""

    uuid: str
    timestamp: datetime.datetime | None
    url: str | None  # public URL, when its storage has a public base URL
    width: int | None
    height: int | None


@dataclass(frozen=True)
class DetectionEvidence:
    pk: int
    uuid: str
    bbox: list | None
    timestamp: datetime.datetime | None
    detection_score: float | None
    algorithm: str | None
    detected_at: datetime.datetime | None  # when the detector ran
    crop: str | None  # the crop's URL, when it is one (http or https)
    capture: Capture


def capture_url(base: str | None, path: str | None) -> str | None:
    """A capture's public URL: its storage's public base URL and its path."""
    return f"{base.rstrip('/')}/{(path or '').lstrip('/')}" if base else None


def capture_url_sql(alias: str) -> str:
    url = f"rtrim({alias}.public_base_url, '/') || '/' || ltrim({alias}.path, '/')"
    return f"CASE WHEN {alias}.public_base_url <> '' THEN {url} END"


def is_url(path: str | None) -> bool:
    """A crop path that is a URL (else it is a relative media path: not published)."""
    return bool(path) and path.startswith(("http://", "https://"))


IS_URL_SQL = "~ '^https?://'"


@dataclass
class Evidence:
    """What supports the determinations of one chunk of occurrences (keyed by occurrence pk,
    top classifications by detection pk)."""

    identifications: dict[int, HumanIdentification] = field(default_factory=dict)
    best: dict[int, MachineEvidence] = field(default_factory=dict)
    detections: dict[int, list[DetectionEvidence]] = field(default_factory=lambda: defaultdict(list))
    top_classification: dict[int, MachineEvidence] = field(default_factory=dict)

    @classmethod
    def of(cls, occurrences: list, roles: dict[int, str]) -> Evidence:
        evidence = cls()
        ids = [o.pk for o in occurrences]
        standing = (
            Identification.objects.filter(occurrence_id__in=ids, withdrawn=False)
            .order_by("occurrence_id", "-created_at", "-pk")
            .values_list(
                "occurrence_id", "user_id", "created_at", "agreed_with_prediction_id", "agreed_with_identification_id"
            )
        )
        for occurrence_id, user_id, created_at, agreed_prediction, agreed_identification in standing:
            if occurrence_id not in evidence.identifications:
                role = roles.get(user_id, FORMER_MEMBER)
                evidence.identifications[occurrence_id] = HumanIdentification(
                    role + MEMBER_SUFFIX, created_at, bool(agreed_prediction or agreed_identification)
                )
        detections = (
            Detection.objects.filter(occurrence_id__in=ids)
            .order_by("occurrence_id", "uuid")
            .values_list(
                "pk",
                "occurrence_id",
                "uuid",
                "bbox",
                "timestamp",
                "detection_score",
                "detection_algorithm__name",
                "detection_algorithm__version_name",
                "detection_time",
                "path",
                "source_image__uuid",
                "source_image__timestamp",
                "source_image__public_base_url",
                "source_image__path",
                "source_image__width",
                "source_image__height",
            )
        )
        detection_occurrence = {}
        for pk, occurrence_id, uuid, bbox, timestamp, score, name, version, detected_at, crop, *shot in detections:
            capture_uuid, taken, base, path, width, height = shot
            capture = Capture(str(capture_uuid), taken, capture_url(base, path), width, height)
            evidence.detections[occurrence_id].append(
                DetectionEvidence(
                    pk,
                    str(uuid),
                    bbox,
                    timestamp,
                    score,
                    algorithm_label(name, version),
                    detected_at,
                    crop if is_url(crop) else None,
                    capture,
                )
            )
            detection_occurrence[pk] = occurrence_id
        classifications = Classification.objects.filter(detection__occurrence_id__in=ids).values_list(
            "detection_id",
            "score",
            "timestamp",
            "taxon__name",
            "algorithm__name",
            "algorithm__version_name",
            "terminal",
            "uuid",
        )
        # Within a detection: terminal, score (missing last), latest, UUID.
        ordered = sorted(
            classifications, key=lambda c: (c[0], not c[6], c[1] is None, -(c[1] or 0), _descending(c[2]), str(c[7]))
        )
        best_rank: dict[int, tuple] = {}
        for detection_id, score, timestamp, label, name, version, terminal, _ in ordered:
            found = MachineEvidence(algorithm_label(name, version), timestamp, label, score)
            evidence.top_classification.setdefault(detection_id, found)
            occurrence_id = detection_occurrence[detection_id]
            rank = (terminal, score if score is not None else -1.0)
            if occurrence_id not in best_rank or rank > best_rank[occurrence_id]:
                best_rank[occurrence_id] = rank
                evidence.best[occurrence_id] = found
        return evidence


_EPOCH = datetime.datetime(1970, 1, 1)


def _descending(moment: datetime.datetime) -> datetime.timedelta:
    return _EPOCH - moment.replace(tzinfo=None)  # naive arithmetic: wall-clock order, as the database sorts


def evidence_ctes(published: tuple[str, list], roles: dict[int, str], tables: dict[str, str]) -> tuple[str, list]:
    """The rule as SQL: pub(id) the published occurrences (`published` is their SELECT), human
    the standing identification of each, best the machine evidence behind each, top the top
    classification of each of their detections, occ the published occurrences."""
    t = tables
    sql, params = published
    members = [{"user_id": user_id, "role": role} for user_id, role in roles.items()]
    ctes = f"""
        pub(id) AS ({sql}),
        roles AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(user_id bigint, role text)),
        human AS (
            SELECT DISTINCT ON (i.occurrence_id) i.occurrence_id,
                   COALESCE(r.role, '{FORMER_MEMBER}') || '{MEMBER_SUFFIX}' AS role, i.created_at,
                   (i.agreed_with_prediction_id IS NOT NULL OR i.agreed_with_identification_id IS NOT NULL) AS agreed
            FROM {t["identification"]} i JOIN pub ON pub.id = i.occurrence_id LEFT JOIN roles r ON r.user_id = i.user_id
            WHERE NOT i.withdrawn
            ORDER BY i.occurrence_id, i.created_at DESC, i.id DESC),
        ranked AS (
            SELECT c.detection_id, d.occurrence_id, c.score, c.timestamp, c.terminal, c.uuid, ct.name AS label,
                   {algorithm_label_sql("a")} AS algorithm
            FROM {t["classification"]} c JOIN {t["detection"]} d ON d.id = c.detection_id
                 JOIN pub ON pub.id = d.occurrence_id
                 LEFT JOIN {t["taxon"]} ct ON ct.id = c.taxon_id LEFT JOIN {t["algorithm"]} a ON a.id = c.algorithm_id),
        top AS (
            SELECT DISTINCT ON (detection_id) * FROM ranked
            ORDER BY detection_id, terminal DESC, score DESC NULLS LAST, timestamp DESC, uuid),
        best AS (
            SELECT DISTINCT ON (occurrence_id) * FROM ranked
            ORDER BY occurrence_id, terminal DESC, COALESCE(score, -1) DESC, detection_id, timestamp DESC, uuid)
    """
    return ctes, [*params, json.dumps(members)]
