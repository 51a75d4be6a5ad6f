"""Runs beyond one machine: `synth` and batch `enhance` on a Ray cluster (Ray Data, an actor pool).

`runtime` connects and maps a file list over an actor pool; `ray_runs` holds the two runs, which reuse the
local code paths (`synth.pipeline.process` and its Journal, `inference.files.enhance_one`), so a Ray run
writes exactly what the local run writes. Needs the `ray` extra: pip install 'lowlight[ray]'.
"""
