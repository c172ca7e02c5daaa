"""Benchmark of taxon reconciliation (not a test; prints figures for docs/taxonomy.md).

    .venv/bin/python bench/reconcile.py [--names 10000] [--occurrences 10000] [--distinct 500]
        [--end-to-end-only] [--database bench_reconcile] [--share 0.5]

1. Local checklist: reconcile N distinct archived names (the moth oracle's names, Antenna's
   2023 list, and spelling variants of them) against the moth test checklist, onto a target
   holding half of them; report names per second.
2. GBIF API: an archive whose O occurrences use D distinct names, reconciled through the API
   matcher against the loopback replay server; count the HTTP requests on a first run (at most
   D) and a second run with the same cache (0).
3. End to end, archive in, occurrences on accepted keys out: a project naming every moth GBIF
   answered (tests/taxonomy/moth_project.py; two occurrences each, with their classifications
   and identifications) is exported as a full archive and imported with --taxa=match through the
   replayed GBIF into a target holding GBIF's accepted names for a `--share` of them; then each
   occurrence's determination, synonyms followed, is compared with GBIF's accepted key, and the
   counts per accepted key with the source's. In a scratch SQLite file, or in the scratch
   PostgreSQL database `--database` (dropped and re-created; its name starts with bench_).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _common as common  # noqa: E402

from dwca_port.taxonomy.matchers import ChecklistIndex, GbifApiMatcher, LocalChecklistMatcher, MatchCache, build_index  # noqa: E402
from dwca_port.taxonomy.names import NameKind, clear_caches, parse_name  # noqa: E402
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Policy, Reconciler  # noqa: E402
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy  # noqa: E402
from tests.taxonomy.gbif_replay import FIXTURES, GbifReplayServer, load_moth_rows  # noqa: E402

LEPIDOPTERA = (("KINGDOM", "Animalia"), ("PHYLUM", "Arthropoda"), ("CLASS", "Insecta"), ("ORDER", "Lepidoptera"))
SWAPS = (("us", "a"), ("a", "us"), ("um", "a"), ("ella", "ellus"), ("is", "e"))


def source_names() -> list[tuple[str, str]]:
    """(name, family) from the moth oracle and Antenna's 2023 list."""
    pairs = [(r["search_species"], r["family"]) for r in load_moth_rows()]
    antenna = json.loads((FIXTURES / "quebec-vermont-uk-denmark-taxa-20230914.json").read_text())
    pairs += [(e["species"], e["family"]) for e in antenna]
    return list({" ".join(n.split()): f for n, f in pairs}.items())


def variants(pairs: list[tuple[str, str]], wanted: int, rng: random.Random) -> list[tuple[str, str]]:
    """Fill up to `wanted` distinct names with realistic variants: gender endings, cf., authors."""
    names = dict(pairs)
    while len(names) < wanted:
        name, family = rng.choice(pairs)
        words = name.split(" ")
        if len(words) < 2:
            continue
        kind = rng.random()
        if kind < 0.5:
            for old, new in SWAPS:
                if words[1].endswith(old):
                    words[1] = words[1][: -len(old)] + new
                    break
            variant = " ".join(words)
        elif kind < 0.75:
            variant = f"{words[0]} cf. {' '.join(words[1:])}"
        else:
            variant = f"{name} Smith, {rng.randint(1780, 1950)}"
        names.setdefault(variant, family)
    return list(names.items())[:wanted]


def archived(name: str, family: str, uuid: str) -> ArchivedTaxon:
    return ArchivedTaxon(
        uuid=uuid, name=name, rank="SPECIES", parents=LEPIDOPTERA + (("FAMILY", family), ("GENUS", name.split(" ")[0]))
    )


