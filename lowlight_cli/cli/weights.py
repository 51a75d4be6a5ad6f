"""`lowlight weights ...`: list, verify, import, pull and push model weights.

Examples:
    lowlight weights list
    lowlight weights verify official
    lowlight weights pull hf://me/agllnet@v1/model.safetensors
    lowlight weights push runs/mine me/agllnet-mine
    lowlight weights import-onnx agllnet_official_256x256.onnx --out weights/official
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.extras import require
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

app = typer.Typer(
    help="List, verify, import, pull and push model weights.", no_args_is_help=True, rich_markup_mode="rich"
)


@app.command("list")
@user_errors
def list_weights() -> None:
    """The bundled weights, with their sha256 and licence."""
    from rich.table import Table

    from lowlight_cli.weights.registry import BUNDLED, resolve

    table = Table("name", "default", "MB", "sha256", "licence", "summary")
    for name, entry in BUNDLED.items():
        found = resolve(name)
        size = f"{found.weights_file.stat().st_size / 1e6:.2f}" if found.weights_file.is_file() else "missing"
        table.add_row(
            name,
            "yes" if name == DEFAULT_WEIGHTS else "",
            size,
            entry.sha256[:12],
            entry.license,
            entry.summary,
        )
    console.print(table)


@app.command("verify")
@user_errors
def verify(ref: Annotated[str, typer.Argument(help="Weights reference.")] = DEFAULT_WEIGHTS) -> None:
    """Check the sha256 and that the weights rebuild their network."""
    require("lowlight weights verify", "torch")
    from lowlight_cli.weights.model_io import load_model

    model = load_model(ref)
    params = sum(p.numel() for p in model.parameters())
    console.print(f"{escape(ref)}: ok ({params:,} parameters, noise-net: {model.config.noise_net})")


@app.command("import-onnx")
@user_errors
def import_onnx(
    onnx_file: Annotated[Path, typer.Argument(help="The released model's ONNX conversion.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for model.safetensors + config.json.")
    ] = Path("weights/imported"),
    check: Annotated[bool, typer.Option(help="Compare with onnxruntime running the graph itself.")] = True,
) -> None:
    """Map the ONNX graph's weights onto the PyTorch AgLLNet and save them as safetensors."""
    require("lowlight weights import-onnx", "export", *(("onnxruntime",) if check else ()))
    from lowlight_cli.weights.model_io import save_model
    from lowlight_cli.weights.onnx_import import compare_with_onnx, import_official_onnx

    model = import_official_onnx(onnx_file)
    if check:
        diffs = compare_with_onnx(model, onnx_file)
        console.print("max |torch - onnxruntime|: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    save_model(model, out, metadata={"source": onnx_file.name, "imported_by": "lowlight weights import-onnx"})
    console.print(f"saved {escape(str(out))}")


@app.command("pull")
@user_errors
def pull(
    ref: Annotated[
        str, typer.Argument(help="hf://owner/repo\\[@revision]/model.safetensors", show_default=False)
    ],
) -> None:
    """Fetch Hub weights into the standard Hugging Face cache and verify them (later runs work offline)."""
    require("lowlight weights pull", "torch")
    from lowlight_cli.weights.hub import resolve_hub
    from lowlight_cli.weights.model_io import load_checkpoint

    found = resolve_hub(ref)
    model = load_checkpoint(found.weights_file, found.config_file, found.sha256)
    params = sum(p.numel() for p in model.parameters())
    console.print(
        f"{escape(ref)}: ok ({params:,} parameters), cached at {escape(str(found.weights_file.parent))}"
    )
    console.print(
        f"commit {escape(found.weights_file.parent.name)}: pin it with hf://…@<commit>/… for "
        "reproducible runs"
    )


@app.command("push")
@user_errors
def push(
    ref: Annotated[str, typer.Argument(help="Weights to upload: a weights folder or a bundled name.")],
    repo_id: Annotated[str, typer.Argument(help="Hub repository, owner/name (created if missing).")],
    revision: Annotated[str | None, typer.Option(help="Branch to commit to. Default: main.")] = None,
    private: Annotated[bool, typer.Option(help="Create the repository as private.")] = False,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
) -> None:
    """Upload config.json, model.safetensors, a model card (and exported ONNX graphs) in one commit."""
    require("lowlight weights push", "torch")
    from lowlight_cli.weights.model_io import load_model
    from lowlight_cli.weights.publish import push as push_weights

    load_model(ref)  # never publish weights that do not load
    pinned = push_weights(ref, repo_id, revision=revision, private=private, message=message)
    console.print(f"pushed; use --weights {escape(pinned)}")
