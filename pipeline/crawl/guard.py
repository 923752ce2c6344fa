"""Where the crawler may connect: the address policy and the socket layer that enforces it.

`check_url` and `address_allowed` are pure (a test passes its own resolver). `GuardedTransport` is
the httpx transport the Fetcher uses: its sockets are opened only on an address the policy accepted
(the very address it checked, so DNS rebinding between check and connect does not work), and every
socket read or write is cut to what remains of the request's total deadline, so a server dripping
one byte per second (headers included) cannot hold a request past `total_timeout_s`.
Each crawl thread has its own small connection pool: connections are reused within the origin
it is crawling, and let go once it has moved on to other origins.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from pipeline.models import CrawlSettings

Resolver = Callable[[str, int], list[str]]

_context = threading.local()  # per thread: trusted hosts and deadline of the request in flight


class AddressRefused(Exception):
    """The socket layer refused an address (raised inside httpcore, caught by the Fetcher)."""


def bind_request(trusted: frozenset[str], deadline: float | None) -> None:
    """Tell the socket layer, for this thread, which hosts are trusted and when the request ends."""
    _context.trusted, _context.deadline = trusted, deadline


def address_allowed(ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address, settings: CrawlSettings,
                    trusted: bool = False) -> bool:
    """May we connect to `ip`? forbidden_networks always refuse; a trusted host or an
    allowed_networks address is accepted; otherwise only public unicast addresses."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in ipaddress.ip_network(net, strict=False) for net in settings.forbidden_networks):
        return False
    if trusted or any(address in ipaddress.ip_network(net, strict=False) for net in settings.allowed_networks):
        return True
    return address.is_global and not address.is_multicast


def resolve_host(host: str, port: int) -> list[str]:
    """Addresses of `host` (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0].split("%", 1)[0] for info in infos]


def check_url(url: str, settings: CrawlSettings, trusted_hosts: frozenset[str] = frozenset(),
              resolve: Resolver = resolve_host) -> tuple[str, str] | None:
    """(code, detail) when `url` must not be fetched, None when it may. Resolves the host with
    `resolve`, so a test can pass a fake resolver and stay off the network."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return "bad_url", str(exc)
    if parts.scheme.lower() not in ("http", "https"):
        return "bad_scheme", f"scheme {parts.scheme!r} refused"
    if not host:
        return "bad_url", "no host"
    trusted = host.lower() in trusted_hosts
    try:
        addresses = resolve(host, port or (443 if parts.scheme.lower() == "https" else 80))
    except (OSError, UnicodeError) as exc:
        return "dns_error", f"{host}: {exc}"
    refused = [a for a in addresses if not address_allowed(a, settings, trusted)]
    if not addresses or refused:
        return "forbidden_address", f"{host} resolves to refused address {', '.join(refused) or '-'}"
    return None


# --- the socket layer: checked address, total deadline -----------------------------------------


def _bounded(timeout: float | None) -> float | None:
    """The timeout of one socket operation, cut to what is left of the request's total deadline."""
    deadline = getattr(_context, "deadline", None)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("total deadline of the request reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to an address the policy accepts, the one it checked (no DNS rebinding)."""

    def __init__(self, settings: CrawlSettings):
        self._settings = settings

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        trusted = host.lower() in getattr(_context, "trusted", frozenset())
        try:
            addresses = resolve_host(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"dns: {exc}") from exc
        allowed = [a for a in addresses if address_allowed(a, self._settings, trusted)]
        if not allowed or len(allowed) != len(addresses):
            raise AddressRefused(f"{host} resolves to a refused address")
        stream = super().connect_tcp(allowed[0], port, _bounded(timeout), local_address, socket_options)
        return _DeadlineStream(stream)


# A crawl thread crawls one source at a time: the connections worth keeping alive are those to the
# origin it is crawling and perhaps one more (where its redirects or item links lead).
KEEPALIVE_PER_THREAD = 2


class _PoolPerThread:
    """httpcore's pool interface over one small ConnectionPool per thread. A request looks over its
    thread's few connections only: one pool shared by every thread keeps the idle connections of
    origins whose crawl is over, and looks over each of them (a poll syscall each, under the pool's
    lock) on every request and every response closed."""

    def __init__(self, make_pool: Callable[[], httpcore.ConnectionPool]):
        self._make_pool = make_pool
        self._local = threading.local()
        self._pools: list[httpcore.ConnectionPool] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        return self._own_pool().handle_request(request)

    def _own_pool(self) -> httpcore.ConnectionPool:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = self._make_pool()
            with self._lock:
                self._pools.append(pool)
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.close()

    def __enter__(self) -> _PoolPerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, settings: CrawlSettings):
        super().__init__(trust_env=False)  # no proxy from the environment: it would bypass the policy
        ssl_context = httpx.create_ssl_context(trust_env=False)
        # httpx does not expose httpcore's network_backend: replace its pool with ours, one per thread.
        self._pool = _PoolPerThread(lambda: httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_keepalive_connections=KEEPALIVE_PER_THREAD,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(settings),
        ))
