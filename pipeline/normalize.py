"""Canonical URLs, text clean-up and item ids.

Two URLs that a person would call "the same page" get the same canonical form, so the same item
seen twice (http and https, with tracking parameters, with or without index.html) gets one id.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "_ga", "_gl", "ref", "ref_src", "xtor", "at_medium", "at_campaign", "share",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
# session identifiers: a new one per visit, never part of what the page is
SESSION_PARAMS = frozenset({"phpsessid", "jsessionid", "sessionid", "sessid", "cfid", "cftoken"})
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sessionid)=[^/?#]*", re.IGNORECASE)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
INDEX_PAGES = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered in SESSION_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _host(parts) -> str:
    """Lower-case host, IDN as punycode, IPv6 in brackets, no trailing dot."""
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        return f"[{host}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a valid IDN: keep it as written, it still identifies the page
    return host


def _port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:  # "host:abc": no usable port, the host alone identifies the site
        return None


def _path(path: str) -> str:
    """One spelling per path: session ids dropped, percent-escapes normalised ("é", "%c3%a9" and
    "%C3%A9" are one path); an escaped slash stays escaped."""
    path = _PATH_SESSION.sub("", path)
    return "%2F".join(quote(unquote(part), safe=_PATH_SAFE) for part in re.split("%2f", path, flags=re.IGNORECASE))


def _fragment(fragment: str) -> str:
    """Fragments are dropped, except "#!" routes of JavaScript sites, which name a page."""
    return fragment if fragment.startswith("!") else ""


@functools.lru_cache(maxsize=16_384)  # pure, and a crawl asks for one URL's form several times
def canonical_url(url: str) -> str:
    """The canonical form of a URL: https, lower-case host (IDN as punycode), no "www.", no default
    port, no fragment (but "#!" routes), no tracking or session parameters, sorted query, one
    spelling of percent-escapes, no index page, no trailing slash (but the root). Protocol-relative
    URLs ("//host/path") are taken as https; malformed ports do not raise."""
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    parts = _split(url)
    scheme = parts.scheme.lower() if parts else ""
    if scheme not in ("http", "https"):
        return url
    if scheme == "http":
        scheme = "https"
    host = _host(parts)
    if host.startswith("www."):
        host = host[4:]
    port = _port(parts)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", _path(parts.path or "/"))
    path = INDEX_PAGES.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), _fragment(parts.fragment)))


def clean_url(url: str) -> str:
    """The URL as published, minus its fragment (but "#!" routes), tracking and session
    parameters: still the one to fetch."""
    parts = _split(url.strip())
    if parts is None or parts.scheme.lower() not in ("http", "https"):
        return url.strip()
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    path = _PATH_SESSION.sub("", parts.path or "/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), _fragment(parts.fragment)))


def _split(url: str):
    """urlsplit(url), or None for what it cannot parse ("http://[" ): kept as written, it still
    identifies the page."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def item_id(url: str) -> str:
    """Stable 16-hex-digit id of the item at `url` (its canonical form)."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def clean_text(text: str) -> str:
    """Unicode NFC, no control characters, runs of white space folded, trimmed."""
    text = unicodedata.normalize("NFC", text or "")
    # each distinct character looked at once (a text has few), then replaced in one pass
    others = {ord(ch): " " for ch in set(text) if ch not in "\n\t" and unicodedata.category(ch)[0] == "C"}
    text = text.translate(others) if others else text
    # str.split() splits on the white space \s matches: each line's blanks folded and trimmed at C speed
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def fold_for_matching(text: str) -> str:
    """Lower-case words without accents or punctuation, for comparisons and hashes."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    return " ".join(_WORD.findall(_without_marks(decomposed)))


def _without_marks(text: str) -> str:
    """`text` without its combining characters; each distinct character looked at once, the marks
    found removed by one regex (a text has few distinct characters and fewer marks)."""
    if text.isascii():
        return text
    marks = "".join(sorted(ch for ch in set(text) if unicodedata.combining(ch)))
    return _marks_pattern(marks).sub("", text) if marks else text


@functools.lru_cache(maxsize=256)
def _marks_pattern(marks: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(marks)}]")


def content_hash(title: str, text: str, folded_text: str | None = None) -> str:
    """Hash of the normalised title and text: equal for the same content, whatever the markup.
    `folded_text`: fold_for_matching(text), when the caller has it already."""
    folded_text = fold_for_matching(text) if folded_text is None else folded_text
    folded = fold_for_matching(title) + "\n" + folded_text
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()[:16]


_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def join_url(base: str, href: str, keep_fragment: bool = False) -> str | None:
    """`href` made absolute against `base` (without its fragment unless `keep_fragment`); None when
    it cannot be parsed (e.g. "http://[::1"), has no host ("https:") or is not an http(s) link
    (javascript:, mailto:, data:)."""
    href = re.sub("[\t\n\r]", "", href).strip(_C0_AND_SPACE)  # as browsers read an href
    try:
        url = urljoin(base, href)
        url = url if keep_fragment else url.split("#", 1)[0]
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None
