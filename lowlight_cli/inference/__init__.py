"""Inference: the Enhancer (padding, tiling, attention at reduced size) over a torch or onnxruntime
backend. The backend names are defined here, once; the commands, serve, eval and bench take them from here."""

from typing import Literal, get_args

OnnxBackendName = Literal["onnx", "onnx-tensorrt"]
"""onnxruntime on the exported graphs; with TensorRT as its first provider (NVIDIA GPUs only)."""
BackendName = Literal["torch", OnnxBackendName]
"""The inference backends: PyTorch, or onnxruntime (torch is then never imported)."""
BackendChoice = Literal["auto", BackendName]
"""What `--backend` and `Enhancer(backend=...)` take: a backend, or `auto` (`backend_choice.auto_backend`)."""
BACKENDS: tuple[str, ...] = get_args(BackendName)
ONNX_BACKENDS: tuple[str, ...] = get_args(OnnxBackendName)
BACKEND_CHOICES: tuple[str, ...] = get_args(BackendChoice)

DEFAULT_BACKEND: BackendChoice = "auto"
"""What `Enhancer` and the commands use without --backend; see `backend_choice.auto_backend`."""
