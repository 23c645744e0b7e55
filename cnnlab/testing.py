"""Tools for checking numbers: used by the test suite and by lesson exercises.

``check_answer`` is the lessons' exercise check: the expected value is computed by cnnlab in
the check cell (never typed there), and its working is printed only once the answer is right.

Centred differences in float64 (h = 1e-5) give gradients to about 1e-8 relative error for
smooth functions; that is the independent check on every backward rule.
"""
from __future__ import annotations

import numpy as np

#: tolerances for comparing against an independent computation (PyTorch, hand values)
TOLERANCES = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-5),
              np.dtype(np.float64): dict(rtol=1e-10, atol=1e-10)}


def numerical_gradient(f, x: np.ndarray, *, h: float = 1e-5) -> np.ndarray:
    """d f / d x by centred differences; ``f`` returns a scalar, ``x`` is float64.

    (f(x + h·e_i) - f(x - h·e_i)) / 2h for every element i; x is restored afterwards.
    """
    if x.dtype != np.float64:
        raise ValueError(f"numerical_gradient needs float64, got {x.dtype}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = float(f())
        flat[i] = old - h
        fm = float(f())
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    """max |a - b| / max(|a|, |b|, 1e-12), elementwise, as one number."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def check_layer_gradients(layer, x: np.ndarray, *, training: bool = False, seed: int = 0,
                          rng_factory=None, h: float = 1e-5):
    """Compare a built float64 layer's backward with centred differences.

    Uses the scalar loss L = sum(y · r) for a fixed random r, so dL/dy = r. ``rng_factory``
    returns a fresh Generator per forward call for layers that draw random numbers (the same
    mask every time). Returns a dict name -> (analytic, numerical) for the input ("x") and
    every parameter.
    """
    x = np.array(x, dtype=np.float64)
    r = np.random.default_rng(seed).standard_normal(
        layer.forward(x, training=training, rng=rng_factory() if rng_factory else None).shape)

    def loss():
        y = layer.forward(x, training=training, rng=rng_factory() if rng_factory else None)
        return np.sum(y * r)

    loss()
    dx = layer.backward(r)
    analytic = {"x": dx, **{k: v.copy() for k, v in layer.grads.items()}}
    numeric = {"x": numerical_gradient(loss, x, h=h)}
    for k, p in layer.params.items():
        numeric[k] = numerical_gradient(loss, p, h=h)
    return {k: (analytic[k], numeric[k]) for k in analytic}


def check_answer(answer, expected, working: str = "", *, atol: float = 1e-8,
                 rtol: float = 1e-5, hint: str = "") -> None:
    """A lesson exercise's check: prints one line and returns nothing (so a check cell shows
    only that line), never raises.

    ``None`` (the exercise untouched) asks for an answer; an answer of the expected shape
    within ``atol + rtol·|expected|`` of it is right and the ``working`` is shown; anything
    else (a wrong number, a wrong shape, a text) is "not yet" and shows nothing of the answer.
    ``atol`` is how far a careful student may be off, e.g. when the lesson teaches adding
    printed, rounded values: n terms rounded to 4 decimals are each off by up to 0.00005.
    ``hint`` (what to look at, never the answer) is printed after "Not yet".

    >>> check_answer(None, 3)
    Fill in your answer (replace None), then run this cell again.
    >>> check_answer(0.0889, 0.08914, "sum of dL/dy", atol=5e-4)
    Right! sum of dL/dy
    >>> check_answer("nine", 9)
    Not yet: you wrote 'nine'. Look again and try once more.
    >>> check_answer(8, 9, hint="count the windows along one row")
    Not yet: you wrote 8. Hint: count the windows along one row.
    """
    verdict = judge_answer(answer, expected, atol=atol, rtol=rtol)
    if verdict == "blank":
        print("Fill in your answer (replace None), then run this cell again.")
    elif verdict == "right":
        print(f"Right! {working}")
    elif hint:
        end = "" if hint.rstrip()[-1:] in (".", "?", "!") else "."
        print(f"Not yet: you wrote {answer!r}. Hint: {hint.rstrip()}{end}")
    else:
        print(f"Not yet: you wrote {answer!r}. Look again and try once more.")


def judge_answer(answer, expected, *, atol: float = 1e-8, rtol: float = 1e-5) -> str:
    """"blank" (the answer is still ``None``), "right" (the expected shape, and within
    ``atol + rtol·|expected|`` of it) or "wrong" (anything else, a text included)."""
    if answer is None:
        return "blank"
    try:
        right = (np.shape(answer) == np.shape(expected)
                 and bool(np.allclose(answer, expected, rtol=rtol, atol=atol)))
    except (TypeError, ValueError):          # a text, a ragged list: not a number
        right = False
    return "right" if right else "wrong"


def assert_answer(answer, expected, working: str = "", *, atol: float = 1e-8,
                  rtol: float = 1e-5, hint: str = "") -> None:
    """The grader's form of :func:`check_answer` (same arguments, same tolerance): raises
    ``AssertionError`` unless the answer is right, so that an nbgrader test cell holding it
    scores the exercise. The teacher's notebooks add one, hidden, after every check; the
    message names what the student wrote, never the expected value.

    >>> assert_answer(9, 9)
    >>> assert_answer(None, 9)
    Traceback (most recent call last):
    AssertionError: no answer: the exercise still holds None
    >>> assert_answer(8, 9)
    Traceback (most recent call last):
    AssertionError: not the expected value: the answer was 8
    """
    verdict = judge_answer(answer, expected, atol=atol, rtol=rtol)
    if verdict == "blank":
        raise AssertionError("no answer: the exercise still holds None")
    if verdict == "wrong":
        raise AssertionError(f"not the expected value: the answer was {answer!r}")
