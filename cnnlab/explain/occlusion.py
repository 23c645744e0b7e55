"""Occlusion: cover part of the image and see how much the network's belief drops.

Zeiler and Fergus (2014) slid a grey square over an image and recorded, for every position,
the probability of the true class with that part hidden. Where the probability falls most,
the network relied on what was covered. Unlike the gradient (``gradients.py``), this is not
a first-order approximation: every number is a real prediction of a real, modified image,

    drop(i, j) = p_k(x) - p_k(x with the patch at top i·sh, left j·sw filled)

Patch positions start at the top-left corner and move by the stride while the patch fits
inside the image: tops 0, sh, 2·sh, ... ≤ H - ph (likewise for the columns). When
(H - ph) is not a multiple of sh the last rows are never covered; ``pixel_map`` marks them
NaN rather than pretending.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import as_batch, check_labels


def _pair(value, name: str, who: str):
    v = (value, value) if isinstance(value, (int, np.integer)) else tuple(np.ravel(value))
    if len(v) != 2 or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                              and a >= 1 for a in v):
        raise ValueError(f"{who}: {name} = {value!r}: expected a positive integer or (height, "
                         "width) of positive integers")
    return int(v[0]), int(v[1])


def _fill_values(fill, image, who: str) -> np.ndarray:
    """The C values the patch is filled with: a number, C numbers, or "mean" (the image's
    mean per channel)."""
    c = image.shape[2]
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f"{who}: fill = {fill!r}: expected a number, {c} numbers (one per "
                             "channel) or 'mean' (the image's own mean per channel)")
        return image.reshape(-1, c).mean(axis=0)
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, c)
    if values.size != c or not np.all(np.isfinite(values)):
        raise ValueError(f"{who}: fill = {fill!r}: expected one finite number or {c} (one per "
                         "channel)")
    return values


@dataclass(frozen=True)
class OcclusionMap:
    """What hiding each part of one image does to the probability of one class.

    image : H×W×C; label : the class; patch : (ph, pw); stride : (sh, sw); fill : the C
    values the patch holds; tops, lefts : the patch positions (rows and columns of the
    grid); baseline : p_label of the unoccluded image; probability : grid R×Q, p_label with
    the patch at (tops[i], lefts[j]); drop : baseline - probability; predicted : grid R×Q,
    the class predicted with the patch there."""
    image: np.ndarray
    label: int
    patch: tuple
    stride: tuple
    fill: np.ndarray
    tops: np.ndarray
    lefts: np.ndarray
    baseline: float
    probability: np.ndarray
    drop: np.ndarray
    predicted: np.ndarray

    def occluded(self, i: int, j: int) -> np.ndarray:
        """The image with the patch at grid position (i, j): what the network was shown."""
        out = np.array(self.image, copy=True)
        (ph, pw), t, l = self.patch, int(self.tops[i]), int(self.lefts[j])
        out[t:t + ph, l:l + pw, :] = self.fill
        return out

    def pixel_map(self) -> np.ndarray:
        """H×W: at each pixel, the mean drop over the patch positions that covered it (NaN
        where no patch did)."""
        h, w = self.image.shape[:2]
        total, count = np.zeros((h, w)), np.zeros((h, w))
        (ph, pw) = self.patch
        for i, t in enumerate(self.tops):
            for j, l in enumerate(self.lefts):
                total[t:t + ph, l:l + pw] += self.drop[i, j]
                count[t:t + ph, l:l + pw] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def occlusion_map(net, image, label, *, patch=6, stride=2, fill="mean",
                  batch_size: int = 256) -> OcclusionMap:
    """Slide a ``patch`` (int or (h, w)) filled with ``fill`` over ``image`` by ``stride``
    and record p_label of each occluded image (module docstring).

    fill : a number, one number per channel, or "mean" (default: the image's mean per
    channel, a neutral grey as Zeiler and Fergus used); for white digits on black, 0 fills
    with background. The network must output class probabilities (end in Softmax).
    """
    who = "occlusion_map"
    x, single = as_batch(net, image, who)
    if not single:
        raise ValueError(f"{who}: give one image, not a batch of {len(x)}")
    if not any(layer.kind == "softmax" for layer in net.layers):
        raise ValueError(f"{who}: the network has no Softmax layer; occlusion measures the "
                         "drop in a class probability")
    img = np.asarray(image).reshape(x.shape[1:])      # the pixels as given
    h, w, _c = img.shape
    ph, pw = _pair(patch, "patch", who)
    sh, sw = _pair(stride, "stride", who)
    if ph > h or pw > w:
        raise ValueError(f"{who}: patch = {ph}x{pw} does not fit in the {h}x{w} image")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{who}: batch_size = {batch_size!r} must be a positive integer")
    k = int(check_labels(label, 1, net.output_shape[2], who)[0])
    values = _fill_values(fill, img, who)
    tops, lefts = np.arange(0, h - ph + 1, sh), np.arange(0, w - pw + 1, sw)
    # every occluded image, in grid order (row-major): R·Q copies of the image
    batch = np.repeat(x, len(tops) * len(lefts), axis=0)
    for n, (t, l) in enumerate((t, l) for t in tops for l in lefts):
        batch[n, t:t + ph, l:l + pw, :] = values
    probs = net.predict(np.concatenate([x, batch]), batch_size=batch_size)
    baseline = float(probs[0, k])
    grid = probs[1:].reshape(len(tops), len(lefts), -1)
    return OcclusionMap(image=img, label=k, patch=(ph, pw), stride=(sh, sw),
                        fill=values, tops=tops, lefts=lefts,
                        baseline=baseline, probability=grid[:, :, k].astype(np.float64),
                        drop=baseline - grid[:, :, k].astype(np.float64),
                        predicted=grid.argmax(axis=2))
