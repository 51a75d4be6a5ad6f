"""User controls over the network's result: how far to go, how bright, whether to keep the input's colour.

They cover what no single set of weights gets right for everyone, and are applied to the enhanced image
in this order:
0. denoise: how much of the network's noise removal to keep (1: all of it; 0: brightness and colour only).
   Below 1 the result's fine detail (what a Gaussian of DENOISE_SIGMA px removes) is replaced, by that share,
   with the input's own fine detail times the network's local gain: the input's grain, brightened as the
   network brightened that spot. Works with every set of weights.
1. keep_colour: the result's CIELAB lightness with the a*, b* of the input brightened by one global gamma to
   the result's mean luma: the model's brightening and denoising of L*, the input's own colours.
2. exposure: a target mean luma (0-1), an EV offset in linear light ("+1ev", "-0.5EV"), or "auto" (pull the
   mean luma into AUTO_RANGE and leave it alone inside it). A target is reached by one global gamma, so the
   order of tones is kept, within EXPOSURE_TOLERANCE.
3. strength: out = input + strength * (result - input). 0 gives the input exactly (the network is not run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lowlight_cli.errors import LowlightError

AUTO_RANGE = (0.35, 0.55)
"""`--exposure auto` moves the mean luma into this range (Rec.601 luma, 0-1), nearest end."""
EXPOSURE_TOLERANCE = 0.01
"""A numeric `--exposure` target is met within this (mean luma); only clipping at 0/1 can stop it earlier."""
KEEP_COLOUR_SIGMA = 0.01
"""`--keep-colour` takes the input's a*, b* blurred by a Gaussian of this share of the longer side (8 px at
800 px): wide enough to average a dark photo's colour noise away, narrow enough to keep each object's colour.
Taken pixel for pixel, the input's colours brought its colour noise back (docs/benchmarks.md#keep-colour)."""
DENOISE_SIGMA = 2.0
"""Pixels: the scale of the grain `denoise` gives back (sensor noise and JPEG blocks live below it)."""
MAX_GAIN = 64.0
"""`denoise` never brightens the input's grain by more than this (the gain of a black pixel is undefined)."""
KEEP_COLOUR_SIGNAL = (2 / 255, 10 / 255)
"""`--keep-colour` trusts the input's colour where its local luma (blurred as the colours are) is above the
upper end, and not at all below the lower: 2-10 codes of 255. Under that the input's R:G:B ratios are
quantisation and sensor offsets (a green or olive cast once brightened), so the colours there fade to
neutral."""
_EV = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*ev\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Exposure:
    """One of: `auto`, a target mean luma (`target`), or an EV offset (`ev`)."""

    auto: bool = False
    target: float | None = None
    ev: float | None = None

    @classmethod
    def parse(cls, text: str) -> Exposure:
        """`auto`, a number in (0, 1) (target mean luma) or `+1ev` / `-0.5EV`."""
        text = str(text).strip()
        if text.lower() == "auto":
            return cls(auto=True)
        match = _EV.match(text)
        if match:
            ev = float(match.group(1))
            if abs(ev) > 5:
                raise LowlightError(
                    f"exposure {text} is out of range: EV offsets go from -5 to +5", param="exposure"
                )
            return cls(ev=ev)
        try:
            target = float(text)
        except ValueError:
            raise LowlightError(
                f"exposure {text!r}: expected auto, a mean brightness in (0, 1) such as 0.45, "
                "or an EV offset such as +0.5ev",
                param="exposure",
            ) from None
        if not 0 < target < 1:
            raise LowlightError(
                f"exposure {text} is out of range: a target mean brightness must be between 0 and 1",
                param="exposure",
            )
        return cls(target=target)

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        from lowlight_cli.colour import gamma_to_mean, mean_luma

        if self.ev is not None:
            linear = np.power(np.clip(rgb, 0, 1), 2.2) * np.float32(2.0**self.ev)
            return np.power(np.clip(linear, 0, 1), 1 / 2.2).astype(np.float32)
        target = self.target
        if self.auto:
            mean = mean_luma(rgb)
            target = min(max(mean, AUTO_RANGE[0]), AUTO_RANGE[1])
            if target == mean:
                return rgb
        if target is None:  # Exposure(): none of the three, no change
            return rgb
        return gamma_to_mean(rgb, target)


