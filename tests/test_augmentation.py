"""cnnlab.ImageDataAugmenter: hand-computed transforms, random draws from a seed, errors, and
training runs that augment every mini-batch (reproducibly, without touching validation)."""
from __future__ import annotations

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.augmentation import ImageDataAugmenter


def _batch(n=6, h=5, w=5, c=1, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).integers(0, 9, (n, h, w, c)).astype(dtype)


def test_a_fixed_90_degree_rotation_is_rot90():
    x = _batch()
    out = ImageDataAugmenter(rotation=(90, 90)).augment(x, 0)
    np.testing.assert_array_equal(out, np.rot90(x, 1, axes=(1, 2)))
    assert out.dtype == x.dtype and out.shape == x.shape


def test_rotation_turns_the_way_pillow_does():
    """PIL's Image.rotate (counterclockwise for a positive angle, about the image centre,
    bilinear) as an independent oracle: equal away from the border, where PIL fills
    differently."""
    from PIL import Image
    a = np.random.default_rng(0).uniform(0, 1, (9, 11)).astype(np.float32)
    for angle in (30, -12.5):
        pil = np.asarray(Image.fromarray(a).rotate(angle, resample=Image.BILINEAR))
        ours = ImageDataAugmenter(rotation=(angle, angle)).augment(a[None, :, :, None], 0)
        np.testing.assert_allclose(ours[0, 2:-2, 2:-2, 0], pil[2:-2, 2:-2], atol=1e-5)


def test_a_fixed_translation_shifts_with_fill():
    x = _batch(2, 4, 4)
    out = ImageDataAugmenter(x_translation=(1, 1), y_translation=(2, 2),
                             fill_value=-1).augment(x, 0)
    expected = np.full_like(x, -1)
    expected[:, 2:, 1:] = x[:, :2, :3]
    np.testing.assert_array_equal(out, expected)


def test_reflection_flips_about_half_of_the_images():
    x = _batch(400, 3, 4)
    out = ImageDataAugmenter(x_reflection=True).augment(x, np.random.default_rng(1))
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | kept)                 # every image is one or the other
    assert 160 < flipped.sum() < 240              # probability 0.5 (±4 standard deviations)
    up_down = ImageDataAugmenter(y_reflection=True).augment(x, 2)
    assert np.all(np.all(up_down == x[:, ::-1], axis=(1, 2, 3))
                  | np.all(up_down == x, axis=(1, 2, 3)))


def test_rotation_angles_are_drawn_uniformly_per_image():
    aug = ImageDataAugmenter(rotation=(-10, 10))
    p = aug.sample(2000, np.random.default_rng(0))
    assert p["rotation"].min() >= -10 and p["rotation"].max() <= 10
    assert abs(p["rotation"].mean()) < 0.5 and np.std(p["rotation"]) == pytest.approx(
        20 / np.sqrt(12), rel=0.05)               # the standard deviation of U(-10, 10)
    assert np.all(p["x_scale"] == 1) and not p["x_reflection"].any()


def test_scale_draws_one_factor_for_both_axes():
    p = ImageDataAugmenter(scale=(0.8, 1.2)).sample(50, 0)
    np.testing.assert_array_equal(p["x_scale"], p["y_scale"])
    q = ImageDataAugmenter(x_scale=(0.8, 1.2), y_scale=(0.8, 1.2)).sample(50, 0)
    assert not np.array_equal(q["x_scale"], q["y_scale"])


