"""EML 2.2.0 / GBIF metadata profile 1.3 for the archive's eml.xml: write, read, check; licences.

    from dwca_port.eml import DatasetMetadata, Party, write_eml, read_eml, check_eml, parse_licence

See docs/eml.md for the model, the licences, the consent rule and the checks.
"""

from .checks import check_eml
from .document import SCHEMA_LOCATION, EmlError, UnsafeXml
from .licences import CC0_1_0, CC_BY_4_0, CC_BY_NC_4_0, GBIF_LICENCES, Licence, parse_licence
from .model import (
    DatasetMetadata,
    GeographicCoverage,
    KeywordSet,
    Methods,
    Party,
    Project,
    Taxon,
    TemporalCoverage,
    UserId,
)
from .reader import read_eml
from .writer import IncompleteMetadata, metadata_problems, write_eml

__all__ = [
    "CC0_1_0",
    "CC_BY_4_0",
    "CC_BY_NC_4_0",
    "GBIF_LICENCES",
    "SCHEMA_LOCATION",
    "DatasetMetadata",
    "EmlError",
    "GeographicCoverage",
    "IncompleteMetadata",
    "KeywordSet",
    "Licence",
    "Methods",
    "Party",
    "Project",
    "Taxon",
    "TemporalCoverage",
    "UnsafeXml",
    "UserId",
    "check_eml",
    "metadata_problems",
    "parse_licence",
    "read_eml",
    "write_eml",
]
