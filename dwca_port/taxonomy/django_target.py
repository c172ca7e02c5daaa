"""The target taxonomy read from main.Taxon, set-wise: `prefetch` loads every taxon an archive's
names and keys can reach in a few queries (names, keys, the non-canonical names, then the
ancestors level by level), and the lookups answer from memory."""

from __future__ import annotations

from collections.abc import Iterable

from .checklists import BACKBONE
from .names import name_key, normalize_spaces, parse_name
from .ranks import normalize_rank
from .target import TargetTaxon, TargetTaxonomy, TaxonIndex

_FIELDS = (
    "id",
    "name",
    "rank",
    "author",
    "parent_id",
    "synonym_of_id",
    "gbif_key",
    "gbif_checklist_key",
    "gbif_taxon_key",
)
# Names that are not bare canonical names: authorship, "complex", "sp.", "(prov. plcmt.)", hybrids.
# Their canonical form is only known after parsing, so they are loaded once, all together.
_NON_CANONICAL = r"^\S+ \S+ |\.|\(|×| x "
_CHUNK = 500


class DjangoTargetTaxonomy(TargetTaxonomy):
    def __init__(self, queryset=None, using: str | None = None):
        from ami.main.models import Taxon

        manager = Taxon._base_manager  # no select_related: only plain columns are read
        self.queryset = queryset if queryset is not None else manager.all()
        if using:
            self.queryset = self.queryset.using(using)
        self.index = TaxonIndex()
        self.queries = 0
        self.unprefetched_lookups = 0  # lookups the engine forgot to prefetch (tests keep it at 0)
        self._names_seen: set[str] = set()
        self._keys_seen: set[tuple[str, str]] = set()
        self._non_canonical_loaded = False
        self._absent_ids: set = set()

    # --- loading --------------------------------------------------------------------------------

    def prefetch(self, names: Iterable[str] = (), keys: Iterable[tuple[str, str]] = ()) -> None:
        wanted_names = set()
        for name in names:
            name = normalize_spaces(name)
            if name and name_key(name) not in self._names_seen:
                wanted_names.update({name, parse_name(name).taxon_name})
                self._names_seen.update({name_key(name), name_key(parse_name(name).taxon_name)})
        wanted_keys = {(c, str(k)) for c, k in keys if k} - self._keys_seen
        self._keys_seen |= wanted_keys

        if not self._non_canonical_loaded and (wanted_names or wanted_keys):
            self._load(self.queryset.filter(name__regex=_NON_CANONICAL))
            self._non_canonical_loaded = True
        for chunk in _chunks(sorted(n for n in wanted_names if n)):
            self._load(self.queryset.filter(name__in=chunk))
        string_keys = sorted({k for _, k in wanted_keys})
        for chunk in _chunks(string_keys):
            self._load(self.queryset.filter(gbif_key__in=chunk))
        legacy = sorted({int(k) for c, k in wanted_keys if c == BACKBONE and k.isdigit()})
        for chunk in _chunks(legacy):
            self._load(self.queryset.filter(gbif_taxon_key__in=chunk))
        self._load_ancestors()

    def _load(self, queryset) -> list[TargetTaxon]:
        self.queries += 1
        loaded = []
        for row in queryset.values_list(*_FIELDS):
            values = dict(zip(_FIELDS, row))
            values["rank"] = normalize_rank(values["rank"])
            values["author"] = values["author"] or ""
            values["gbif_checklist_key"] = values["gbif_checklist_key"] or ""
            taxon = TargetTaxon(**values)
            self.index.add(taxon)
            loaded.append(taxon)
        return loaded

    def _load_ancestors(self) -> None:
        """Parents and accepted taxa of everything loaded, one query per tree level."""
        while True:
            missing = {t.parent_id for t in self.index.by_id.values() if t.parent_id is not None}
            missing |= {t.synonym_of_id for t in self.index.by_id.values() if t.synonym_of_id is not None}
            missing -= set(self.index.by_id)
            if not missing:
                return
            for chunk in _chunks(sorted(missing)):
                if not self._load(self.queryset.filter(id__in=chunk)):
                    return  # dangling ids (filtered queryset): nothing more to follow

    # --- lookups --------------------------------------------------------------------------------

    def by_name(self, name: str) -> list[TargetTaxon]:
        if name_key(parse_name(name).taxon_name) not in self._names_seen:
            self.unprefetched_lookups += 1
            self.prefetch(names=[name])
        return self.index.named(name)

    def by_key(self, checklist_key: str, key: str) -> list[TargetTaxon]:
        if (checklist_key, str(key)) not in self._keys_seen:
            self.unprefetched_lookups += 1
            self.prefetch(keys=[(checklist_key, str(key))])
        return list(self.index.by_key.get((checklist_key, str(key)), ()))

    def get(self, taxon_id) -> TargetTaxon | None:
        if taxon_id not in self.index.by_id and taxon_id not in self._absent_ids:
            if not self._load(self.queryset.filter(id=taxon_id)):
                self._absent_ids.add(taxon_id)
        return self.index.by_id.get(taxon_id)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]
