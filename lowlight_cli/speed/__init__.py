"""Speed and memory of inference on this machine (`lowlight bench`): MP/s and peak memory per backend x
precision x tile size x image size, video fps, and speed ratios, reported as Markdown and JSON.

`plan` checks a run's options and lists its cases, `cases` measures one case (each in a fresh process),
`ratios` the run's speed ratios, `report` writes bench.md and bench.json.
"""
