"""``cnnlab step`` on cases checked by hand."""
import numpy as np

from cnnlab import cli


def test_reference_example_prints_every_window_and_the_output(capsys):
    assert cli.main(["step", "--example"]) == 0
    out = capsys.readouterr().out
    assert ("output (0, 0) of filter 0: 0·3 + 1·3 + 2·2 + 2·0 + 2·0 + 0·1 + 0·3 + 1·1 + 2·2 "
            "+ bias 0 = 12") in out
    assert out.count("output (") == 9
    assert out.rstrip().endswith("12  12  17\n10  17  19\n 9   6  14")


def test_replicate_padding_is_shown_in_brackets(capsys):
    assert cli.main(["step", "--input", "2x2", "--filter", "1", "--padding", "1",
                     "--padding-value", "replicate", "--position", "0,0"]) == 0
    out = capsys.readouterr().out
    # seed 0's 2x2 input, replicated one cell outwards: the corner copies input (0, 0)
    lines = out.split("padded input, channel 0 (padding cells in brackets):\n")[1].split("\n")
    corner = lines[0].split()[0]
    inner = lines[1].split()[1]
    assert corner == f"({inner})"
    assert out.count("output (") == 1


def test_max_pooling_step(capsys):
    assert cli.main(["step", "--input", "4", "--pool", "max", "--filter", "2", "--stride",
                     "2", "--position", "1,1", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    x = np.random.default_rng(7).integers(0, 4, (4, 4))     # the input `step` draws
    window = x[2:4, 2:4]
    k = int(np.argmax(window))
    expected = (f"max({', '.join(str(v) for v in window.ravel())}) = {window.max()} "
                f"at ({2 + k // 2}, {2 + k % 2})")
    assert expected in out


def test_impossible_filter_exits_2_naming_the_parameter(capsys):
    assert cli.main(["step", "--input", "3", "--filter", "5"]) == 2
    err = capsys.readouterr().err
    assert "filter_size" in err and "larger than the padded input 3x3" in err
