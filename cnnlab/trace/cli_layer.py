"""``cnnlab step --layer NAME --at ...``: one step of any layer of a whole network.

    cnnlab step --layer relu_1 --at 3,4,0          # LeNet-5 on a generated digit
    cnnlab step --model reference --layer batchnorm_1 --at 17
    cnnlab step --network lenet5.cnnlab --layer fc_1 --at 7 --backward
    cnnlab step --layer conv_1 --param weights --at 0,0,0,2

The network is a saved file (``--network``), else one of ``cnnlab.models`` (``--model``,
LeNet-5 by default; untrained, its weights drawn from ``--seed``, the input statistics fitted
on 100 generated digits). The image is ``--image FILE.npy`` or the generated digit of
``--seed`` (its class is the label of ``--backward`` unless ``--label`` says otherwise).

``--at K`` is step K in the layer's order (channel by channel, each row by row; fully
connected, softmax and output layers: flat order); ``--at ROW,COL[,CHANNEL]`` the step at that
position of the output (of the input with ``--backward``). ``--param NAME`` steps the
gradient of a parameter (``--at K`` into the flattened array, or its full index).
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import models

MODELS = {"lenet5": models.lenet5, "reference": models.reference_example}


def add_options(p) -> None:
    """The options of the whole-network form (added to ``cnnlab step``'s parser)."""
    p.add_argument("--layer", help="the layer to step (a name from cnnlab summary); with it "
                                   "the network is --network or --model, not the example")
    p.add_argument("--model", choices=sorted(MODELS),
                   help="a network of cnnlab.models (default with --layer: lenet5)")
    p.add_argument("--network", metavar="FILE", help="a saved network (cnnlab train -o ...)")
    p.add_argument("--at", help="K (the K-th step) or ROW,COL[,CHANNEL] (a position)")
    p.add_argument("--backward", action="store_true",
                   help="the backward step: dL/dx at the position, by the chain rule")
    p.add_argument("--param", metavar="NAME",
                   help="the gradient step of a parameter (weights, bias, scale, offset)")
    p.add_argument("--label", type=int, help="the class for the loss of --backward "
                                             "(default: the generated digit's class)")
    p.add_argument("--image", metavar="FILE.npy", help="the input image (H x W or H x W x C)")


def wanted(a) -> bool:
    """Whether the options ask for the whole-network form (or a step of the example)."""
    return any(v is not None for v in (a.layer, a.model, a.network, a.at, a.param)) \
        or a.backward


def _network(a, example):
    if a.network:
        from .. import io
        return io.load(a.network), "saved network " + a.network
    if a.model or a.layer:
        from ..network import Network
        name = a.model or "lenet5"
        return Network(MODELS[name](), seed=a.seed), f"{name} (untrained, seed {a.seed})"
    net, _ = example()
    return net, "the example network"


def _image_and_label(a, net):
    from ..datasets.digits import make_digits
    h, w, c = net.layers[0].input_shape
    if a.image:
        x = np.load(a.image).astype(np.float64)
        x = x[:, :, None] if x.ndim == 2 else x
        if x.shape != (h, w, c):
            raise ValueError(f"--image {a.image}: shape {x.shape}, but the network takes "
                             f"{h}x{w}x{c}")
        return x, 0, f"image {a.image}"
    if (h, w, c) == (28, 28, 1):
        images, labels = make_digits(1, seed=a.seed)
        return images[0] / 255.0, int(labels[0]), f"a generated digit {labels[0]}"
    x = np.random.default_rng(a.seed).random((h, w, c))
    return x, 0, f"a random {h}x{w}x{c} image (seed {a.seed})"


def _fit_input(net, a):
    first = net.layers[0]
    if first.kind == "imageinput" and not first.statistics_set \
            and first.input_shape == (28, 28, 1):
        from ..datasets.digits import make_digits
        first.fit(make_digits(100, seed=a.seed + 1)[0] / 255.0)


def _labels(net, label, a):
    out = net.layers[-1]
    if not out.is_loss:
        raise ValueError("--backward needs a network that ends in an output layer")
    if out.kind == "classoutput":
        k = out.input_shape[-1]
        if not 0 <= label < k:
            raise ValueError(f"--label = {label}: the network has {k} classes (0..{k - 1})")
        return [label]
    return np.zeros((1, *out.input_shape))          # regression: targets 0


def _index(text, what):
    parts = text.replace("x", ",").split(",")
    if not all(p.strip().lstrip("-").isdigit() for p in parts):
        raise ValueError(f"--at = {text!r}: expected K or ROW,COL[,CHANNEL] ({what})")
    return [int(p) for p in parts]


def run(a, example) -> int:
    """Print the step the options name (module docstring); ``example()`` gives the one-layer
    network and input of the small-example options, when no other network is named."""
    net, source = _network(a, example)
    if a.network or a.model or a.layer:
        _fit_input(net, a)
        x, digit, what = _image_and_label(a, net)
    else:
        x, digit, what = example()[1], 0, "the example input"
    backward = a.backward or a.param is not None
    layer = a.layer or net.names[1]
    if layer not in net.names:
        raise ValueError(f"--layer = {layer!r} is not a layer of {source}; layers: "
                         f"{', '.join(net.names)}")
    label = digit if a.label is None else a.label
    tr = (net.trace(x, labels=_labels(net, label, a), backward=True) if backward
          else net.trace(x))
    rec = tr[layer]
    print(f"{rec.name} ({rec.type_name}), layer {rec.index} of {source}, on {what}: input "
          f"{'x'.join(map(str, rec.input_shape))} -> output "
          f"{'x'.join(map(str, rec.output_shape))}" + (f"; label {label}" if backward else ""))
    if a.param is not None:
        n = rec.num_param_steps(a.param)
        k = _param_k(rec, a.param, a.at)
        step, head = rec.param_step_at(a.param, k), f"{a.param} gradient step {k} of {n}"
    else:
        n = rec.num_backward_steps if backward else rec.num_steps
        k = 0 if a.at is None else _step_k(rec, a.at, backward)
        step = rec.backward_step_at(k) if backward else rec.step_at(k)
        head = f"{'backward ' if backward else ''}step {k} of {n}"
    print(f"{head}: {_text(step, a.max_terms)}")
    print(f"  reads: {step.reads}")
    print(f"  value {step.value:.6g} (the network recorded {step.output:.6g})")
    if a.at is None:
        print(f"  (--at K for another step, 0..{n - 1}, or --at ROW,COL,CHANNEL)")
    return 0


def _text(step, max_terms):
    if "max_terms" in inspect.signature(step.text).parameters:      # a sum to shorten
        return step.text(max_terms=max_terms)
    return step.text()


def _step_k(rec, text, backward):
    idx = _index(text, "a step number or a position")
    if len(idx) == 1:
        return idx[0]
    if len(idx) not in (2, 3):
        raise ValueError(f"--at = {text!r}: expected K or ROW,COL[,CHANNEL]")
    row, col, ch = (idx + [0])[:3]
    return rec.step_number(row, col, ch, backward=backward)


def _param_k(rec, name, text):
    if text is None:
        return 0
    grad = rec.param_gradients.get(name)
    idx = _index(text, "a flat index or the full index of the parameter")
    if len(idx) == 1 or grad is None:
        return idx[0]
    if len(idx) != grad.ndim or not all(0 <= i < s for i, s in zip(idx, grad.shape)):
        raise ValueError(f"--at = {text!r}: {name} of {rec.name} is "
                         f"{'x'.join(map(str, grad.shape))}; give K or {grad.ndim} indices "
                         "within it")
    return int(np.ravel_multi_index(idx, grad.shape))