def test_same_seed_same_images_and_nothing_drawn_without_ranges():
    x = _batch(8, 7, 7)
    aug = ImageDataAugmenter(rotation=(-20, 20), scale=(0.9, 1.1), x_translation=(-2, 2),
                             y_reflection=True)
    a = aug.augment(x, np.random.default_rng(5))
    b = aug.augment(x, np.random.default_rng(5))
    c = aug.augment(x, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    np.testing.assert_array_equal(ImageDataAugmenter().augment(x, rng), x)
    assert rng.bit_generator.state == before


def test_integer_images_stay_integers_in_range():
    x = np.full((2, 5, 5), 250, np.uint8)                 # N x H x W, no channel axis
    out = ImageDataAugmenter(rotation=(30, 30), fill_value=255).augment(x, 0)
    assert out.dtype == np.uint8 and out.shape == x.shape
    assert out.min() == 250 and 250 < out.max() < 255     # fill 255 blends into the corners
    gone = ImageDataAugmenter(x_translation=(5, 5), fill_value=300).augment(x, 0)
    assert np.all(gone == 255)                            # 300 clipped to uint8's maximum


@pytest.mark.parametrize("kw, match", [
    (dict(rotation=(10, -10)), r"rotation = \(10, -10\): lo = 10 is above hi = -10"),
    (dict(rotation=10), r"rotation = 10: expected a pair \(lo, hi\)"),
    (dict(x_translation=(0, np.inf)), r"x_translation = .*finite numbers \(pixels\)"),
    (dict(scale=(0, 2)), r"scale = \(0, 2\): scale factors must be > 0"),
    (dict(y_scale=(-1, 1)), r"y_scale = \(-1, 1\): scale factors must be > 0"),
    (dict(scale=(1, 2), x_scale=(1, 2)), r"either scale or x_scale/y_scale"),
    (dict(x_shear=(-90, 0)), r"x_shear = \(-90, 0\): shear angles must lie strictly"),
    (dict(x_reflection=1), r"x_reflection = 1: expected True or False"),
    (dict(fill_value="white"), r"fill_value = 'white'"),
    (dict(interpolation="cubic"), r"interpolation = 'cubic'"),
])
def test_bad_options_are_refused_by_name(kw, match):
    with pytest.raises(ValueError, match=match):
        ImageDataAugmenter(**kw)


def test_bad_images_and_fill_per_channel():
    aug = ImageDataAugmenter(fill_value=(0, 1, 2))
    with pytest.raises(ValueError, match=r"fill_value has 3 values for images with 1 channels"):
        aug.augment(_batch(), 0)
    with pytest.raises(ValueError, match=r"images have shape \(5, 5\)"):
        aug.augment(np.zeros((5, 5)), 0)
    assert aug.augment(_batch(c=3), 0).shape == (6, 5, 5, 3)


def test_repr_and_equality():
    aug = ImageDataAugmenter(rotation=(-10, 10), x_translation=(-2, 2))
    assert repr(aug) == "ImageDataAugmenter(rotation=(-10.0, 10.0), x_translation=(-2.0, 2.0))"
    assert aug == ImageDataAugmenter(rotation=[-10, 10], x_translation=(-2.0, 2.0))
    assert aug != ImageDataAugmenter(rotation=(-10, 10))


# ---- in train_network --------------------------------------------------------------------------

def _data(n=48, seed=0):
    """8x8 images: class k has a bright bar in column 2 + 3k (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = 0.2 * rng.standard_normal((n, 8, 8, 1))
    x[np.arange(n), :, 2 + 3 * y, 0] += 2.0
    return x.astype(np.float32), y


def _layers():
    return [cl.ImageInput((8, 8, 1), normalization="none"), cl.Convolution2D(3, 4),
            cl.ReLU(), cl.FullyConnected(2), cl.Softmax(), cl.Classification()]


def _train(aug, x, y, **kw):
    options = cl.TrainingOptions("sgdm", initial_learn_rate=0.05, max_epochs=2,
                                 mini_batch_size=8, verbose=False, progress_bar=False,
                                 backend="reference", augmentation=aug, **kw)
    return cl.train_network(x, y, _layers(), options)


def _params(net):
    return [v.copy() for layer in net.layers for v in layer.params.values()]


def test_training_with_augmentation_is_reproducible_and_differs_from_without():
    x, y = _data()
    aug = ImageDataAugmenter(rotation=(-15, 15), x_translation=(-1, 1))
    net_a, info_a = _train(aug, x, y)
    net_b, info_b = _train(aug, x, y)
    net_c, info_c = _train(None, x, y)
    for p, q in zip(_params(net_a), _params(net_b)):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(info_a.loss, info_b.loss)
    assert not np.array_equal(info_a.loss, info_c.loss)
    assert info_a.loss[0] != info_c.loss[0]       # the very first mini-batch was transformed
    # an augmenter that changes nothing trains exactly like no augmenter
    _, info_d = _train(ImageDataAugmenter(), x, y)
    np.testing.assert_array_equal(info_d.loss, info_c.loss)


def test_the_first_mini_batch_seen_is_the_augmented_one():
    """The loss of iteration 1 equals the loss of the initial network on the batch that the
    augmenter makes from the network's Generator (the network is built with seed 0)."""
    x, y = _data()
    aug = ImageDataAugmenter(rotation=(-30, 30), y_translation=(-2, 2))
    _, info = _train(aug, x, y, shuffle="never")
    fresh = cl.Network(_layers(), seed=0, backend="reference")
    batch = aug.augment(x[:8], fresh.rng)         # what train_network draws, in the same order
    loss, _ = fresh.loss_and_gradients(batch, y[:8])
    assert info.loss[0] == pytest.approx(float(loss), rel=1e-6)


def test_validation_data_is_not_augmented():
    x, y = _data()
    aug = ImageDataAugmenter(rotation=(-40, 40), x_reflection=True)
    net, info = _train(aug, x, y, validation_data=(x[:16], y[:16]))
    accuracy = float(np.mean(np.argmax(net.predict(x[:16]).reshape(16, -1), 1) == y[:16]))
    assert info.final_validation_accuracy == accuracy


def test_resuming_an_augmented_run_is_bit_exact(tmp_path):
    x, y = _data()
    aug = ImageDataAugmenter(rotation=(-15, 15), y_translation=(-1, 1))
    straight, _ = _train(aug, x, y)
    _train(aug, x, y, checkpoint_path=tmp_path)              # 2 epochs, checkpoints 1 and 2
    (tmp_path / "checkpoint_epoch_0002.cnnlab").unlink()     # resume from epoch 1
    resumed, _ = _train(aug, x, y, checkpoint_path=tmp_path)
    for p, q in zip(_params(straight), _params(resumed)):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="augmentation"):
        _train(ImageDataAugmenter(rotation=(-5, 5)), x, y, checkpoint_path=tmp_path)


def test_training_options_refuse_a_non_augmenter():
    with pytest.raises(ValueError, match=r"augmentation = \{'rotation'.*ImageDataAugmenter"):
        cl.TrainingOptions(augmentation={"rotation": (-10, 10)})


def test_an_augmenter_that_does_not_fit_the_images_is_refused_before_training():
    x, y = _data()
    with pytest.raises(ValueError, match=r"ImageDataAugmenter.train_network: fill_value has 3 "
                                         r"values for images with 1 channels"):
        _train(ImageDataAugmenter(fill_value=(0, 0, 0)), x, y)
