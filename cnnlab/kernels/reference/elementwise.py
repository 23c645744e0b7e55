"""Element-wise activations and their derivatives (numpy; the dtype of x is kept).

Kinks follow PyTorch so gradients agree exactly: relu'(0) = 0, leaky'(x <= 0) = scale,
clipped ReLU (hardtanh on [0, c]) passes the gradient only for 0 < x < c.
"""
import numpy as np


def relu_forward(x):
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_backward(x, dy):
    return np.where(x > 0, dy, 0).astype(dy.dtype, copy=False)


def leaky_relu_forward(x, scale):
    return np.where(x > 0, x, x * x.dtype.type(scale))


def leaky_relu_backward(x, dy, scale):
    return np.where(x > 0, dy, dy * dy.dtype.type(scale))


def clipped_relu_forward(x, ceiling):
    return np.clip(x, 0, ceiling).astype(x.dtype, copy=False)


def clipped_relu_backward(x, dy, ceiling):
    return np.where((x > 0) & (x < ceiling), dy, 0).astype(dy.dtype, copy=False)


def tanh_forward(x):
    return np.tanh(x)


def tanh_backward(y, dy):
    # d tanh / dx = 1 - tanh^2
    return dy * (1 - y * y)


def sigmoid_forward(x):
    # 1 / (1 + e^-x), written so large |x| never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_backward(y, dy):
    # d sigma / dx = sigma (1 - sigma)
    return dy * y * (1 - y)
