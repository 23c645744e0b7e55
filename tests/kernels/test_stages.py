"""Fused stages (``cnnlab/kernels/fast/stages.py``) against the reference backend.

The reference backend is the definition: a network with ``fused = True`` must give the same
outputs, input gradients and parameter gradients (float64 to 1e-12, float32 to 1e-5 of the
largest value compared) on LeNet-5, the reference documents' network and hypothesis-drawn
conv/ReLU/pool stacks, NaN included; the chunk pool must cover every image of any batch
and hand a worker's exception to the caller.
"""
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from cnnlab.kernels.fast.pool_threads import ChunkPool, chunk_bounds, chunk_pool
from cnnlab.kernels.fast.conv_norm_stage import ConvNormStage
from cnnlab.kernels.fast.norm_stage import NormStage
from cnnlab.kernels.fast.dense_stage import MIN_MULTIPLY_ADDS, DenseStage
from cnnlab.kernels.fast.stage_base import Stage
from cnnlab.kernels.fast.stage_chain import StageChain, chain_stages
from cnnlab.kernels.fast.stages import ConvStage, plan, regroup
from cnnlab.models import lenet5, reference_example
from cnnlab.solvers import SGDM

RTOL = {"float64": 1e-12, "float32": 1e-5}


def close(got, want, dtype, what, scale=None):
    """Equal to rtol of the largest |want| (or of ``scale``): sums of many terms cancel to
    near zero, where a purely relative test would measure only the round-off of the
    cancellation (a convolution's bias gradient before batch norm is exactly 0 in exact
    arithmetic, so it is compared on the scale of the layer's weight gradient)."""
    want = np.asarray(want, dtype=np.float64)
    if scale is None:
        scale = layer_scale({"": want})
    scale = max(scale, 1e-30)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what + " (NaN)")
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=RTOL[dtype],
                               atol=RTOL[dtype] * scale, err_msg=what)


def twins(layers, dtype, *, input_size=None, seed=0):
    """The same network twice (same seed, same weights): reference, and fast + fused."""
    ref = cl.Network(layers, seed=seed, dtype=dtype, backend="reference", input_size=input_size)
    fused = cl.Network(layers, seed=seed, dtype=dtype, backend="fast", input_size=input_size)
    fused.fused = True
    return ref, fused


def compare_pass(ref, fused, x, dtype, *, dy_seed=1):
    y_ref = ref.forward(x, training=True)
    y_fu = fused.forward(x, training=True)
    close(y_fu, y_ref, dtype, "forward")
    dy = np.random.default_rng(dy_seed).standard_normal(y_ref.shape).astype(dtype)
    dx_ref, dx_fused = ref.backward(dy), fused.backward(dy)
    # gradients that flowed through a batch norm are differences of much larger terms (its
    # backward subtracts the batch means): compare them on the scale of the largest gradient
    net_scale = max([layer_scale(a.grads) for a in ref.layers] + [layer_scale({"": dx_ref})])
    close(dx_fused, dx_ref, dtype, "input gradient", net_scale if has_norm(ref) else None)
    for a, b in zip(ref.layers, fused.layers):
        for key in a.state:                   # batch norm's trained statistics
            close(b.state[key], a.state[key], dtype, f"{a.name} state {key}")
        if isinstance(a, cl.BatchNormalization):
            for key in ("last_mean", "last_variance", "last_normalized"):
                close(getattr(b, key), getattr(a, key), dtype, f"{a.name}.{key}")
        scale = net_scale if has_norm(ref) else layer_scale(a.grads)
        for key in a.params:
            close(b.grads[key], a.grads[key], dtype, f"{a.name}.{key}", scale)
            assert b.grads[key].dtype == a.grads[key].dtype, (a.name, key)


def has_norm(net):
    return any(isinstance(layer, cl.BatchNormalization) for layer in net.layers)


def layer_scale(grads):
    finite = [np.abs(g[np.isfinite(g)]).max() for g in grads.values() if np.isfinite(g).any()]
    return float(max(finite, default=0.0))


