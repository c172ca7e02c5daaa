"""The Antenna portability toolkit: clone, export and import projects as Darwin Core Archives."""
