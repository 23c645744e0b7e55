"""Every layer type's step picture, forward and backward, on a network with all of them.

The oracle for the value a picture writes is the record's output (forward) or input gradient
(backward) — what the network's own kernels computed — at the position the documented step
order names (``stepnets.expected_flat``), not the step object the picture draws."""
import numpy as np
import pytest

from cnnlab.viz.step_pictures import FORWARD, step_picture, steps_of
from tests.viz.stepnets import agrees, every_kind_traces, expected_flat

TRAINING, PREDICTING = every_kind_traces()
RECORDS = [(mode, rec) for mode, tr in (("training", TRAINING), ("predicting", PREDICTING))
           for rec in tr]


def test_the_network_has_every_layer_type_with_a_picture():
    kinds = {rec.kind for rec in TRAINING}
    # (the joins of a layer graph: tests/viz/test_join_step.py)
    assert kinds == set(FORWARD) - {"transposed-conv", "avgpool", "gapool", "gmpool", "relu",
                                    "regressionoutput", "add", "depthcat"}
    assert all(steps_of(rec) == np.prod(rec.output_shape) for rec in TRAINING)


@pytest.mark.parametrize("mode,rec", RECORDS, ids=[f"{m}-{r.name}" for m, r in RECORDS])
def test_forward_picture_writes_the_recorded_output_of_each_step(mode, rec):
    fig = step_picture(rec)
    n = rec.num_steps
    seen = set()
    for k in sorted({0, 1, n // 2, n - 1}):
        fig.show_step(k)
        flat = expected_flat(rec, k)
        assert fig.step.flat_index == flat
        recorded = float(np.asarray(rec.output).reshape(-1)[flat])
        assert agrees(fig.value_text.get_text().split("\n")[-1], recorded), \
            (rec.name, k, fig.value_text.get_text(), recorded)
        seen.add(fig.png())
    assert len(seen) == len({0, 1, n // 2, n - 1}), "every step draws a different picture"
    with pytest.raises(ValueError, match="out of range"):
        fig.show_step(n)


@pytest.mark.parametrize("mode,rec", RECORDS, ids=[f"{m}-{r.name}" for m, r in RECORDS])
def test_backward_picture_writes_the_recorded_input_gradient(mode, rec):
    n = steps_of(rec, "backward")
    assert n == np.prod(rec.input_shape)
    fig = step_picture(rec, "backward")
    h, w, c = rec.input_shape
    for k in sorted({0, n // 2, n - 1}):
        fig.show_step(k)
        if rec.kind in ("fc", "softmax", "classoutput"):
            flat = k
        else:
            ch, pos = divmod(k, h * w)
            flat = pos * c + ch
        assert fig.step.flat_index == flat
        recorded = float(np.asarray(rec.input_gradient).reshape(-1)[flat])
        assert agrees(fig.value_text.get_text(), recorded), (rec.name, k, recorded)


def test_a_picture_refuses_a_direction_and_a_record_it_cannot_draw():
    with pytest.raises(ValueError, match="forward.*backward"):
        step_picture(TRAINING["fc_1"], "sideways")
    import cnnlab as cl
    net = cl.Network([cl.ImageInput((2, 2, 1), normalization="none"), cl.ReLU()])
    with pytest.raises(ValueError, match="backward=True"):
        step_picture(net.trace(np.ones((2, 2, 1)))[1], "backward")


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_every_step_picture_displays_as_png_in_a_notebook(direction):
    # a fresh formatter has no matplotlib hook: only the picture's own _repr_png_ answers
    from IPython.core.formatters import DisplayFormatter
    for rec in TRAINING:
        fig = step_picture(rec, direction).show_step(0)
        data, _ = DisplayFormatter().format(fig)
        assert data.get("image/png", b"")[:8] == b"\x89PNG\r\n\x1a\n", (rec.name, direction)
