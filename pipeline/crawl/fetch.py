"""Polite, bounded HTTP: one URL -> FetchResult. Never raises for network, HTTP or policy failures.

`Fetcher(settings)` owns one httpx transport and may be shared by several threads. For each URL it
checks the scheme and the address policy (the host is resolved *before* connecting, and the socket is
opened on the very address that was checked), obeys robots.txt, waits its turn for the origin
(per-origin delay and concurrency), sends an origin's cookies back to that origin alone, follows
redirects by hand (each hop checked again), retries
429/503 (Retry-After, capped) and timeouts/5xx (exponential backoff), streams the body under a
total deadline and a size limit counted after decompression, and decodes the text with the right
charset.

Error codes (`FetchResult.error_code`; None means success, a 304 included):
    bad_url             the URL cannot be parsed or has no host
    bad_scheme          not http or https (file:, ftp:, javascript:, ...)
    dns_error           the host name does not resolve
    forbidden_address   the host resolves to a refused address (loopback, private, link-local,
                        reserved, multicast, or a settings.forbidden_networks network)
    robots_disallowed   robots.txt forbids the URL (or robots.txt was unreachable: RFC 9309 5xx rule)
    connect_error       connection refused or reset, TLS failure, other transport failure
    timeout             connect/read timeout, or the total deadline of the request was reached
    protocol_error      the server broke HTTP (malformed response)
    too_many_redirects  more than settings.max_redirects redirects (or a redirect without Location)
    too_large           the body, after decompression, is longer than settings.max_body_bytes
    decode_error        unknown or corrupt Content-Encoding
    rate_limited        still 429 Too Many Requests after the retries, or a 429/503 whose Retry-After
                        is beyond settings.max_retry_after_s: not retried in this run, and
                        FetchResult.retry_at says when the server may be asked again (later
                        requests to that origin in the same run are not sent before then)
    http_<status>       any other non-2xx answer, e.g. http_404, http_410, http_500, http_503
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import httpx

from pipeline.crawl.guard import AddressRefused, GuardedTransport, address_allowed, bind_request, check_url  # noqa: F401 - address_allowed re-exported
from pipeline.models import CrawlSettings, FetchResult, Validator
from pipeline.crawl.robots import ALLOW_ALL, DISALLOW_ALL, RobotsRules, parse_robots

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_CRAWL_DELAY_S = 30.0
MAX_RETRY_AFTER_DAYS = 30  # a Retry-After further ahead is read as 30 days (a year-9999 date is no plan)
WESTERN_CHARSETS = frozenset({"cp1252", "latin_1", "iso8859_15", "ascii"})
TEXT_TYPES = ("text/", "xml", "json", "rss", "atom", "javascript")
ACCEPT = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.8"

@dataclass(frozen=True)
class _Answer:
    status: int | None
    headers: httpx.Headers
    body: bytes = b""
    code: str | None = None
    detail: str = ""
    deadline_hit: bool = False
    retry_at: datetime | None = None


# --- politeness ---------------------------------------------------------------------------------


class _OriginGate:
    """At most `concurrency` requests at once to an origin, starts spaced by `delay` seconds."""

    def __init__(self, delay: float, concurrency: int):
        self.delay = delay
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._next_start = 0.0

    def __enter__(self) -> None:
        self._slots.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.delay
        if start > now:
            time.sleep(start - now)

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


# --- body and text ------------------------------------------------------------------------------


class _BodyError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


def read_body(chunks, encoding: str, limit: int, deadline: float) -> bytes:
    """Join raw `chunks`, decompressing `encoding` (gzip/deflate/identity) without ever holding more
    than `limit`+1 decompressed bytes; raise _BodyError(too_large|decode_error|timeout)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = None  # zlib or raw deflate, decided on the first byte
    elif encoding in ("", "identity"):
        decoder = False
    else:
        raise _BodyError("decode_error", f"unsupported Content-Encoding {encoding!r}")
    body = bytearray()
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise _BodyError("timeout", "total deadline reached while reading the body")
        if decoder is None:
            decoder = zlib.decompressobj(zlib.MAX_WBITS if chunk[:1] == b"\x78" else -zlib.MAX_WBITS)
        if decoder is False:
            body += chunk
        else:
            data = chunk
            while data:
                try:
                    body += decoder.decompress(data, limit - len(body) + 1)
                except zlib.error as exc:
                    raise _BodyError("decode_error", f"corrupt {encoding} body: {exc}") from exc
                data = decoder.unconsumed_tail
                if len(body) > limit:
                    break
        if len(body) > limit:
            raise _BodyError("too_large", f"body longer than {limit} bytes")
    return bytes(body)


