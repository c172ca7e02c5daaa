"""A loopback HTTP server that answers /v1/species/match and /v2/species/match with real,
recorded GBIF responses, so tests exercise the real HTTP client without the internet.

Answers come from:
- the vcrpy cassettes in tests/fixtures/taxonomy/gbif-cassettes (pygbif, MIT) and the R-vcr
  cassette from rgbif (MIT), parsed here with PyYAML;
- the moth fixture (RolnickLab/ami-ml, MIT): each CSV row is a real GBIF v1 result, rebuilt
  into the flat v1 JSON (see `moth_row_to_v1` for what the row holds and what it does not).

It can be told to fail (HTTP 503, HTTP 429, dropped connection, hang) for failure tests.

    with GbifReplayServer() as server:
        requests.get(server.url + "/v1/species/match", params={"name": "Catocala ultronia"})

Run it alone (e.g. to point a matcher at it by hand): python tests/taxonomy/gbif_replay.py [PORT]
"""

from __future__ import annotations

import csv
import json
import socket
import sys
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "taxonomy"
CASSETTES = FIXTURES / "gbif-cassettes"
MOTH_CSV = FIXTURES / "Quebec-Vermont_Moth-List_17Oct2023.csv"
BACKBONE = "d7dddbf4-2cf0-4f39-9b2a-bb099caae36c"
# GBIF's v1 "nothing found" answer, as recorded (v1/test_name_backbone_multiple_matches.yaml).
V1_NONE = {
    "confidence": 100,
    "note": "No match because of too little confidence",
    "matchType": "NONE",
    "synonym": False,
}
V2_NONE = {
    "diagnostics": {"matchType": "NONE", "confidence": 100, "note": "No match because of too little confidence"},
    "synonym": False,
}
FAILURE_MODES = ("503", "429", "drop", "hang")


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").split()).casefold()


def moth_row_to_v1(row: dict) -> dict | None:
    """The flat v1 answer a moth-fixture row records. The row holds the match type, status, rank,
    confidence, the accepted key and species, genus, family and order. It does not hold:
    a synonym's own usageKey (left out, as absent fields are in real answers), the keys of the
    genus, family and order (left out), nor kingdom/phylum/class, which are filled in as
    Animalia/Arthropoda/Insecta with their Backbone keys 1/54/216 (from the recorded Calopteryx
    answer) because every row is a Lepidoptera. MANUAL_SEARCH rows were curated by hand, not
    answered by GBIF: they give None (not recorded)."""
    match_type = row["match_type"]
    if match_type == "MANUAL_SEARCH":
        return None
    confidence = int(row["confidence"])
    if match_type == "NONE":
        return {"confidence": confidence, "matchType": "NONE", "synonym": False}
    body = {
        "rank": row["rank"],
        "status": row["status"],
        "confidence": confidence,
        "matchType": match_type,
        "kingdom": "Animalia",
        "phylum": "Arthropoda",
        "order": row["order"],
        "family": row["family"],
        "genus": row["genus"],
        "kingdomKey": 1,
        "phylumKey": 54,
        "classKey": 216,
    }
    if match_type == "HIGHERRANK":
        body.update(scientificName=row["genus"], canonicalName=row["genus"])
    else:
        key = int(row["accepted_taxon_key"])
        body.update(species=row["gbif_species"], speciesKey=key)
        if row["status"] == "SYNONYM":
            name = " ".join(row["search_species"].split())
            body.update(scientificName=name, canonicalName=name, acceptedUsageKey=key)
        else:
            body.update(usageKey=key, scientificName=row["gbif_species"], canonicalName=row["gbif_species"])
    body["synonym"] = row["status"] == "SYNONYM"
    body["class"] = "Insecta"
    return body


def load_moth_rows(path: Path = MOTH_CSV) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _interactions(path: Path) -> list[tuple[str, int, str]]:
    """(uri, status, body) of every recorded interaction (vcrpy or R-vcr layout)."""
    with open(path, encoding="utf-8", newline="") as handle:
        data = yaml.safe_load(handle)
    found = []
    for interaction in data.get("interactions") or data.get("http_interactions") or []:
        response = interaction["response"]
        status = response.get("status")
        code = status.get("code", status.get("status_code")) if isinstance(status, dict) else status
        found.append((interaction["request"]["uri"], int(code), response["body"]["string"]))
    return found


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = (
        True  # headers and body go out in two writes: without this, delayed ACKs cost ~20 ms a request
    )

    def do_GET(self):
        replay = self.server.replay
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        failure = replay._take_failure(parts.path, params)
        if failure == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if failure == "hang":
            replay._stop.wait(replay.hang_seconds)
            self.close_connection = True
            return
        if failure == "503":
            return self._send(503, {"error": "Service Unavailable"})
        if failure == "429":
            return self._send(429, {"error": "Too Many Requests"}, headers={"Retry-After": "0"})
        if parts.path in ("/v1/species/match", "/v2/species/match"):
            body = replay.answer(parts.path[1:3], params)
            if body is None:
                return self._send(404, {"error": f"no recorded GBIF response for {parts.path}?{parts.query}"})
            return self._send(200, body)
        return self._send(404, {"error": f"not a species-match path: {parts.path}"})

    def _send(self, status: int, body: dict, headers: dict | None = None):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    replay: GbifReplayServer


