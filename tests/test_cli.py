"""The ``cnnlab`` command: each subcommand's output and its error exit."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_arithmetic_conv_prints_value_formula_and_numbers(capsys):
    code, out, _ = run(capsys, "arithmetic", "conv", "--input", "32", "--filter", "5",
                       "--stride", "2", "--padding", "2")
    assert code == 0
    # floor((32 + 2 + 2 - 5) / 2) + 1 = floor(15.5) + 1 = 16
    assert "output size: 16" in out
    assert "effective filter size: 5" in out


def test_arithmetic_parameters_match_the_reference_example(capsys):
    # the reference documents: 5x5 filters, 3 channels, 8 filters -> (5·5·3 + 1)·8 = 608
    code, out, _ = run(capsys, "arithmetic", "conv", "--input", "32", "--filter", "5",
                       "--channels", "3", "--filters", "8")
    assert code == 0 and "parameters: 608" in out


def test_arithmetic_impossible_size_exits_2_with_the_reason(capsys):
    code, out, err = run(capsys, "arithmetic", "conv", "--input", "3", "--filter", "5")
    assert code == 2
    assert err.startswith("cnnlab arithmetic:") and "5" in err


def test_summary_prints_layer_array_and_analysis(capsys):
    code, out, _ = run(capsys, "summary",
                       "input 28x28x1; conv 3 16 padding=1; relu; maxpool 2 stride=2; fc 10")
    assert code == 0
    assert "conv_1" in out and "fc_1" in out
    # conv 3x3x1x16 + 16 biases = 160 parameters; fc 14·14·16 -> 10: 31,370
    assert "160" in out and "31,370" in out


def test_train_on_a_few_generated_digits_saves_a_loadable_network(capsys, tmp_path):
    path = tmp_path / "lenet.cnnlab"
    code, out, _ = run(capsys, "train", "--num-train", "128", "--num-test", "64",
                       "--epochs", "1", "--mini-batch-size", "32", "--backend", "reference",
                       "-o", str(path))
    assert code == 0
    assert "Held-out accuracy" in out and path.exists()
    net = cl.load(path)
    assert net.output_shape == (1, 1, 10)
    assert np.isfinite(net.predict(np.zeros((1, 28, 28, 1), np.float32))).all()


@pytest.mark.parametrize("command", sorted(cli.DELEGATED))
def test_every_delegated_command_is_listed_in_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    assert command in capsys.readouterr().out
