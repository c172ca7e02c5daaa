"""Database expressions shared by constraints and the duplicate checks."""

from django.db import models


class CanonicalJSON(models.Func):
    """A JSON value in a form where equal documents compare equal.

    PostgreSQL stores JSONField as jsonb, which is already canonical (whitespace and key order
    do not matter), so the column is used as is and a unique index on it is plain jsonb
    equality. SQLite stores JSON as text: json() re-serialises it minified, so "[1, 2]" and
    "[1,2]" written by different clients collide as they do on PostgreSQL.
    """

    function = "json"
    arity = 1

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=models.JSONField(), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])
