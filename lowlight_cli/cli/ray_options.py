"""The options of a Ray run (`--ray ADDRESS` and the actor pool), shared by `synth` and `enhance`."""

from __future__ import annotations

from typing import Annotated

import typer

RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        rich_help_panel="Ray cluster",
        help="Run on Ray: 'local' (start Ray on this machine), 'auto' (the cluster this machine is in), "
        "HOST:PORT or ray://HOST:10001. Needs lowlight\\[ray]; see docs/scale.md.",
    ),
]
RayActorsOpt = Annotated[
    int | None,
    typer.Option(
        "--ray-actors",
        min=1,
        rich_help_panel="Ray cluster",
        help="Actors in the pool. Default: as many as the cluster's CPUs (GPUs with --ray-gpus) hold.",
    ),
]
RayCpusOpt = Annotated[
    float, typer.Option("--ray-cpus", min=0.0, rich_help_panel="Ray cluster", help="CPUs per actor.")
]
RayGpusOpt = Annotated[
    float, typer.Option("--ray-gpus", min=0.0, rich_help_panel="Ray cluster", help="GPUs per actor.")
]
