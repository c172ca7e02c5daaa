"""Shared test fixtures. Tests run on SQLite by default and on PostgreSQL when DATABASE_URL points there."""

import pytest
from django.db import connection


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user(email="owner@example.org", password="x", name="Owner")
