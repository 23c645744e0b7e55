"""TrainingOptions: MATLAB's defaults, the validation of every option, the piecewise
learn-rate schedule and the fingerprint a resumed run is checked against."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.training_options import TrainingOptions, piecewise_learn_rate


# ---- defaults and validation ---------------------------------------------------------------------------------

def test_options_defaults_follow_matlab():
    o = TrainingOptions()
    assert (o.solver, o.resolved_initial_learn_rate, o.momentum, o.max_epochs,
            o.mini_batch_size, o.shuffle, o.l2_regularization, o.validation_frequency) == \
        ("sgdm", 0.01, 0.9, 30, 128, "once", 1e-4, 50)
    assert TrainingOptions("adam").resolved_initial_learn_rate == 0.001
    assert TrainingOptions("adam").resolved_squared_gradient_decay_factor == 0.999
    assert TrainingOptions("rmsprop").resolved_initial_learn_rate == 0.001
    assert TrainingOptions("rmsprop").resolved_squared_gradient_decay_factor == 0.9
    assert TrainingOptions("adam", initial_learn_rate=0.5).resolved_initial_learn_rate == 0.5
    text = repr(TrainingOptions("adam"))
    assert "solver='adam'" in text and "initial_learn_rate=None (0.001)" in text


@pytest.mark.parametrize("option, value", [
    ("solver", "sgd"), ("initial_learn_rate", 0), ("initial_learn_rate", float("nan")),
    ("momentum", 1.5), ("gradient_decay_factor", 1.0), ("squared_gradient_decay_factor", -0.1),
    ("epsilon", 0), ("learn_rate_schedule", "cosine"), ("learn_rate_drop_factor", 2),
    ("learn_rate_drop_period", 0), ("l2_regularization", -1), ("max_epochs", 2.5),
    ("mini_batch_size", 0), ("shuffle", "always"), ("validation_frequency", 0),
    ("verbose", "yes"), ("verbose_frequency", -1), ("plots", "loss"), ("seed", -1),
    ("backend", "gpu"), ("checkpoint_path", 3), ("max_epochs", True)])
def test_options_are_validated(option, value):
    kwargs = {} if option == "solver" else {option: value}
    args = (value,) if option == "solver" else ()
    with pytest.raises(ValueError, match=rf"TrainingOptions: {option} = "):
        TrainingOptions(*args, **kwargs)


def test_validation_data_must_be_a_pair():
    with pytest.raises(ValueError, match="validation_data must be a pair"):
        TrainingOptions(validation_data=np.zeros((3, 4, 4, 1)))


def test_piecewise_schedule_values():
    got = [piecewise_learn_rate(0.1, e, drop_factor=0.5, drop_period=2) for e in range(1, 7)]
    assert got == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    o = TrainingOptions(initial_learn_rate=0.1, learn_rate_schedule="piecewise",
                        learn_rate_drop_factor=0.5, learn_rate_drop_period=2)
    assert [o.learn_rate(e) for e in range(1, 7)] == got
    assert TrainingOptions(initial_learn_rate=0.1).learn_rate(50) == 0.1


def test_fingerprint_holds_what_changes_the_weights_and_only_that():
    a = TrainingOptions("adam", max_epochs=3, verbose=False)
    b = TrainingOptions("adam", max_epochs=7, verbose=True, validation_frequency=5)
    assert a.solver_fingerprint() == b.solver_fingerprint()   # how long and how loud: not in it
    fp = a.solver_fingerprint()
    assert fp["squared_gradient_decay_factor"] == 0.999 and "momentum" not in fp
    assert "learn_rate_drop_factor" not in fp
    assert TrainingOptions("adam", epsilon=1e-6).solver_fingerprint() != fp
    piecewise = TrainingOptions(learn_rate_schedule="piecewise", learn_rate_drop_period=3)
    assert piecewise.solver_fingerprint()["learn_rate_drop_period"] == 3
