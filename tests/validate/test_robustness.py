"""Damaged archives never raise: random byte edits of every member end in findings, not exceptions."""

import random

import pytest

from dwca_port.validate import validate_archive
from tests.archive_corpus import SAMPLE_TABLES, read_members, sample_archive, zip_members


def damaged(members, rng):
    members = [list(member) for member in members]
    for _ in range(rng.randint(1, 4)):
        member = rng.choice(members)
        data = bytearray(member[1])
        position = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.4:
            data[position] = rng.choice(b'\t\n\r"<>&\x00\xff\xe9a1-/=: ')
        elif choice < 0.6:
            del data[position : position + rng.randint(1, 50)]
        elif choice < 0.8:
            data[position:position] = bytes(rng.choice(b'\t\n"<>') for _ in range(rng.randint(1, 5)))
        else:
            data = data[:position]
        member[1] = bytes(data) or b" "
    return zip_members([tuple(member) for member in members])


@pytest.mark.parametrize("profile", ["full", "gbif"])
def test_random_damage_gives_findings_never_exceptions(profile):
    rng = random.Random(20261124)
    members = read_members(sample_archive(profile))
    for _ in range(60):
        archive = damaged(members, rng)
        validate_archive(archive, tables=SAMPLE_TABLES)  # must not raise
