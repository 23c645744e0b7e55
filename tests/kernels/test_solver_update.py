"""The fast backend's SGDM update (``cnnlab/kernels/fast/solver_update.py``) against NumPy's.

The compiled loop must give exactly what ``SGDM``'s NumPy update gives — same operations,
same order, same rounding — for float32 and float64, with and without weight decay, with
frozen and scaled parameters, NaN and inf included, over several steps.
"""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.kernels.fast.solver_update import sgdm_update
from cnnlab.solvers import SGDM


def twins(dtype):
    layers = [cl.Convolution2D(3, 4), cl.ReLU(), cl.FullyConnected(5), cl.Softmax(),
              cl.Classification()]
    return [cl.Network(layers, seed=3, dtype=dtype, backend=b, input_size=(6, 6, 2))
            for b in ("reference", "fast")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_fast_sgdm_steps_are_numpys_bit_for_bit(dtype, l2):
    ref, fast = twins(dtype)
    for net in (ref, fast):
        net["fc_1"].learn_rate_factors["bias"] = 0.0        # frozen: left untouched
        net["conv_1"].l2_factors["weights"] = 3.0
        net["conv_1"].learn_rate_factors["weights"] = 0.5
    solvers = [SGDM(momentum=0.9, l2_regularization=l2) for _ in range(2)]
    rng = np.random.default_rng(1)
    for step in range(4):
        grads = {(layer.name, key): rng.standard_normal(v.shape).astype(dtype)
                 for layer, key, v in ref.parameters()}
        if step == 2:       # NaN and inf reach θ and v the same way in both
            grads["conv_1", "weights"][0, 0, 0, 0] = np.nan
            grads["fc_1", "weights"][1, 2] = np.inf
        for net, solver in zip((ref, fast), solvers):
            for layer, key, _ in net.parameters():
                layer.grads[key] = grads[layer.name, key].copy()
            with np.errstate(invalid="ignore"):      # NumPy warns of inf - inf; the loop not
                solver.step(net, 0.05)
    for (a_layer, key, a), (_, _, b) in zip(ref.parameters(), fast.parameters()):
        np.testing.assert_array_equal(b, a, err_msg=f"{a_layer.name}.{key}")
    for key, v in solvers[0].slots["velocity"].items():
        np.testing.assert_array_equal(solvers[1].slots["velocity"][key], v, err_msg=key)
    assert np.isnan(fast["conv_1"].params["weights"][0, 0, 0, 0])


def test_arrays_the_loop_does_not_take_are_left_to_numpy():
    theta = np.ones((4, 3), np.float32)
    v = np.zeros((4, 3), np.float32)
    assert not sgdm_update(theta, np.ones((4, 3), np.float64), v, 0.1, 0.9, 0.0)
    assert not sgdm_update(theta.T, np.ones((3, 4), np.float32), v.T, 0.1, 0.9, 0.0)
    assert not sgdm_update(theta.astype(np.float16), np.ones((4, 3), np.float16),
                           v.astype(np.float16), 0.1, 0.9, 0.0)
    assert (theta == 1).all() and (v == 0).all()
    # a non-contiguous gradient is read through a copy: the update is still done
    g = np.ones((3, 4), np.float32).T
    assert sgdm_update(theta, g, v, 0.5, 0.9, 0.0)
    np.testing.assert_array_equal(theta, np.full((4, 3), 0.5, np.float32))
