"""Pictures of what a network sees: saliency, occlusion, top-activating patches, FGSM.

Each function reads a result of ``cnnlab.explain`` and draws it; nothing here computes a
network value. Images are drawn in grey (0 black); maps that are only positive (saliency,
|gradient|) in ``magma`` from 0; signed maps (occlusion drop, perturbation) in the
diverging ``canvas.WEIGHTS`` map centred on 0, so white means "no effect". Every map has a
colour bar with its range.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .canvas import HIGHLIGHT, WEIGHTS, limits

SALIENCY = "magma"


def _figure(width, height, dpi):
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _grey(ax, image, title, fontsize=9):
    """An H×W×C image in grey (C = 1) or colour (C = 3), or the channel mean."""
    img = np.asarray(image, dtype=float)
    if img.ndim == 3 and img.shape[2] == 3:
        ax.imshow(np.clip(img, 0, 1))
    else:
        ax.imshow(img.reshape(img.shape[0], img.shape[1], -1).mean(axis=2), cmap="gray",
                  vmin=min(0.0, float(img.min())), vmax=max(1.0, float(img.max())))
    ax.set_title(title, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])


def _map(fig, ax, values, title, *, cmap, symmetric, fontsize=9):
    vmin, vmax = limits(values, symmetric=symmetric)
    if not symmetric:
        vmin = min(vmin, 0.0)
    shown = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=7)
    return shown


def saliency_figure(results, *, dpi: int = 80) -> Figure:
    """One row per ``cnnlab.explain.Saliency``: the image, its saliency map |∂s/∂x| and the
    map laid over the image."""
    results = [results] if not isinstance(results, (list, tuple)) else list(results)
    if not results:
        raise ValueError("saliency_figure: no saliency results to draw")
    fig = _figure(7.2, 2.3 * len(results), dpi)
    for r, s in enumerate(results):
        p = "" if s.probabilities is None else f", p = {s.probabilities[s.label]:.2f}"
        _grey(fig.add_subplot(len(results), 3, 3 * r + 1), s.image,
              f"class {s.label} (predicted {s.predicted}{p})")
        _map(fig, fig.add_subplot(len(results), 3, 3 * r + 2), s.map,
             f"saliency |∂{'s' if s.target == 'score' else 'L'}/∂x|", cmap=SALIENCY,
             symmetric=False)
        ax = fig.add_subplot(len(results), 3, 3 * r + 3)
        _grey(ax, s.image, "over the image")
        ax.imshow(s.map, cmap=SALIENCY, alpha=0.6)
    fig.tight_layout()
    return fig


def occlusion_figure(result, *, show=None, dpi: int = 80) -> Figure:
    """The image, the drop of p(class) per patch position (drawn per pixel: the mean over
    the patches covering it) and the occluded image at the position of the largest drop (or
    at grid position ``show`` = (i, j)), with the patch outlined."""
    o = result
    if show is None:
        show = np.unravel_index(int(np.argmax(o.drop)), o.drop.shape)
    i, j = (int(v) for v in show)
    fig = _figure(9.0, 2.8, dpi)
    _grey(fig.add_subplot(1, 3, 1), o.image, f"class {o.label}: p = {o.baseline:.3f}")
    _map(fig, fig.add_subplot(1, 3, 2), o.pixel_map(),
         f"drop of p({o.label}), patch {o.patch[0]}×{o.patch[1]}", cmap=WEIGHTS,
         symmetric=True)
    ax = fig.add_subplot(1, 3, 3)
    _grey(ax, o.occluded(i, j), f"patch here: p = {o.probability[i, j]:.3f}, "
                                f"predicted {o.predicted[i, j]}")
    ax.add_patch(Rectangle((o.lefts[j] - 0.5, o.tops[i] - 0.5), o.patch[1], o.patch[0],
                           fill=False, edgecolor=HIGHLIGHT, linewidth=2))
    fig.tight_layout()
    return fig


def patches_figure(patches, *, title: str = "", columns: int = 9, dpi: int = 80) -> Figure:
    """The top-activating patches (``cnnlab.explain.ActivatingPatch``), strongest first,
    each drawn at its field's full size: a field clipped at the image edge shows the part
    outside the image hatched, so every patch is drawn to the same scale."""
    patches = list(patches)
    if not patches:
        raise ValueError("patches_figure: no patches to draw")
    columns = max(1, min(columns, len(patches)))
    rows = -(-len(patches) // columns)
    fig = _figure(1.25 * columns, 1.45 * rows + (0.35 if title else 0), dpi)
    for n, p in enumerate(patches):
        ax = fig.add_subplot(rows, columns, n + 1)
        top, left, bottom, right = p.field.unclipped
        h, w = bottom - top, right - left
        ax.add_patch(Rectangle((-0.5, -0.5), w, h, facecolor="white", edgecolor="none",
                               hatch="///", zorder=0))
        img = p.patch.mean(axis=2) if p.patch.shape[2] != 3 else np.clip(p.patch, 0, 1)
        oy, ox = p.top - top, p.left - left            # where the clipped patch sits
        extent = (ox - 0.5, ox + p.patch.shape[1] - 0.5, oy + p.patch.shape[0] - 0.5,
                  oy - 0.5)
        ax.imshow(img, cmap="gray", vmin=0, vmax=1, extent=extent, zorder=1)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_title(f"#{p.image_index} ({p.row},{p.col})\n{p.activation:.2f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def adversarial_figure(result, *, dpi: int = 80) -> Figure:
    """One FGSM step (a single-image ``cnnlab.explain.Adversarial``): the image, its true
    class and what the network says, the perturbation ε·sign(∂L/∂x) (clipped), the perturbed image and the
    new verdict."""
    a = result
    if np.ndim(a.label) != 0:
        raise ValueError("adversarial_figure: draw one image (fgsm of a single image)")
    fig = _figure(9.0, 2.8, dpi)
    p0 = a.original_probabilities
    p1 = a.adversarial_probabilities
    _grey(fig.add_subplot(1, 3, 1), a.image,
          f"true {a.label}, predicted {a.original_label} (p = {p0[a.original_label]:.2f})")
    _map(fig, fig.add_subplot(1, 3, 2), a.perturbation.mean(axis=2),
         f"+ ε·sign(∂L/∂x), ε = {a.epsilon:g}", cmap=WEIGHTS, symmetric=True)
    _grey(fig.add_subplot(1, 3, 3), a.adversarial,
          f"predicted {a.adversarial_label} (p = {p1[a.adversarial_label]:.2f})")
    fig.tight_layout()
    return fig