def is_textual(content_type: str) -> bool:
    ctype = content_type.split(";", 1)[0].strip().lower()
    return not ctype or any(marker in ctype for marker in TEXT_TYPES)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(body: bytes, content_type: str) -> str:
    """Decode with the header charset, a BOM, the <meta>/XML declaration, then strict UTF-8, then
    detection; a declared charset that does not fit the bytes is skipped."""
    if not body or not is_textual(content_type):
        return ""
    candidates: list[str] = []
    header = _HEADER_CHARSET.search(content_type)
    if header:
        candidates.append(header.group(1))
    candidates += [name for bom, name in _BOMS if body.startswith(bom)]
    head = body[:4096]
    declared = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if declared:
        candidates.append(declared.group(1).decode("ascii"))
    candidates.append("utf-8")
    for name in candidates:
        name = "cp1252" if name.lower() in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii") else name
        try:
            return body.decode(name).lstrip("\ufeff")
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode(_detect_charset(body[:200_000]), errors="replace")


def _detect_charset(body: bytes) -> str:
    """charset_normalizer's guess, but windows-1252 whenever it fits as well as the best guess:
    single-byte Western text often scores the same in cp1250 or cp1257, and our sources are French."""
    matches = list(charset_normalizer.from_bytes(body))
    if not matches:
        return "cp1252"
    least_chaos = min(m.chaos for m in matches)
    fitting = [m.encoding for m in matches if m.chaos <= least_chaos + 0.01]
    if any(name in WESTERN_CHARSETS for name in fitting):
        return "cp1252"
    return fitting[0]


# --- the fetcher --------------------------------------------------------------------------------


