"""What `lowlight serve` is started with, checked once before anything loads."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace

from lowlight_cli.errors import LowlightError
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

DEFAULT_MAX_PIXELS = 40_000_000
"""Largest photo the server decodes (megapixels x 1e6):
a 24 MP photo costs about 1.7 GB while it is worked on."""
DEFAULT_MAX_BODY = 200_000_000
"""Largest request body in bytes (a 40 MP 16-bit TIFF is about 240 MB uncompressed, 100-200 MB deflated)."""
DEFAULT_MAX_QUEUE = 32
"""Tasks waiting for a worker beyond this are refused with 503 rather than holding their uploads in memory."""
DEFAULT_MAX_JOBS = 64
"""Finished jobs kept (with their files) before the oldest are deleted."""
TOKEN_ENV = "LOWLIGHT_TOKEN"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


_UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}


def parse_amount(text: str | int, param: str, unit: str) -> int:
    """`40M`, `40MP`, `200MB`, `1.5G` or a plain number -> an integer count (decimal units); `param` names
    the setting in an error (`max_pixels`, `max_body`)."""
    import re

    match = re.fullmatch(rf"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:{unit})?\s*", str(text), re.IGNORECASE)
    if not match:
        raise LowlightError(
            f"{param} {text!r}: expected a number with an optional k/M/G, such as 40M", param=param
        )
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value < 1:
        raise LowlightError(f"{param} {text!r}: must be positive", param=param)
    return value


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    weights: str = DEFAULT_WEIGHTS
    device: str = "auto"
    backend: str = DEFAULT_BACKEND
    tile: int | None = None
    precision: str | None = None
    """fp32, fp16 or auto (`--precision`); None: the Enhancer's default (fp32)."""
    fast: bool = False
    """`--fast`: the network on a small copy, guided upsampling to full size (photos), keyframes (videos)."""
    gate: bool = True
    """`--gate/--no-gate`: apply the weights' attention gate, if they have one."""
    token: str | None = None
    """Required in `Authorization: Bearer <token>` on every API call when set (always set off loopback)."""
    token_generated: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_body: int = DEFAULT_MAX_BODY
    max_queue: int = DEFAULT_MAX_QUEUE
    max_jobs: int = DEFAULT_MAX_JOBS
    workers: int | None = None
    """Inference threads on the CPU; None = min(2, cores). A GPU always gets one worker behind a queue. 0,
    which means "in this process" wherever `--workers` is taken (`lowlight synth`), is refused: the work
    always runs on worker threads, so that the server keeps answering."""
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    """Extra Host-header names accepted (besides loopback names, IP literals and the bound host)."""
    warmup: bool = True

    def checked(self) -> ServeSettings:
        """Validate, and generate a token when binding off loopback without one (`token_generated`)."""
        for origin in self.cors_origins:
            if origin.strip() in ("*", "null") or "*" in origin:
                raise LowlightError(
                    f"cors_origins {origin}: wildcards are refused; name each origin, "
                    "e.g. http://localhost:3000",
                    param="cors_origins",
                )
            if not origin.startswith(("http://", "https://")):
                raise LowlightError(
                    f"cors_origins {origin}: expected an origin such as https://example.org",
                    param="cors_origins",
                )
        for name in ("max_pixels", "max_body"):
            if getattr(self, name) < 1:
                raise LowlightError(f"{name} {getattr(self, name)}: must be positive", param=name)
        if self.workers is not None and self.workers < 1:
            raise LowlightError(
                f"workers {self.workers}: serve runs photos on worker threads, at least 1 "
                "(0 means in this process, which a server cannot do); leave it out for min(2, cores)",
                param="workers",
            )
        if self.max_queue < 1:
            raise LowlightError(f"max_queue {self.max_queue}: must be at least 1", param="max_queue")
        if not 1 <= self.port <= 65535:
            raise LowlightError(f"port {self.port}: must be between 1 and 65535", param="port")
        token = self.token or os.environ.get(TOKEN_ENV) or None
        if token is not None and len(token) < 16:
            raise LowlightError(
                "token: use at least 16 characters (leave it out to have one generated)", param="token"
            )
        if token is None and not is_loopback(self.host):
            return replace(self, token=secrets.token_urlsafe(24), token_generated=True)
        return replace(self, token=token)

    def check_port(self) -> None:
        """Refuse, in one line, an address this machine cannot listen on (a busy port, an unknown host)."""
        import socket

        try:
            with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self.host, self.port))
        except OSError as exc:
            raise LowlightError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None

    def worker_count(self, device_type: str) -> int:
        if device_type != "cpu":
            return 1
        return self.workers if self.workers is not None else max(1, min(2, os.cpu_count() or 1))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '[::]') else host}:{self.port}/"