def bench_local(count: int, workdir: Path) -> None:
    rng = random.Random(7)
    pairs = variants(source_names(), count, rng)
    index_path = workdir / "moth-checklist.index.sqlite"
    started = time.perf_counter()
    build_index(FIXTURES / "moth-checklist", index_path)
    print(f"local checklist index built in {time.perf_counter() - started:.2f} s")

    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    for name, family in rng.sample(pairs, len(pairs) // 2):  # half of the names exist on the target
        parsed = parse_name(name)
        if parsed.genus and not target.by_name(parsed.taxon_name):
            if not target.by_name(family):
                target.add(family, "FAMILY", parent="Lepidoptera")
            if not target.by_name(parsed.genus):
                target.add(parsed.genus, "GENUS", parent=family)
            target.add(parsed.taxon_name, "SPECIES", parent=parsed.genus)

    archive = [archived(name, family, str(n)) for n, (name, family) in enumerate(pairs)]
    empty = InMemoryTargetTaxonomy()
    empty.add_chain(LEPIDOPTERA)
    for label, onto, policy in (
        ("onto a target holding half of them", target, Policy.MATCH),
        ("onto an empty target, every name through the matcher", empty, Policy.GBIF),
    ):
        clear_caches()  # time the parsing too
        matcher = LocalChecklistMatcher(ChecklistIndex(index_path))
        started, cpu_started = time.perf_counter(), time.process_time()
        result = Reconciler(onto, policy, matcher).reconcile(archive)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        matcher.close()
        counts = {k: v for k, v in result.counts().items() if v}
        print(
            f"local checklist, {label} (--taxa={policy.value}): {len(archive):,} distinct names in {seconds:.2f} s "
            f"= {len(archive) / seconds:,.0f} names/s ({len(archive) / cpu:,.0f} names per CPU second)  {counts}"
        )


def bench_api(occurrences: int, distinct: int, workdir: Path) -> None:
    # names whose query is a recorded one (complexes and provisional placements ask for their genus)
    rows = [
        r
        for r in load_moth_rows()
        if r["match_type"] != "MANUAL_SEARCH" and parse_name(r["search_species"]).kind is NameKind.SCIENTIFIC
    ]
    chosen = random.Random(11).sample(rows, distinct)
    archive = [
        archived(r["search_species"], r["family"], f"occ-{n}")
        for n, r in enumerate(random.Random(13).choices(chosen, k=occurrences))
    ]
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    cache_path = workdir / "gbif-cache.sqlite"
    with GbifReplayServer() as server:
        for run in ("first run", "second run (same cache)"):
            before = server.match_requests
            matcher = GbifApiMatcher(server.url, "v1", cache=MatchCache(cache_path), max_requests_per_second=0)
            started = time.perf_counter()
            Reconciler(target, Policy.GBIF, matcher).reconcile(archive)
            seconds = time.perf_counter() - started
            matcher.close()
            print(
                f"GBIF API v1 (replay server), {occurrences:,} occurrences with {distinct} distinct names, {run}: "
                f"{server.match_requests - before} HTTP requests, {seconds:.2f} s"
            )


def bench_end_to_end(workdir: Path, share: float, database: str | None) -> None:
    url = common.recreate_database(database) if database else f"sqlite:///{workdir / 'end-to-end.sqlite3'}"
    common.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # Django-bound: imported once the settings are set up.
    from tests.taxonomy.moth_project import (
        DUPLICATE_ACCEPTED_NAMES,
        ROWS,
        answered_rows,
        build_source_archive,
        build_target,
        import_through_replay,
        landing,
        measure,
    )

    rows = answered_rows()
    started = time.perf_counter()
    source = build_source_archive(rows, workdir / "moths.zip")
    print(
        f"end to end: {len(rows):,} of the oracle's {len(ROWS):,} names (left out: the 7 curated by hand, not "
        f"answered by GBIF, and the names sent to the {len(DUPLICATE_ACCEPTED_NAMES)} accepted names the Backbone "
        f"holds under two keys), {len(source.determinations):,} occurrences, exported in "
        f"{time.perf_counter() - started:.1f} s on {url.split(':')[0]}"
    )
    held = build_target(rows, share=share)
    with GbifReplayServer(unknown="none") as server:
        started = time.perf_counter()
        report = import_through_replay(source, server.url, workdir / "gbif-cache.sqlite")
        seconds = time.perf_counter() - started
        requests = server.match_requests
    taxa = report.models["main.Taxon"]
    print(
        f"  target held {len(held):,} accepted names; imported in {seconds:.1f} s with {requests:,} GBIF requests; "
        f"{taxa.created:,} taxa created, {taxa.skipped:,} archived taxa mapped onto existing ones"
    )
    for line in measure(source, landing(source)).lines("  --taxa=match, GBIF API v1 (replayed)"):
        print(line)
    if database:
        from django.db import connections

        connections.close_all()
        common.drop_database(database)


def main() -> None:
    print(f"load average before the run: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--occurrences", type=int, default=10_000)
    parser.add_argument("--distinct", type=int, default=500)
    parser.add_argument("--end-to-end-only", action="store_true", help="only the end-to-end measurement")
    parser.add_argument("--share", type=float, default=0.5, help="share of the accepted names the target holds")
    parser.add_argument(
        "--database", help="scratch PostgreSQL database for the end-to-end run (default: a scratch SQLite file)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        if not options.end_to_end_only:
            bench_local(options.names, Path(workdir))
            bench_api(options.occurrences, options.distinct, Path(workdir))
        bench_end_to_end(Path(workdir), options.share, options.database)


if __name__ == "__main__":
    main()