# ---- the two networks of the benchmark ------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make", [lenet5, reference_example], ids=["lenet5", "reference"])
def test_networks_agree_with_the_reference_backend(make, dtype):
    rng = np.random.default_rng(0)
    x = rng.random((5, 28, 28, 1)).astype(dtype)
    labels = rng.integers(0, 10, 5)
    # without the image input layer the input gradient is the first stage's own
    ref, fused = twins(make()[1:-2], dtype, input_size=(28, 28, 1))
    assert any(isinstance(s, (ConvStage, ConvNormStage)) for s in stages_of(fused))
    compare_pass(ref, fused, x, dtype)
    ref, fused = twins(make(), dtype)
    ref.fit_normalization(x)
    fused.fit_normalization(x)
    loss_ref, g_ref = ref.loss_and_gradients(x, labels)
    loss_fu, g_fu = fused.loss_and_gradients(x, labels)
    assert loss_fu == pytest.approx(loss_ref, rel=RTOL[dtype])
    for name in g_ref:
        for key in g_ref[name]:
            close(g_fu[name][key], g_ref[name][key], dtype, f"{name}.{key}",
                  layer_scale(g_ref[name]))
    close(fused.predict(x), ref.predict(x), dtype, "predict")


def names(steps):
    """Each step's name: a layer's own, a stage's layers' names, a chain's stages' lists."""
    return [[names(s.stages)] if isinstance(s, StageChain)
            else [layer.name for layer in s.layers] if isinstance(s, Stage) else s.name
            for s in steps]


def stages_of(net):
    """The fused stages a network runs, those inside chains included, in order."""
    return [stage for step in net._steps(net.layers)
            for stage in (step.stages if isinstance(step, StageChain) else [step])
            if isinstance(stage, Stage)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_norm_after_a_fully_connected_layer(dtype):
    # a 1x1xC input: one row per image; prediction mode uses the trained statistics
    layers = [cl.FullyConnected(5), cl.BatchNormalization(), cl.ReLU(), cl.FullyConnected(3)]
    ref, fused = twins(layers, dtype, input_size=(4, 3, 2))
    assert any(isinstance(s, NormStage) for s in fused._steps(fused.layers))
    x = np.random.default_rng(6).standard_normal((7, 4, 3, 2)).astype(dtype)
    compare_pass(ref, fused, x, dtype)
    close(fused.predict(x), ref.predict(x), dtype, "predict")
    for net in (ref, fused):
        y = net.forward(x, keep_caches=True)        # prediction mode, a backward follows
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    close(fused.backward(dy), ref.backward(dy), dtype, "prediction-mode input gradient")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("tail", ["relu+pool", "relu", "pool", "none"])
def test_convolution_and_batch_norm_as_one_stage(dtype, tail):
    # several channels in (channels-last kernels) and one (planar kernels); a pooling window
    # that does not tile the map; training, then prediction mode with a backward after it
    layers = [cl.Convolution2D(3, 4, padding=1), cl.BatchNormalization(),
              *([cl.ReLU()] if "relu" in tail else []),
              *([cl.MaxPooling2D(3, stride=2)] if "pool" in tail else []),
              cl.Convolution2D(2, 8, stride=2, padding=1), cl.BatchNormalization(mean_decay=0.3),
              *([cl.ReLU()] if "relu" in tail else []), cl.FullyConnected(3)]
    ref, fused = twins(layers, dtype, input_size=(9, 10, 1))
    assert sum(isinstance(s, ConvNormStage) for s in fused._steps(fused.layers)) == 2
    rng = np.random.default_rng(11)
    x = (3 + 2 * rng.standard_normal((5, 9, 10, 1))).astype(dtype)   # statistics far from 0, 1
    for step in range(2):
        compare_pass(ref, fused, x, dtype, dy_seed=step)
    close(fused.predict(x), ref.predict(x), dtype, "predict")
    for net in (ref, fused):
        y = net.forward(x, keep_caches=True)        # prediction mode, a backward follows
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    close(fused.backward(dy), ref.backward(dy), dtype, "prediction-mode input gradient")
    for a, b in zip(ref.layers, fused.layers):
        for key in a.params:
            close(b.grads[key], a.grads[key], dtype, f"{a.name}.{key} (prediction mode)",
                  layer_scale(a.grads))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [3, 180])
