"""Every command's --help: an example, on/off options shown as flags (no `<bool>` value), defaults shown."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

COMMANDS = [[c.name] for c in app.registered_commands] + [["weights"]] + [
    ["weights", c.name] for g in app.registered_groups for c in g.typer_instance.registered_commands]


def help_of(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_help_has_examples_of_that_command_and_flags_as_flags(args):
    text = help_of(args)
    examples = text.split("Examples", 1)[1].splitlines()
    assert any(f"lowlight {' '.join(args)}" in line or f"lowlight_cli {' '.join(args)}" in line for line in examples)
    assert "<bool>" not in text and "-h" in text


def test_options_show_their_defaults_and_markup_is_not_eaten():
    text = help_of(["enhance"])
    assert f"[default: {DEFAULT_WEIGHTS}]" in text and "[default: auto]" in text
    assert "--recursive" in text
    assert "hf://owner/repo[@rev]/file" in text  # a literal [ ] survives Rich markup
    assert "hf://owner/repo[@revision]/model.safetensors" in help_of(["weights", "pull"])
