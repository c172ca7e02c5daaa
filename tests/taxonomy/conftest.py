"""Fixtures for the taxonomy tests: the loopback GBIF replay server, the moth checklist index,
matchers wired to them, and a terminal summary that prints the accuracy figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwca_port.taxonomy.checklists import BACKBONE
from dwca_port.taxonomy.matchers import ChecklistIndex, GbifApiMatcher, LocalChecklistMatcher, MatchCache, build_index

from .gbif_replay import FIXTURES, GbifReplayServer

MOTH_CHECKLIST = FIXTURES / "moth-checklist"
LEPIDOPTERA = (("KINGDOM", "Animalia"), ("PHYLUM", "Arthropoda"), ("CLASS", "Insecta"), ("ORDER", "Lepidoptera"))
ACCURACY = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[ACCURACY] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(ACCURACY, [])
    if lines:
        terminalreporter.section("taxonomy reconciliation accuracy (moth fixture)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def record_accuracy(request):
    return request.config.stash[ACCURACY].append


@pytest.fixture(scope="session")
def replay_session():
    with GbifReplayServer() as server:
        yield server


@pytest.fixture
def replay(replay_session):
    """The replay server, healthy and with an empty request log."""
    replay_session.heal()
    replay_session.requests.clear()
    replay_session.unknown = "error"
    yield replay_session
    replay_session.heal()


@pytest.fixture
def api_matcher(replay, tmp_path):
    """GbifApiMatcher(version, checklist, **options) against the replay server, with a fresh cache,
    fast retries and no rate limit unless asked."""
    made = []

    def make(version: str = "v1", checklist: str = BACKBONE, **options) -> GbifApiMatcher:
        settings = {
            "cache": MatchCache(tmp_path / f"cache-{len(made)}.sqlite"),
            "max_requests_per_second": 0,
            "retries": 2,
            "backoff": 0.01,
            "timeout": (2.0, 2.0),
        }
        settings.update(options)
        matcher = GbifApiMatcher(replay.url, version, checklist, **settings)
        made.append(matcher)
        return matcher

    yield make
    for matcher in made:
        matcher.close()


@pytest.fixture(scope="session")
def moth_index_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("checklist") / "moth-checklist.index.sqlite"
    build_index(MOTH_CHECKLIST, path)
    return path


@pytest.fixture
def local_matcher(moth_index_path):
    matcher = LocalChecklistMatcher(ChecklistIndex(moth_index_path))
    yield matcher
    matcher.close()
