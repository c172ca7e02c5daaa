"""How an import maps archived taxa: the policy and the matcher, from the operator's options."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import TaxaRefused
from .matchers import build_matcher
from .matchers.polite_http import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT
from .reconcile import Reconciler

POLICIES = ("match", "gbif", "create", "strict")
__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_TIMEOUT",
    "POLICIES",
    "TaxaSettings",
    "TaxaSettingsError",
    "build_reconciler",
    "close_matcher",
    "one_line",
]


@dataclass
class TaxaSettings:
    """The policy, and the matcher (`checklist`: backbone, col-xr, a checklist dataset key or the
    path of a local checklist; `gbif_url`: a GBIF API or a self-hosted matching-ws, default
    api.gbif.org). A matcher is used when either is given (a URL alone means the Backbone
    there), under every policy but create. `timeout` (seconds to connect and for each answer)
    and `attempts` (requests per name before GBIF counts as unavailable) tune the HTTP matcher;
    None leaves `matcher_options`, which go to `build_matcher` as they are (cache_path, retries,
    backoff, timeout, max_requests_per_second...)."""

    policy: str = "match"
    checklist: str | None = None
    gbif_url: str | None = None
    timeout: float | None = None
    attempts: int | None = None
    matcher_options: dict = field(default_factory=dict)

    @property
    def uses_matcher(self) -> bool:
        return self.policy != "create" and bool(self.checklist or self.gbif_url)


class TaxaSettingsError(Exception):
    """Settings that cannot work (unknown policy, a checklist file that does not exist...)."""


def build_reconciler(settings: TaxaSettings | None, progress=None, target=None) -> Reconciler:
    """A Reconciler over the instance's taxa (or `target`) for these settings. Raises
    TaxaSettingsError for settings that cannot work."""
    settings = settings or TaxaSettings()
    if settings.policy not in POLICIES:
        raise TaxaSettingsError(f"--taxa must be one of {', '.join(POLICIES)}, not {settings.policy!r}")
    if settings.policy == "gbif" and not settings.uses_matcher:
        raise TaxaSettingsError("--taxa=gbif needs a matcher: give --checklist backbone|col-xr|PATH or --gbif-url URL")
    options = dict(settings.matcher_options)
    if settings.timeout is not None:
        if not settings.timeout > 0:
            raise TaxaSettingsError(f"--gbif-timeout must be a positive number of seconds, not {settings.timeout}")
        options["timeout"] = settings.timeout
    if settings.attempts is not None:
        if settings.attempts < 1:
            raise TaxaSettingsError(f"--gbif-attempts must be 1 or more, not {settings.attempts}")
        options["retries"] = settings.attempts - 1
    matcher = None
    if settings.uses_matcher:
        try:
            matcher = build_matcher(
                settings.checklist or "backbone", gbif_url=settings.gbif_url, progress=progress, **options
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
