"""Every command's --help: an example, on/off options shown as flags (no `<bool>` value), defaults shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

COMMANDS = (
    [[c.name] for c in app.registered_commands]
    + [["weights"]]
    + [["weights", c.name] for g in app.registered_groups for c in g.typer_instance.registered_commands]
)


SHORT_HELP = re.compile(r"(?<![\w-])-h(?![\w-])")
"""`-h` as an option of its own: not the `-h` inside `--help`, nor a longer `-hx` or `--h...`."""


def help_of(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_help_has_examples_of_that_command_and_flags_as_flags(args):
    text = help_of(args)
    examples = text.split("Examples", 1)[1].splitlines()
    assert any(
        f"lowlight {' '.join(args)}" in line or f"lowlight_cli {' '.join(args)}" in line for line in examples
    )
    assert "<bool>" not in text and SHORT_HELP.search(text), text


def test_the_short_help_check_is_a_real_check():
    assert SHORT_HELP.search("│ --help  -h   Show this message and exit. │")
    for text in ("│ --help       Show this message and exit. │", "--hflip", "-hx", "a-h"):
        assert not SHORT_HELP.search(text), text


def test_options_show_their_defaults_and_markup_is_not_eaten():
    text = help_of(["enhance"])
    assert f"[default: {DEFAULT_WEIGHTS}]" in text and "[default: auto]" in text
    assert "--recursive" in text
    assert "hf://owner/repo[@rev]/file" in text  # a literal [ ] survives Rich markup
    assert "hf://owner/repo[@revision]/model.safetensors" in help_of(["weights", "pull"])


def _commands():
    """(args, click command) for the root, every command and every sub-command."""
    import typer.main

    def walk(command, args):
        yield args, command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*args, name])

    return list(walk(typer.main.get_command(app), []))


def _extra_hints(text: str, extras: set[str]) -> set[str]:
    """The install hints in a raw help string: `lowlight[ray]`, `the [serve] extra`, `'lowlight[torch,synth]'`
    (written `[x]` or `\\[x]`), as the literal text the reader must see: `lowlight[ray]`, `[serve]`."""
    hints = set()
    for match in re.finditer(r"([\w.-]*)\\?\[([\w,-]+)\]", text):
        if set(match.group(2).split(",")) <= extras:
            hints.add(f"{match.group(1)}[{match.group(2)}]")
    return hints


def test_every_extra_install_hint_in_the_help_texts_survives_rich_markup():
    """Rich reads `[ray]` as a style tag and drops it: "Needs lowlight[ray]" was shown as "Needs lowlight"."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    extras = set(pyproject["project"]["optional-dependencies"])
    checked = {}
    for args, command in _commands():
        texts = [
            command.help,
            command.short_help,
            command.epilog,
            *(getattr(p, "help", None) for p in command.params),
        ]
        hints = set().union(*(_extra_hints(t, extras) for t in texts if t))
        if not hints:
            continue
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", help_of(args)).split())  # the words, across table lines
        for hint in hints:
            assert hint in shown, f"`lowlight {' '.join(args)} --help` lost {hint!r}:\n{shown}"
        checked[" ".join(args)] = hints
    assert {"lowlight[ray]"} <= checked.get("enhance", set()) and {"lowlight[ray]"} <= checked.get(
        "synth", set()
    )


def test_each_command_summary_is_one_paragraph_however_its_docstring_wraps():
    """Rich keeps a docstring's line breaks: a summary wrapped in the source showed its break in `lowlight
    --help`'s command list. On a wide terminal every command's summary is one table line."""
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"})
    rows = result.output.split("Commands", 1)[1].split("╰", 1)[0].splitlines()[1:]
    names = [c.name for c in app.registered_commands] + ["weights"]
    listed = [r.split()[1] for r in rows if r.strip("│ ")]
    assert sorted(listed) == sorted(names), result.output
