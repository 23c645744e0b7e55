"""``cnnlab step --layer ... --at ...``: any layer's step printed in a terminal."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import cli


@pytest.fixture
def saved(tmp_path):
    """A small saved network with hand-picked weights and an image file for it."""
    fc = cl.FullyConnected(2, weights=[[1.0, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, -1.0]],
                           bias=[0.5, 0.0])
    net = cl.Network([cl.ImageInput((2, 2, 1), normalization="none"), fc, cl.ReLU(),
                      cl.Softmax(), cl.Classification()], backend="reference", dtype="float64")
    path = tmp_path / "small.cnnlab"
    cl.io.save(net, path)
    image = tmp_path / "x.npy"
    np.save(image, np.array([[1.0, 1.0], [2.0, 5.0]]))
    return str(path), str(image)


def run(capsys, *args):
    code = cli.main(["step", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fc_neuron_of_a_saved_network(capsys, saved):
    path, image = saved
    code, out, _ = run(capsys, "--network", path, "--image", image, "--layer", "fc_1",
                       "--at", "0")
    assert code == 0
    # 1·1 + 2·1 + 3·2 + 0·5 + 0.5 = 9.5
    assert "step 0 of 2: neuron 0: 1·1 + 2·1 + 3·2 + 0·5 + bias 0.500 = 9.500" in out
    assert "value 9.5 (the network recorded 9.5)" in out
    assert out.startswith(f"fc_1 (Fully Connected), layer 1 of saved network {path}")


def test_position_and_backward_forms(capsys, saved):
    path, image = saved
    code, out, _ = run(capsys, "--network", path, "--image", image, "--layer", "relu_1",
                       "--at", "0,0,1")
    assert code == 0 and "step 1 of 2: output (0, 0, channel 1): max(0, -5) = 0" in out
    code, out, _ = run(capsys, "--network", path, "--image", image, "--layer", "relu_1",
                       "--at", "0,0,1", "--backward", "--label", "1")
    # relu_1's output is (9.5, 0); softmax y = (1 - e, e) with e = 1/(1 + e^9.5); class 1:
    # dL/da_1 = y_1 - 1; the ReLU passes nothing back where x = -5 < 0
    assert code == 0 and "backward step 1 of 2" in out and "[x > 0] at x = -5" in out
    assert "value 0 (the network recorded 0)" in out
    code, out, _ = run(capsys, "--network", path, "--image", image, "--layer", "softmax",
                       "--at", "1", "--backward", "--label", "1")
    e = 1 / (1 + np.exp(9.5))
    assert f"value {e - 1:.6g}" in out and "(softmax and cross-entropy together)" in out


def test_parameter_gradient_step(capsys, saved):
    path, image = saved
    code, out, _ = run(capsys, "--network", path, "--image", image, "--layer", "fc_1",
                       "--param", "weights", "--at", "0,3", "--label", "0")
    # dL/dW[0, 3] = dL/dy_0 · x_3 with dL/dy_0 = (y_0 - 1)·[relu passes] = -e
    e = 1 / (1 + np.exp(9.5))
    assert code == 0 and "weights gradient step 3 of 8" in out
    assert f"value {-e * 5:.6g}" in out


def test_lenet5_by_default_and_the_reference_model(capsys):
    code, out, _ = run(capsys, "--layer", "relu_1", "--at", "3,4,0")
    assert code == 0
    assert "relu_1 (ReLU), layer 2 of lenet5 (untrained, seed 0), on a generated digit" in out
    assert "step 88 of 4704: output (3, 4, channel 0): max(0, " in out
    code, out, _ = run(capsys, "--model", "reference", "--layer", "batchnorm_1", "--at", "17")
    assert code == 0 and "(running statistics)" in out and "step 17 of 12544" in out


def test_the_example_layer_steps_with_at(capsys):
    code, out, _ = run(capsys, "--example", "--at", "4")
    assert code == 0
    assert ("step 4 of 9: output (1, 1) of filter 0: 0·0 + 1·1 + 2·3 + 2·1 + 2·2 + 0·2 + 0·0 "
            "+ 1·0 + 2·2 + bias 0 = 17") in out


@pytest.mark.parametrize("args, message", [
    (["--layer", "nope"], "--layer = 'nope' is not a layer of lenet5"),
    (["--layer", "relu_1", "--at", "4704"], "relu_1 (ReLU): step k = 4704 is out of range"),
    (["--layer", "relu_1", "--at", "28,0,0"], "relu_1: row = 28 is outside its output"),
    (["--layer", "relu_1", "--at", "a,b"], "--at = 'a,b': expected K or ROW,COL[,CHANNEL]"),
    (["--layer", "fc_1", "--param", "scale"], "fc_1 (Fully Connected) has no parameter"),
    (["--layer", "fc_1", "--backward", "--label", "10"], "--label = 10: the network has 10"),
])
def test_bad_options_exit_2_with_one_line(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_help_documents_the_whole_network_form(capsys):
    with pytest.raises(SystemExit):
        cli.main(["step", "--help"])
    out = capsys.readouterr().out
    for option in ("--layer", "--at", "--backward", "--param", "--network", "--model"):
        assert option in out
    assert "cnnlab step --layer relu_1 --at 3,4,0" in out
