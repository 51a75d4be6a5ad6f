"""`lowlight serve`: a local web page and HTTP API for enhancing photos and videos (the [serve] extra).

Examples:
    lowlight serve                             # http://127.0.0.1:8000/ ; the API is documented at /docs
    lowlight serve --host 0.0.0.0 --port 9000  # reachable from the network: a token is generated and printed
    lowlight serve --weights official --device cuda --max-pixels 60M
"""

from __future__ import annotations

from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.cli.options import (
    WORKERS_ZERO,
    BackendOpt,
    Device,
    DeviceOpt,
    FastOpt,
    GateOpt,
    PrecisionOpt,
    TileOpt,
    WeightsOpt,
)
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS


@user_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback requires a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            help=(
                "Require 'Authorization: Bearer TOKEN' on every API call (or set LOWLIGHT_TOKEN). "
                "Generated and printed when --host is not loopback."
            ),
            show_default=False,
        ),
    ] = None,
    max_pixels: Annotated[
        str,
        typer.Option(help="Largest photo accepted, in pixels (40M = 40 megapixels); larger ones get 413."),
    ] = "40M",
    max_body: Annotated[
        str, typer.Option(help="Largest request body in bytes (200MB); larger ones get 413.")
    ] = "200MB",
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help=(
                "Allow browser calls from this origin (repeatable; no wildcards). Default: none, same "
                "origin only."
            ),
            show_default=False,
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Accept this Host-header name besides loopback names and IP addresses (repeatable).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help=(
                "Photos worked on at once on the CPU, each on its own worker thread: at least 1, "
                f"default min(2, cores) ({WORKERS_ZERO}, as for synth, is refused). A GPU has one "
                "worker and a queue."
            ),
            show_default=False,
        ),
    ] = None,
    max_queue: Annotated[
        int, typer.Option(min=1, help="Tasks that may wait for a worker; beyond it requests get 503.")
    ] = 32,
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    device: DeviceOpt = Device.auto,
    backend: BackendOpt = DEFAULT_BACKEND,
    precision: PrecisionOpt = None,
    fast: FastOpt = False,
    tile: TileOpt = None,
    gate: GateOpt = True,
) -> None:
    """Serve a web page (drop photos, compare, adjust, download) and an HTTP API;
    the model loads at start-up."""
    import uvicorn

    from lowlight_cli.serve.app import create_app
    from lowlight_cli.serve.settings import ServeSettings, parse_amount

    settings = ServeSettings(
        host=host,
        port=port,
        weights=weights,
        device=device.value,
        backend=backend,
        tile=tile,
        token=token,
        precision=precision,
        fast=fast,
        gate=gate,
        max_pixels=parse_amount(max_pixels, "max_pixels", "p|px|mp"),
        max_body=parse_amount(max_body, "max_body", "b"),
        max_queue=max_queue,
        workers=workers,
        cors_origins=tuple(cors_origin or ()),
        allowed_hosts=tuple(allowed_host or ()),
    ).checked()
    settings.check_port()  # a busy port is one line, before the model loads
    console.print(f"[dim]loading {escape(weights)} ...[/]")

    def ready(engine) -> None:
        page = settings.url + (f"#token={settings.token}" if settings.token else "")
        console.print(
            f"[bold]lowlight serve[/] ready in {engine.load_seconds:.1f} s ({escape(engine.description)}, "
            f"{engine.workers} worker{'s' if engine.workers > 1 else ''}): {escape(page)}"
        )
        console.print(f"  API docs: {escape(settings.url)}docs")
        if settings.token:
            source = "generated" if settings.token_generated else "given"
            console.print(
                f"  token ({source}): {escape(settings.token)}   send it as: Authorization: Bearer <token>"
            )

    uvicorn.run(
        create_app(settings, on_ready=ready), host=host, port=port, log_level="warning", access_log=False
    )