@dataclass(frozen=True)
class Controls:
    strength: float = 1.0
    exposure: Exposure | None = None
    keep_colour: bool = False
    denoise: float = 1.0

    @classmethod
    def parse(
        cls,
        strength: float = 1.0,
        exposure: str | None = None,
        keep_colour: bool = False,
        denoise: float = 1.0,
    ) -> Controls:
        """Controls from user-given values (CLI options, form fields), `exposure` as text (`Exposure.parse`)
        or None; an invalid value raises a one-line LowlightError whose `param` names it."""
        return cls(
            float(strength),
            Exposure.parse(exposure) if exposure is not None else None,
            bool(keep_colour),
            float(denoise),
        )

    def __post_init__(self) -> None:
        if not 0 <= self.strength <= 1:
            raise LowlightError(
                f"strength {self.strength:g} is out of range: must be between 0 and 1", param="strength"
            )
        if not 0 <= self.denoise <= 1:
            raise LowlightError(
                f"denoise {self.denoise:g} is out of range: must be between 0 and 1", param="denoise"
            )

    @property
    def description(self) -> str:
        exposure = self.exposure
        parts = [f"strength {self.strength:g}"]
        if exposure is not None:
            parts.append(
                "exposure auto"
                if exposure.auto
                else f"exposure {exposure.ev:+g} EV"
                if exposure.ev is not None
                else f"exposure {exposure.target:g}"
            )
        if self.denoise != 1:
            parts.append(f"denoise {self.denoise:g}")
        return ", ".join(parts + (["keep colour"] if self.keep_colour else []))

    @property
    def neutral(self) -> bool:
        return self.strength == 1 and self.exposure is None and not self.keep_colour and self.denoise == 1

    def apply(self, source: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
        """The controlled result for `source` (HxWx3 float in [0, 1]) and the network's `enhanced` image."""
        if self.neutral:
            return enhanced
        if self.strength == 0:
            return source
        out = enhanced
        if self.denoise != 1:
            out = regrain(source, out, self.denoise)
        if self.keep_colour:
            out = keep_colour(source, out)
        if self.exposure is not None:
            out = self.exposure.apply(out)
        if self.strength != 1:
            out = source + np.float32(self.strength) * (out - source)
        return np.clip(out, 0, 1).astype(np.float32)


def regrain(source: np.ndarray, enhanced: np.ndarray, denoise: float) -> np.ndarray:
    """`enhanced` keeping `denoise` of the network's noise removal: its detail finer than DENOISE_SIGMA is
    replaced, by the share 1 - denoise, with `source`'s own, times the local gain blur(enhanced) /
    blur(source) per channel. At 0 the result is the network's brightness and colour over the input's own
    grain."""
    import cv2

    if np.array_equal(source, enhanced):
        return enhanced
    blur = lambda a: cv2.GaussianBlur(a, (0, 0), DENOISE_SIGMA, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    src, out = np.ascontiguousarray(source, np.float32), np.ascontiguousarray(enhanced, np.float32)
    src_base, out_base = blur(src), blur(out)
    gain = np.clip(out_base / np.maximum(src_base, 1 / 255), 0, MAX_GAIN)
    grain = gain * (src - src_base) - (out - out_base)
    return np.clip(out + np.float32(1 - denoise) * grain, 0, 1).astype(np.float32)


def keep_colour(source: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
    """L* of `enhanced`, and the a*, b* of `source` brightened by one gamma to the same mean luma, at the
    scale of objects: `enhanced`'s a*, b* plus their difference from that reference blurred by
    KEEP_COLOUR_SIGMA. The photo's own colours come back without the colour noise the network took out of a
    dark input. Where the input is too dark to carry colour (KEEP_COLOUR_SIGNAL) the reference is neutral
    instead of the input's quantised ratios. A photo the network left as it is (the attention gate kept it)
    comes back as it is, not through a CIELAB round trip."""
    import cv2

    from lowlight_cli.colour import LUMA, gamma_to_mean, lab, mean_luma

    if np.array_equal(source, enhanced):
        return enhanced
    sigma = KEEP_COLOUR_SIGMA * max(enhanced.shape[:2])
    blur = lambda a: cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    reference, own = lab(gamma_to_mean(source, mean_luma(enhanced))), lab(enhanced)
    low, high = KEEP_COLOUR_SIGNAL
    t = np.clip((blur(np.ascontiguousarray(source @ LUMA)) - low) / (high - low), 0, 1)
    reference[..., 1:] *= (t * t * (3 - 2 * t))[..., None]
    mixed = own.copy()
    mixed[..., 1:] += blur(reference[..., 1:] - own[..., 1:])
    # the change in RGB added to `enhanced`, so that the CIELAB round trip's rounding cancels where colours
    # agree
    change = cv2.cvtColor(mixed, cv2.COLOR_Lab2RGB) - cv2.cvtColor(own, cv2.COLOR_Lab2RGB)
    return np.clip(enhanced + change, 0, 1).astype(np.float32)
