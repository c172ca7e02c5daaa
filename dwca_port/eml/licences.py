"""The three licences GBIF accepts, and recognising them in the many ways people write them.

GBIF indexes a dataset only under CC0 1.0, CC BY 4.0 or CC BY-NC 4.0 (gbif-api `License` enum,
IPT `applying-license.adoc`); anything else, "All rights reserved" included, is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    spdx_id: str  # e.g. "CC-BY-4.0"
    title: str  # the SPDX full name, written as the EML citetitle and licenseName
    url: str  # the canonical legalcode URL GBIF recognises in intellectualRights/para/ulink/@url
    short_name: str  # how people usually say it: "CC BY 4.0"

    @property
    def spdx_url(self) -> str:
        """The SPDX page, which EML 2.2.0 suggests for licensed/url (the IPT writes it too)."""
        return f"https://spdx.org/licenses/{self.spdx_id}.html"

    def __str__(self) -> str:
        return self.short_name


CC0_1_0 = Licence(
    spdx_id="CC0-1.0",
    title="Creative Commons Zero v1.0 Universal",
    url="http://creativecommons.org/publicdomain/zero/1.0/legalcode",
    short_name="CC0 1.0",
)
CC_BY_4_0 = Licence(
    spdx_id="CC-BY-4.0",
    title="Creative Commons Attribution 4.0 International",
    url="http://creativecommons.org/licenses/by/4.0/legalcode",
    short_name="CC BY 4.0",
)
CC_BY_NC_4_0 = Licence(
    spdx_id="CC-BY-NC-4.0",
    title="Creative Commons Attribution Non Commercial 4.0 International",
    url="http://creativecommons.org/licenses/by-nc/4.0/legalcode",
    short_name="CC BY-NC 4.0",
)

GBIF_LICENCES: tuple[Licence, ...] = (CC0_1_0, CC_BY_4_0, CC_BY_NC_4_0)

# URL paths after the host, without scheme, "www.", "/legalcode..." or "/deed..." and trailing slash.
_URL_PATHS = {
    "creativecommons.org/publicdomain/zero/1.0": CC0_1_0,
    "creativecommons.org/licenses/by/4.0": CC_BY_4_0,
    "creativecommons.org/licenses/by-nc/4.0": CC_BY_NC_4_0,
}
_SPDX_URL = re.compile(r"^spdx\.org/licenses/(?P<id>[a-z0-9.-]+?)(\.html|\.json)?$")
_CC_URL_SUFFIX = re.compile(r"/(legalcode|deed)(\.[a-z_-]+)?$")

# Titles and short names after _normalise_words(); the SPDX ids normalise into this table too.
_NAMES = {
    "cc0": CC0_1_0,
    "cc0 1.0": CC0_1_0,
    "cc zero 1.0": CC0_1_0,
    "creative commons zero 1.0": CC0_1_0,
    "creative commons zero v1.0 universal": CC0_1_0,
    "creative commons cc0 1.0 universal": CC0_1_0,
    "cc0 1.0 universal": CC0_1_0,
    "public domain cc0 1.0": CC0_1_0,
    "public domain dedication cc0 1.0": CC0_1_0,
    "cc by 4.0": CC_BY_4_0,
    "creative commons attribution 4.0": CC_BY_4_0,
    "creative commons attribution 4.0 international": CC_BY_4_0,
    "creative commons attribution cc by 4.0": CC_BY_4_0,
    "attribution 4.0 international": CC_BY_4_0,
    "cc by 4.0 international": CC_BY_4_0,
    "cc by nc 4.0": CC_BY_NC_4_0,
    "creative commons attribution noncommercial 4.0": CC_BY_NC_4_0,
    "creative commons attribution noncommercial 4.0 international": CC_BY_NC_4_0,
    "creative commons attribution noncommercial cc by nc 4.0": CC_BY_NC_4_0,
    "attribution noncommercial 4.0 international": CC_BY_NC_4_0,
    "cc by nc 4.0 international": CC_BY_NC_4_0,
}


def _normalise_words(value: str) -> str:
    """Lower case, punctuation as spaces, "licence"/"license" and a leading "the" dropped."""
    text = value.lower().replace("non-commercial", "noncommercial").replace("non commercial", "noncommercial")
    text = re.sub(r"[-_(),:;/\"']+", " ", text)
    text = re.sub(r"\blicen[cs]e[ds]?\b", " ", text)
    text = " ".join(text.split())
    text = text.removeprefix("the ").removesuffix(".")
    return text.strip()


def _licence_from_url(value: str) -> Licence | None:
    text = value.strip().lower()
    match = re.match(r"^https?://(www\.)?(?P<rest>.+)$", text)
    if not match:
        return None
    rest = match.group("rest").split("#", 1)[0].split("?", 1)[0].rstrip("/")
    rest = _CC_URL_SUFFIX.sub("", rest).rstrip("/")
    if rest in _URL_PATHS:
        return _URL_PATHS[rest]
    spdx = _SPDX_URL.match(rest)
    if spdx:
        return _NAMES.get(_normalise_words(spdx.group("id")))
    return None


def parse_licence(value: str | None) -> Licence | None:
    """The GBIF licence that `value` names (SPDX id, legalcode/deed/SPDX URL or a common title), else None."""
    if not value or not value.strip():
        return None
    if "://" in value:
        return _licence_from_url(value)
    return _NAMES.get(_normalise_words(value))
