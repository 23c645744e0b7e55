"""A picture of data augmentation: each image beside random variants an augmenter makes of it.

    fig = cnnlab.viz.augmented_samples(aug, x_train[:4], num_variants=5, seed=0)

Reads a ``cnnlab.ImageDataAugmenter``: its ``sample(n, rng)`` draws the parameters and
``apply(images, parameters)`` transforms, so every panel title gives the transform that made
that panel (rotation in degrees, shift in pixels, scale, shear, reflection). Row r is image r:
the original first, then ``num_variants`` variants. Each row uses one grey (or colour) scale,
the original's range widened to the fill value, printed at the row's start, so a variant is
as bright as its original and the filled border shows as the fill value.
"""
from __future__ import annotations

import numpy as np

from .canvas import limits
from .style import Picture, figure, font


def _caption(p, k) -> str:
    """The parameters of variant k, only those that are not the identity."""
    parts = []
    if p["rotation"][k] != 0:
        parts.append(f"rot {p['rotation'][k]:+.0f}°")
    if p["x_translation"][k] != 0 or p["y_translation"][k] != 0:
        parts.append(f"shift {p['x_translation'][k]:+.1f},{p['y_translation'][k]:+.1f}")
    if p["x_scale"][k] != 1 or p["y_scale"][k] != 1:
        parts.append(f"scale {p['x_scale'][k]:.2f}" if p["x_scale"][k] == p["y_scale"][k]
                     else f"scale {p['x_scale'][k]:.2f}×{p['y_scale'][k]:.2f}")
    if p["x_shear"][k] != 0 or p["y_shear"][k] != 0:
        parts.append(f"shear {p['x_shear'][k]:+.0f},{p['y_shear'][k]:+.0f}°")
    flips = ("↔" if p["x_reflection"][k] else "") + ("↕" if p["y_reflection"][k] else "")
    if flips:
        parts.append(f"flip {flips}")
    # two per line: the panels are narrow
    return "\n".join(" ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)) or "unchanged"


def augmented_samples(aug, images, *, num_variants: int = 5, seed=0, cmap: str = "gray",
                      panel_inches: float = 1.25, dpi: int = 80) -> Picture:
    """Originals (column 0) and ``num_variants`` random variants of each (one row per image).

    aug : a ``cnnlab.ImageDataAugmenter``; images : N×H×W×C (C = 1 grey, C = 3 colour) or
    N×H×W, at most 12 images; seed : the Generator (or seed) the draws come from.
    """
    from ..augmentation import ImageDataAugmenter
    if not isinstance(aug, ImageDataAugmenter):
        raise ValueError(f"augmented_samples: aug = {aug!r} is not a cnnlab.ImageDataAugmenter")
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] not in (1, 3) or x.ndim not in (3, 4):
        raise ValueError(f"augmented_samples: images have shape {x.shape}; expected "
                         "N x H x W x C with C = 1 or 3 (or N x H x W)")
    if not 1 <= len(x) <= 12:
        raise ValueError(f"augmented_samples: {len(x)} images; draw 1 to 12 at a time")
    if not isinstance(num_variants, (int, np.integer)) or not 1 <= num_variants <= 12:
        raise ValueError(f"augmented_samples: num_variants = {num_variants!r}; expected an "
                         "integer 1..12")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(x)
    # every variant of image r is row r of the batch, repeated num_variants times
    batch = np.repeat(x, num_variants, axis=0)
    params = aug.sample(len(batch), rng)
    variants = aug.apply(batch, params)
    cols, label_w = num_variants + 1, 1.0
    fig = figure(label_w + cols * panel_inches, 0.45 + n * (panel_inches + 0.3), dpi=dpi)
    width, height = label_w + cols * panel_inches, 0.45 + n * (panel_inches + 0.3)
    fig.text(0.01, 1 - 0.08 / height, f"{aug!r}\nvariants drawn with seed {seed!r}"
             if not isinstance(seed, np.random.Generator) else repr(aug), fontsize=font(9),
             va="top", ha="left")
    fill = np.ravel(aug.fill_value)
    for r in range(n):
        row = [x[r]] + [variants[r * num_variants + k] for k in range(num_variants)]
        lo, hi = limits(np.concatenate([np.ravel(x[r]), fill]))
        top = 0.45 + r * (panel_inches + 0.3) + 0.3
        fig.text(0.05 / width, 1 - (top + panel_inches / 2) / height,
                 f"image {r}\nscale\n{lo:.3g} .. {hi:.3g}", fontsize=font(8), va="center")
        for k, img in enumerate(row):
            ax = fig.add_axes(((label_w + k * panel_inches + 0.05) / width,
                               1 - (top + panel_inches - 0.05) / height,
                               (panel_inches - 0.1) / width, (panel_inches - 0.1) / height))
            img = np.asarray(img, float)
            if img.ndim == 3 and img.shape[-1] == 3:
                ax.imshow(np.clip((img - lo) / (hi - lo), 0, 1), interpolation="nearest")
            else:
                ax.imshow(img.reshape(img.shape[:2]), cmap=cmap, vmin=lo, vmax=hi,
                          interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("original" if k == 0 else _caption(params, r * num_variants + k - 1),
                         fontsize=font(7), pad=2)
    return fig
