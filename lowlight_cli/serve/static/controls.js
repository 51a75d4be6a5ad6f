// The user controls of lowlight_cli/inference/controls.py, in the browser, with the same formulas, so
// that the slider preview matches the file the server renders for download (`Controls.apply`).
//
//   S = the source, K = the network's result (with keep-colour already applied by the server when on),
//   both 8-bit RGB here (the server keeps K in float32; the preview differs from it by rounding only).
//   1. exposure, one curve per 8-bit value:
//        "+x ev":   X = (min(1, K^2.2 * 2^x))^(1/2.2)                           (Exposure.apply, ev)
//        target t:  X = K^g, g found by 40 bisection steps on log g in [log 1/16, log 16] so that the
//                   mean Rec.601 luma of K^g is t                             (colour.gamma_to_mean)
//        auto:      t = mean luma of K clamped to [0.35, 0.55]; unchanged when already inside
//   2. strength s: out = S + s * (X - S); s = 0 gives S exactly, then clip to [0, 1]
//   Nothing is changed (out = K) at strength 1 without exposure or keep-colour (Controls.neutral).
"use strict";

const LUMA = [0.299, 0.587, 0.114];
const AUTO_RANGE = [0.35, 0.55];

// Histograms of an RGBA ImageData's three colour channels (256 bins each).
function channelHistograms(data) {
  const h = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  for (let i = 0; i < data.length; i += 4) { h[0][data[i]]++; h[1][data[i + 1]]++; h[2][data[i + 2]]++; }
  return h;
}

// Mean luma of K^g, from K's histograms (the same sum as colour.mean_luma over every pixel).
function meanLumaPow(hists, g, n) {
  let total = 0;
  for (let c = 0; c < 3; c++) {
    let s = 0;
    const h = hists[c];
    for (let v = 0; v < 256; v++) if (h[v]) s += h[v] * Math.pow(v / 255, g);
    total += LUMA[c] * s / n;
  }
  return total;
}

// colour.gamma_to_mean: the gamma whose result has mean luma `target`.
function gammaToMean(hists, n, target) {
  let lo = Math.log(1 / 16), hi = Math.log(16);
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (meanLumaPow(hists, Math.exp(mid), n) > target) lo = mid; else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

// exposure: null | {auto: true} | {target: t} | {ev: x}  ->  256-entry curve of floats in [0, 1].
function exposureCurve(exposure, hists, n) {
  const curve = new Float32Array(256);
  for (let v = 0; v < 256; v++) curve[v] = v / 255;
  if (!exposure) return curve;
  if (exposure.ev !== undefined) {
    const gain = Math.pow(2, exposure.ev);
    for (let v = 0; v < 256; v++) curve[v] = Math.pow(Math.min(1, Math.pow(v / 255, 2.2) * gain), 1 / 2.2);
    return curve;
  }
  let target = exposure.target;
  if (exposure.auto) {
    const mean = meanLumaPow(hists, 1, n);
    target = Math.min(Math.max(mean, AUTO_RANGE[0]), AUTO_RANGE[1]);
    if (target === mean) return curve;
  }
  const g = gammaToMean(hists, n, target);
  for (let v = 0; v < 256; v++) curve[v] = Math.pow(v / 255, g);
  return curve;
}

// Write the controlled result of source S and base K (RGBA ImageData of one size) into `out`.
function applyControls(S, K, out, settings, hists) {
  const s = settings.strength, src = S.data, base = K.data, dst = out.data;
  const n = src.length / 4;
  if (s === 0) { dst.set(src); return; }
  const curve = exposureCurve(settings.exposure, hists, n);
  for (let i = 0; i < src.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const a = src[i + c] / 255;
      let v = a + s * (curve[base[i + c]] - a);
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      dst[i + c] = Math.round(v * 255);
    }
    dst[i + 3] = 255;
  }
}

// The exposure setting as the CLI and the API write it.
function exposureText(exposure) {
  if (!exposure) return null;
  if (exposure.auto) return "auto";
  if (exposure.ev !== undefined) return (exposure.ev >= 0 ? "+" : "") + exposure.ev + "ev";
  return String(exposure.target);
}
