"""Inference: the Enhancer (padding, tiling, attention at reduced size) over a torch or onnxruntime
backend."""

DEFAULT_BACKEND = "auto"
"""What `Enhancer` and the commands use without --backend; see `enhancer.auto_backend`."""
