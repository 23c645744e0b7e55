"""net.to_torch_code(): runnable PyTorch code of the same architecture, beside the layers."""
import subprocess
import sys

import numpy as np
import pytest

import cnnlab as cl
from cnnlab import cli
from cnnlab.models import lenet5

from .helpers import require, run_torch, zoo, zoo_layers


@pytest.mark.parametrize("layers", [lenet5, zoo_layers])
def test_the_code_runs_and_with_the_weights_computes_the_same(layers):
    torch = require("torch")
    net, x = zoo("float64", layers)
    code = net.to_torch_code()
    scope = {}
    exec(code, scope)                                  # the code a learner would paste
    model = scope["model"].double().eval()
    converted = cl.to_torch(net)
    # the same modules in the same order; copy each module's tensors across by name
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in converted]
    with torch.no_grad():
        for mine, theirs in zip(model, converted):
            for key, value in list(mine.named_parameters()) + list(mine.named_buffers()):
                value.copy_(dict(theirs.named_parameters(), **dict(theirs.named_buffers()))[key])
    np.testing.assert_allclose(run_torch(model, x), net.predict(x), rtol=0, atol=1e-12)


def test_each_module_line_names_its_layer():
    net, _ = zoo("float32")
    code = net.to_torch_code()
    for layer in net.layers[1:-1]:           # every layer but the input and the loss
        assert f"# {layer.name}: {layer.describe()}" in code
    assert "nn.Conv2d(4, 4, kernel_size=(3, 3), padding=(1, 1), padding_mode='reflect', " \
           "bias=False)" in code
    assert "nn.ConstantPad2d((1, 1, 1, 0), float('-inf'))" in code      # max-pool padding
    assert "nn.NLLLoss()(torch.log(model(x)), labels)" in code


def test_to_torch_code_needs_no_torch():
    script = ("import sys; sys.modules['torch'] = None\n"
              "import cnnlab as cl\nfrom cnnlab.models import lenet5\n"
              "print(cl.Network(lenet5()).to_torch_code())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert "nn.Linear(400, 120)" in out


def test_summary_prints_the_torch_code(capsys):
    assert cli.main(["summary", "input 28x28x1; conv 3 16 padding=1; relu; fc 10; softmax",
                     "--torch"]) == 0
    out = capsys.readouterr().out
    assert "Layer array" in out
    assert "nn.Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))," in out
    assert "nn.Linear(12544, 10)," in out


def test_import_cnnlab_imports_neither_torch_nor_onnx():
    script = ("import sys, cnnlab\n"
              "print(sorted(m for m in ('torch', 'onnx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
