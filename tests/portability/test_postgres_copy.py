"""COPY straight through libpq (dwca_port/postgres/copy.py)."""

from __future__ import annotations

import io
import os
import resource

import pytest
from django.db import connection

from dwca_port.postgres.copy import copy_rows

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


@pytest.fixture
def high_descriptors():
    """Every descriptor below 1100 taken, so that a new connection's socket lands above 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit on open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    connection.close()  # its descriptor is taken too: the next connection opens past 1024
    taken = []
    try:
        while not taken or taken[-1] < 1100:
            taken.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for descriptor in taken:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.django_db(transaction=True)  # outside a transaction, the connection can be closed
def test_a_copy_waits_on_a_socket_past_descriptor_1024(high_descriptors):
    connection.ensure_connection()
    assert connection.connection.pgconn.socket > 1024
    stream = io.BytesIO()
    rows = copy_rows(("SELECT n, pg_sleep(0.01) FROM generate_series(1, 3) AS n", []), stream)
    assert rows == 3 and stream.getvalue().splitlines()[0].startswith(b"1\t")
