"""One Rich console for all commands, and the rule that user errors are one line, not a traceback."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from lowlight_cli.errors import LowlightError

console = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable)
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
"""Click's usage errors (typer.BadParameter...) pass through to Click, which prints them with exit 2."""


def error(message: str) -> None:
    """Print one red error line (Rich markup in `message` is not interpreted)."""
    console.print(f"[bold red]error:[/] {escape(message)}")


def progress_bar(
    *fields: str, quiet: bool = False, rate: str | None = None, transfer: bool = False, transient: bool = True
):
    """The one progress display of every command (a `rich.progress.Progress`, used as a context manager).

    Per task: its description, a bar, done/total (bytes and bytes/s when `transfer`), `fields` (Rich format
    strings over the task, e.g. "{task.fields[pairs]} pairs"), its rate as "<n> `rate`" (per second, e.g.
    "img/s") when given, the elapsed and the remaining time. On the stderr console; nothing when `quiet`;
    gone when done unless `transient` is False. The API reports progress through callbacks the command wires
    to the bar's tasks.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:.2f} {rate}" if task.speed else "", style="dim")

    counts = (DownloadColumn(), TransferSpeedColumn()) if transfer else (MofNCompleteColumn(),)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *counts,
        *(TextColumn(f) for f in fields),
        *((RateColumn(),) if rate else ()),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=transient,
    )


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


DEBUG_ENV = "LOWLIGHT_DEBUG"
"""Set (to anything but 0 or empty) by `lowlight --debug`: errors keep their Python traceback."""
EXIT_USER, EXIT_BUG, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 3, 130, 143
"""Exit codes: 1 a user error (one line), 2 a usage error (Click), 3 a bug in lowlight (one line naming the
exception; --debug shows where), 130 Ctrl-C, 143 SIGTERM."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every `finally` and atomic write cleans up on the way out."""


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def user_errors(func: F) -> F:
    """Every failure is one line on stderr and a non-zero exit (--debug or LOWLIGHT_DEBUG=1 keeps the
    traceback).

    A LowlightError or an OSError (read-only folder, full disk...) is the user's to fix: exit 1. Anything else
    is a bug: one line naming it, exit 3. Ctrl-C and SIGTERM: what is finished is kept, exit 130 / 143.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, _CLICK_ERROR):
            raise
        except KeyboardInterrupt as exc:
            if debugging():
                raise
            error("interrupted; finished outputs are kept, nothing half-written is left behind")
            raise typer.Exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED) from None
        except Exception as exc:
            if debugging():
                raise
            message, code = describe(exc)
            error(message)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code of an exception that reached the command line."""
    from lowlight_cli.errors import file_error

    if isinstance(exc, LowlightError):
        return with_flag(exc), EXIT_USER
    if isinstance(exc, MemoryError):
        return "out of memory; for photos retry with a smaller --tile", EXIT_USER
    if isinstance(exc, OSError) and exc.errno is not None:
        return str(file_error(exc.filename or "?", exc, "cannot access")), EXIT_USER
    text = " ".join(str(exc).split())[:300]
    return (
        f"unexpected {type(exc).__name__}{': ' + text if text else ''} (a bug in lowlight: "
        f"run again with --debug for the traceback and report it)"
    ), EXIT_BUG


FLAGS = {
    "cors_origins": "--cors-origin",
    "allowed_hosts": "--allowed-host",
    "actors": "--ray-actors",
    "cpus": "--ray-cpus",
    "gpus": "--ray-gpus",
    "parts": "--coco-parts",
    "fmt": "--format",
    "baselines": "--baseline",
}
"""API parameter -> the flag that sets it, where the flag is not `--` and the name with `_` as `-`."""


def flag(param: str) -> str:
    """The command-line flag of API parameter `param` (`tile` -> `--tile`, `pix_fmt` -> `--pix-fmt`)."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def with_flag(exc: LowlightError) -> str:
    """The message of an API error in the CLI's words: its leading parameter name (`exc.param`) replaced by
    the flag that sets it ("strength 5 is out of range: ..." -> "--strength 5 is out of range: ..."), and
    every parameter it names in backticks too ("exists; replace it with `overwrite`" -> "... --overwrite")."""
    text, param = str(exc), getattr(exc, "param", None)
    if param and (text == param or text.startswith((f"{param} ", f"{param}:"))):
        text = flag(param) + text[len(param) :]
    return flags_in(text)


def flags_in(text: str) -> str:
    """`text` with each parameter it names in backticks shown as its flag ("`tile`" -> "--tile"): for the
    messages that are no exception, such as a batch's per-file failures."""
    return re.sub(r"`([a-z][a-z0-9_]*)`", lambda m: flag(m.group(1)), text)


def needs(what: str, *extras: str) -> Callable[[F], F]:
    """Check a command's optional extras before it runs: a missing one is one error line naming it, exit 1."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            from lowlight_cli.extras import require

            try:
                require(what, *extras)
            except LowlightError as exc:
                error(str(exc))
                raise typer.Exit(1) from None
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
