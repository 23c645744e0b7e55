"""Forward and backward through layer graphs (cnnlab/graph_pass.py): PyTorch parity of a
residual basic block and a concatenation block (float64, and float32 against torch float32 with
oneDNN off), a whole-graph centred-difference check, fast = reference, and training."""
import contextlib
import warnings

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.testing import numerical_gradient
from tests.torch_oracle import F, conv_weights_to_torch, from_torch, tensor, to_torch, torch

TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=2e-4, atol=2e-5)}


@contextlib.contextmanager
def plain_torch():
    """oneDNN off (its float32 convolution is wrong on some CPUs, tests/torch_oracle.py);
    switching it off warns about TF32 on Intel GPUs, which pytest would make an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False):
            yield


# ---- the two blocks ----------------------------------------------------------------------------

def leaf(a, dtype):
    """A numpy array as a torch leaf of ``dtype`` whose gradient torch will fill."""
    return tensor(a).to(dtype).requires_grad_(True)


def conv_leaf(w, dtype):
    return conv_weights_to_torch(w).to(dtype).requires_grad_(True)


def basic_block_graph(size=(6, 6, 4)):
    """ResNet's basic block: conv-BN-ReLU-conv-BN, plus the identity, then ReLU."""
    c = size[2]
    g = cl.LayerGraph([
        cl.ImageInput(size, normalization="none"),
        cl.Convolution2D(3, c, padding=1, has_bias=False), cl.BatchNormalization(), cl.ReLU(),
        cl.Convolution2D(3, c, padding=1, has_bias=False), cl.BatchNormalization(),
        cl.Addition(2), cl.ReLU()])
    return g.connect("imageinput", "add_1/in2")


def basic_block_torch(x, net):
    """The same block in PyTorch, from the network's weights (batch statistics: training)."""
    w1 = conv_leaf(net["conv_1"].params["weights"], x.dtype)
    w2 = conv_leaf(net["conv_2"].params["weights"], x.dtype)
    bn = {n: [leaf(net[n].params[k].reshape(-1), x.dtype) for k in ("scale", "offset")]
          for n in ("batchnorm_1", "batchnorm_2")}
    h = F.relu(F.batch_norm(F.conv2d(x, w1, padding=1), None, None, *bn["batchnorm_1"],
                            training=True, eps=1e-5))
    h = F.batch_norm(F.conv2d(h, w2, padding=1), None, None, *bn["batchnorm_2"],
                     training=True, eps=1e-5)
    params = {"conv_1": {"weights": w1}, "conv_2": {"weights": w2},
              **{n: {"scale": bn[n][0], "offset": bn[n][1]} for n in bn}}
    return F.relu(h + x), params


def concat_block_graph(size=(6, 6, 3)):
    """An Inception-style block: 1x1 conv, 3x3 conv and 3x3 max pooling (stride 1, padding 1)
    side by side, stacked along the channels, then ReLU."""
    g = cl.LayerGraph([cl.ImageInput(size, normalization="none"),
                       cl.Convolution2D(1, 2, name="branch_1x1"),
                       cl.DepthConcatenation(3, name="cat"), cl.ReLU()])
    g.add_layers([cl.Convolution2D(3, 4, padding=1, name="branch_3x3")])
    g.add_layers([cl.MaxPooling2D(3, stride=1, padding=1, name="branch_pool")])
    for branch, port in (("branch_3x3", "in2"), ("branch_pool", "in3")):
        g.connect("imageinput", branch).connect(branch, f"cat/{port}")
    return g


def concat_block_torch(x, net):
    def conv(name, padding):
        w = conv_leaf(net[name].params["weights"], x.dtype)
        b = leaf(net[name].params["bias"].reshape(-1), x.dtype)
        return F.conv2d(x, w, b, padding=padding), {"weights": w, "bias": b}
    a, pa = conv("branch_1x1", 0)
    b, pb = conv("branch_3x3", 1)
    c = F.max_pool2d(x, 3, stride=1, padding=1)
    return F.relu(torch.cat([a, b, c], dim=1)), {"branch_1x1": pa, "branch_3x3": pb}


BLOCKS = {"basic": (basic_block_graph, basic_block_torch, (6, 6, 4)),
          "concat": (concat_block_graph, concat_block_torch, (6, 6, 3))}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("block", list(BLOCKS))
