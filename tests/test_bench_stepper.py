"""The stepper benchmark walks every layer of the pass and measures it (no timing asserted)."""
from cnnlab.bench_stepper import main, stepper_benchmark


def test_every_layer_of_lenet5_is_entered_and_stepped():
    rows = stepper_benchmark("lenet5", steps=2, direction="backward")
    assert [r["layer"] for r in rows] == [
        "classoutput", "softmax", "fc_3", "relu_4", "fc_2", "relu_3", "fc_1", "maxpool_2",
        "relu_2", "conv_2", "maxpool_1", "relu_1", "conv_1", "imageinput"]
    assert all(r["steps"] == 2 and r["png_bytes"] > 0 for r in rows)
    assert all(0 <= r["step_median_ms"] <= r["step_p90_ms"] for r in rows)
    assert all(r["enter_ms"] >= 0 for r in rows[1:])


def test_the_command_prints_a_table(capsys):
    assert main(["--networks", "reference", "--steps", "1", "--direction", "forward"]) == 0
    out = capsys.readouterr().out
    assert "reference, forward" in out and "batchnorm_1" in out and "classoutput" in out
