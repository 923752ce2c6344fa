"""Read robots.txt files (RFC 9309) and answer "may this agent fetch this path?".

A robots.txt is parsed into `RobotsRules`: the groups of rules per user-agent, the `Sitemap:` lines
and any `Crawl-delay`. Matching follows the RFC: the group naming our product token (case-insensitive)
wins over `*`; within a group the longest matching pattern decides and `Allow` wins a tie; `*` matches
any run of characters and a final `$` anchors the end. `/robots.txt` itself is always allowed.

The fetching and caching of robots.txt per origin lives in `fetch.Fetcher`, which applies the RFC's
status rules: 2xx -> these rules, 4xx -> allow all, 5xx or unreachable -> disallow all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

MAX_ROBOTS_BYTES = 500_000  # RFC 9309: parse at least 500 KiB; we stop there


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class RobotsRules:
    """Rules of one origin's robots.txt."""

    groups: dict[str, tuple[Rule, ...]] = field(default_factory=dict)  # agent (lower) -> rules
    sitemaps: tuple[str, ...] = ()
    crawl_delays: dict[str, float] = field(default_factory=dict)
    disallow_all: bool = False

    def rules_for(self, agent: str) -> tuple[Rule, ...]:
        token = product_token(agent)
        if token in self.groups:
            return self.groups[token]
        return self.groups.get("*", ())

    def allows(self, path: str, agent: str) -> bool:
        """May `agent` (a full User-Agent or its product token) fetch `path` (path + query)?"""
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
    """'veille-scientifique/0.1 (+mailto:x)' -> 'veille-scientifique'."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return match.group(0).lower() if match else "*"


def parse_robots(text: str) -> RobotsRules:
    """Parse robots.txt text; unknown lines are ignored, as the RFC asks."""
    groups: dict[str, list[Rule]] = {}
    delays: dict[str, float] = {}
    sitemaps: list[str] = []
    agents: list[str] = []
    in_rules = False  # a rule line closes the run of user-agent lines of a group
    for raw in text[:MAX_ROBOTS_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            for agent in agents:
                groups.setdefault(agent, [])
        elif key in ("allow", "disallow"):
            in_rules = True
            if value or key == "allow":
                rule = _compile_rule(key == "allow", value or "/")
                for agent in agents:
                    groups.setdefault(agent, []).append(rule)
        elif key == "crawl-delay":
            in_rules = True
            try:
                for agent in agents:
                    delays[agent] = float(value)
            except ValueError:
                continue
        elif key == "sitemap" and value:
            sitemaps.append(value)
    return RobotsRules(
        groups={agent: tuple(rules) for agent, rules in groups.items()},
        sitemaps=tuple(sitemaps),
        crawl_delays=delays,
    )


def _compile_rule(allow: bool, pattern: str) -> Rule:
    pattern = _normalise_path(pattern)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return Rule(allow, pattern, re.compile(regex + ("$" if anchored else ""), re.DOTALL))


def _normalise_path(path: str) -> str:
    """Decode percent-escapes of unreserved characters so /%7Ejoe and /~joe compare equal."""
    if not path.startswith("/") and not path.startswith("*"):
        path = "/" + path
    return re.sub(r"%[0-9A-Fa-f]{2}", lambda m: _unescape_unreserved(m.group(0)), path)


def _unescape_unreserved(escape: str) -> str:
    char = unquote(escape)
    return char if re.fullmatch(r"[A-Za-z0-9._~-]", char) else escape.upper()
