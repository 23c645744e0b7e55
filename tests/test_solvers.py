"""Solvers: each update rule by hand and against torch.optim, the learn-rate and L2 factors,
and make_solver turning TrainingOptions into the solver they name."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.solvers import SGDM, Adam, RMSProp, make_solver
from cnnlab.training_options import TrainingOptions
from tests.torch_oracle import torch


# ---- a stand-in network for the solver rules: only .parameters() and the layer factors -------

class _Layer:
    def __init__(self, name, params, lr_factors=None, l2_factors=None):
        self.name = name
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.learn_rate_factors = lr_factors or {k: 1.0 for k in params}
        self.l2_factors = l2_factors or {k: 1.0 for k in params}


class _Net:
    def __init__(self, *layers):
        self.layers = layers

    def parameters(self):
        for layer in self.layers:
            for k, v in layer.params.items():
                yield layer, k, v


def _one_param_net(theta, grad, **factors):
    layer = _Layer("fc_1", {"weights": theta}, **factors)
    layer.grads["weights"][...] = grad
    return _Net(layer), layer


def test_sgdm_two_steps_by_hand():
    net, layer = _one_param_net([1.0, 2.0], [0.5, -1.0])
    s = SGDM(momentum=0.9, l2_regularization=0.0)
    s.step(net, 0.1)
    # v = -0.1·g = [-0.05, 0.1];  θ = θ + v
    np.testing.assert_allclose(layer.params["weights"], [0.95, 2.1], rtol=0, atol=1e-15)
    layer.grads["weights"][...] = [1.0, 1.0]
    s.step(net, 0.1)
    # v = 0.9·[-0.05, 0.1] - 0.1·[1, 1] = [-0.145, -0.01]
    np.testing.assert_allclose(layer.params["weights"], [0.805, 2.09], rtol=0, atol=1e-15)


def test_adam_first_step_by_hand():
    net, layer = _one_param_net([1.0, -2.0], [0.2, -4.0])
    Adam(gradient_decay_factor=0.9, squared_gradient_decay_factor=0.999, epsilon=1e-8,
         l2_regularization=0.0).step(net, 0.01)
    # t = 1: m̂ = g, v̂ = g², so θ -= lr·g/(|g| + ε)
    expected = np.array([1.0 - 0.01 * 0.2 / (0.2 + 1e-8), -2.0 + 0.01 * 4.0 / (4.0 + 1e-8)])
    np.testing.assert_allclose(layer.params["weights"], expected, rtol=1e-14)


def test_rmsprop_first_step_by_hand():
    net, layer = _one_param_net([1.0], [3.0])
    RMSProp(squared_gradient_decay_factor=0.9, epsilon=1e-8,
            l2_regularization=0.0).step(net, 0.001)
    # v = 0.1·9 = 0.9; θ = 1 - 0.001·3/(√0.9 + 1e-8)
    np.testing.assert_allclose(layer.params["weights"], [1 - 0.003 / (np.sqrt(0.9) + 1e-8)],
                               rtol=1e-14)


def test_l2_and_learn_rate_factors():
    w = _Layer("conv_1", {"weights": [2.0], "bias": [3.0]},
               lr_factors={"weights": 2.0, "bias": 1.0}, l2_factors={"weights": 1.0, "bias": 0.0})
    frozen = _Layer("fc_1", {"weights": [5.0]}, lr_factors={"weights": 0.0})
    for layer in (w, frozen):
        for g in layer.grads.values():
            g[...] = 1.0
    net = _Net(w, frozen)
    s = SGDM(momentum=0.9, l2_regularization=0.5)
    s.step(net, 0.1)
    # weights: g = 1 + 0.5·1·2 = 2, lr = 0.1·2 -> θ = 2 - 0.4; bias: L2 factor 0 -> θ = 3 - 0.1
    np.testing.assert_allclose(w.params["weights"], [1.6], atol=1e-15)
    np.testing.assert_allclose(w.params["bias"], [2.9], atol=1e-15)
    assert frozen.params["weights"][0] == 5.0
    assert "fc_1/weights" not in s.slots["velocity"]         # a frozen parameter has no slot


def test_updates_are_in_place_and_keep_float32():
    layer = _Layer("fc_1", {"weights": [1.0, 2.0]})
    layer.params["weights"] = layer.params["weights"].astype(np.float32)
    layer.grads["weights"] = np.array([1.0, 1.0], dtype=np.float32)
    arr = layer.params["weights"]
    for solver in (SGDM(), Adam(), RMSProp()):
        solver.step(_Net(layer), 0.01)
    assert layer.params["weights"] is arr and arr.dtype == np.float32


def _torch_run(optimizer, theta, grads, **kwargs):
    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, optimizer)([p], **kwargs)
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return p.detach().numpy()


def _ours_run(solver, theta, grads, lr):
    net, layer = _one_param_net(theta, np.zeros(len(theta)))
    for g in grads:
        layer.grads["weights"][...] = g
        solver.step(net, lr)
    return layer.params["weights"]


LAM, LR = 1e-3, 0.05


@pytest.mark.torch
@pytest.mark.parametrize("ours, optimizer, kwargs", [
    (SGDM(momentum=0.8, l2_regularization=LAM), "SGD",
     dict(momentum=0.8, dampening=0, weight_decay=LAM)),
    (Adam(gradient_decay_factor=0.85, squared_gradient_decay_factor=0.99, epsilon=1e-6,
          l2_regularization=LAM), "Adam",
     dict(betas=(0.85, 0.99), eps=1e-6, weight_decay=LAM)),
    # torch's RMSprop adds eps to sqrt(v) (outside the root), as our rule does
    (RMSProp(squared_gradient_decay_factor=0.95, epsilon=1e-6, l2_regularization=LAM),
     "RMSprop", dict(alpha=0.95, eps=1e-6, weight_decay=LAM)),
], ids=["sgdm", "adam", "rmsprop"])
def test_solvers_match_torch_optim(ours, optimizer, kwargs):
    """Six steps with a constant learn rate; torch's weight_decay is the same L2 term."""
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(7)
    grads = [rng.standard_normal(7) for _ in range(6)]
    np.testing.assert_allclose(_ours_run(ours, theta, grads, LR),
                               _torch_run(optimizer, theta, grads, lr=LR, **kwargs),
                               rtol=1e-12, atol=1e-12)


