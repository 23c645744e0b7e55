"""prepare_digit: a drawing on white paper comes out as MNIST does it (inverted, 20 px box,
centre of mass at the field's centre), whatever form the image takes; embedded digits keep
their class; bad input is refused by name."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlab.datasets import prepare_digit


def _drawn_seven(width=150, height=220, ink=30, paper=235):
    """A '7' drawn with a thick pen on light paper, off-centre, as a photo of a page."""
    img = Image.new("L", (width, height), paper)
    d = ImageDraw.Draw(img)
    d.line([(30, 40), (120, 40), (60, 190)], fill=ink, width=14)
    return img


def _centre_of_mass(a):
    a = a[:, :, 0].astype(np.float64)
    rows, cols = np.indices(a.shape)
    return (rows * a).sum() / a.sum(), (cols * a).sum() / a.sum()


def _ink_box(a, level=0.0):
    rows, cols = np.nonzero(a[:, :, 0] > level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_a_drawn_digit_is_inverted_fitted_and_centred():
    x = prepare_digit(_drawn_seven())
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == pytest.approx(255, abs=1)      # white ink on black
    assert x[0, 0, 0] == 0 and x[27, 27, 0] == 0                      # paper became black
    # the stroke's box on the page, measured here on the drawing itself (ink darker than the
    # middle of ink and paper): its taller side becomes 20 px, the other keeps the ratio
    rows, cols = np.nonzero(np.asarray(_drawn_seven()) < (30 + 235) / 2)
    h0, w0 = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert h0 > w0
    h, w = _ink_box(x)
    assert h == 20 and abs(w - 20 * w0 / h0) <= 1
    cy, cx = _centre_of_mass(x)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5             # 13.5: middle of 0..27
    # the seven's bar is at its top: the brightest row is in the upper half
    assert np.argmax(x[:, :, 0].sum(axis=1)) < 12


def test_every_form_of_the_same_picture_gives_the_same_digit(tmp_path):
    img = _drawn_seven()
    expected = prepare_digit(img)
    a = np.asarray(img)
    path = tmp_path / "seven.png"
    img.save(path)
    rgb = np.repeat(a[:, :, None], 3, axis=2)
    forms = [str(path), path, a, a[:, :, None], rgb, img.convert("RGB"),
             a.astype(np.float64) / 255, a.astype(np.float32), a.astype(np.uint16) * 257]
    for form in forms:
        np.testing.assert_allclose(prepare_digit(form), expected, atol=0.6)


def test_a_transparent_drawing_and_white_ink_on_black():
    """A canvas widget's PNG: black strokes on a transparent background (RGBA)."""
    a = np.asarray(_drawn_seven(ink=0, paper=255))
    rgba = np.zeros(a.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - a                                 # strokes opaque, paper transparent
    expected = prepare_digit(_drawn_seven(ink=0, paper=255))
    np.testing.assert_allclose(prepare_digit(rgba), expected, atol=0.6)
    # chalk on a blackboard: not inverted (the border is dark)
    np.testing.assert_allclose(prepare_digit(255 - a), expected, atol=0.6)
    # forcing the wrong way makes the blackboard light paper with dark ink: nothing bright
    with pytest.raises(ValueError, match=r"invert=True made the dark paper light"):
        prepare_digit(255 - a, invert=True)


def test_specks_below_the_threshold_do_not_widen_the_box():
    a = np.asarray(_drawn_seven()).copy()
    a[200:203, 5:8] = 200                                  # a faint smudge far from the digit
    np.testing.assert_allclose(prepare_digit(a), prepare_digit(_drawn_seven()), atol=0.6)


def test_embedded_digits_keep_their_class():
    """cnnlab's digits are MNIST-normalised already: a network trained on them reads the
    prepared ones (0..255, white on black, centred) as well as the originals."""
    import cnnlab as cl
    from cnnlab.datasets import digits_split
    xt, yt, xv, yv = digits_split(1500, 200, seed=0)
    layers = [cl.ImageInput((28, 28, 1)), cl.Convolution2D(5, 8, padding=2), cl.ReLU(),
              cl.MaxPooling2D(2, stride=2), cl.Convolution2D(3, 16), cl.ReLU(),
              cl.MaxPooling2D(2, stride=2), cl.FullyConnected(10), cl.Softmax(),
              cl.Classification()]
    net, _ = cl.train_network(xt, yt, layers, cl.TrainingOptions(
        "adam", initial_learn_rate=0.003, max_epochs=3, mini_batch_size=50, verbose=False,
        progress_bar=False))
    original = np.asarray(net.classify(xv)).astype(int)
    prepared = np.asarray(net.classify(np.stack([prepare_digit(v) for v in xv]))).astype(int)
    assert (original == yv).mean() > 0.8                      # the network has learned
    assert (prepared == yv).mean() >= (original == yv).mean() - 0.03
    right = original == yv          # the digits the network reads right stay right
    assert (prepared[right] == yv[right]).mean() > 0.9


@pytest.mark.parametrize("image, match", [
    (np.full((40, 30), 255, np.uint8), r"no digit found: the image is blank"),
    (np.zeros((40, 30, 2)), r"shape \(40, 30, 2\); expected H x W"),
    (np.zeros((2, 40, 30, 1)), r"shape \(2, 40, 30, 1\)"),
    (np.zeros((1, 30)), r"1 x 30 image is too small"),
    (np.array([["a", "b"], ["c", "d"]]), r"array of numbers; got ndarray of dtype <U1"),
    (np.full((9, 9), np.nan), r"NaN or infinite"),
    (np.zeros((9, 9, 4), np.uint8), r"fully transparent"),
    ("/no/such/file.png", r"cannot read an image from '/no/such/file.png'"),
])
def test_errors_name_the_problem(image, match):
    with pytest.raises(ValueError, match=match):
        prepare_digit(image)


def test_bad_options():
    with pytest.raises(ValueError, match=r"invert = 'yes'"):
        prepare_digit(_drawn_seven(), invert="yes")
    with pytest.raises(ValueError, match=r"threshold = 1.5"):
        prepare_digit(_drawn_seven(), threshold=1.5)
