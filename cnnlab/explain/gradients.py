"""How a class's score changes with each pixel: the input gradient, and the saliency map.

For an image x and a class k, the network computes a class score s_k(x) (the input of the
softmax, one number per class) and, from it, the cross-entropy loss L = -ln p_k with
p = softmax(s). Back-propagating through the network's own layers gives, for every pixel,

    ∂s_k/∂x(i, j, c)        (target "score": Simonyan, Vedaldi and Zisserman, 2014)
    ∂L/∂x(i, j, c)          (target "loss": the gradient the fast gradient sign method uses)

The two are related: ∂L/∂s_j = p_j - [j = k], so ∂L/∂x = Σ_j (p_j - [j = k]) ∂s_j/∂x.

The **saliency map** is |∂s_k/∂x| at each pixel, the largest over the channels: a pixel is
salient when a small change of it changes the class's score much. It is a first-order
statement about *this* image: it says where the score is sensitive, not what the network
"looks for" in general.

Gradients are taken with respect to the raw image, before the input layer's normalization
(the input layer's backward divides by its scale), in prediction mode: dropout passes
everything, batch normalization uses its running statistics. The layers' own forward and
backward run, one layer at a time (the trace's path, not the fused training stages).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: what the gradient is taken of: the class score (softmax input) or the cross-entropy loss
TARGETS = ("score", "loss")


def score_layers(net, who: str):
    """(the layers from the input to the class scores, whether a softmax follows them).

    The class scores are the output of the last layer before the softmax (or, without a
    softmax, before the output layer), and must be a 1×1×K vector."""
    body = [layer for layer in net.layers if not layer.is_loss]
    softmax = bool(body) and body[-1].kind == "softmax"
    if softmax:
        body = body[:-1]
    h, w, k = body[-1].output_shape
    if (h, w) != (1, 1):
        raise ValueError(f"{who}: the network's last layer before the softmax ({body[-1].name}) "
                         f"outputs {h}x{w}x{k}; class scores must be 1x1xK (end with a "
                         "FullyConnected layer or global pooling)")
    return body, softmax


def as_batch(net, images, who: str):
    """(images as N×H×W×C of the network's dtype, whether one image was given)."""
    arr = np.asarray(images)
    h, w, c = net.input_size
    single = arr.shape in {(h, w, c), (h, w) if c == 1 else None}
    if arr.ndim == 4 and arr.shape[1:] == (h, w, c) and len(arr) == 0:
        raise ValueError(f"{who}: images is an empty batch (N = 0)")
    if not single and (arr.ndim != 4 or arr.shape[1:] != (h, w, c)):
        raise ValueError(f"{who}: image has shape {arr.shape}; expected {h}x{w}x{c} (one "
                         f"image{', or ' + str(h) + 'x' + str(w) if c == 1 else ''}) or "
                         f"N x {h} x {w} x {c}")
    return net.check_input(arr), single


def check_labels(labels, n: int, num_classes: int, who: str) -> np.ndarray:
    """Integer class indices 0..K-1, one per image (a single label for a single image)."""
    arr = np.asarray(labels)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{who}: {arr.size} label(s) for {n} image(s); give one class "
                         "index per image")
    if not (np.issubdtype(arr.dtype, np.integer)
            or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))) \
            or arr.dtype == bool:
        raise ValueError(f"{who}: label = {labels!r}: expected class indices (integers)")
    arr = arr.astype(int)
    bad = arr[(arr < 0) | (arr >= num_classes)]
    if bad.size:
        raise ValueError(f"{who}: label {int(bad[0])} is not a class of this network "
                         f"(classes 0..{num_classes - 1})")
    return arr


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of N×K scores, shifted by the row maximum (no overflow)."""
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def input_gradient(net, images, labels, *, target: str = "score", who: str = "input_gradient"):
    """∂(target)/∂image for a batch: (gradient N×H×W×C, value N, probabilities N×K or None).

    target "score": value s_k, the class score of label k; "loss": value -ln p_k (needs a
    softmax). Each image's gradient is its own (the loss is not averaged over the batch).
    """
    if target not in TARGETS:
        raise ValueError(f"{who}: target = {target!r}: expected one of {', '.join(TARGETS)}")
    x, _single = as_batch(net, images, who)
    layers, has_softmax = score_layers(net, who)
    if target == "loss" and not has_softmax:
        raise ValueError(f"{who}: target = 'loss' needs a network ending in Softmax (the "
                         "cross-entropy of the class probabilities); use target='score'")
    k = check_labels(labels, len(x), layers[-1].output_shape[2], who)
    rows = np.arange(len(x))
    with net.computing():
        try:
            y = net.forward_through(layers, x)     # prediction mode, caches kept
            scores = y.reshape(len(x), -1).astype(np.float64)
            probs = softmax(scores) if has_softmax else None
            seed = np.zeros_like(scores)
            if target == "score":                  # ∂s_k/∂s = one-hot of k
                seed[rows, k] = 1.0
                value = scores[rows, k]
            else:                                  # ∂(-ln p_k)/∂s = p - one-hot of k
                seed[:] = probs
                seed[rows, k] -= 1.0
                value = -np.log(probs[rows, k])
            dy = seed.astype(y.dtype).reshape(y.shape)
            dy = net.backward_through(layers, dy)
        finally:
            for layer in layers:
                layer.release()
    return dy, value, probs


@dataclass(frozen=True)
class Saliency:
    """The saliency of one image for one class.

    image : H×W×C; label : the class; target : "score" or "loss"; value : the target's value
    (s_k or -ln p_k); gradient : ∂(target)/∂image, H×W×C, signed; map : H×W, the largest
    |gradient| over the channels; probabilities : (K,) or None without a softmax;
    predicted : the network's class for the image (argmax of the scores)."""
    image: np.ndarray
    label: int
    target: str
    value: float
    gradient: np.ndarray
    map: np.ndarray
    probabilities: np.ndarray | None
    predicted: int


def saliency(net, image, label, *, target: str = "score") -> Saliency:
    """The saliency map of ``image`` for class ``label`` (module docstring).

    >>> import numpy as np, cnnlab as cl
    >>> net = cl.Network([cl.ImageInput((2, 2, 1), normalization="none"),
    ...                   cl.FullyConnected(2, weights=[[1, 2, 3, 4], [0, 0, 0, -1]],
    ...                                     bias=[0, 0]), cl.Softmax(), cl.Classification()],
    ...                  backend="reference")
    >>> saliency(net, np.ones((2, 2, 1)), 0).gradient[:, :, 0]    # ∂s_0/∂x = row 0 of W
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    """
    who = "saliency"
    x, single = as_batch(net, image, who)
    if not single:
        raise ValueError(f"saliency: give one image ({'x'.join(map(str, net.input_size))}), "
                         f"not a batch of {len(x)}")
    grad, value, probs = input_gradient(net, x, label, target=target, who=who)
    label = int(np.asarray(label).reshape(-1)[0])         # checked by input_gradient
    p = None if probs is None else probs[0]
    predicted = int(np.argmax(p if p is not None else net.predict(x)[0]))
    return Saliency(image=x[0], label=label, target=target, value=float(value[0]),
                    gradient=grad[0], map=np.abs(grad[0]).max(axis=2), probabilities=p,
                    predicted=predicted)