G1, G2 = np.array([1.0]), np.array([2.0])


def test_sgdm_keeps_its_velocity_across_a_learn_rate_change():
    """Ours keeps the velocity v across a learn-rate drop. By hand: v1 = -lr1·g1,
    v2 = μ·v1 - lr2·g2, θ = v1 + v2 = -0.1 - 0.05 - 0.02 = -0.17."""
    net, layer = _one_param_net([0.0], G1)
    s = SGDM(momentum=0.5, l2_regularization=0.0)
    s.step(net, 0.1)
    layer.grads["weights"][...] = G2
    s.step(net, 0.01)
    v1 = -0.1 * G1
    v2 = 0.5 * v1 - 0.01 * G2
    np.testing.assert_allclose(layer.params["weights"], v1 + v2, atol=1e-16)
    assert layer.params["weights"][0] == pytest.approx(-0.17)


@pytest.mark.torch
def test_sgdm_differs_from_torch_only_after_a_learn_rate_change():
    """torch's buffer b is rescaled by the new rate (θ -= lr·b), so it lands elsewhere than
    ours (-0.17, test above): b2 = 0.5·1 + 2 = 2.5, θ = -0.1 - 0.01·2.5 = -0.125."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.5)
    for g, lr in ((G1, 0.1), (G2, 0.01)):
        opt.param_groups[0]["lr"] = lr
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    assert p.item() == pytest.approx(-0.125)


# ---- make_solver -----------------------------------------------------------------------------

def test_make_solver_builds_the_solver_the_options_name():
    sgdm = make_solver(TrainingOptions("sgdm", momentum=0.5, l2_regularization=0.0))
    assert type(sgdm) is SGDM and sgdm.hyperparameters()["momentum"] == 0.5
    adam = make_solver(TrainingOptions("adam", gradient_decay_factor=0.8, epsilon=1e-6))
    assert type(adam) is Adam
    assert adam.hyperparameters() == {"solver": "adam", "l2_regularization": 1e-4,
                                      "gradient_decay_factor": 0.8,
                                      "squared_gradient_decay_factor": 0.999, "epsilon": 1e-6}
    rms = make_solver(TrainingOptions("rmsprop", squared_gradient_decay_factor=0.5))
    assert type(rms) is RMSProp and rms.hyperparameters()["squared_gradient_decay_factor"] == 0.5
