# %% [markdown]
# # Lesson 5 — Pooling: max, average, global, overlapping
#
# **Goals.**
# 1. Compute max and average pooling by hand, and know that they have no learnable parameters.
# 2. See overlapping pooling (stride smaller than the pool size) and how padding enters each.
# 3. Use global pooling to turn each channel into one number.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.arithmetic import pool_output_size
np.set_printoptions(linewidth=120)


def pool(x, layer):
    """Trace one pooling layer on a single-channel image x (H×W)."""
    net = cl.Network([cl.ImageInput(x.shape + (1,), normalization="none"), layer])
    return net.trace(x[:, :, None])[1]

# %% [markdown]
# ## 1. Max and average pooling, 2×2 with stride 2

# %%
x = np.array([[1, 3, 2, 0],
              [4, 6, 1, 1],
              [0, 2, 9, 5],
              [3, 1, 7, 8]], dtype=float)
mx = pool(x, cl.MaxPooling2D(2, stride=2))
print("max:\n", mx.output[:, :, 0])
for step in mx.steps(0):
    print(step.text())

# %% [markdown]
# **Exercise 1.** Average pooling of the same input, 2×2 with stride 2: what is output (1, 1),
# the average of the bottom-right 2×2 window? Compute it.

# %%
answer_1 = None

# %%
av = pool(x, cl.AveragePooling2D(2, stride=2))
check_answer(answer_1, av.output[1, 1, 0], av.step(1, 1, 0).text(),
             hint='add the four values of the bottom-right 2×2 window and divide by 4')

# %% [markdown]
# All four averages (run this after your answer):

# %%
print("average:\n", av.output[:, :, 0])
for step in av.steps(0):
    print(step.text())

# %% [markdown]
# ## 2. Overlapping pooling
#
# With a 3×3 pool and stride 2 the windows share a row/column, as in AlexNet. The output size
# follows the same formula as convolution.

# %%
x6 = np.random.default_rng(1).integers(0, 10, (7, 7)).astype(float)
ov = pool(x6, cl.MaxPooling2D(3, stride=2))
print("input:\n", x6.astype(int))
print("output:\n", ov.output[:, :, 0].astype(int))
print("winners (row, col) in the input:\n", ov.argmax[:, :, 0].tolist())
r = pool_output_size(7, 3, stride=2)
print(r.substituted)

# %% [markdown]
# Step through the overlapping windows; the winner of each is marked:

# %%
from cnnlab.widgets.pooling import PoolingExplorer
PoolingExplorer(ov)

# %% [markdown]
# **Exercise 2.** A 13×13 map, 3×3 max pooling with stride 2, no padding. Output size?

# %%
answer_2 = None

# %%
r = pool_output_size(13, 3, stride=2)
check_answer(answer_2, r.value, r.substituted,
             hint='pooling windows follow the convolution formula: floor((13 − 3) / 2) + 1')

# %% [markdown]
# ## 3. Padding in pooling
#
# Max pooling pads with −∞ (padding can never win), average pooling pads with zeros that
# *are* counted in the average. Look at a corner window:

# %%
mp = pool(x, cl.MaxPooling2D(2, stride=2, padding=1))
ap = pool(x, cl.AveragePooling2D(2, stride=2, padding=1))
print("max, padded input:\n", mp.padded_input[:, :, 0])
print(mp.step(0, 0, 0).text())
print(ap.step(0, 0, 0).text(), "  ← 1/4, the three padding zeros count")

# %% [markdown]
# ## 4. Global pooling
#
# Global average (or max) pooling uses the whole H×W map as one window: each channel becomes
# one number, whatever the image size.

# %%
xc = np.random.default_rng(2).random((5, 5, 3))
g = cl.Network([cl.ImageInput((5, 5, 3), normalization="none"), cl.GlobalAveragePooling2D()])
out = g.predict(xc[None])
print("output shape:", out.shape, "values:", out.ravel())
print("mean of each channel:", xc.mean(axis=(0, 1)))

# %% [markdown]
# ## 5. Try it
#
# The pooling explorer builds a small layer from its controls (size, pool, stride, padding,
# max or average); the calculator gives the sizes for any numbers.

# %%
PoolingExplorer()

# %%
from cnnlab.widgets.arithmetic import ArithmeticCalculator
calc = ArithmeticCalculator("pool", input_size=13, filter_size=3, stride=2)
calc

# %% [markdown]
# **What you saw.** Pooling shrinks each channel separately, with no weights; max keeps the
# strongest response (−∞ padding never wins), average counts padding zeros; global pooling
# makes one number per channel.