def test_fully_connected_layers_on_the_pool(dtype, batch):
    # 180 images of 6x6x8 -> 100 -> ReLU -> 30: 5.2 M multiply-adds, over the pool's
    # threshold; 3 images run as the layers run themselves. A NaN weight of fc_2 keeps its
    # meaning (its output 0 and its input gradient through it are NaN in both)
    layers = [cl.FullyConnected(100), cl.ReLU(), cl.FullyConnected(30), cl.FullyConnected(4)]
    ref, fused = twins(layers, dtype, input_size=(6, 6, 8))
    stages = [s for s in stages_of(fused) if isinstance(s, DenseStage)]
    assert [[layer.name for layer in s.layers] for s in stages] == [
        ["fc_1", "relu_1"], ["fc_2"], ["fc_3"]]
    assert (batch * 288 * 100 >= MIN_MULTIPLY_ADDS) == (batch == 180)
    x = np.random.default_rng(3).standard_normal((batch, 6, 6, 8)).astype(dtype)
    for net in (ref, fused):
        net["fc_2"].params["weights"][0, 5] = np.nan
    compare_pass(ref, fused, x, dtype)
    assert fused.layers[0].held_arrays() == [] or batch == 3  # the stage kept the caches
    close(fused.predict(x), ref.predict(x), dtype, "predict")


def test_the_plans_of_lenet5_and_the_reference_network():
    net = cl.Network(lenet5())
    net.fused = True
    # every stage of LeNet-5 treats each image on its own: one chain, one dispatch per pass
    assert names(net._steps(net.layers))[1:3] == [[[
        ["conv_1", "relu_1", "maxpool_1"], ["conv_2", "relu_2", "maxpool_2"],
        ["fc_1", "relu_3"], ["fc_2", "relu_4"], ["fc_3"]]], "softmax"]
    net.fused = False
    assert net._steps(net.layers) == net.layers
    net = cl.Network(reference_example())
    net.fused = True
    assert names(net._steps(net.layers))[1:3] == [
        ["conv_1", "batchnorm_1", "relu_1", "maxpool_1"], ["conv_2", "batchnorm_2", "relu_2"]]
    assert all(isinstance(s, ConvNormStage) for s in net._steps(net.layers)[1:3])


# ---- drawn stacks -----------------------------------------------------------------------------

