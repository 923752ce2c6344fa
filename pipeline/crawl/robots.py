"""Read robots.txt files (RFC 9309) and answer "may this agent fetch this path?".

A robots.txt is parsed into `RobotsRules`: the groups of rules per product token, the `Sitemap:`
lines and any `Crawl-delay`. What the RFC asks, and how it is done here:

- A group is one or more `User-agent:` lines followed by rules; blank lines and other records
  (`Sitemap:`, unknown lines) do not close it. Rules before any `User-agent:` line are ignored.
- Each `User-agent:` value is cut to its product token (up to the first character outside
  `[a-zA-Z_-]`, case-insensitive): `veille-scientifique/0.1` and `FOO BAR` name `veille-scientifique`
  and `foo`. We match our own product token (the start of `settings.user_agent`); groups naming the
  same token are merged; the `*` group applies only when no group names us.
- Rule paths and request paths are compared percent-encoded: non-ASCII octets of a rule are encoded
  as UTF-8 escapes, escapes are upper-cased, and escapes of unreserved characters (`%7E` for `~`)
  are decoded, on both sides. The request path must come encoded, as a URL sends it (the fetcher
  passes httpx's raw path), so a rule written `/ツ` stops a request for `/%E3%83%84`.
- The longest matching pattern decides (its length in octets, encoded); `Allow` wins a tie; `*`
  matches any run of characters and a final `$` anchors the end; an empty `Disallow:` is no rule.
  `/robots.txt` itself is always allowed.

Also read as Google's parser does, where the RFC is silent: a line missing its colon
(`disallow /`) is read as if it had one, lines longer than 16,663 characters are cut there, and an
`Allow` pattern ending in `/index.html` also allows its directory.

Where we depart from Google's reading, the RFC is on our side: a rule written `/%62%61%7A` matches
the path `/baz` (RFC 9309 section 2.2.2 lists this very pair as equal; Google compares the strings).

Why mend our parser rather than use a library: `urllib.robotparser` matches agents by substring
and ignores the longest-match rule, and protego (Scrapy's) does not cut `User-agent:` values to
their product token either, so a file naming `veille-scientifique/0.1` would not stop us with
either; both are as long to wrap as this module is to keep right, and the tests here pin the RFC.

The fetching and caching of robots.txt per origin lives in `fetch.Fetcher`, which applies the RFC's
status rules: 2xx -> these rules, 4xx -> allow all, 5xx or unreachable -> disallow all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

MAX_ROBOTS_BYTES = 500_000  # RFC 9309: parse at least 500 KiB; we stop there
MAX_LINE_CHARS = 8 * 2083 - 1  # Google's bound (a 16,664-octet buffer with its terminator): longer lines are cut
DIRECTIVES = ("user-agent", "allow", "disallow", "crawl-delay", "sitemap")
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class RobotsRules:
    """Rules of one origin's robots.txt."""

    groups: dict[str, tuple[Rule, ...]] = field(default_factory=dict)  # product token (lower) -> rules
    sitemaps: tuple[str, ...] = ()
    crawl_delays: dict[str, float] = field(default_factory=dict)
    disallow_all: bool = False

    def rules_for(self, agent: str) -> tuple[Rule, ...]:
        token = product_token(agent)
        if token in self.groups:
            return self.groups[token]
        return self.groups.get("*", ())

    def allows(self, path: str, agent: str) -> bool:
        """May `agent` (a full User-Agent or its product token) fetch `path` (path + query, encoded)?"""
        if self.disallow_all:
            return False
        path = _normalise_path(path)
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in self.rules_for(agent):
            if rule.regex.match(path) and (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow)
            ):
                best = rule
        return best is None or best.allow

    def crawl_delay(self, agent: str) -> float | None:
        token = product_token(agent)
        return self.crawl_delays.get(token, self.crawl_delays.get("*"))


ALLOW_ALL = RobotsRules()
DISALLOW_ALL = RobotsRules(disallow_all=True)


def product_token(user_agent: str) -> str:
    """'veille-scientifique/0.1 (+mailto:x)' -> 'veille-scientifique'; '*' stays '*'."""
    value = user_agent.strip()
    if value.startswith("*"):
        return "*"
    match = _PRODUCT_TOKEN.match(value)
    return match.group(0).lower() if match else "*"


def parse_robots(text: str) -> RobotsRules:
    """Parse robots.txt text; unknown lines are ignored, as the RFC asks."""
    groups: dict[str, list[Rule]] = {}
    delays: dict[str, float] = {}
    sitemaps: list[str] = []
    agents: list[str] = []
    in_rules = False  # a rule line closes the run of user-agent lines of a group
    for key, value in _records(text[:MAX_ROBOTS_BYTES]):
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(product_token(value))
            groups.setdefault(agents[-1], [])
        elif key in ("allow", "disallow"):
            in_rules = True
            if value:
                for rule in _rules_of(key == "allow", value):
                    for agent in agents:
                        groups[agent].append(rule)
        elif key == "crawl-delay":
            in_rules = True
            try:
                delay = float(value)
            except ValueError:
                continue
            for agent in agents:
                delays[agent] = delay
        elif key == "sitemap" and value:
            sitemaps.append(value)
    return RobotsRules(
        groups={agent: tuple(rules) for agent, rules in groups.items()},
        sitemaps=tuple(sitemaps),
        crawl_delays=delays,
    )


def _records(text: str):
    """(directive in lower case, value) for each line that holds one; a missing colon is tolerated."""
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw[:MAX_LINE_CHARS].split("#", 1)[0].strip()
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
        else:
            key, _, value = line.partition(" ")
            value = value.strip()
        key = key.lower()
        if key in DIRECTIVES or ":" in line:
            yield key, value


def _rules_of(allow: bool, pattern: str) -> list[Rule]:
    rules = [_compile_rule(allow, pattern)]
    if allow and pattern.endswith("/index.html"):
        rules.append(_compile_rule(True, pattern[: -len("index.html")] + "$"))
    return rules


def _compile_rule(allow: bool, pattern: str) -> Rule:
    pattern = _normalise_path(_encode_octets(pattern))
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return Rule(allow, pattern, re.compile(regex + ("$" if anchored else ""), re.DOTALL))


def _encode_octets(pattern: str) -> str:
    """Percent-encode what is outside printable ASCII (as UTF-8), leaving escapes and ASCII alone."""
    return quote(pattern, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def _normalise_path(path: str) -> str:
    """Upper-case escapes and decode those of unreserved characters, so /%7ejoe and /~joe compare equal."""
    if not path.startswith("/") and not path.startswith("*"):
        path = "/" + path
    return _ESCAPE.sub(lambda m: _unescape_unreserved(m.group(0)), path)


def _unescape_unreserved(escape: str) -> str:
    char = unquote(escape)
    return char if _UNRESERVED.fullmatch(char) else escape.upper()
