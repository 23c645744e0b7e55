"""The persistent canvas: numbered grids, blank NaN cells, and blitting equal to a full draw."""
import numpy as np

from cnnlab.viz.canvas import Canvas, GridImage, fmt, limits


def texts(grid):
    return [[t.get_text() for t in row] for row in grid.texts]


def test_small_grids_are_numbered_and_updated_in_place():
    c = Canvas(3, 3)
    g = c.grid(c.axes((0.1, 0.1, 0.8, 0.8)), np.array([[1.0, 2.5], [np.nan, -3.0]]))
    assert texts(g) == [["1", "2.5"], ["", "-3"]]
    first = g.texts[0, 0]
    g.update(np.array([[7.0, 2.5], [4.0, np.inf]]))
    assert g.texts[0, 0] is first                          # same artist, new text
    assert texts(g) == [["7", "2.5"], ["4", "∞"]]
    assert np.ma.is_masked(g.image.get_array()[1, 1])      # inf is blank, like NaN


def test_big_grids_are_colour_only_and_constant_grids_get_a_range():
    c = Canvas(3, 3)
    g = GridImage(c.axes((0, 0, 1, 1)), np.zeros((13, 13)))
    assert g.texts is None
    assert (g.norm.vmin, g.norm.vmax) == (-0.5, 0.5)
    assert limits([-2, 1], symmetric=True) == (-2.0, 2.0)
    assert fmt(1234.5678) == "1.23e+03" and fmt(-7) == "-7"


def test_blitted_frames_equal_full_redraws():
    c = Canvas(3, 2)
    ax = c.axes((0.05, 0.05, 0.45, 0.8), frame=True)   # the changing artists are on top
    c.grid(ax, np.arange(12.0).reshape(3, 4))
    moving = c.grid(c.axes((0.6, 0.1, 0.3, 0.3)), np.zeros((2, 2)), vmin=0, vmax=9)
    box = c.outline(ax)
    label = c.title(ax, "start")
    c.animated(moving, box, label)
    c.png()                                                 # caches the background
    for k in range(3):
        moving.update(np.full((2, 2), float(k * 3)))
        Canvas.place(box, k % 3, k, k % 3 + 1, k + 2)
        label.set_text(f"step {k}")
        blitted = c.rgba()
        c.invalidate()
        c.dynamic_saved, c.dynamic = c.dynamic, []
        full = c.rgba()
        c.dynamic = c.dynamic_saved
        np.testing.assert_array_equal(blitted, full)
    assert c.png()[:8] == b"\x89PNG\r\n\x1a\n"
