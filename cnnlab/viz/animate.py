"""Animations for slides: every window of a convolution, pooling or transposed convolution.

    animate_convolution(output="conv.gif", input_size=5, filter_size=3, padding=1, stride=2)
    animate_convolution(trace["conv_1"], output="conv1.gif", filter=3)     # a real layer
    animate_pooling(output="pool.gif", input_size=6, pool_size=3, stride=2, mode="max")
    animate_transposed(output="up.gif", input_size=3, filter_size=3, stride=2)

Each takes either a trace record (``LayerRecord`` of the right kind) or the sizes of a
one-layer example of ``cnnlab.examples`` (a real cnnlab ``Network`` on small integers drawn
from ``seed``, so every sum in the picture can be checked by hand), traced with ``net.trace``.
The frames are the step pictures of ``conv_step`` / ``pool_step`` / ``transposed_step``,
one persistent figure updated in place: ONE FRAME PER OUTPUT POSITION in scan order (row by row), no extra
frames (a GIF of an H_out×W_out output has exactly H_out·W_out frames).

The suffix of ``output`` picks the format: ``.gif`` (Pillow, which matplotlib brings; one
shared palette) or ``.mp4`` (matplotlib's FFMpegWriter; needs the ``ffmpeg`` program, otherwise a
ValueError says so). The functions return the path written.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..examples import conv_example, pool_example, transposed_example, traced  # noqa: F401
from .conv_step import ConvStepFigure
from .pool_step import PoolStepFigure
from .transposed_step import TransposedStepFigure


# ---- writing frames --------------------------------------------------------------------------

def _save_gif(frames, path, fps):
    """Frames (H×W×3 uint8) to a looping GIF with ONE shared palette and no dithering, so
    consecutive frames differ only where the picture changed and Pillow stores only that
    rectangle (a 49-frame animation stays around 100 KB instead of ~700 KB)."""
    from PIL import Image
    pictures = [Image.fromarray(f) for f in frames]
    both = Image.new("RGB", (pictures[0].width, 2 * pictures[0].height))
    both.paste(pictures[0], (0, 0))
    both.paste(pictures[-1], (0, pictures[0].height))     # the last frame has every colour
    palette = both.quantize(colors=255)
    none = Image.Dither.NONE
    coded = [p.quantize(palette=palette, dither=none) for p in pictures]
    coded[0].save(path, save_all=True, append_images=coded[1:], duration=int(1000 / fps),
                  loop=0)


def write_frames(figure, output, fps: float = 2.0) -> Path:
    """Write one frame per step of a step figure (ConvStepFigure, PoolStepFigure, ...).

    GIF: frames rendered by the figure's persistent canvas and written with Pillow (the
    library behind matplotlib's PillowWriter, used directly for a shared palette, see
    ``_save_gif``). MP4: matplotlib's FFMpegWriter (needs ffmpeg)."""
    path = Path(output)
    suffix = path.suffix.lower()
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or fps <= 0:
        raise ValueError(f"animate: fps = {fps!r} must be a positive number")
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"animate: output = {str(output)!r}: the suffix must be .gif or .mp4")
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise ValueError(f"animate: output = {str(output)!r} asks for MP4, which needs the "
                         "ffmpeg program, and ffmpeg is not on PATH; install ffmpeg or "
                         "write a .gif")
    path.parent.mkdir(parents=True, exist_ok=True)
    n = figure.record.num_positions
    if suffix == ".gif":
        frames = []
        for i in range(n):
            figure.show_step(i)
            frames.append(figure.canvas.rgba()[:, :, :3].copy())
        _save_gif(frames, path, fps)
        return path
    from matplotlib.animation import FFMpegWriter
    fig = figure.canvas.figure
    writer = FFMpegWriter(fps=fps)
    with writer.saving(fig, str(path), fig.dpi):
        for i in range(n):
            figure.show_step(i)
            writer.grab_frame()
    return path


def animate_convolution(record=None, *, output="convolution.gif", filter: int = 0,
                        fps: float = 2.0, input_size=5, filter_size=3, stride=1, padding=0,
                        dilation=1, padding_value=0, channels=1, seed=0, **figure_options):
    """GIF/MP4 of every window of a convolution; returns the path (see the module docstring).

    record : a convolution LayerRecord of a trace, or None to build the example from the sizes
    """
    if record is None:
        record = traced(*conv_example(input_size, filter_size, stride=stride, padding=padding,
                                      dilation=dilation, padding_value=padding_value,
                                      channels=channels, seed=seed))
    return write_frames(ConvStepFigure(record, filter, **figure_options), output, fps)


def animate_pooling(record=None, *, output="pooling.gif", channel: int = 0, fps: float = 2.0,
                    input_size=6, pool_size=3, stride=2, padding=0, mode="max", channels=1,
                    seed=0, **figure_options):
    """GIF/MP4 of every window of a max or average pooling layer; returns the path."""
    if record is None:
        record = traced(*pool_example(input_size, pool_size, stride=stride, padding=padding,
                                      mode=mode, channels=channels, seed=seed))
    return write_frames(PoolStepFigure(record, channel, **figure_options), output, fps)


def animate_transposed(record=None, *, output="transposed.gif", filter: int = 0,
                       fps: float = 2.0, input_size=3, filter_size=3, stride=2, cropping=0,
                       channels=1, seed=0, **figure_options):
    """GIF/MP4 of a transposed convolution read as a convolution of the upsampled input."""
    if record is None:
        record = traced(*transposed_example(input_size, filter_size, stride=stride,
                                            cropping=cropping, channels=channels, seed=seed))
    return write_frames(TransposedStepFigure(record, filter, **figure_options), output, fps)
