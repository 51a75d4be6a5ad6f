"""The server's guards, as plain ASGI middleware so they run before any route or body parsing.

- Host check: a page on another site can make a browser send requests to 127.0.0.1 under a name the
  attacker controls (DNS rebinding). Only loopback names, IP literals (a rebinding needs a name), the bound
  host and `--allowed-host` names are accepted; anything else is a 400.
- Token: when set, every /api/ call needs `Authorization: Bearer <token>` (401 without, 403 when wrong).
  The page, /healthz and the API docs need none; they reveal nothing about the photos.
- Body limit: a declared Content-Length over the limit is a 413 before a byte is read; a chunked body is
  counted as it arrives and cut off with a 413 at the limit.
- Headers: no sniffing, no framing, and a Content-Security-Policy that lets the page load only its own files.
"""

from __future__ import annotations

import ipaddress
import json
import secrets

from lowlight_cli.serve.settings import LOOPBACK_NAMES

CSP = (
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
]
DOCS_PATHS = ("/docs", "/redoc")
"""FastAPI's API pages load their script from a CDN: they get the headers above but the CSP."""


class HttpError(Exception):
    """An error answered as JSON `{"detail": message}` with `status`, the message one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def body_too_large(message: str) -> Exception:
    """The 413 raised while a (chunked) body is read: an HTTPException, the one kind that FastAPI's body
    parsing passes on as it is; any other error there becomes its generic 400 "error parsing the body"."""
    from fastapi import HTTPException

    return HTTPException(413, detail=message)


async def send_json(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *SECURITY_HEADERS,
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def host_name(header: str) -> str:
    """The name part of a Host header: `[::1]:8000` -> `::1`, `example.org:80` -> `example.org`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(header: str, bound: str, extra: tuple[str, ...]) -> bool:
    name = host_name(header)
    if not name:
        return False
    if name in LOOPBACK_NAMES or name == bound.strip("[]").lower() or name in {h.lower() for h in extra}:
        return True
    try:
        ipaddress.ip_address(name)
        return True  # an IP literal cannot be rebound
    except ValueError:
        return False


class Guard:
    """Host check, token check and body limit in front of the app (see the module docstring)."""

    def __init__(
        self, app, *, bound_host: str, allowed_hosts: tuple[str, ...], token: str | None, max_body: int
    ) -> None:
        self.app = app
        self.bound_host = bound_host
        self.allowed_hosts = allowed_hosts
        self.token = token
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not host_allowed(host, self.bound_host, self.allowed_hosts):
            return await send_json(
                send,
                400,
                {
                    "detail": f"Host header {host!r} is not accepted (DNS-rebinding guard); "
                    "start the server with --allowed-host NAME to accept a name"
                },
            )
        path = scope.get("path", "")
        if self.token and path.startswith("/api/") and scope.get("method") != "OPTIONS":
            auth = headers.get("authorization", "")
            if not auth:
                return await send_json(
                    send,
                    401,
                    {
                        "detail": "this server needs a token: send 'Authorization: Bearer <token>' "
                        "(the token was printed when the server started)"
                    },
                    [(b"www-authenticate", b"Bearer")],
                )
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                return await send_json(send, 403, {"detail": "wrong token"})
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                return await send_json(send, 400, {"detail": "malformed Content-Length"})
            if too_big:
                return await send_json(send, 413, {"detail": too_big_message(int(length), self.max_body)})
        headers_out = SECURITY_HEADERS if not path.startswith(DOCS_PATHS) else SECURITY_HEADERS[:3]
        return await self.app(scope, self._counting(receive, send), self._with_headers(send, headers_out))

    def _counting(self, receive, send):
        seen = 0
        limit = self.max_body

        async def wrapped():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise body_too_large(too_big_message(None, limit))  # the size is not known yet
            return message

        return wrapped

    @staticmethod
    def _with_headers(send, extra: list):
        async def wrapped(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(
                    message, headers=[*message.get("headers", []), *(h for h in extra if h[0] not in names)]
                )
            await send(message)

        return wrapped


def too_big_message(size: int | None, limit: int) -> str:
    """`size` None: a chunked body, cut off at the limit before its end (its size unknown)."""
    body = "request body" if size is None else f"request body of {size / 1e6:.3g} MB"
    return f"{body} is over this server's limit of {limit / 1e6:.3g} MB (--max-body)"
