"""A loopback HAL search API for tests: answers Solr JSON queries the way HAL's documentation shows.

`serve_hal(deposits)` serves `GET /search/?q=*:*&fq=collCode_s:X&fl=...&rows=N&sort=...&cursorMark=M&wt=json`
on 127.0.0.1: the deposits whose `collCode_s` (or `structId_i`) matches the fq, newest
`submittedDate_tdate` first, `fl` applied, paged by cursorMark (an opaque mark; the last page
returns the mark it was given) or by `start`. `server.mode` makes it misbehave: "error" (HTTP 500
with Solr's error JSON), "bad_request" (400), "slow" (answers after `server.delay_s`), "html"
(an HTML page instead of JSON); `server.robots` is the robots.txt it serves (404 when None).
The deposits and their words are invented for the tests.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit


@dataclass
class HalApi:
    deposits: list[dict[str, Any]]
    server: ThreadingHTTPServer | None = None
    mode: str = "ok"
    delay_s: float = 0.0
    queries: list[dict[str, str]] = field(default_factory=list)
    robots: str | None = None  # the robots.txt it serves (None: 404, no rules)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/search/"

    def answer(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        self.queries.append(query)
        if self.mode == "error":
            return 500, "application/json", _json({"error": {"msg": "Solr is down", "code": 500}})
        if self.mode == "bad_request":
            return 400, "application/json", _json({"error": {"msg": "undefined field foo_s", "code": 400}})
        if self.mode == "html":
            return 200, "text/html", b"<!doctype html><html><body>Maintenance</body></html>"
        if self.mode == "slow":
            time.sleep(self.delay_s)
        return 200, "application/json; charset=UTF-8", _json(self.search(query))

    def search(self, query: dict[str, str]) -> dict[str, Any]:
        matching = sorted((d for d in self.deposits if _matches(d, query.get("fq", ""))),
                          key=lambda d: (d["submittedDate_tdate"], d["docid"]), reverse=True)
        rows = int(query.get("rows", "30"))
        cursor = query.get("cursorMark")
        start = _offset(cursor) if cursor else int(query.get("start", "0"))
        page = matching[start:start + rows]
        fields = [f for f in query.get("fl", "").split(",") if f]
        docs = [{k: v for k, v in d.items() if not fields or k in fields} for d in page]
        answer: dict[str, Any] = {
            "response": {"numFound": len(matching), "start": start, "numFoundExact": True, "docs": docs}}
        if cursor:
            answer["nextCursorMark"] = _mark(start + len(page)) if page else cursor
        return answer


def _matches(deposit: dict[str, Any], fq: str) -> bool:
    name, _, value = fq.partition(":")
    if name == "collCode_s":
        return value in deposit.get("collCode_s", [])
    if name == "structId_i":
        return int(value) in deposit.get("structId_i", [])
    return False


def _mark(offset: int) -> str:
    return "AoE" + base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(mark: str) -> int:
    if mark == "*":
        return 0
    encoded = mark.removeprefix("AoE")
    return int(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


@contextmanager
def serve_hal(deposits: list[dict[str, Any]]) -> Iterator[HalApi]:
    api = HalApi(list(deposits))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            if parts.path == "/robots.txt":
                status, kind, body = (404, "text/plain", b"") if api.robots is None else \
                    (200, "text/plain", api.robots.encode("utf-8"))
            elif parts.path.rstrip("/") != "/search":
                status, kind, body = 404, "text/plain", b"not found"
            else:
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, kind, body = api.answer(query)
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    api.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.server.daemon_threads = True
    threading.Thread(target=api.server.serve_forever, daemon=True).start()
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()


VOCABULARY = (
    "atome", "cristal", "protéine", "galaxie", "neurone", "sédiment", "polymère", "enzyme", "climat", "photon",
    "glacier", "bactérie", "algorithme", "graphe", "volcan", "océan", "lumière", "champ", "réseau", "cellule",
    "génome", "spectre", "laser", "plasma", "molécule", "catalyse", "forêt", "rivière", "sol", "magnétisme",
    "fluide", "turbulence", "séisme", "étoile", "planète", "virus", "membrane", "alliage", "verre", "surface",
    "interface", "onde", "quantique", "topologie", "hydrogène", "carbone", "azote", "fer", "silicium", "cuivre",
    "modèle", "mesure", "simulation", "théorie", "expérience", "capteur", "imagerie", "dynamique", "équilibre",
    "transition",
)


def _words(seed: int, count: int) -> str:
    """`count` words of VOCABULARY, drawn anew for each seed."""
    return " ".join(random.Random(seed).choices(VOCABULARY, k=count))


def deposit(number: int, *, collection: str = "LPEM", structure: int = 1001, day: int = 1, month: int = 10,
            journal: str = "Physical Review Letters", doc_type: str = "ART", doi: str | None = None,
            title: str | None = None, abstract: str | None = None, open_access: bool = True) -> dict[str, Any]:
    """One invented deposit with the fields HAL returns (multi-valued fields are lists)."""
    hal_id = f"hal-{4_000_000 + number:08d}"
    document: dict[str, Any] = {
        "docid": 4_000_000 + number,
        "halId_s": hal_id,
        "uri_s": f"https://hal.science/{hal_id}",
        "title_s": [title or f"{_words(number, 6).capitalize()} ({number})"],
        "authFullName_s": ["Camille Martin", "Yanis Benali", f"Auteur {number}"],
        "abstract_s": [abstract or (f"Nous mesurons la résistance de l'échantillon {number} sous pression. "
                                    "Les résultats montrent une transition nette vers 30 kelvins. "
                                    + _words(number * 7 + 1, 40) + ".")],
        "publicationDate_tdate": f"2026-{month:02d}-{day:02d}T00:00:00Z",
        "producedDate_tdate": f"2026-{month:02d}-{day:02d}T00:00:00Z",
        "submittedDate_tdate": f"2026-{month:02d}-{day:02d}T{number % 24:02d}:00:00Z",
        "docType_s": doc_type,
        "openAccess_bool": open_access,
        "language_s": ["fr"],
        "collCode_s": [collection, "CNRS"],
        "structId_i": [structure, 441569],
    }
    if doc_type == "ART":
        document["journalTitle_s"] = journal
    else:
        document["conferenceTitle_s"] = journal
    if doi:
        document["doiId_s"] = doi
    if open_access:
        document["fileMain_s"] = f"https://hal.science/{hal_id}/document"
    return document
