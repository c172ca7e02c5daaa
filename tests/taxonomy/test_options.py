"""The taxa options of import_project and reconcile_taxa: when a matcher is used, and the HTTP
matcher's timeout and attempts (options, settings, and what the help says)."""

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.test import override_settings

from dwca_port.importer.taxa import with_instance_defaults
from dwca_port.taxonomy.matchers import GbifApiMatcher, LocalChecklistMatcher
from dwca_port.taxonomy.options import TaxaSettings, TaxaSettingsError, build_reconciler, close_matcher
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy


def _reconciler(tmp_path, **settings):
    options = {"cache_path": tmp_path / "cache.sqlite", **settings.pop("matcher_options", {})}
    return build_reconciler(TaxaSettings(matcher_options=options, **settings), target=InMemoryTargetTaxonomy())


@pytest.mark.parametrize(
    ("settings", "matcher"),
    [
        ({}, None),
        ({"gbif_url": "http://127.0.0.1:9/v1"}, GbifApiMatcher),  # a URL alone: the Backbone there
        ({"checklist": "backbone"}, GbifApiMatcher),
        ({"policy": "gbif", "gbif_url": "http://127.0.0.1:9/v1"}, GbifApiMatcher),
        ({"policy": "strict", "checklist": "col-xr"}, GbifApiMatcher),
        ({"policy": "create", "checklist": "backbone", "gbif_url": "http://127.0.0.1:9"}, None),
    ],
)
def test_when_a_matcher_is_used(tmp_path, settings, matcher):
    reconciler = _reconciler(tmp_path, **settings)
    assert type(reconciler.matcher) is matcher if matcher else reconciler.matcher is None
    close_matcher(reconciler)


def test_a_local_checklist_is_a_matcher_too(tmp_path, moth_index_path):
    reconciler = _reconciler(tmp_path, checklist=str(moth_index_path))
    assert isinstance(reconciler.matcher, LocalChecklistMatcher)
    close_matcher(reconciler)


def test_gbif_policy_needs_a_checklist_or_a_url(tmp_path):
    with pytest.raises(TaxaSettingsError, match="--taxa=gbif needs a matcher: give --checklist .* or --gbif-url"):
        _reconciler(tmp_path, policy="gbif")


def test_timeout_and_attempts_reach_the_http_matcher(tmp_path):
    reconciler = _reconciler(tmp_path, gbif_url="http://127.0.0.1:9/v1", timeout=2, attempts=1)
    assert (reconciler.matcher.http.timeout, reconciler.matcher.http.retries) == (2, 0)
    close_matcher(reconciler)
    for bad in ({"timeout": 0}, {"attempts": 0}):
        with pytest.raises(TaxaSettingsError, match="--gbif-(timeout|attempts) must be"):
            _reconciler(tmp_path, gbif_url="http://127.0.0.1:9/v1", **bad)


def test_the_settings_are_the_default_and_the_options_win(tmp_path):
    with override_settings(TAXA_MATCHER_TIMEOUT=4, TAXA_MATCHER_ATTEMPTS=2):
        from_settings = with_instance_defaults(TaxaSettings(gbif_url="http://127.0.0.1:9/v1"))
        given = with_instance_defaults(TaxaSettings(gbif_url="http://127.0.0.1:9/v1", timeout=7, attempts=5))
        old_style = with_instance_defaults(TaxaSettings(gbif_url="x", matcher_options={"retries": 0}))
    assert (from_settings.matcher_options["timeout"], from_settings.matcher_options["retries"]) == (4, 1)
    reconciler = _reconciler(tmp_path, **vars(given))
    assert (reconciler.matcher.http.timeout, reconciler.matcher.http.retries) == (7, 4)
    close_matcher(reconciler)
    assert old_style.matcher_options["retries"] == 0  # matcher_options given by a caller stay


@pytest.mark.parametrize("command", ["import_project", "reconcile_taxa"])
def test_help_says_when_a_matcher_is_used_and_how_long_gbif_may_hang(command):
    with override_settings(TAXA_MATCHER_TIMEOUT=10, TAXA_MATCHER_ATTEMPTS=3):
        text = " ".join(
            load_command_class("dwca_port", command).create_parser("manage.py", command).format_help().split()
        )
    assert "A matcher is used when --checklist or --gbif-url is given, with every --taxa but create" in text
    assert "given alone, it means --checklist backbone at that URL" in text
    assert "--gbif-timeout SECONDS" in text and "(default 10, settings.TAXA_MATCHER_TIMEOUT)" in text
    assert "--gbif-attempts N" in text and "(default 3, settings.TAXA_MATCHER_ATTEMPTS)" in text


@pytest.mark.parametrize(
    ("option", "value"), [("--gbif-timeout", "0"), ("--gbif-timeout", "soon"), ("--gbif-attempts", "0")]
)
def test_bad_values_are_refused_in_one_line(option, value, tmp_path):
    with pytest.raises(CommandError, match=f"argument {option}: must be a positive"):
        call_command("reconcile_taxa", str(tmp_path / "any.zip"), option, value)
