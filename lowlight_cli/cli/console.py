"""One Rich console for all commands, and the rule that user errors are one line, not a traceback."""

from __future__ import annotations

import functools
import os
from typing import Callable, TypeVar

import typer
from rich.console import Console

from lowlight_cli.errors import LowlightError

console = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable)


def error(message: str) -> None:
    """Print one red error line (Rich markup in `message` is not interpreted)."""
    console.print(f"[bold red]error:[/] {escape(message)}")


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def user_errors(func: F) -> F:
    """Turn a LowlightError into one line on stderr and exit code 1 (LOWLIGHT_DEBUG=1 keeps the traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LowlightError as exc:
            if os.environ.get("LOWLIGHT_DEBUG"):
                raise
            error(str(exc))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            error("interrupted; finished outputs are kept, nothing half-written is left behind")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


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
