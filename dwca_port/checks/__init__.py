"""The archive checks behind `dwca_port.validate.validate_archive` (reference dwca-standards.md section 4)."""
