from pathlib import Path

from dwca_port.formats.camtrap_dp.doc import fields_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "camtrap-dp.md"


def test_the_document_maps_every_declared_field():
    """docs/camtrap-dp.md holds the declarations' field table; regenerate it with
    `python -c "from dwca_port.formats.camtrap_dp.doc import fields_markdown; print(fields_markdown())"`
    (under Django settings) when a declaration changes."""
    assert fields_markdown() in DOC.read_text()
