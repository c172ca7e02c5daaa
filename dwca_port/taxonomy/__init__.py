"""Taxonomy reconciliation: map archived taxa onto a target instance's taxonomy.

Layout: `names` parses names; `matchers/` answers "which taxon is this name?" (GBIF API or a
local checklist); `target` and `django_target` look up the instance's own taxa; `reconcile`
decides per archived taxon; `create` writes the missing taxa; `report` explains the decisions.
"""
