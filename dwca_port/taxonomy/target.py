"""The target side: the taxonomy of the instance an archive is imported into.

`TargetTaxonomy` is what the reconciliation engine asks: taxa by (checklist, key), by canonical
name, and their parent chains. `prefetch` lets an implementation load everything an archive
needs in a few set-wise queries before the questions start. `InMemoryTargetTaxonomy` serves
tests and benchmarks; `django_target.DjangoTargetTaxonomy` reads main.Taxon.
"""

from __future__ import annotations

import abc
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .checklists import BACKBONE, effective_checklist
from .names import name_key, parse_name
from .ranks import UNKNOWN, normalize_rank, rank_position


@dataclass(frozen=True)
class TargetTaxon:
    id: object
    name: str
    rank: str = UNKNOWN
    author: str = ""
    parent_id: object = None
    synonym_of_id: object = None
    gbif_key: str | None = None
    gbif_checklist_key: str = ""
    gbif_taxon_key: int | None = None  # upstream's integer Backbone key

    def keys(self) -> set[tuple[str, str]]:
        """Every (checklist, key) this taxon is known by."""
        found = set()
        if self.gbif_key:
            checklist = effective_checklist(self.gbif_key, self.gbif_checklist_key)
            if checklist:
                found.add((checklist, str(self.gbif_key)))
        if self.gbif_taxon_key:
            found.add((BACKBONE, str(self.gbif_taxon_key)))
        return found


class TargetTaxonomy(abc.ABC):
    def prefetch(self, names: Iterable[str] = (), keys: Iterable[tuple[str, str]] = ()) -> None:
        """Load what lookups of these names and keys will need (a no-op in memory)."""

    @abc.abstractmethod
    def by_key(self, checklist_key: str, key: str) -> list[TargetTaxon]:
        """Taxa holding this key of this checklist (Antenna data can give one key to several)."""

    @abc.abstractmethod
    def by_name(self, name: str) -> list[TargetTaxon]:
        """Taxa whose canonical name (authorship aside) is the canonical name of `name`."""

    @abc.abstractmethod
    def get(self, taxon_id) -> TargetTaxon | None:
        """A taxon by its id."""

    def parent_chain(self, taxon: TargetTaxon) -> list[tuple[str, str]]:
        """[(rank, name)] of the taxon's ancestors, top first. Cached: a loaded taxon's
        ancestors do not change during a reconciliation."""
        cache = self.__dict__.setdefault("_chains", {})
        if taxon.id not in cache:
            cache[taxon.id] = self._walk_parents(taxon)
        return list(cache[taxon.id])

    def _walk_parents(self, taxon: TargetTaxon) -> list[tuple[str, str]]:
        chain, seen, parent_id = [], {taxon.id}, taxon.parent_id
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            parent = self.get(parent_id)
            if parent is None:
                break
            chain.append((parent.rank, parent.name))
            parent_id = parent.parent_id
        chain.reverse()
        # Antenna's own ordering (upstream sorts ancestors by rank, not by link order)
        return sorted(chain, key=lambda entry: rank_position(entry[0])) if _ranked(chain) else chain


def _ranked(chain: list[tuple[str, str]]) -> bool:
    return all(rank != UNKNOWN for rank, _ in chain)


class TaxonIndex:
    """Lookup tables over loaded TargetTaxon rows, shared by both implementations."""

    def __init__(self, taxa: Iterable[TargetTaxon] = ()):
        self.by_id: dict[object, TargetTaxon] = {}
        self.by_name_key: dict[str, list[TargetTaxon]] = defaultdict(list)
        self.by_key: dict[tuple[str, str], list[TargetTaxon]] = defaultdict(list)
        for taxon in taxa:
            self.add(taxon)

    def add(self, taxon: TargetTaxon) -> None:
        if taxon.id in self.by_id:
            return
        self.by_id[taxon.id] = taxon
        for key in {name_key(taxon.name), name_key(parse_name(taxon.name).taxon_name)}:
            self.by_name_key[key].append(taxon)
        for key in taxon.keys():
            self.by_key[key].append(taxon)

    def named(self, name: str) -> list[TargetTaxon]:
        return list(self.by_name_key.get(name_key(parse_name(name).taxon_name), ()))


class InMemoryTargetTaxonomy(TargetTaxonomy):
    """A target held in memory. `add` builds one by names, for tests:

    target = InMemoryTargetTaxonomy()
    target.add("Noctuidae", "FAMILY")
    target.add("Catocala", "GENUS", parent="Noctuidae")
    """

    def __init__(self, taxa: Iterable[TargetTaxon] = ()):
        self.index = TaxonIndex(taxa)
        self._ids = itertools.count(
            max((t.id for t in self.index.by_id.values() if isinstance(t.id, int)), default=0) + 1
        )

    def add(
        self, name: str, rank: str = UNKNOWN, parent: str | None = None, synonym_of: str | None = None, **fields
    ) -> TargetTaxon:
        parent_id = self._id_of(parent) if parent else None
        synonym_id = self._id_of(synonym_of) if synonym_of else None
        taxon = TargetTaxon(
            id=next(self._ids),
            name=name,
            rank=normalize_rank(rank),
            parent_id=parent_id,
            synonym_of_id=synonym_id,
            **fields,
        )
        self.index.add(taxon)
        return taxon

    def add_chain(self, chain: Iterable[tuple[str, str]], **fields) -> TargetTaxon:
        """Add (rank, name) pairs top-down, each under the previous; existing names are reused.
        `fields` go to the last one."""
        chain = list(chain)
        parent = None
        for position, (rank, name) in enumerate(chain):
            last = position == len(chain) - 1
            existing = next((t for t in self.index.named(name) if t.name == name), None)
            parent = (
                existing
                if existing and not last
                else self.add(name, rank, parent.name if parent else None, **(fields if last else {}))
            )
        return parent

    def _id_of(self, name: str):
        found = [t for t in self.index.named(name) if t.name == name] or self.index.named(name)
        if not found:
            raise KeyError(f"no taxon named {name!r} in this target")
        return found[0].id

    def by_key(self, checklist_key: str, key: str) -> list[TargetTaxon]:
        return list(self.index.by_key.get((checklist_key, str(key)), ()))

    def by_name(self, name: str) -> list[TargetTaxon]:
        return self.index.named(name)

    def get(self, taxon_id) -> TargetTaxon | None:
        return self.index.by_id.get(taxon_id)

    def __len__(self) -> int:
        return len(self.index.by_id)
