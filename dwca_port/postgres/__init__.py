"""The PostgreSQL fast paths: cells formatted in SQL for the export, COPY in and out, and the
casts the import's staging applies. The portable (Python) paths stay the reference."""

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def quote_name(name: str) -> str:
    return connection.ops.quote_name(name)
