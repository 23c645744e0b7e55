"""The fast backend's solver updates (``cnnlab/kernels/fast/solver_update.py``) against NumPy's.

The compiled loops must give exactly what the solvers' NumPy updates give — same operations,
same order, same rounding — for SGDM, Adam and RMSProp, float32 and float64, with and
without weight decay, with frozen and scaled parameters, NaN and inf included, over several
steps, and for networks with more parameter arrays than one call takes.
"""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.kernels.fast import solver_update
from cnnlab.kernels.fast.solver_update import GROUP, fast_updates
from cnnlab.solvers import SGDM, Adam, RMSProp

SOLVERS = {
    "sgdm": lambda l2: SGDM(momentum=0.9, l2_regularization=l2),
    "adam": lambda l2: Adam(gradient_decay_factor=0.8, squared_gradient_decay_factor=0.95,
                            epsilon=1e-6, l2_regularization=l2),
    "rmsprop": lambda l2: RMSProp(squared_gradient_decay_factor=0.7, epsilon=1e-5,
                                  l2_regularization=l2),
}


def twins(dtype, wide=False):
    """The same network on both backends; ``wide``: more parameter arrays than GROUP."""
    layers = [cl.Convolution2D(3, 4), cl.ReLU()]
    if wide:
        layers += [cl.Convolution2D(1, 3), cl.BatchNormalization(), cl.FullyConnected(7),
                   cl.FullyConnected(6)]
    layers += [cl.FullyConnected(5), cl.Softmax(), cl.Classification()]
    nets = [cl.Network(layers, seed=3, dtype=dtype, backend=b, input_size=(6, 6, 2))
            for b in ("reference", "fast")]
    assert not wide or len(list(nets[0].parameters())) > GROUP
    return nets


def run_both(ref, fast, solvers, steps, grads_for, learn_rate=0.05):
    for step in range(steps):
        grads = grads_for(step)
        for net, solver in zip((ref, fast), solvers):
            for layer, key, _ in net.parameters():
                layer.grads[key] = grads[layer.name, key].copy()
            with np.errstate(invalid="ignore", divide="ignore"):   # NumPy warns; loops not
                solver.step(net, learn_rate)


def assert_same(ref, fast, solvers):
    for (a_layer, key, a), (_, _, b) in zip(ref.parameters(), fast.parameters()):
        np.testing.assert_array_equal(b, a, err_msg=f"{a_layer.name}.{key}")
    for name, store in solvers[0].slots.items():
        for key, v in store.items():
            np.testing.assert_array_equal(solvers[1].slots[name][key], v,
                                          err_msg=f"{name} {key}")


@pytest.fixture
def compiled_counts(monkeypatch):
    """How many parameter arrays the compiled loops updated, and how many they left."""
    counts = {"done": 0, "left": 0}

    def counting(kind, items, slot_names, consts):
        left = fast_updates(kind, items, slot_names, consts)
        counts["done"] += len(items) - len(left)
        counts["left"] += len(left)
        return left
    monkeypatch.setattr(solver_update, "fast_updates", counting)
    return counts


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_fast_steps_are_numpys_bit_for_bit(solver, dtype, l2, compiled_counts):
    ref, fast = twins(dtype)
    for net in (ref, fast):
        net["fc_1"].learn_rate_factors["bias"] = 0.0        # frozen: left untouched
        net["conv_1"].l2_factors["weights"] = 3.0
        net["conv_1"].learn_rate_factors["weights"] = 0.5
    solvers = [SOLVERS[solver](l2) for _ in range(2)]
    rng = np.random.default_rng(1)

    def grads_for(step):
        grads = {(layer.name, key): rng.standard_normal(v.shape).astype(dtype)
                 for layer, key, v in ref.parameters()}
        if step == 2:       # NaN and inf reach θ and the slots the same way in both
            grads["conv_1", "weights"][0, 0, 0, 0] = np.nan
            grads["fc_1", "weights"][1, 2] = np.inf
        return grads
    run_both(ref, fast, solvers, 4, grads_for)
    # the fast network's three learning arrays went through the loops at every step
    assert compiled_counts == {"done": 4 * 3, "left": 0}
    assert_same(ref, fast, solvers)
    assert np.isnan(fast["conv_1"].params["weights"][0, 0, 0, 0])
    assert (fast["fc_1"].params["bias"] == ref["fc_1"].params["bias"]).all()


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_more_arrays_than_one_call_takes(solver, compiled_counts):
    ref, fast = twins("float32", wide=True)
    solvers = [SOLVERS[solver](1e-4) for _ in range(2)]
    rng = np.random.default_rng(2)
    run_both(ref, fast, solvers, 3, lambda step: {
        (layer.name, key): rng.standard_normal(v.shape).astype("float32")
        for layer, key, v in ref.parameters()})
    assert compiled_counts == {"done": 3 * len(list(fast.parameters())), "left": 0}
    assert_same(ref, fast, solvers)


@pytest.mark.parametrize("solver", ["adam", "rmsprop"])
def test_division_by_zero_gives_numpys_nan_not_an_error(solver):
    """ε = 0 and a zero gradient: NumPy's update divides 0 by 0 (NaN); the compiled loop
    must too, not raise ZeroDivisionError as Python's arithmetic would."""
    ref, fast = twins("float32")
    make = {"adam": lambda: Adam(epsilon=0.0, l2_regularization=0.0),
            "rmsprop": lambda: RMSProp(epsilon=0.0, l2_regularization=0.0)}[solver]
    solvers = [make(), make()]
    run_both(ref, fast, solvers, 1, lambda step: {
        (layer.name, key): np.zeros(v.shape, "float32") for layer, key, v in ref.parameters()})
    assert_same(ref, fast, solvers)
    assert np.isnan(fast["fc_1"].params["weights"]).all()


def test_arrays_the_loops_do_not_take_are_left_to_numpy():
    theta = np.ones((4, 3), np.float32)
    v = np.zeros((4, 3), np.float32)
    refused = [
        (theta, np.ones((4, 3), np.float64), 0.0, 0.1, {"velocity": v}),        # dtypes differ
        (theta.T, np.ones((3, 4), np.float32), 0.0, 0.1, {"velocity": v.T}),    # θ strided
        (theta.astype(np.float16), np.ones((4, 3), np.float16), 0.0, 0.1,
         {"velocity": v.astype(np.float16)}),                                   # float16
        (theta, np.ones((4, 3), np.float32), 0.0, 0.1, {"velocity": v[:2]}),     # slot shape
    ]
    left = fast_updates("sgdm", refused, ("velocity",), (0.9,))
    assert [id(item) for item in left] == [id(item) for item in refused]
    assert (theta == 1).all() and (v == 0).all()
    # a non-contiguous gradient is read through a copy: the update is still done
    g = np.ones((3, 4), np.float32).T
    assert fast_updates("sgdm", [(theta, g, 0.0, 0.5, {"velocity": v})], ("velocity",),
                        (0.9,)) == []
    np.testing.assert_array_equal(theta, np.full((4, 3), 0.5, np.float32))
    np.testing.assert_array_equal(v, np.full((4, 3), -0.5, np.float32))