class GbifReplayServer:
    def __init__(
        self, port: int = 0, unknown: str = "error", cassettes: Path = CASSETTES, moth_csv: Path | None = MOTH_CSV
    ):
        """unknown="error" answers an unrecorded query with 404 (tests then fail loudly instead of
        relying on an answer GBIF never gave); unknown="none" answers it with GBIF's NONE."""
        self.unknown = unknown
        self.port = port
        self.hang_seconds = 30.0
        self.v1: dict[str, dict] = {}
        self.v2_by_id: dict[tuple[str, str], dict] = {}
        self.v2_by_name: dict[tuple[str, str], dict] = {}
        self.v2_by_params: list[tuple[dict, dict]] = []
        self.requests: list[tuple[float, str, dict]] = []  # (time, path, params) of every request
        self._failure: tuple[str, int, int | None] | None = None  # (mode, successes left, failures left)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._load_cassettes(cassettes)
        if moth_csv:
            for row in load_moth_rows(moth_csv):
                body = moth_row_to_v1(row)
                if body is not None:
                    self.v1.setdefault(_key(row["search_species"]), body)
        self._server: _Server | None = None

    # --- recorded answers -------------------------------------------------------------------

    def _load_cassettes(self, root: Path) -> None:
        for path in sorted(root.rglob("*.y*ml")):
            for uri, status, body in _interactions(path):
                parts = urlsplit(uri)
                if status != 200 or not parts.path.endswith("/species/match"):
                    continue
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                answer = json.loads(body)
                if parts.path.startswith("/v1/"):
                    self.v1[_key(params.get("name", ""))] = answer
                    continue
                checklist = params.pop("checklistKey", BACKBONE)  # no checklistKey: the server default, the Backbone
                if "scientificNameID" in params:
                    self.v2_by_id[(checklist, params["scientificNameID"])] = answer
                elif "scientificName" in params:
                    self.v2_by_name[(checklist, _key(params["scientificName"]))] = answer
                else:
                    self.v2_by_params.append(({**params, "checklistKey": checklist}, answer))

    def answer(self, version: str, params: dict) -> dict | None:
        if version == "v1":
            found = self.v1.get(_key(params.get("name", "")))
            return found if found is not None else (V1_NONE if self.unknown == "none" else None)
        checklist = params.get("checklistKey", BACKBONE)
        found = None
        if "scientificNameID" in params:  # as GBIF: an identifier wins over the name
            found = self.v2_by_id.get((checklist, params["scientificNameID"]))
        if found is None and params.get("scientificName"):
            found = self.v2_by_name.get((checklist, _key(params["scientificName"])))
        if found is None and not params.get("scientificName"):
            for recorded, body in self.v2_by_params:
                if all(params.get(k) == v for k, v in recorded.items()):
                    found = body
        return found if found is not None else (V2_NONE if self.unknown == "none" else None)

    # --- failures ---------------------------------------------------------------------------

    def fail(self, mode: str, after: int = 0, times: int | None = None) -> None:
        """Let `after` more requests through, then fail `times` requests (None: all) with `mode`."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"failure mode must be one of {FAILURE_MODES}")
        with self._lock:
            self._failure = (mode, after, times)

    def heal(self) -> None:
        with self._lock:
            self._failure = None

    def _take_failure(self, path: str, params: dict) -> str | None:
        with self._lock:
            self.requests.append((time.monotonic(), path, params))
            if not self._failure:
                return None
            mode, successes, failures = self._failure
            if successes > 0:
                self._failure = (mode, successes - 1, failures)
                return None
            if failures is not None:
                self._failure = (mode, 0, failures - 1) if failures > 1 else None
            return mode

    @property
    def match_requests(self) -> int:
        return sum(1 for _, path, _ in self.requests if path.endswith("/species/match"))

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GbifReplayServer:
        self._stop.clear()
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.replay = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="gbif-replay", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases hanging handlers
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GbifReplayServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


if __name__ == "__main__":
    server = GbifReplayServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8089, unknown="none").start()
    print(
        f"replaying {len(server.v1)} v1 and {len(server.v2_by_name) + len(server.v2_by_id)} v2 answers at {server.url}"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
