"""Shared checks of the step protocol: every step against what the network's kernels recorded.

The expected numbers are the recorded outputs and gradients (computed by the network's own
reference or fast kernels, not by the step code) and the walking order written out here.
"""
import numpy as np

import cnnlab as cl

FLAT_KINDS = {"fc", "softmax", "classoutput", "regressionoutput"}


def expected_order(shape, kind):
    """The flat indices in the order the steps must walk them (the protocol)."""
    h, w, c = shape
    if kind in FLAT_KINDS:
        return list(range(h * w * c))
    return [(r * w + q) * c + ch for ch in range(c) for r in range(h) for q in range(w)]


def _close(got, want, scale, rtol=1e-4, atol=1e-5):
    return abs(got - want) <= atol * max(1.0, scale) + rtol * abs(want)


def check_forward(rec, every=1):
    """Every step's value is the recorded output at its flat index, in protocol order."""
    out = rec.output.reshape(-1).astype(np.float64)
    assert rec.num_steps == out.size
    order = expected_order(rec.output_shape, rec.kind)
    scale = float(np.max(np.abs(out))) if out.size else 1.0
    for k in range(0, rec.num_steps, every):
        s = rec.step_at(k)
        assert s.flat_index == order[k], (rec.name, k)
        want = out[s.flat_index]
        if rec.kind in ("classoutput", "regressionoutput"):
            assert s.value == want                       # the identity: y passes on
        else:
            assert _close(s.value, want, scale), (rec.name, k, s.value, want)
        assert s.output == want
        assert isinstance(s.text(), str) and s.text() and str(s) == s.text()
        assert isinstance(s.reads, str) and s.reads


def check_backward(rec, every=1, params=True):
    """Every backward step's value is the recorded input gradient at its flat index; with
    one traced image, every parameter step's value is the recorded parameter gradient."""
    g = rec.input_gradient.reshape(-1).astype(np.float64)
    assert rec.num_backward_steps == g.size == int(np.prod(rec.input_shape))
    order = expected_order(rec.input_shape, rec.kind)
    scale = float(np.max(np.abs(g)))
    for k in range(0, rec.num_backward_steps, every):
        s = rec.backward_step_at(k)
        assert s.flat_index == order[k], (rec.name, k)
        assert _close(s.value, g[s.flat_index], scale), (rec.name, k, s.value, g[s.flat_index])
        if hasattr(s, "products"):
            np.testing.assert_allclose(s.products, s.incoming * s.local, rtol=1e-12)
        assert s.text() and s.reads
    if not params:
        return
    for name, grad in rec.param_gradients.items():
        assert rec.num_param_steps(name) == grad.size
        gscale = float(np.max(np.abs(grad))) if grad.size else 1.0
        for k in range(0, grad.size, every):
            s = rec.param_step_at(name, k)
            assert s.output == float(grad.reshape(-1)[k])
            if rec.batch_size == 1:
                assert _close(s.value, s.output, gscale), (rec.name, name, k, s.value, s.output)
            assert s.text()


def regression_net(layers, shape, backend, seed=0, dtype="float32", **input_options):
    """ImageInput (no normalization unless given) → layers → Regression."""
    options = {"normalization": "none", **input_options}
    return cl.Network([cl.ImageInput(shape, **options), *layers, cl.Regression()],
                      seed=seed, backend=backend, dtype=dtype)


def targets_for(net, n, seed=0):
    return np.random.default_rng(seed + 1).standard_normal((n, *net.layers[-1].input_shape))
