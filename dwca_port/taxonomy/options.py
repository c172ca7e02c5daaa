"""How an import maps archived taxa: the policy and the matcher, from the operator's options."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import TaxaRefused
from .matchers import build_matcher
from .reconcile import Reconciler

POLICIES = ("match", "gbif", "create", "strict")


@dataclass
class TaxaSettings:
    """The policy, and the matcher (`checklist`: backbone, col-xr, a checklist dataset key or the
    path of a local checklist; `gbif_url`: a GBIF API or a self-hosted matching-ws, default
    api.gbif.org). No checklist and no URL: no matcher. `matcher_options` go to `build_matcher`
    as they are (cache_path, retries, backoff, timeout, max_requests_per_second...)."""

    policy: str = "match"
    checklist: str | None = None
    gbif_url: str | None = None
    matcher_options: dict = field(default_factory=dict)


class TaxaSettingsError(Exception):
    """Settings that cannot work (unknown policy, a checklist file that does not exist...)."""


def build_reconciler(settings: TaxaSettings | None, progress=None, target=None) -> Reconciler:
    """A Reconciler over the instance's taxa (or `target`) for these settings. Raises
    TaxaSettingsError for settings that cannot work."""
    settings = settings or TaxaSettings()
    if settings.policy not in POLICIES:
        raise TaxaSettingsError(f"--taxa must be one of {', '.join(POLICIES)}, not {settings.policy!r}")
    if settings.policy == "gbif" and not settings.checklist:
        raise TaxaSettingsError("--taxa=gbif needs a matcher: give --checklist backbone|col-xr|PATH")
    matcher = None
    if settings.policy != "create" and (settings.checklist or settings.gbif_url):
        # A GBIF URL alone means the Backbone there.
        try:
            matcher = build_matcher(
                settings.checklist or "backbone",
                gbif_url=settings.gbif_url,
                progress=progress,
                **settings.matcher_options,
            )
        except ValueError as error:
            raise TaxaSettingsError(str(error)) from None
    if target is None:
        from .django_target import DjangoTargetTaxonomy

        target = DjangoTargetTaxonomy()
    return Reconciler(target, settings.policy, matcher, progress=progress)


def close_matcher(reconciler: Reconciler) -> None:
    close = getattr(reconciler.matcher, "close", None)
    if close:
        close()


def one_line(error: Exception) -> str:
    """An error as one line: a TaxaRefused lists every taxon on its own line; the first few join."""
    if isinstance(error, TaxaRefused):
        names = [f"{d.archived.name} ({d.note})" for d in error.decisions[:5]]
        more = len(error.decisions) - len(names)
        return (
            f"{len(error.decisions)} archived taxa cannot be mapped onto this instance's taxonomy: "
            + "; ".join(names)
            + (f"; and {more} more" if more > 0 else "")
        )
    return " ".join(str(error).split())