def test_blocks_match_pytorch(block, dtype):
    """Forward, input gradient and every parameter gradient, against PyTorch."""
    make_graph, torch_block, size = BLOCKS[block]
    net = cl.Network(make_graph(size), seed=1, dtype=dtype, backend="reference")
    assert net.is_graph
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3,) + size).astype(dtype)
    y = net.forward(x, training=True)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = net.backward(dy)
    with plain_torch():
        # float32: the whole torch computation in float32 too
        xt = to_torch(x).to(getattr(torch, dtype)).requires_grad_(True)
        yt, params = torch_block(xt, net)
        yt.backward(to_torch(dy).to(yt.dtype))
    np.testing.assert_allclose(y, from_torch(yt), **TOL[dtype])
    np.testing.assert_allclose(dx, from_torch(xt.grad), **TOL[dtype])
    for name, ps in params.items():
        for key, t in ps.items():
            got = net[name].grads[key]
            want = t.grad.numpy()
            want = (want.transpose(2, 3, 1, 0) if key == "weights" else want).reshape(got.shape)
            np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=f"{name} {key}")


# ---- the whole graph ---------------------------------------------------------------------------

def classifier_graph(size=(6, 6, 3), *, loss=True):
    """Both blocks in one network: a concatenation block (2 + 4 + 3 = 9 channels), a 1x1
    convolution to 4 channels ("squeeze", whose output fans out to res_conv_1 and to
    res_add/in2), a residual basic block, then fc (-> softmax -> classification)."""
    g = concat_block_graph(size)
    g.add_layers([cl.Convolution2D(1, 4, name="squeeze")])
    g.connect("relu_1", "squeeze")
    block = [cl.Convolution2D(3, 4, padding=1, has_bias=False, name="res_conv_1"),
             cl.BatchNormalization(name="res_bn_1"), cl.ReLU(name="res_relu_1"),
             cl.Convolution2D(3, 4, padding=1, has_bias=False, name="res_conv_2"),
             cl.BatchNormalization(name="res_bn_2"), cl.Addition(2, name="res_add"),
             cl.ReLU(name="res_relu_2"), cl.FullyConnected(3)]
    g.add_layers(block + ([cl.Softmax(), cl.Classification()] if loss else []))
    g.connect("squeeze", "res_conv_1").connect("squeeze", "res_add/in2")
    return g


LEARNING = {"branch_1x1", "branch_3x3", "squeeze", "res_conv_1", "res_bn_1", "res_conv_2",
            "res_bn_2", "fc_1"}


def test_whole_graph_gradients_match_centred_differences():
    net = cl.Network(classifier_graph(), seed=5, dtype="float64", backend="reference")
    x = np.random.default_rng(6).standard_normal((3, 6, 6, 3))
    labels = np.array([0, 2, 1])
    _, grads = net.loss_and_gradients(x, labels)
    assert set(grads) == LEARNING
    for name, params in grads.items():
        for key, analytic in params.items():
            analytic = analytic.copy()
            numeric = numerical_gradient(lambda: net.loss(x, labels, training=True),
                                         net[name].params[key])
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8,
                                       err_msg=f"{name} {key}")


def test_whole_graph_input_gradient_matches_centred_differences():
    """dL/dx reaches the image along every branch: 1x1, 3x3, pooling, and both paths of the
    residual block, summed."""
    net = cl.Network(classifier_graph(loss=False), seed=5, dtype="float64",
                     backend="reference")
    x = np.random.default_rng(6).standard_normal((2, 6, 6, 3))
    r = np.random.default_rng(7).standard_normal((2, 1, 1, 3))
    net.forward(x, training=True)
    dx = net.backward(r)
    numeric = numerical_gradient(lambda: np.sum(net.forward(x, training=True) * r), x)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-9)


def test_training_gradients_skip_only_the_image_gradient():
    """loss_and_gradients (which does not compute dL/dx) gives the parameter gradients of a
    full backward pass."""
    net = cl.Network(classifier_graph(), seed=8, dtype="float64", backend="reference")
    x = np.random.default_rng(9).standard_normal((4, 6, 6, 3))
    labels = np.array([0, 1, 2, 1])
    _, grads = net.loss_and_gradients(x, labels)
    grads = {n: {k: v.copy() for k, v in p.items()} for n, p in grads.items()}
    y = net.forward(x, training=True)
    body, dy = net.loss_entry(y, net.check_labels(labels, y))
    from cnnlab.graph_pass import graph_backward
    dx = graph_backward(body, {n: net.sources(n) for n in net.names}, dy)
    assert dx.shape == x.shape
    for name in LEARNING:
        for key, g in grads[name].items():
            np.testing.assert_allclose(net[name].grads[key], g, rtol=1e-12, atol=1e-14)


