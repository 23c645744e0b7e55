"""The ``cnnlab`` command: each subcommand's output and its error exit."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


# ---- failures: one line "cnnlab <command>: ...", an exit status, never a traceback ----------
# Run as a user runs them (python -m cnnlab, a separate process), so what is asserted is
# everything the terminal would show.

ROOT = Path(__file__).resolve().parents[1]


def cnnlab_env(**extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    env.pop("CNNLAB_TRACEBACK", None)
    return env


def shell(*argv, cwd=None, timeout=240):
    done = subprocess.run([sys.executable, "-m", "cnnlab", *argv], capture_output=True,
                          text=True, env=cnnlab_env(), cwd=cwd, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def assert_one_line(err, command, *words):
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cnnlab {command}: ")
    assert f"cnnlab {command}: {command}:" not in lines[0]        # prefix not doubled
    for word in words:
        assert word in lines[0], lines[0]


def test_missing_input_file_exits_2(tmp_path):
    code, out, err = shell("summary", str(tmp_path / "missing.cnnlab"))
    assert code == 2 and "Traceback" not in out
    assert_one_line(err, "summary", "missing.cnnlab", "No such file")


def test_missing_input_folder_exits_2(tmp_path):
    code, out, err = shell("train", "--mnist", str(tmp_path / "no-such-folder"))
    assert code == 2 and "Traceback" not in out
    assert_one_line(err, "train", "no-such-folder")


def test_output_in_a_missing_folder_is_refused_before_training(tmp_path):
    code, out, err = shell("train", "-o", str(tmp_path / "nowhere" / "net.cnnlab"))
    assert code == 2
    assert "Training" not in out                 # refused before a minute of training
    assert_one_line(err, "train", "nowhere", "no such folder")


def test_output_that_is_a_folder_is_refused(tmp_path):
    code, _, err = shell("animate", "conv", "-o", str(tmp_path))
    assert code == 2
    assert_one_line(err, "animate", "suffix must be .gif or .mp4")


def test_unwritable_output_exits_1(tmp_path):
    # root may write anywhere on an ordinary disk, but not into sysfs
    if os.geteuid() == 0:
        if not os.path.isdir("/sys/kernel"):
            pytest.skip("needs /sys to have a folder even root cannot write in")
        target = Path("/sys/cnnlab-test.gif")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out.gif"
    code, out, err = shell("animate", "conv", "--input", "3", "-o", str(target))
    assert code == 1 and "Traceback" not in out
    assert_one_line(err, "animate", str(target), "ermission denied")


def test_a_value_error_keeps_one_prefix():
    # the animation's own message starts "animate: fps = ..."
    code, _, err = shell("animate", "conv", "--fps", "0", "-o", "x.gif")
    assert code == 2
    assert_one_line(err, "animate", "fps = 0")


def test_usage_errors_exit_2_with_argparse_usage():
    code, _, err = shell("train", "--epochs", "two")
    assert code == 2 and "Traceback" not in err and "invalid int value: 'two'" in err
    code, _, err = shell()
    assert code == 2 and "Traceback" not in err and "required: COMMAND" in err


def test_a_closed_pipe_is_one_line_and_exit_1():
    # cnnlab step | head -1: 38x38 windows of text, far more than a pipe buffers (64 KiB)
    process = subprocess.Popen([sys.executable, "-m", "cnnlab", "step", "--input", "40x40"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=cnnlab_env())
    first = process.stdout.readline()
    process.stdout.close()                         # what head does after its lines
    with process.stderr:
        err = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert b"convolutions" in first
    assert code == 1
    assert_one_line(err, "step", "broken pipe")


def test_ctrl_c_during_training_exits_130_and_saves_nothing(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnlab", "train", "--backend", "reference", "--epochs", "50",
         "--num-train", "2000", "--num-test", "100", "-o", "net.cnnlab"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cnnlab_env(), cwd=tmp_path)
    line = process.stdout.readline()
    assert line.startswith(b"Training LeNet-5"), line
    time.sleep(2)                                  # inside the training loop
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in out.decode()
    err = err.decode()
    assert "Traceback" not in err
    # the progress bar's last state, then the one line
    assert_one_line(err.strip().splitlines()[-1], "train", "interrupted after iteration",
                    "nothing saved")
    assert "interrupted: interrupted" not in err
    assert not (tmp_path / "net.cnnlab").exists()


def test_an_unexpected_error_is_one_line_unless_a_developer_asks(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(cli, "cmd_summary", broken)
    monkeypatch.delenv("CNNLAB_TRACEBACK", raising=False)
    assert cli.main(["summary", "input 4x4x1; relu"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cnnlab summary: internal error") and "RuntimeError: a bug" in err
    assert "CNNLAB_TRACEBACK=1" in err
    monkeypatch.setenv("CNNLAB_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["summary", "input 4x4x1; relu"])


# ---- the rest of the command line -------------------------------------------------------------

def test_version_and_python_m_cnnlab():
    code, out, err = shell("--version")
    assert code == 0 and out.strip() == f"cnnlab {cl.__version__}"
    code, out, _ = shell("arithmetic", "conv", "--input", "32", "--filter", "5")
    assert code == 0 and "output size: 28" in out          # floor((32 - 5) / 1) + 1


def test_help_shows_defaults_and_no_rest_markup():
    for argv in (["--help"], ["train", "--help"], ["step", "--help"], ["animate", "--help"],
                 ["lab", "--help"], ["bench", "--help"], ["arithmetic", "--help"]):
        code, out, _ = shell(*argv)
        assert code == 0
        assert "``" not in out and ":func:" not in out, argv
    _, out, _ = shell("train", "--help")
    assert "(default: 64)" in out and "lenet5.cnnlab in the current folder" in out
    _, out, _ = shell("step", "--help")
    assert "(default: 5x5)" in out
    _, out, _ = shell("bench", "--help")
    assert "(default: lenet5 reference)" in out and "cnnlab bench: cnnlab's fast" in out
    _, out, _ = shell("arithmetic", "--help")
    assert "(default: 1x1)" in out


def test_train_saves_in_the_current_folder_by_default_and_says_where(capsys, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "train", "--num-train", "64", "--num-test", "32", "--epochs",
                       "1", "--mini-batch-size", "32", "--backend", "reference")
    assert code == 0
    assert f"Saved the trained network to {tmp_path / 'lenet5.cnnlab'}" in out
    assert cl.load(tmp_path / "lenet5.cnnlab").output_shape == (1, 1, 10)


def test_summary_of_a_saved_network(capsys, tmp_path):
    path = tmp_path / "small.cnnlab"
    cl.save(cl.Network([cl.ImageInput((8, 8, 1)), cl.Convolution2D(3, 4), cl.ReLU()],
                       backend="reference"), path)
    code, out, _ = run(capsys, "summary", str(path))
    # 3·3·1·4 weights + 4 biases = 40 learnables
    assert code == 0 and "conv_1" in out and "40" in out
