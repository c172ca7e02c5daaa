"""Archive -> checks -> staging -> identity resolution -> database (see importer/run.py).

report = import_project("nunavik.zip", ImportOptions(on_conflict="skip"))
"""

from dwca_port.importer.report import ImportReport, ModelCounts
from dwca_port.importer.run import import_project, run_import
from dwca_port.importer.state import CONFLICT_MODES, ImportOptions, ImportRefused

__all__ = [
    "CONFLICT_MODES",
    "ImportOptions",
    "ImportRefused",
    "ImportReport",
    "ModelCounts",
    "import_project",
    "run_import",
]
