"""``animate_pass``: a GIF (or MP4) of a whole forward — and backward — pass, for slides.

    animate_pass(net, image, "lenet_pass.gif")                       # forward, 6 frames a layer
    animate_pass(net, image, "both.gif", direction="both", labels=3)  # forward, then backward
    animate_pass(net, image, "conv.gif", layers=["conv_1"], frames_per_layer=0)  # every step

The frames are the stepper's step pictures (``cnnlab.viz.step_pictures``, with the step
written out in each picture), layer after layer in walking order: forward from the image
input to the loss, backward from the loss to the input.

How many frames. Every step of LeNet-5 would be 15,000 frames (4,704 for the first
convolution alone): minutes of GIF no slide wants. So each layer gets ``frames_per_layer``
frames (default 6) at steps spread evenly over its steps, first and last included:

    steps shown of a layer with n steps = round(linspace(0, n − 1, min(n, frames_per_layer)))

— a layer with fewer steps than that shows all of them (softmax over 10 classes: 6 of its 10;
a 3-class output: all 3). The GIF has exactly Σ_layers min(n_layer, frames_per_layer) frames
(``pass_frames`` lists them). ``frames_per_layer=0`` means every step (use ``layers=`` to
keep that short). Pictures of different layers have different sizes: pictures wider than
``width`` (default 1040 px, the one-value pictures' width) are scaled down to it, and each is
centred on a white frame of the largest size (convolutions draw one input channel row).

The suffix of ``path`` picks the format: ``.gif`` (Pillow, one shared palette: see
``animate._save_gif``) or ``.mp4`` (the ``ffmpeg`` program, H.264; a ValueError says so when
ffmpeg is not on PATH). Returns the path written.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from .animate import _save_gif
from .step_pictures import step_picture, steps_of

DIRECTIONS = ("forward", "backward", "both")


def trace_of(net, image, labels, direction):
    if direction == "forward":
        return net.trace(image, labels=None if labels is None else np.atleast_1d(labels))
    if labels is None:
        first = net.trace(image)
        if first.label is None:
            raise ValueError("animate_pass: a backward pass needs labels=... (this network "
                             "has no classification output to take a predicted class from)")
        labels = first.label
    return net.trace(image, backward=True, labels=np.atleast_1d(labels))


def pass_frames(trace, direction: str = "forward", frames_per_layer: int = 6, layers=None):
    """[(record, direction, k), ...]: the steps ``animate_pass`` draws (module docstring)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"animate_pass: direction = {direction!r} must be one of "
                         f"{', '.join(DIRECTIONS)}")
    if isinstance(frames_per_layer, bool) or not isinstance(frames_per_layer, int) \
            or frames_per_layer < 0:
        raise ValueError(f"animate_pass: frames_per_layer = {frames_per_layer!r} must be a "
                         "whole number >= 0 (0: every step)")
    names = [r.name for r in trace]
    unknown = [n for n in (layers or []) if n not in names]
    if unknown:
        raise ValueError(f"animate_pass: no layer {', '.join(map(repr, unknown))} in this "
                         f"network; layers: {', '.join(names)}")
    frames = []
    for d in (("forward", "backward") if direction == "both" else (direction,)):
        records = list(trace) if d == "forward" else list(trace)[::-1]
        for rec in records:
            n = steps_of(rec, d)
            if n == 0 or (layers and rec.name not in layers):
                continue
            count = n if frames_per_layer == 0 else min(n, frames_per_layer)
            ks = np.unique(np.round(np.linspace(0, n - 1, count)).astype(int))
            frames += [(rec, d, int(k)) for k in ks]
    if not frames:
        raise ValueError("animate_pass: nothing to draw (no layer with steps was chosen)")
    return frames


def _options(rec, d, dpi):
    options = {} if dpi is None else {"dpi": dpi}
    if d == "forward" and rec.kind in ("conv", "transposed-conv"):
        options["max_channels"] = 1          # one input channel row: a frame of slide height
    return options


def _frames_rgb(frames, dpi, width):
    from PIL import Image
    figures, pictures = {}, []
    for rec, d, k in frames:
        key = (rec.name, d)
        if key not in figures:
            figures[key] = step_picture(rec, d, **_options(rec, d, dpi))
        fig = figures[key]
        fig.show_step(k)
        p = fig.canvas.rgba()[:, :, :3]
        if p.shape[1] > width:               # wider pictures scaled down to the frame width
            h = round(p.shape[0] * width / p.shape[1])
            p = np.asarray(Image.fromarray(p).resize((width, h), Image.Resampling.LANCZOS))
        pictures.append(p.copy())
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    out = []
    for p in pictures:                       # centred on a white frame of the largest size
        frame = np.full((h, w, 3), 255, np.uint8)
        top, left = (h - p.shape[0]) // 2, (w - p.shape[1]) // 2
        frame[top:top + p.shape[0], left:left + p.shape[1]] = p
        out.append(frame)
    return out


def _save_mp4(frames, path, fps):
    h, w = frames[0].shape[:2]
    command = ["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
               "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white", "-pix_fmt", "yuv420p",
               "-c:v", "libx264", str(path)]
    run = subprocess.run(command, input=b"".join(f.tobytes() for f in frames),
                         capture_output=True, check=False)
    if run.returncode != 0:
        raise ValueError(f"animate_pass: ffmpeg failed writing {path}: "
                         f"{run.stderr.decode(errors='replace')[-500:]}")


def animate_pass(net, image, path="pass.gif", *, direction: str = "forward", labels=None,
                 frames_per_layer: int = 6, layers=None, fps: float = 3.0,
                 dpi: int | None = None, width: int = 1040) -> Path:
    """Write a GIF/MP4 of a pass of ``net`` on ``image``; returns the path.

    direction : "forward", "backward" (from the loss to the input) or "both"
    labels : the class (or targets) for the loss and the backward pass; default: the
        predicted class
    frames_per_layer : frames per layer at evenly spread steps (0: every step)
    layers : only these layer names; fps : frames per second; dpi : of every picture
    width : frame width in pixels (wider pictures are scaled down to it)
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 200:
        raise ValueError(f"animate_pass: width = {width!r} must be a whole number of pixels "
                         ">= 200")
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"animate_pass: path = {str(path)!r}: the suffix must be .gif or "
                         ".mp4")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps <= 0:
        raise ValueError(f"animate_pass: fps = {fps!r} must be a positive number")
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise ValueError(f"animate_pass: path = {str(path)!r} asks for MP4, which needs the "
                         "ffmpeg program, and ffmpeg is not on PATH; install ffmpeg or "
                         "write a .gif")
    if direction not in DIRECTIONS:
        raise ValueError(f"animate_pass: direction = {direction!r} must be one of "
                         f"{', '.join(DIRECTIONS)}")
    trace = trace_of(net, image, labels, direction)
    frames = _frames_rgb(pass_frames(trace, direction, frames_per_layer, layers), dpi, width)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        _save_gif(frames, out, fps)
    else:
        _save_mp4(frames, out, fps)
    return out
