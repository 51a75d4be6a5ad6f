"""The `lowlight` command: wires the sub-commands together and nothing else.

Sub-command modules import torch and friends inside their functions, so `--help` and
`--version` answer without loading them. Each command's `--help` ends with its examples: a module's
`EPILOG` when it defines one, else the `Examples:` lines of its docstring that run that command.
"""

from __future__ import annotations

import inspect
import os
import signal
import types
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from lowlight_cli import __version__
from lowlight_cli.cli import bench, enhance, eval_, export, synth, train, tune_gate, video, weights
from lowlight_cli.cli.console import DEBUG_ENV, Terminated, escape, needs


class _FlagsAsFlags:
    """Help tables show an on/off option as its name alone (`--recursive, -r`),
    with no `<bool>` value column."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
                param.metavar = ""
        return params


class Command(_FlagsAsFlags, TyperCommand):
    pass


class Group(_FlagsAsFlags, TyperGroup):
    pass


_LINE = "\n" if tuple(int(v) for v in typer.__version__.split(".")[:2]) >= (0, 28) else "\n\n"
"""Line break inside a help epilog: Typer before 0.28 joins single line breaks into one paragraph."""

HELP: dict[str, Any] = dict(
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["--help", "-h"], "max_content_width": 110},
)
"""Shared by every command: Rich markup in help texts and epilogs, -h as --help, wide option tables."""

app = typer.Typer(
    name="lowlight",
    help="Turn dark, noisy photos and videos into clean, well-exposed ones (AgLLNet).",
    epilog=_LINE.join(
        (
            "[bold]Examples[/]",
            "  lowlight enhance photo.jpg",
            "  lowlight video in.mp4 out.mp4",
            "  lowlight COMMAND --help",
        )
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Group,
    **HELP,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lowlight {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the Python traceback of an error (also: LOWLIGHT_DEBUG=1).")
    ] = False,
) -> None:
    """Turn dark, noisy photos and videos into clean, well-exposed ones (AgLLNet)."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


def examples(module: types.ModuleType, command: str) -> str | None:
    """The --help epilog of `lowlight COMMAND`: `module.EPILOG` (Rich markup: a literal `[` is written `\\[`),
    or else the `Examples:` lines of the module's docstring that run that command."""
    if getattr(module, "EPILOG", None):  # Rich markup, one example a line
        return _LINE.join(module.EPILOG.strip("\n").splitlines())
    doc = module.__doc__ or ""
    if "Examples:" not in doc:
        return None
    block = doc.split("Examples:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    words = command.split()

    def runs_command(line: str) -> bool:
        tokens = line.split()
        for i, token in enumerate(tokens):
            if token in ("lowlight", "lowlight_cli") and tokens[i + 1 : i + 1 + len(words)] == words:
                return True
        return False

    mine = [line for line in lines if runs_command(line)] or lines
    return _LINE.join(["[bold]Examples[/]", *(f"  {escape(line)}" for line in mine)])


def summary_help(func: Callable) -> str | None:
    """`func`'s docstring as its --help text, the first paragraph on one line: Rich keeps a docstring's line
    breaks, and that paragraph is also the command's line in `lowlight --help`, wrapped to the terminal."""
    doc = inspect.getdoc(func)
    if not doc:
        return None
    first, sep, rest = doc.partition("\n\n")
    return " ".join(first.split()) + sep + rest


def _register(
    name: str, module: types.ModuleType, func: Callable, extras: tuple[str, ...] = (), **kwargs
) -> None:
    help_text = summary_help(func)
    if extras:
        func = needs(f"lowlight {name}", *extras)(func)
    app.command(name, help=help_text, epilog=examples(module, name), cls=Command, **kwargs)(func)


_register("enhance", enhance, enhance.enhance, no_args_is_help=True)  # backend extras: Enhancer checks them
_register("video", video, video.video, ("video",), no_args_is_help=True)
app.add_typer(weights.app, name="weights", cls=Group, epilog=examples(weights, "weights"))
_register("export", export, export.export, ("export", "onnxruntime"))
_register("bench", bench, bench.bench)
_register("synth", synth, synth.synth, ("synth",))
_register("synth-merge", synth, synth.synth_merge)
_register("train", train, train.train, ("train",))
_register("eval", eval_, eval_.eval_, ("eval",))
_register("tune-gate", tune_gate, tune_gate.tune_gate, ("eval",), no_args_is_help=True)
from lowlight_cli.cli import serve  # noqa: E402

_register("serve", serve, serve.serve, ("serve",))
for _sub in weights.app.registered_commands:
    _sub.epilog, _sub.cls = examples(weights, f"weights {_sub.name}"), Command
    if _sub.help is None and _sub.callback is not None:
        _sub.help = summary_help(_sub.callback)


def _terminate(signum, frame) -> None:
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)  # like Ctrl-C: temporary files removed, finished outputs kept
    app()