@st.composite
def stacks(draw):
    c = draw(st.sampled_from([1, 1, 2, 3]))
    h, w = draw(st.integers(4, 11)), draw(st.integers(4, 11))
    layers, size, cin = [], (h, w), c
    for _ in range(draw(st.integers(1, 2))):
        fh, fw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        dil = draw(st.sampled_from([1, 1, 2]))
        pad = draw(st.integers(0, 2))
        groups = draw(st.sampled_from([1, 1, 1, 2]))
        filters = groups * draw(st.integers(1, 3))
        if cin % groups:
            groups = 1
        value = draw(st.sampled_from([0, 0, 1.5, "replicate", "symmetric-include-edge"]))
        eff = ((fh - 1) * dil + 1, (fw - 1) * dil + 1)
        stride = draw(st.sampled_from([1, 1, 2]))
        if eff[0] > size[0] + 2 * pad or eff[1] > size[1] + 2 * pad:
            break
        if isinstance(value, str) and pad > min(size) - 1:
            value = 0
        layers.append(cl.Convolution2D((fh, fw), filters, stride=stride, dilation=dil,
                                       padding=pad, padding_value=value, groups=groups,
                                       bias_initializer="narrow-normal"))
        cin = filters
        size = tuple((s + 2 * pad - e) // stride + 1 for s, e in zip(size, eff))
        if draw(st.sampled_from([False, False, True])):
            layers.append(cl.BatchNormalization(offset_initializer="narrow-normal"))
        if draw(st.booleans()):
            layers.append(cl.ReLU())
        if draw(st.sampled_from([True, True, False])):
            p, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            if p <= min(size):
                layers.append(cl.MaxPooling2D(p, stride=s))
                size = tuple((v - p) // s + 1 for v in size)
    if not layers:
        layers.append(cl.Convolution2D(1, 2))
    for _ in range(draw(st.integers(0, 2))):         # fully connected stages: chains
        layers.append(cl.FullyConnected(draw(st.integers(1, 4))))
        if draw(st.booleans()):
            layers.append(cl.ReLU())
    n = draw(st.integers(1, 5))
    return layers, (h, w, c), n


@given(stacks(), st.sampled_from(["float64", "float32"]), st.integers(0, 2**16))
def test_drawn_stacks_agree_with_the_reference_backend(stack, dtype, seed):
    layers, size, n = stack
    try:
        ref, fused = twins(layers, dtype, input_size=size, seed=seed)
    except ValueError:          # a drawn padding mode the input is too small for
        return
    x = np.random.default_rng(seed).standard_normal((n,) + size).astype(dtype)
    compare_pass(ref, fused, x, dtype)


@pytest.mark.parametrize("channels", [1, 2])       # one channel: the filter-plane workers
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("where", ["weights", "input"])
def test_nan_propagates_through_relu_and_max_pooling_as_in_the_reference(where, dtype,
                                                                         channels):
    layers = [cl.Convolution2D(3, 4, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
              cl.Convolution2D(2, 3), cl.ReLU(), cl.MaxPooling2D(2, stride=1)]
    ref, fused = twins(layers, dtype, input_size=(9, 7, channels))
    x = np.random.default_rng(3).standard_normal((3, 9, 7, channels)).astype(dtype)
    if where == "weights":
        for net in (ref, fused):
            net["conv_2"].params["weights"][0, 1, 0, 2] = np.nan
            net["conv_1"].params["weights"][2, 0, 0, 1] = np.nan
        compare_pass(ref, fused, x, dtype)
        assert np.isnan(fused.forward(x)).any()
        return
    # a NaN pixel: the Network refuses it, a stage itself computes with it as the layers do
    x[1, 4, 3, 0] = np.nan
    x[2, 0, 0, channels - 1] = np.inf
    stage = stages_of(fused)[0]
    y = stage.forward(x, training=True)
    want = x
    with np.errstate(invalid="ignore"):        # inf · 0 in the reference's sums
        for layer in ref.layers[:3]:
            want = layer.forward(want, training=True)
    assert np.isnan(want).any() and np.isinf(want).any()
    close(y, want, dtype, "forward with NaN")
    dy = np.random.default_rng(4).standard_normal(y.shape).astype(dtype)
    dx = stage.backward(dy)
    with np.errstate(invalid="ignore"):
        for layer in reversed(ref.layers[:3]):
            dy = layer.backward(dy)
    close(dx, dy, dtype, "input gradient with NaN")
    close(fused["conv_1"].grads["weights"], ref["conv_1"].grads["weights"], dtype, "dW")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_wide_one_channel_image_agrees_with_the_reference(dtype):
    # 35 pooled windows to a row: the filter-plane pooling's blocks of 16 run three times,
    # the last one partial (the drawn stacks' rows are narrower than one block)
    layers = [cl.Convolution2D(3, 4, padding=1, bias_initializer="narrow-normal"), cl.ReLU(),
              cl.MaxPooling2D(2, stride=2), cl.FullyConnected(3)]
    ref, fused = twins(layers, dtype, input_size=(6, 70, 1))
    assert isinstance(stages_of(fused)[0], ConvStage)
    x = np.random.default_rng(8).standard_normal((5, 6, 70, 1)).astype(dtype)
    compare_pass(ref, fused, x, dtype)


# ---- training, caches and plans --------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_training_run_stays_with_the_reference_backend(dtype):
    rng = np.random.default_rng(5)
    x = rng.random((24, 28, 28, 1)).astype(dtype)
    labels = rng.integers(0, 10, 24)
    ref, fused = twins(lenet5(), dtype)
    solvers = {id(ref): SGDM(momentum=0.9), id(fused): SGDM(momentum=0.9)}
    for step in range(6):
        batch = slice(8 * (step % 3), 8 * (step % 3) + 8)
        for net in (ref, fused):
            net.loss_and_gradients(x[batch], labels[batch])
            solvers[id(net)].step(net, 0.05)
    # float32: round-off compounds over 6 steps (and a ReLU or pooling tie may flip)
    tol = 1e-10 if dtype == "float64" else 2e-3
    for a, b in zip(ref.layers, fused.layers):
        for key in a.params:
            scale = np.abs(a.params[key]).max()
            np.testing.assert_allclose(b.params[key], a.params[key], atol=tol * scale,
                                       err_msg=f"{a.name}.{key}")


def test_caches_live_from_a_training_forward_to_its_backward_only():
    net = cl.Network(lenet5())
    net.fused = True
    x = np.random.default_rng(0).random((6, 28, 28, 1), dtype=np.float32)
    net.forward(x, training=True)
    # the stages keep the padded input 6·32·32 and their outputs: at least the first
    assert net.held_bytes() >= 6 * 32 * 32 * 4
    stage = net._steps(net.layers)[1]
    # ... and not the weights (parameters are not caches)
    weights = net["conv_1"].params["weights"]
    assert not any(np.shares_memory(a, weights) for a in stage.held_arrays())
    net.predict(x, batch_size=4)
    assert net.held_bytes() == 0
    net.forward(x)
    with pytest.raises(RuntimeError, match="keeps no caches"):
        net.backward(np.ones((6, 1, 1, 10), np.float32))
    net.forward(x, keep_caches=True)
    assert net.backward(np.ones((6, 1, 1, 10), np.float32)).shape == x.shape
    net.release()
    assert net.held_bytes() == 0


def test_train_network_runs_the_stages_and_releases_them_at_the_end():
    x = np.random.default_rng(1).random((16, 28, 28, 1), dtype=np.float32)
    runs = {}
    for fused in (False, True):
        net = cl.Network(reference_example(), seed=0)
        net.fused = fused
        runs[fused], info = cl.train_network(x, np.arange(16) % 10, net, cl.TrainingOptions(
            max_epochs=2, mini_batch_size=8, verbose=False, shuffle="never"))
    assert runs[True].fused and runs[True].held_bytes() == 0
    for a, b in zip(runs[False].layers, runs[True].layers):
        # on the scale of the layer's largest parameter: a bias before batch norm has a
        # gradient of exactly 0 in exact arithmetic and holds only round-off (~1e-8)
        scale = layer_scale(a.params)
        for key in a.params:
            np.testing.assert_allclose(b.params[key], a.params[key], rtol=1e-4,
                                       atol=1e-4 * scale, err_msg=f"{a.name}.{key}")
        for key in a.state:
            np.testing.assert_allclose(b.state[key], a.state[key], rtol=1e-4, atol=1e-6)


def test_a_network_moved_to_the_reference_backend_runs_layer_by_layer():
    net = cl.Network(lenet5())
    net.fused = True
    net.backend = "reference"
    assert net._steps(net.layers) == net.layers


@pytest.mark.parametrize("make", [lenet5, reference_example], ids=["lenet5", "reference"])
def test_backward_follows_the_last_forward_even_when_the_layers_ran_alone(make):
    # net.trace runs the layers one by one: a backward after it is the layers' own
    ref, fused = twins(make()[1:-2], "float64", input_size=(28, 28, 1))
    rng = np.random.default_rng(8)
    first, second = rng.random((4, 28, 28, 1)), rng.random((3, 28, 28, 1))
    for net in (ref, fused):
        net.forward(first, training=True)
        y = second
        for layer in net.layers:
            y = layer.forward(y, training=True, rng=net.rng)
    dy = rng.standard_normal(y.shape)
    close(fused.backward(dy), ref.backward(dy), "float64", "input gradient")
    for a, b in zip(ref.layers, fused.layers):
        for key in a.params:
            close(b.grads[key], a.grads[key], "float64", f"{a.name}.{key}",
                  max(layer_scale(x.grads) for x in ref.layers))


def test_a_stage_refuses_a_gradient_of_the_wrong_shape():
    net = cl.Network(lenet5()[1:4], input_size=(28, 28, 1))
    net.fused = True
    net.forward(np.zeros((2, 28, 28, 1), np.float32), training=True)
    with pytest.raises(ValueError, match="conv_1.*expected 2 x 14 x 14 x 6"):
        net._steps(net.layers)[0].backward(np.zeros((3, 14, 14, 6), np.float32))


def test_the_reference_backend_refuses_fused_stages():
    net = cl.Network(lenet5(), backend="reference")
    with pytest.raises(ValueError, match="backend='fast'"):
        net.fused = True


def test_plan_leaves_uncovered_configurations_layer_by_layer():
    net = cl.Network([cl.Convolution2D(3, 4, groups=2), cl.ReLU(),
                      cl.Convolution2D(3, 4), cl.MaxPooling2D(2, padding=1),
                      cl.Convolution2D(1, 4), cl.MaxPooling2D(12, stride=1)],
                     input_size=(20, 20, 2))
    steps = plan(net.layers)
    kinds = names(steps)
    # grouped: not fused; padded pooling and a 144-cell window (> int8): the conv alone
    assert kinds == ["conv_1", "relu_1", ["conv_2"], "maxpool_1", ["conv_3"], "maxpool_2"]
    # a list cut inside a stage keeps the cut run layer by layer
    stage_layers = plan(net.layers[2:3] + [cl.ReLU()])
    assert regroup(steps, net.layers[:3]) == net.layers[:2] + [steps[2]]
    assert isinstance(stage_layers[0], ConvStage)


# ---- chains of stages (stage_chain.py) ------------------------------------------------------

def test_chains_join_the_stages_that_read_their_input_as_given():
    layers = [cl.Convolution2D(3, 4, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
              cl.Convolution2D(3, 5), cl.Convolution2D(3, 4, padding=1), cl.ReLU(),
              cl.FullyConnected(6), cl.ReLU(), cl.FullyConnected(3),
              cl.BatchNormalization(), cl.FullyConnected(2)]
    ref, fused = twins(layers, "float64", input_size=(12, 12, 2))
    # the padded conv_3 copies its input before its work: it starts a second chain; batch
    # norm ends it; the lone fc_3 after it stays a stage of its own
    assert names(fused._steps(fused.layers)) == [
        [[["conv_1", "relu_1", "maxpool_1"], ["conv_2"]]],
        [[["conv_3", "relu_2"], ["fc_1", "relu_3"], ["fc_2"]]],
        ["batchnorm_1"], ["fc_3"]]
    x = np.random.default_rng(4).standard_normal((7, 12, 12, 2))
    compare_pass(ref, fused, x, "float64")
    # a list of layers cut inside a chain keeps the chain's stages that fit whole
    steps = fused._steps(fused.layers)
    cut = regroup(steps, fused.layers[:7])
    assert names(cut) == [[[["conv_1", "relu_1", "maxpool_1"], ["conv_2"]]],
                          ["conv_3", "relu_2"], "fc_1"]
    assert chain_stages(steps[1].stages[:1]) == steps[1].stages[:1]    # one stage: no chain


def test_a_chain_runs_one_dispatch_of_the_pool_per_pass(monkeypatch):
    net = cl.Network(lenet5()[1:-2], input_size=(28, 28, 1), seed=0)
    assert [type(s) for s in net._steps(net.layers)] == [StageChain]
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    # a network's first pass also runs its stages once on two images, to compile their
    # kernels ahead (compile_ahead.py): count the dispatches of a later step
    net.backward(np.ones_like(net.forward(x, training=True)), input_gradient=False)
    dispatches = []
    run = ChunkPool.run
    monkeypatch.setattr(ChunkPool, "run",
                        lambda pool, fn, count: (dispatches.append(count), run(pool, fn, count)))
    y = net.forward(x, training=True)
    forward = len(dispatches)
    net.backward(np.ones_like(y), input_gradient=False)
    assert (forward, len(dispatches) - forward) == (1, 1)


# ---- the chunk pool ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 64, 257])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_pool_runs_every_chunk_of_any_batch_once(n, threads):
    lo, hi = chunk_bounds(n, threads)
    assert lo[0] == 0 and hi[-1] == n and all(a < b for a, b in zip(lo, hi))
    assert all(b == a for a, b in zip(hi[:-1], lo[1:]))
    assert len(lo) == min(n, 2 * threads) if threads > 1 else len(lo) == 1
    seen = np.zeros(n, dtype=int)
    lock = threading.Lock()

    def work(i):
        with lock:
            seen[lo[i]:hi[i]] += 1
    chunk_pool(threads).run(work, len(lo))
    assert (seen == 1).all()


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("helper_delay", [0.0005, 0.05])
def test_the_caller_returns_only_after_the_helpers_last_chunks(threads, helper_delay):
    # the caller spins on the marks its helpers write once they are done (about a
    # millisecond), then sleeps on the batch's event: a helper's chunk that ends within the
    # spin (0.5 ms) and one that ends long after it (50 ms) are both waited for
    pool = ChunkPool(threads)
    ended = []

    def work(i):
        if threading.current_thread().name.startswith("cnnlab-chunk"):
            time.sleep(helper_delay)
        ended.append(i)
    for _ in range(3):
        ended.clear()
        pool.run(work, 2 * threads)
        assert sorted(ended) == list(range(2 * threads))


@pytest.mark.parametrize("n", [1, 2, 3, 64, 257])
def test_fused_forward_of_any_batch_size_matches_the_reference(n):
    layers = [cl.Convolution2D(3, 3, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2)]
    ref, fused = twins(layers, "float64", input_size=(7, 6, 2))
    x = np.random.default_rng(n).standard_normal((n, 7, 6, 2))
    compare_pass(ref, fused, x, "float64")


def test_an_exception_inside_a_worker_reaches_the_caller():
    pool = ChunkPool(3)
    ran = []

    def work(i):
        if i == 2:
            raise ZeroDivisionError(f"chunk {i} failed")
        ran.append(i)
    with pytest.raises(ZeroDivisionError, match="chunk 2 failed"):
        pool.run(work, 8)
    assert 2 not in ran
    done = []
    pool.run(done.append, 5)               # the pool still works afterwards
    assert sorted(done) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="at least one thread"):
        ChunkPool(0)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_runs_stages_with_its_own_pool():
    import os
    net = cl.Network(lenet5()[1:4], input_size=(28, 28, 1), dtype="float64")
    net.fused = True
    x = np.random.default_rng(2).random((6, 28, 28, 1))
    want = net.forward(x)
    read, write = os.pipe()
    with warnings.catch_warnings():       # Python 3.12 warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:                                     # the child: compute and report
        ok = np.array_equal(net.forward(x), want)
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def test_a_convolution_without_bias_runs_on_its_own_kernels_and_trains_the_same():
    layers = [cl.ImageInput((8, 8, 2), normalization="none"),
              cl.Convolution2D(3, 4, padding=1, has_bias=False), cl.ReLU(),
              cl.MaxPooling2D(2, stride=2), cl.FullyConnected(3), cl.Softmax(),
              cl.Classification()]
    fast = cl.Network(layers, seed=0, dtype="float64", backend="fast")
    ref = cl.Network(layers, seed=0, dtype="float64", backend="reference")
    assert fast.fused and "bias" not in fast["conv_1"].params
    x = np.random.default_rng(2).normal(size=(5, 8, 8, 2))
    labels = np.arange(5) % 3
    loss_f, grads_f = fast.loss_and_gradients(x, labels)
    loss_r, grads_r = ref.loss_and_gradients(x, labels)
    assert loss_f == pytest.approx(loss_r, rel=1e-12)
    for name in grads_r:
        for key in grads_r[name]:
            np.testing.assert_allclose(grads_f[name][key], grads_r[name][key], rtol=1e-10,
                                       atol=1e-13)
