"""The solvers' updates as compiled loops, a few parameter arrays per call (the fast backend).

``solvers.py`` states each rule and computes it with NumPy, which is the definition:

    g = ∂L/∂θ + decay·θ                        (when decay ≠ 0)
    sgdm     v ← μ·v − lr·g ;  θ ← θ + v
    adam     m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g·g
             θ ← θ − lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
    rmsprop  v ← β2·v + (1 − β2)·g·g ;  θ ← θ − lr·g / (√v + ε)

NumPy runs SGDM as six passes over each array and Adam as about fifteen, each a separate
call; for LeNet-5's ten parameter arrays SGDM alone was 0.14–0.17 ms of a 2.6 ms training
step. Here each array takes one pass, with the same operations in the same order, each
rounded to the parameter's dtype as NumPy rounds it: NumPy turns a Python float into the
array's dtype before it computes (so every constant is handed over already rounded, e.g.
float32(1 − β1)), and there is no fastmath — no fused multiply-add, NaN and inf as in NumPy
— so the result is bit for bit NumPy's (``tests/kernels/test_solver_update.py``). Adam's and
RMSProp's loops use Numba's NumPy error model: a division by zero gives inf or NaN as in
NumPy, where Python's model would raise ZeroDivisionError — and checking for it kept the
loop from being vectorized (LeNet-5's Adam step took 0.40 ms, now 0.18).

Up to ``GROUP`` arrays go in one call, as tuples of flat views: the Python work per array
(checks, reshaping, handing it to Numba) was most of the step's update time. A tuple of a
fixed length compiles once per dtype whatever the network; a short group repeats its first
array to fill the tuple, and ``count`` says how many are real.
"""
from __future__ import annotations

import numba
import numpy as np

#: parameter arrays per compiled call
GROUP = 8


@numba.njit(nogil=True, cache=True)
def _sgdm_group(thetas, grads, vels, lrs, decays, with_decay, mu, count):
    for k in range(count):
        theta, g, v = thetas[k], grads[k], vels[k]
        lr, decay, wd = lrs[k], decays[k], with_decay[k]
        for i in range(theta.shape[0]):
            gi = g[i] + decay * theta[i] if wd else g[i]
            vi = v[i] * mu - lr * gi
            v[i] = vi
            theta[i] = theta[i] + vi


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _adam_group(thetas, grads, ms, vs, lrs, decays, with_decay, consts, count):
    # consts: β1, 1 − β1, β2, 1 − β2, 1 − β1^t, 1 − β2^t, ε (each in the arrays' dtype)
    b1, c1, b2, c2, bc1, bc2, eps = (consts[0], consts[1], consts[2], consts[3], consts[4],
                                     consts[5], consts[6])
    for k in range(count):
        theta, g, m, v = thetas[k], grads[k], ms[k], vs[k]
        lr, decay, wd = lrs[k], decays[k], with_decay[k]
        for i in range(theta.shape[0]):
            gi = g[i] + decay * theta[i] if wd else g[i]
            mi = m[i] * b1 + c1 * gi
            vi = v[i] * b2 + c2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            theta[i] = theta[i] - (lr * (mi / bc1)) / (np.sqrt(vi / bc2) + eps)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _rmsprop_group(thetas, grads, vs, lrs, decays, with_decay, consts, count):
    # consts: β2, 1 − β2, ε (in the arrays' dtype)
    b2, c2, eps = consts[0], consts[1], consts[2]
    for k in range(count):
        theta, g, v = thetas[k], grads[k], vs[k]
        lr, decay, wd = lrs[k], decays[k], with_decay[k]
        for i in range(theta.shape[0]):
            gi = g[i] + decay * theta[i] if wd else g[i]
            vi = v[i] * b2 + c2 * (gi * gi)
            v[i] = vi
            theta[i] = theta[i] - (lr * gi) / (np.sqrt(vi) + eps)


def _takes(theta, g, slots) -> bool:
    """Whether the loops take this parameter: float32/float64, the gradient and the slots of
    θ's dtype and shape, θ and the slots C-contiguous (they are written through flat views;
    a gradient of another layout is read through a contiguous copy)."""
    dt = theta.dtype
    return (dt in (np.float32, np.float64) and theta.flags.c_contiguous
            and g.dtype == dt and g.shape == theta.shape
            and all(s.dtype == dt and s.shape == theta.shape and s.flags.c_contiguous
                    for s in slots))


def fast_updates(kind, items, slot_names, consts):
    """Update the parameters of ``items`` — (θ, ∂L/∂θ, decay, lr, {slot: array}) each — in
    place by the rule ``kind`` ("sgdm": consts = (μ,); "adam": the seven constants of
    _adam_group; "rmsprop": β2, 1 − β2, ε); returns the items the loops do not take, for
    NumPy."""
    left, by_dtype = [], {}
    for item in items:
        theta, g, decay, lr, slots = item
        slot_arrays = [slots[name] for name in slot_names]
        if _takes(theta, g, slot_arrays):
            # flat views: θ, the gradient (a copy if it is not C-contiguous), the slots
            views = [theta.reshape(-1), np.ascontiguousarray(g).reshape(-1)]
            views += [a.reshape(-1) for a in slot_arrays]
            by_dtype.setdefault(theta.dtype, []).append((views, lr, decay))
        else:
            left.append(item)
    for dt, entries in by_dtype.items():
        c = np.array(consts, dtype=dt)
        for start in range(0, len(entries), GROUP):
            part = entries[start:start + GROUP]
            count = len(part)
            part = part + [part[0]] * (GROUP - count)      # filler, not touched
            arrays = [tuple(views[j] for views, _, _ in part) for j in range(len(part[0][0]))]
            lrs = np.array([lr for _, lr, _ in part], dtype=dt)
            decays = np.array([decay for _, _, decay in part], dtype=dt)
            with_decay = np.array([decay != 0.0 for _, _, decay in part], dtype=np.bool_)
            if kind == "sgdm":
                _sgdm_group(*arrays, lrs, decays, with_decay, c[0], count)
            elif kind == "adam":
                _adam_group(*arrays, lrs, decays, with_decay, c, count)
            else:
                _rmsprop_group(*arrays, lrs, decays, with_decay, c, count)
    return left
