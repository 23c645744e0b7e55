"""cnnlab.initializers: the variances the reference documents give, the given arrays, errors.

Glorot: uniform on [-a, a] with a = sqrt(6 / (in + out)), so variance a²/3 = 2 / (in + out);
He: normal, variance 2 / in; narrow-normal: standard deviation 0.01. The sample statistics
of 200,000 draws are checked to 5 standard errors (a fixed seed: the test is deterministic).
"""
import numpy as np
import pytest

from cnnlab import initializers

N_IN, N_OUT, SHAPE = 50, 25, (400, 500)
DRAWS = SHAPE[0] * SHAPE[1]


def draw(name, dtype="float64"):
    return initializers.initialize(name, SHAPE, num_in=N_IN, num_out=N_OUT,
                                   rng=np.random.default_rng(0), dtype=dtype)


def test_glorot_is_uniform_within_its_bound():
    w = draw("glorot")
    a = np.sqrt(6 / (N_IN + N_OUT))                  # 0.2828...
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.99 * a
    var = 2 / (N_IN + N_OUT)                         # a² / 3
    # variance of w² for a uniform: a⁴/5 - a⁴/9; its standard error over the draws
    se = np.sqrt((a**4 / 5 - a**4 / 9) / DRAWS)
    assert abs(np.mean(w**2) - var) < 5 * se
    assert abs(np.mean(w)) < 5 * np.sqrt(var / DRAWS)


@pytest.mark.parametrize("name, std", [("he", np.sqrt(2 / N_IN)), ("narrow-normal", 0.01)])
def test_normal_initializers_have_their_standard_deviation(name, std):
    w = draw(name)
    # for a normal, var(w²) = 2σ⁴
    assert abs(np.mean(w**2) - std**2) < 5 * np.sqrt(2 * std**4 / DRAWS)
    assert abs(np.mean(w)) < 5 * std / np.sqrt(DRAWS)


def test_constants_dtype_and_callables():
    assert not draw("zeros").any() and (draw("ones") == 1).all()
    assert draw("glorot", "float32").dtype == np.float32
    w = initializers.initialize(lambda shape: np.full(shape, 0.5), (2, 3), num_in=1,
                                num_out=1, rng=None, dtype="float32")
    assert w.dtype == np.float32 and (w == 0.5).all()
    with pytest.raises(ValueError, match=r"L: weights initializer returned shape \(3,\), "
                                         r"expected \(2, 3\)"):
        initializers.initialize(lambda shape: np.zeros(3), (2, 3), num_in=1, num_out=1,
                                rng=None, dtype="float64", label="L")
    with pytest.raises(ValueError, match="non-finite"):
        initializers.initialize(lambda shape: np.full(shape, np.nan), (2,), num_in=1,
                                num_out=1, rng=None, dtype="float64")


def test_check_names_what_is_accepted():
    assert initializers.check("L", "weights_initializer", "he") == "he"
    with pytest.raises(ValueError, match=r"^L: weights_initializer = 'xavier': expected one of "
                                         r"glorot, he, narrow-normal, zeros, ones"):
        initializers.check("L", "weights_initializer", "xavier")


def test_given_arrays_are_checked_copied_and_reshaped():
    b = np.array([[[1.0, 2.0, 3.0]]])                 # 1x1x3 for a (3,) bias
    out = initializers.given("L", "bias", b, (3,), "float32")
    assert out.shape == (3,) and out.dtype == np.float32
    out[0] = 9
    assert b[0, 0, 0] == 1                            # a copy
    with pytest.raises(ValueError, match=r"L: weights has shape \(2, 2\), expected 3x2"):
        initializers.given("L", "weights", np.zeros((2, 2)), (3, 2), "float64")
    with pytest.raises(ValueError, match="NaN or infinite"):
        initializers.given("L", "bias", [1.0, np.inf], (2,), "float64")
    with pytest.raises(ValueError, match="real numeric array"):
        initializers.given("L", "bias", ["a", "b"], (2,), "float64")