def test_fused_stages_cover_only_chain_segments():
    """Stages run a chain of layers; a branch point or a join ends one (graph_stages.py)."""
    net = cl.Network(classifier_graph(), backend="fast")
    assert net.fused
    runs = [[layer.name for layer in stage.layers] for stage in net.__dict__["_stages"]]
    assert runs == [["branch_1x1"], ["branch_3x3"], ["squeeze"], ["res_bn_1", "res_relu_1"],
                    ["res_bn_2"], ["fc_1"]]
    # res_bn_2 stops before the Addition; squeeze, read by two layers, stands alone


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-9), ("float32", 2e-4)])
def test_fast_and_reference_backends_agree_on_a_graph(dtype, tol, fused):
    ref = cl.Network(classifier_graph(), seed=2, dtype=dtype, backend="reference")
    fast = cl.Network(classifier_graph(), seed=2, dtype=dtype, backend="fast")
    fast.fused = fused
    assert fast.backend == "fast" and fast.fused == fused
    x = np.random.default_rng(3).standard_normal((5, 6, 6, 3)).astype(dtype)
    labels = np.array([0, 1, 2, 1, 0])
    np.testing.assert_allclose(fast.predict(x), ref.predict(x), rtol=tol, atol=tol)
    assert fast.held_bytes() == 0
    for _ in range(2):                          # twice: batch norm's running statistics move
        loss_r, grads_r = ref.loss_and_gradients(x, labels)
        loss_f, grads_f = fast.loss_and_gradients(x, labels)
        assert abs(loss_r - loss_f) <= tol * max(1, abs(loss_r))
        for name in LEARNING:
            for key in grads_r[name]:
                np.testing.assert_allclose(grads_f[name][key], grads_r[name][key], rtol=tol,
                                           atol=tol, err_msg=f"{name} {key}")
        for a, b in zip(ref.layers, fast.layers):
            for key in a.state:
                np.testing.assert_allclose(b.state[key], a.state[key], rtol=tol, atol=tol)
    # and the image gradient, through the stages
    ref = cl.Network(classifier_graph(loss=False), seed=2, dtype=dtype, backend="reference")
    fast = cl.Network(classifier_graph(loss=False), seed=2, dtype=dtype, backend="fast")
    fast.fused = fused
    dy = np.random.default_rng(4).standard_normal((5, 1, 1, 3)).astype(dtype)
    dxs = []
    for net in (ref, fast):
        net.forward(x, training=True)
        dxs.append(net.backward(dy))
    np.testing.assert_allclose(dxs[1], dxs[0], rtol=tol, atol=tol)


def test_prediction_keeps_no_caches_and_predict_batches_agree():
    net = cl.Network(classifier_graph(), seed=2, backend="reference")
    x = np.random.default_rng(3).standard_normal((7, 6, 6, 3))
    whole = net.predict(x)
    assert net.held_bytes() == 0
    np.testing.assert_allclose(net.predict(x, batch_size=3), whole, rtol=1e-6, atol=1e-7)
    assert whole.shape == (7, 3) and np.allclose(whole.sum(axis=1), 1, atol=1e-6)
    assert net.classify(x).shape == (7,)


