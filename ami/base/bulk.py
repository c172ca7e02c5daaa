"""Set-wise writes the ORM does not offer efficiently."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models


def update_rows(model: type[models.Model], objects: Iterable[models.Model], field_names: Sequence[str]) -> int:
    """Write `field_names` of many objects with one prepared UPDATE executed for every row.

    Django's bulk_update builds one CASE expression per column whose size grows with the batch,
    which is slow for thousands of rows; a single parameterised statement is linear.
    """
    fields = [model._meta.get_field(name) for name in field_names]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objects]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)
