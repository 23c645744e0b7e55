# %% [markdown]
# # Lesson 5 — Pooling: max, average, global, overlapping
#
# **Goals.**
# 1. Compute max and average pooling by hand, and know that they have no learnable parameters.
# 2. See overlapping pooling (stride smaller than the pool size) and how padding enters each.
# 3. Use global pooling to turn each channel into one number.
# 4. Follow the sizes through a stack of layers, and find the layer that does not fit.

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
### BEGIN SOLUTION
answer_1 = (9 + 5 + 7 + 8) / 4   # the bottom-right window: 7.25
### END SOLUTION

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
### BEGIN SOLUTION
answer_2 = (13 - 3) // 2 + 1   # floor(10 / 2) + 1 = 6
### END SOLUTION

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
# ## 5. Find the bug: sizes that do not fit
#
# LeCun's LeNet-5 of 1998 read 32×32 images: a 5×5 convolution (32 → 28), 2×2 pooling (→ 14),
# a 5×5 convolution (→ 10), pooling (→ 5), and a third 5×5 convolution that leaves 1×1×120.
# Someone copied that stack for our 28×28 digits. Run it and read the error: the network
# builder names the layer, its filter and the input it was given.

# %%
copied = [cl.ImageInput((28, 28, 1)),
          cl.Convolution2D(5, 6), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
          cl.Convolution2D(5, 16), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
          cl.Convolution2D(5, 120), cl.ReLU(),
          cl.FullyConnected(84), cl.ReLU(), cl.FullyConnected(10),
          cl.Softmax(), cl.Classification()]
try:
    cl.Network(copied)
except ValueError as error:
    print(error)

# %% [markdown]
# **Exercise 3 (find the bug).** Follow the sizes from the input: where does the stack first
# differ from the 32×32 original? Copy the list into `answer_3` and change *one* layer so
# that it builds for 28×28 digits and `conv_3` again gives 1×1×120. (Lesson 2 has the tool.)

# %%
answer_3 = None   # the corrected list of layers
### BEGIN SOLUTION
# 28 is 4 short of 32: padding 2 on every side of the first convolution keeps 28×28 maps
# (28 + 2 + 2 - 5 + 1 = 28), and from there on the sizes are the original's 14, 10, 5, 1
answer_3 = [cl.ImageInput((28, 28, 1)),
            cl.Convolution2D(5, 6, padding=2), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
            cl.Convolution2D(5, 16), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
            cl.Convolution2D(5, 120), cl.ReLU(),
            cl.FullyConnected(84), cl.ReLU(), cl.FullyConnected(10),
            cl.Softmax(), cl.Classification()]
### END SOLUTION


# %%
def built_sizes(layers):
    """(input size, conv_3's output size) of a list of layers, or the builder's error."""
    if layers is None:
        return None
    try:
        net = cl.Network(layers)
        return net.layers[0].input_size, net["conv_3"].output_shape
    except (ValueError, KeyError, TypeError) as error:
        return f"it does not build: {error}"


check_answer(built_sizes(answer_3), ((28, 28, 1), (1, 1, 120)),
             "the first convolution pads its 28×28 input by 2, so the maps are 28, 14, 10, 5 "
             "and 1 as in the 32×32 original (lesson 9's lenet5() pads the same way, with a "
             "fully connected layer of 120 in place of conv_3).",
             hint="the input must stay 28×28; a 5×5 convolution with padding 2 keeps its "
                  "input's size, so the rest of the stack sees what it saw on 32×32 images")

# %% [markdown]
# ## 6. Try it
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
# makes one number per channel. A stack of layers is checked size by size when it is built:
# the error names the first layer that does not fit, and the sizes before it tell you why.
