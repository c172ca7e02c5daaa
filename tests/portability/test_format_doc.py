from django.conf import settings

from dwca_port.format_doc import render


def test_docs_format_md_is_generated_from_the_declarations():
    current = (settings.BASE_DIR / "docs" / "format.md").read_text()
    assert current == render(), "docs/format.md is stale: run python manage.py describe_format > docs/format.md"