def test_train_network_trains_a_graph():
    """A residual network learns the bright-row task: its training loss falls."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = rng.normal(0, 0.3, (90, 6, 6, 3))
    for i, k in enumerate(y):
        x[i, 2 * k, :, :] += 1.5
    options = cl.TrainingOptions("sgdm", max_epochs=6, mini_batch_size=15,
                                 initial_learn_rate=0.05, verbose=False, progress_bar=False,
                                 backend="reference")
    net, info = cl.train_network(x, y, classifier_graph(), options)
    assert net.is_graph and info.stopped_reason == "max-epochs"
    assert info.loss[-6:].mean() < 0.5 * info.loss[:6].mean()
    assert (net.classify(x) == y).mean() > 0.9


def test_one_output_on_both_inputs_of_an_addition_gets_twice_the_gradient():
    """y = x + x: dL/dx = 2·dL/dy, by hand; and without an image input the graph starts at
    its first layer, given input_size."""
    g = cl.LayerGraph([cl.ReLU(name="r"), cl.Addition(2, name="twice")])
    g.connect("r", "twice/in2")
    net = cl.Network(g, input_size=(2, 3, 1), dtype="float64", backend="reference")
    assert net.sources("twice") == ["r", "r"] and net.sources("r") == []
    x = np.abs(np.random.default_rng(0).standard_normal((2, 2, 3, 1))) + 0.1   # ReLU passes
    np.testing.assert_array_equal(net.forward(x, keep_caches=True), 2 * x)
    dy = np.random.default_rng(1).standard_normal((2, 2, 3, 1))
    np.testing.assert_array_equal(net.backward(dy), 2 * dy)


# ---- random graphs: the two backends and centred differences agree on every one -------------

def random_graph(seed):
    """A random DAG of size-keeping layers on 5x5x2: convolutions (1x1 or 3x3 with padding
    1), batch norm, tanh, additions of two equal-sized outputs, concatenations of two or
    three; every output nobody reads is stacked at the end, then fc -> softmax -> output."""
    rng = np.random.default_rng(seed)
    g = cl.LayerGraph([cl.ImageInput((5, 5, 2), normalization="none")])
    channels = {"imageinput": 2}
    readers = {"imageinput": 0}
    for i in range(int(rng.integers(5, 10))):
        names = list(channels)
        kind = rng.choice(["conv", "conv", "bn", "tanh", "add", "cat"])
        name = f"n{i}"
        src = str(rng.choice(names))
        if kind == "add":
            same = [n for n in names if channels[n] == channels[src] and n != src]
            if not same:
                kind = "conv"
            else:
                other = str(rng.choice(same))
                g.add_layers([cl.Addition(2, name=name)])
                g.connect(src, f"{name}/in1").connect(other, f"{name}/in2")
                channels[name] = channels[src]
                readers[src] += 1
                readers[other] += 1
        if kind == "cat":
            k = int(min(len(names), rng.integers(2, 4)))
            picks = [str(n) for n in rng.choice(names, size=k, replace=False)]
            if len(picks) < 2:
                kind = "conv"
            else:
                g.add_layers([cl.DepthConcatenation(len(picks), name=name)])
                for port, p in enumerate(picks, start=1):
                    g.connect(p, f"{name}/in{port}")
                    readers[p] += 1
                channels[name] = sum(channels[p] for p in picks)
        if kind in ("conv", "bn", "tanh"):
            if kind == "conv":
                k = int(rng.choice([1, 3]))
                f = int(rng.integers(1, 4))
                layer = cl.Convolution2D(k, f, padding=(k - 1) // 2, name=name)
            else:
                f = channels[src]
                layer = cl.BatchNormalization(name=name) if kind == "bn" else cl.Tanh(name=name)
            g.add_layers([layer])
            g.connect(src, name)
            readers[src] += 1
            channels[name] = f
        readers[name] = 0
    ends = [n for n, r in readers.items() if r == 0]
    tail = [cl.FullyConnected(3, name="fc"), cl.Softmax(), cl.Classification()]
    if len(ends) > 1:
        g.add_layers([cl.DepthConcatenation(len(ends), name="ends")] + tail)
        for port, n in enumerate(ends, start=1):
            g.connect(n, f"ends/in{port}")
    else:
        g.add_layers(tail)
        g.connect(ends[0], "fc")
    return g


@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_fast_equals_reference_and_gradients_check(seed):
    x = np.random.default_rng(100 + seed).standard_normal((3, 5, 5, 2))
    labels = np.array([0, 2, 1])
    ref = cl.Network(random_graph(seed), seed=seed, dtype="float64", backend="reference")
    fast = cl.Network(random_graph(seed), seed=seed, dtype="float64", backend="fast")
    loss_r, grads_r = ref.loss_and_gradients(x, labels)
    loss_f, grads_f = fast.loss_and_gradients(x, labels)
    assert loss_f == pytest.approx(loss_r, rel=1e-10)
    for name, params in grads_r.items():
        for key, g in params.items():
            np.testing.assert_allclose(grads_f[name][key], g, rtol=1e-8, atol=1e-11)
            analytic = g.copy()
            numeric = numerical_gradient(lambda: ref.loss(x, labels, training=True),
                                         ref[name].params[key])
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8,
                                       err_msg=f"seed {seed}: {name} {key}")
