"""The attention gate's formula (`AgLLNetConfig.attention_gate`), on torch tensors and numpy arrays alike; it
imports neither, so the onnxruntime path stays free of torch. The model gates each training crop with its own
map; at inference the Enhancer gates the whole image with a smoothed map (`inference.whole_image_gate`).
"""

from __future__ import annotations


def gate_weight(attention, gate: tuple[float, float]):
    """Per-pixel weight of the network's result under `AgLLNetConfig.attention_gate`: 0 where the attention
    map is at or below gate[0], 1 at or above gate[1], smoothstep in between. Works on tensors and arrays."""
    low, high = gate
    t = ((attention - low) / (high - low)).clip(0, 1)
    return t * t * (3 - 2 * t)


def gated(image, output, attention, gate: tuple[float, float]):
    """The network's `output` under the attention gate: `image` where `gate_weight` is 0, `output` where it is
    1, blended in between. `attention` must broadcast against `image` (N1HW for NCHW tensors, HxWx1 for HxWx3
    arrays)."""
    return blend(image, output, gate_weight(attention, gate))


def blend(image, output, weight):
    """`image` where `weight` is 0, `output` where it is 1, linear in between."""
    return image + weight * (output - image)


def blend_into(image, output, weight):
    """`blend`, written into `output` (a numpy array) in place: no full-size temporaries. Returns `output`."""
    output -= image
    output *= weight
    output += image
    return output