class Fetcher:
    """Polite HTTP client for a whole run; use as a context manager; thread-safe."""

    def __init__(self, settings: CrawlSettings, *, retry_backoff_s: float = 1.0):
        self.settings = settings
        self.retry_backoff_s = retry_backoff_s
        self._transport: GuardedTransport | None = None
        self._headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate", "Accept-Language": "fr,en;q=0.7",
                         "Connection": "keep-alive", "User-Agent": settings.user_agent}
        self._timeout = httpx.Timeout(connect=settings.connect_timeout_s, read=settings.read_timeout_s,
                                      write=settings.read_timeout_s, pool=settings.total_timeout_s).as_dict()
        self._lock = threading.Lock()
        self._gates: dict[str, _OriginGate] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._not_before: dict[str, datetime] = {}  # origin -> the time its server asked us to wait for
        self._cookies: dict[str, httpx.Cookies] = {}  # origin -> the cookies it set, only for the origins that set some

    def __enter__(self) -> Fetcher:
        # requests go straight to the transport: the Fetcher follows redirects, keeps cookies (an origin's
        # own, see _exchange) and retries by hand, so httpx.Client's layers for those only cost time (its
        # cookie jar alone looked over every response: a tenth of the HTTP work)
        self._transport = GuardedTransport(self.settings)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def fetch(self, url: str, validator: Validator | None = None, *,
              trusted_hosts: frozenset[str] = frozenset()) -> FetchResult:
        """GET `url` (conditionally when `validator` is given); see the module docstring for codes."""
        return self._fetch(url, validator, frozenset(h.lower() for h in trusted_hosts), obey_robots=True)

    def robots_for(self, url: str, trusted_hosts: frozenset[str] = frozenset()) -> RobotsRules:
        """The robots.txt rules of `url`'s origin, fetched once per Fetcher."""
        origin = _origin(url)
        with self._lock:
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin, frozenset(h.lower() for h in trusted_hosts))
            return self._robots[origin]

    def _load_robots(self, origin: str, trusted: frozenset[str]) -> RobotsRules:
        result = self._fetch(origin + "/robots.txt", None, trusted, obey_robots=False)
        if result.ok:
            rules = parse_robots(result.text)
            delay = rules.crawl_delay(self.settings.user_agent)
            if delay:
                gate = self._gate(origin + "/")
                gate.delay = max(gate.delay, min(delay, MAX_CRAWL_DELAY_S))
            return rules
        if result.status is not None and 400 <= result.status < 500 and result.status != 429:
            return ALLOW_ALL
        logger.info("robots.txt of %s unreachable (%s): disallow all", origin, result.error_code)
        return DISALLOW_ALL

    def _gate(self, url: str) -> _OriginGate:
        origin = _origin(url)
        with self._lock:
            if origin not in self._gates:
                self._gates[origin] = _OriginGate(self.settings.per_origin_delay_s,
                                                  self.settings.per_origin_concurrency)
            return self._gates[origin]

    def _fetch(self, url: str, validator: Validator | None, trusted: frozenset[str],
               obey_robots: bool) -> FetchResult:
        started = time.monotonic()
        headers = _conditional_headers(validator)
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            waiting = self._waiting_for(current)
            if waiting:
                return _failed(url, current, None, "rate_limited", waiting[1], started, retry_at=waiting[0])
            refusal = self._refusal(current, trusted, obey_robots)
            if refusal:
                return _failed(url, current, None, *refusal, started)
            answer = self._request_with_retries(current, headers, trusted)
            if answer.code:
                return _failed(url, current, answer.status, answer.code, answer.detail, started, answer.retry_at)
            if answer.status in REDIRECT_STATUSES:
                location = answer.headers.get("location")
                if not location:
                    return _failed(url, current, answer.status, "too_many_redirects", "redirect without Location", started)
                current = urljoin(current, location.strip())
                continue
            return _result(url, current, answer, validator, started)
        return _failed(url, current, None, "too_many_redirects", f"more than {self.settings.max_redirects} redirects", started)

    def _refusal(self, url: str, trusted: frozenset[str], obey_robots: bool) -> tuple[str, str] | None:
        refusal = check_url(url, self.settings, trusted)
        if refusal or not (obey_robots and self.settings.obey_robots):
            return refusal
        parts = urlsplit(url)
        path = _httpx_url(url).raw_path.decode("ascii")  # percent-encoded as sent, as robots rules compare
        if not self.robots_for(url, trusted).allows(path, self.settings.user_agent):
            return "robots_disallowed", f"robots.txt of {parts.netloc} disallows {path}"
        return None

    def _waiting_for(self, url: str) -> tuple[datetime, str] | None:
        """(time, detail) when the origin of `url` asked us, earlier in this run, to wait until then."""
        with self._lock:
            until = self._not_before.get(_origin(url))
        if until is None or until <= datetime.now(UTC):
            return None
        return until, f"the server asked not to be asked again before {until:%Y-%m-%d %H:%M} UTC"

    def _request_with_retries(self, url: str, headers: dict[str, str], trusted: frozenset[str]) -> _Answer:
        attempt = 0
        while True:
            answer = self._request_once(url, headers, trusted)
            far = self._beyond_patience(url, answer)
            if far is not None:
                return far
            wait = self._retry_wait(answer, attempt)
            if wait is None or attempt >= self.settings.max_retries:
                if answer.status == 429:
                    return _Answer(429, answer.headers, code="rate_limited", detail="429 after retries")
                return answer
            logger.info("retrying %s in %.1f s (%s)", url, wait, answer.code or answer.status)
            time.sleep(wait)
            attempt += 1

    def _beyond_patience(self, url: str, answer: _Answer) -> _Answer | None:
        """A 429/503 whose Retry-After is longer than a run waits: rate_limited with the time the
        origin may be asked again (remembered for the rest of the run), without retrying."""
        if answer.status not in (429, 503):
            return None
        delay = _parse_retry_after(answer.headers.get("retry-after"))
        if delay is None or delay <= self.settings.max_retry_after_s:
            return None
        retry_at = datetime.now(UTC) + timedelta(seconds=min(delay, MAX_RETRY_AFTER_DAYS * 86400.0))
        with self._lock:
            self._not_before[_origin(url)] = retry_at
        code = "rate_limited" if answer.status == 429 else "http_503"
        return _Answer(answer.status, answer.headers, code=code, retry_at=retry_at,
                       detail=f"{answer.status} with Retry-After {delay:.0f} s: not asked again before "
                              f"{retry_at:%Y-%m-%d %H:%M} UTC")

    def _retry_wait(self, answer: _Answer, attempt: int) -> float | None:
        backoff = self.retry_backoff_s * (2**attempt)
        if answer.status in (429, 503):
            retry_after = _parse_retry_after(answer.headers.get("retry-after"))
            return min(retry_after if retry_after is not None else backoff, self.settings.max_retry_after_s)
        if answer.status in RETRY_STATUSES or (answer.code == "timeout" and not answer.deadline_hit):
            return backoff
        return None

    def _request_once(self, url: str, headers: dict[str, str], trusted: frozenset[str]) -> _Answer:
        assert self._transport is not None, "use Fetcher as a context manager"
        deadline = time.monotonic() + self.settings.total_timeout_s
        with self._gate(url):
            try:
                bind_request(trusted, deadline)
                return self._exchange(url, headers, deadline)
            except AddressRefused as exc:
                return _Answer(None, httpx.Headers(), code="forbidden_address", detail=str(exc))
            except httpx.TimeoutException as exc:
                return _Answer(None, httpx.Headers(), code="timeout", detail=str(exc) or type(exc).__name__,
                               deadline_hit=time.monotonic() >= deadline)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                return _Answer(None, httpx.Headers(), code="bad_url", detail=str(exc))
            except httpx.RemoteProtocolError as exc:
                return _Answer(None, httpx.Headers(), code="protocol_error", detail=str(exc))
            except httpx.DecodingError as exc:
                return _Answer(None, httpx.Headers(), code="decode_error", detail=str(exc))
            except httpx.TransportError as exc:
                return _Answer(None, httpx.Headers(), code="connect_error", detail=str(exc) or type(exc).__name__)
            finally:
                bind_request(frozenset(), None)

    def _exchange(self, url: str, headers: dict[str, str], deadline: float) -> _Answer:
        assert self._transport is not None
        request = httpx.Request("GET", _httpx_url(url), headers={**self._headers, **headers},
                                extensions={"timeout": self._timeout})
        origin = _origin(url)
        if origin in self._cookies:
            self._cookies[origin].set_cookie_header(request)
        response = self._transport.handle_request(request)
        response.request = request
        try:
            if "set-cookie" in response.headers:
                self._keep_cookies(origin, response)
            status = response.status_code
            if status == 304 or status in REDIRECT_STATUSES:
                return _Answer(status, response.headers)
            if not 200 <= status < 300:
                return _Answer(status, response.headers, code=f"http_{status}", detail=response.reason_phrase)
            limit = self.settings.max_body_bytes
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit and not response.headers.get("content-encoding"):
                return _Answer(status, response.headers, code="too_large", detail=f"Content-Length {declared}")
            try:
                body = read_body(response.iter_raw(65_536), response.headers.get("content-encoding", ""),
                                 limit, deadline)
            except _BodyError as exc:
                return _Answer(status, response.headers, code=exc.code, detail=str(exc),
                               deadline_hit=exc.code == "timeout")
            return _Answer(status, response.headers, body)
        finally:
            response.close()

    def _keep_cookies(self, origin: str, response: httpx.Response) -> None:
        """The cookies `response` sets, kept in its origin's jar (made for the origins that set some)."""
        with self._lock:
            jar = self._cookies.setdefault(origin, httpx.Cookies())
        jar.extract_cookies(response)


