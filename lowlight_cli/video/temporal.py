"""Temporal stability: smooth the attention map and the brightening gain across frames, reset both at
scene cuts, and measure flicker.

Per-frame enhancement flickers for two reasons. The Attention-Net re-estimates "how dark is it" on every
noisy frame (the main cause with the `official` weights), and the local stages, the Noise-Net above all,
respond to each frame's fresh noise with a slightly different overall brightening (the main cause with
`agllnet-noise`). Both are slowly varying in real footage, so exponential moving averages over time remove
the jitter: of the attention map before the local stages, and of the frame's brightening gain (mean output
luma over mean input luma) after them, the frame being rescaled to the smoothed gain. Time constants are in
seconds so VFR footage is smoothed the same way as CFR. A scene cut restarts both averages, otherwise the
new shot would inherit the old shot's brightening.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lowlight_cli.colour import luma_709, mean_luma_709

SMOOTHING_SECONDS = 0.3
"""EMA time constant: long enough to average ~9 frames at 30 fps,
short enough to follow a light switched on."""
CUT_THRESHOLD = 0.5
"""L1 distance (0..2) between consecutive frames' luminance histograms above which a frame starts a new
shot."""
THUMB_SIZE = (64, 36)
HIST_BINS = 32


def luma_histogram(rgb: np.ndarray) -> np.ndarray:
    """Normalised luminance histogram of a small thumbnail: cheap,
    and insensitive to noise and small motion."""
    import cv2

    thumb = luma_709(
        cv2.resize(rgb, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    )  # luma and area averaging commute
    hist, _ = np.histogram(thumb, bins=HIST_BINS, range=(0.0, 1.0))
    return hist.astype(np.float32) / max(1, hist.sum())


class TemporalSmoother:
    """Exponential moving averages of attention maps and brightening gains over time, restarted at scene cuts.

    Call `update` for each frame in display order, then `steady` for the same frames in the same order
    (the local stages may run in between, on a whole batch).
    """

    def __init__(self, seconds: float = SMOOTHING_SECONDS, cut_threshold: float = CUT_THRESHOLD) -> None:
        self.seconds = seconds
        self.cut_threshold = cut_threshold
        self.state: np.ndarray | None = None
        self.last_time: float | None = None
        self.last_hist: np.ndarray | None = None
        self.cuts = 0
        self.cut = False
        """Whether the frame of the last `update` started a new shot."""
        self.gain: float | None = None
        self._keeps: list[float] = []

    def update(self, rgb: np.ndarray, attention: np.ndarray, time: float) -> np.ndarray:
        """Fold in the map of the frame shown at `time` seconds;
        returns the map to enhance that frame with."""
        hist = luma_histogram(rgb)
        cut = self.last_hist is not None and float(np.abs(hist - self.last_hist).sum()) > self.cut_threshold
        self.cut = cut
        if self.state is None or cut or self.state.shape != attention.shape:
            self.cuts += cut
            keep = 0.0
            self.state = attention.astype(np.float32, copy=True)
        else:
            dt = max(0.0, time - (self.last_time if self.last_time is not None else time))
            keep = math.exp(-dt / self.seconds) if self.seconds > 0 else 0.0
            self.state *= keep
            self.state += (1.0 - keep) * attention
        self.last_time, self.last_hist = time, hist
        self._keeps.append(keep)
        return self.state.copy()

    def steady(self, source: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
        """The enhanced frame rescaled to the smoothed brightening gain
        (for the oldest frame not yet steadied)."""
        keep = self._keeps.pop(0)
        gain = mean_luma_709(enhanced) / max(mean_luma_709(source), 1e-6)
        self.gain = gain if self.gain is None or keep == 0.0 else keep * self.gain + (1.0 - keep) * gain
        return np.clip(enhanced * np.float32(self.gain / max(gain, 1e-6)), 0.0, 1.0)


def flicker(mean_luma: Sequence[float]) -> float:
    """Mean frame-to-frame change of mean luminance, relative to the mean level (0 = perfectly steady).

    Relative, so a brightened video is not penalised for being brighter: compare an output's figure
    with its source's; on a static clip any excess over the source's is flicker the enhancement added.
    """
    values = np.asarray(mean_luma, np.float64)
    if len(values) < 2 or values.mean() <= 0:
        return 0.0
    return float(np.abs(np.diff(values)).mean() / values.mean())
