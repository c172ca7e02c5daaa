"""Labels that are not scientific names (upstream classifiers have "Not a moth", "Unclassified",
"Taxon 0", "Taxon 1") must survive a round trip as distinct taxa. The parser reads "Taxon 1" as
"Taxon" plus a designation; such a name is a taxon of its own (dwca_port/taxonomy/names.py)."""

import pytest

from ami.main.models import Project, Taxon
from dwca_port.importer import ImportOptions, import_project
from tests.portability.helpers import data_files, wipe_graph

pytestmark = pytest.mark.django_db


def test_informal_labels_stay_distinct(demo, export):
    for name in ("Not a moth", "Unclassified", "Taxon 0", "Taxon 1"):
        Taxon.objects.create(name=name, rank="UNKNOWN").projects.add(demo)
    Taxon.objects.update_all_calculated_fields()
    first = export(demo)
    wipe_graph()
    import_project(first, ImportOptions(create_missing_users=True))
    names = set(Project.objects.get().taxa.values_list("name", flat=True))
    assert {"Not a moth", "Unclassified", "Taxon 0", "Taxon 1"} <= names
    assert data_files(first) == data_files(export(Project.objects.get()))
