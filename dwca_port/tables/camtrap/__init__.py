"""Camtrap DP 1.0.2 (Camera Trap Data Package): its three tables, declared as the archive's are.
What a package holds, and what it leaves out, is said in common.py; docs/camtrap-dp.md."""

from dwca_port.tables.camtrap.deployments import TABLE as DEPLOYMENTS
from dwca_port.tables.camtrap.media import TABLE as MEDIA
from dwca_port.tables.camtrap.observations import TABLE as OBSERVATIONS

TABLES = (DEPLOYMENTS, MEDIA, OBSERVATIONS)

__all__ = ["DEPLOYMENTS", "MEDIA", "OBSERVATIONS", "TABLES"]
