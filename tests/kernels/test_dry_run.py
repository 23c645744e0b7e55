"""Dry runs of fused stages (``cnnlab/kernels/fast/dry_run.py``): which stages a network's
passes run, with which input gradient; which of them need the same kernels; and a dry run
leaves every layer as it found it (state, gradients, caches, parameters)."""
import copy

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.kernels.fast.dry_run import dry_run, stage_jobs, unique_kinds
from cnnlab.kernels.fast.stages import ConvStage
from cnnlab.models import lenet5, reference_example, resnet_digits


def steps_of(net):
    return net._steps(net._body())


def test_a_training_step_asks_no_input_gradient_of_the_first_stage_only():
    jobs = stage_jobs(steps_of(cl.Network(lenet5(), seed=0, backend="fast")))
    assert [(repr(s), g) for s, g in jobs] == [
        ("<ConvStage conv_1 + relu_1 + maxpool_1>", False),
        ("<ConvStage conv_2 + relu_2 + maxpool_2>", True),
        ("<DenseStage fc_1 + relu_3>", True), ("<DenseStage fc_2 + relu_4>", True),
        ("<DenseStage fc_3>", True)]
    jobs = stage_jobs(steps_of(cl.Network(reference_example(), seed=0, backend="fast")))
    assert [(type(s).__name__, g) for s, g in jobs] == [
        ("ConvNormStage", False), ("ConvNormStage", True), ("DenseStage", True)]


def test_stages_with_the_same_kernels_are_one_kind():
    jobs = stage_jobs(steps_of(cl.Network(lenet5(), seed=0, backend="fast")))
    unique, kinds = unique_kinds(jobs)
    # the two convolutions differ (one input channel, and the first computes no input
    # gradient); the three fully connected stages call the same two kernels
    assert [repr(s) for s, _ in unique] == ["<ConvStage conv_1 + relu_1 + maxpool_1>",
                                            "<ConvStage conv_2 + relu_2 + maxpool_2>",
                                            "<DenseStage fc_1 + relu_3>"]
    assert len(set(kinds)) == 3
    assert unique_kinds(jobs, done=kinds[:2]) == ([unique[2]], [kinds[2]])
    # the batch-norm stages choose their way inside their kernels: one kind
    jobs = stage_jobs(steps_of(cl.Network(reference_example(), seed=0, backend="fast")))
    assert [type(s).__name__ for s, _ in unique_kinds(jobs)[0]] == ["ConvNormStage",
                                                                    "DenseStage"]


def test_a_conv_stage_kind_names_its_workers():
    conv1, conv2 = [s for s, _ in stage_jobs(steps_of(
        cl.Network(lenet5(), seed=0, backend="fast")))][:2]
    assert isinstance(conv1, ConvStage)
    forward, backward = conv1.kernel_kind(False)[1:]
    assert (forward.py_func.__name__, backward.py_func.__name__) == (
        "conv1_pool2_stage_forward", "conv1_pool_stage_backward")
    # asked for the input gradient, a one-channel stage runs the channels-last backward
    assert conv1.kernel_kind(True)[2].py_func.__name__ == "conv_pool_stage_backward"
    assert conv2.kernel_kind(True)[2].py_func.__name__ == "conv_tiled_pool_stage_backward"
    assert conv1.kernel_kind(False)[0] == "float32"


def snapshot(layer):
    return (copy.deepcopy(layer.state), {k: v.copy() for k, v in layer.params.items()},
            layer.grads, {k: v.copy() for k, v in layer.grads.items()})


@pytest.mark.parametrize("model", [lenet5, reference_example, resnet_digits])
def test_a_dry_run_leaves_every_layer_as_it_was(model):
    net = cl.Network(model(), seed=0, backend="fast")
    rng = np.random.default_rng(1)
    x = rng.random((6,) + tuple(net.layers[0].input_shape), dtype=np.float32)
    net.loss_and_gradients(x, np.arange(6) % 10)       # real gradients and statistics
    jobs = stage_jobs(steps_of(net))
    assert jobs
    for stage, input_gradient in jobs:
        before = [snapshot(layer) for layer in stage.layers]
        dry_run(stage, input_gradient)
        for layer, (state, params, grads, values) in zip(stage.layers, before):
            assert layer.state.keys() == state.keys()
            for key, value in state.items():
                np.testing.assert_array_equal(layer.state[key], value, err_msg=key)
            for key, value in params.items():
                np.testing.assert_array_equal(layer.params[key], value, err_msg=key)
            assert layer.grads is grads            # the very gradients, unchanged
            for key, value in values.items():
                np.testing.assert_array_equal(layer.grads[key], value, err_msg=key)
            assert layer.held_arrays() == []
        assert stage.held_arrays() == []


def test_a_dry_run_leaves_batch_norm_statistics_alone():
    net = cl.Network(reference_example(), seed=0, backend="fast")
    stage, input_gradient = stage_jobs(steps_of(net))[0]
    bn = stage.layers[1]
    bn.state["trained_mean"] = np.full_like(bn.state["trained_mean"], 0.25)
    bn.state["trained_variance"] = np.full_like(bn.state["trained_variance"], 2.0)
    before = copy.deepcopy(bn.state)
    dry_run(stage, input_gradient)        # a training pass on zeros: batch mean 0, var 0
    assert before.keys() == bn.state.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(bn.state[key], value, err_msg=key)
