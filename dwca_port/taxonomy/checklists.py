"""The GBIF checklists a taxon key can belong to. A key means nothing without its checklist:
Backbone keys are integers ("1427067"), Catalogue of Life XR keys short codes ("Q2M4")."""

from __future__ import annotations

import re

BACKBONE = "d7dddbf4-2cf0-4f39-9b2a-bb099caae36c"  # GBIF Backbone Taxonomy, frozen since 2023-08-28
COL_XR = "7ddf754f-d193-4cc9-b351-99906754a03b"  # Catalogue of Life Extended Release, GBIF's default now

TITLES = {
    BACKBONE: "GBIF Backbone Taxonomy",
    COL_XR: "Catalogue of Life XR",
}
_ALIASES = {
    "backbone": BACKBONE,
    "gbif-backbone": BACKBONE,
    "gbif": BACKBONE,
    "col-xr": COL_XR,
    "colxr": COL_XR,
    "col": COL_XR,
    "3lxrc": COL_XR,  # ChecklistBank alias of COL XR
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def resolve_checklist(value: str) -> str | None:
    """An alias ('backbone', 'col-xr') or a dataset UUID -> the checklist key; None otherwise
    (the caller then treats the value as a file path)."""
    text = (value or "").strip()
    if text.lower() in _ALIASES:
        return _ALIASES[text.lower()]
    if _UUID.match(text):
        return text.lower()
    return None


def describe(checklist_key: str) -> str:
    return TITLES.get(checklist_key, checklist_key or "unknown checklist")


def effective_checklist(key: str | None, checklist_key: str | None) -> str:
    """The checklist of a stored key. Antenna rows written before checklist keys existed hold
    Backbone integers: an integer key without a checklist is read as a Backbone key."""
    if checklist_key:
        return checklist_key
    if key and str(key).strip().isdigit():
        return BACKBONE
    return ""


def legacy_key(checklist_key: str, key: str | None) -> int | None:
    """The value for Antenna's integer `gbif_taxon_key`: only a Backbone key fits there."""
    if checklist_key == BACKBONE and key and str(key).isdigit():
        return int(key)
    return None