def _conditional_headers(validator: Validator | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validator is not None:
        if validator.etag:
            headers["If-None-Match"] = validator.etag
        if validator.last_modified:
            headers["If-Modified-Since"] = validator.last_modified
    return headers


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _failed(url: str, final_url: str, status: int | None, code: str, detail: str, started: float,
            retry_at: datetime | None = None) -> FetchResult:
    logger.debug("fetch %s failed: %s %s", url, code, detail)
    return FetchResult(url=url, final_url=final_url, status=status, error_code=code, error_detail=detail,
                       elapsed_s=time.monotonic() - started, retry_at=retry_at)


@functools.lru_cache(maxsize=256)
def _httpx_url(url: str) -> httpx.URL:
    """httpx's parsing of `url` (immutable), once for the robots check and the request that follow."""
    return httpx.URL(url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _result(url: str, final_url: str, answer: _Answer, validator: Validator | None, started: float) -> FetchResult:
    headers = answer.headers
    if answer.status == 304:
        return FetchResult(url=url, final_url=final_url, status=304, not_modified=True,
                           etag=headers.get("etag") or (validator.etag if validator else None),
                           last_modified=headers.get("last-modified") or (validator.last_modified if validator else None),
                           elapsed_s=time.monotonic() - started)
    content_type = headers.get("content-type", "")
    return FetchResult(url=url, final_url=final_url, status=answer.status, body=answer.body,
                       content_type=content_type, text=decode_text(answer.body, content_type),
                       etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                       elapsed_s=time.monotonic() - started)
