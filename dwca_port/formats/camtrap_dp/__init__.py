"""Camtrap DP 1.0.2 packages: datapackage.json (descriptor.py), the three CSV files (writer.py)
and their offline check against the standard (validate.py). The tables are declared in
dwca_port/tables/camtrap/; the export's orchestration is dwca_port/camtrap_export.py."""
