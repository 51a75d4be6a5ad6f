"""The `lowlight` command: wires the sub-commands together and nothing else.

Sub-command modules import torch and friends inside their functions, so `--help` and
`--version` answer without loading them.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lowlight_cli import __version__
from lowlight_cli.cli import bench, enhance, eval_, export, synth, train, video, weights

app = typer.Typer(
    name="lowlight",
    help="Turn dark, noisy photos and videos into clean, well-exposed ones (AgLLNet).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lowlight {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Turn dark, noisy photos and videos into clean, well-exposed ones (AgLLNet)."""


app.command("enhance", no_args_is_help=True)(enhance.enhance)
app.command("video", no_args_is_help=True)(video.video)
app.add_typer(weights.app, name="weights")
app.command("export")(export.export)
app.command("bench")(bench.bench)
app.command("synth")(synth.synth)
app.command("synth-merge")(synth.synth_merge)
app.command("train")(train.train)
app.command("eval")(eval_.eval_)


def main() -> None:
    app()
