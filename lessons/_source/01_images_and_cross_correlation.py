# %% [markdown]
# # Lesson 1 — Images are arrays; a "convolution" layer slides a filter over them
#
# **Goals.** By the end of this lesson you can
# 1. say what the four numbers in an image batch's shape mean (N×H×W×C, channels last),
# 2. compute one output of a convolution layer by hand: multiply a window of the image by the
#    filter element by element, add everything up, add the bias,
# 3. explain why deep-learning "convolution" is really *cross-correlation* (the filter is not flipped).
#
# Run the cells from top to bottom (Run → Run All Cells works too). The exercises have a
# `answer = None` line: replace `None` with your answer and run the check cell under it.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
np.set_printoptions(linewidth=120)
from cnnlab.datasets import make_digits


# %% [markdown]
# ## 1. An image is a grid of numbers
#
# cnnlab ships generated handwritten-looking digits (no download). A batch of images is an
# array of shape **N×H×W×C**: N images, H rows, W columns, C channels (1 for grey, 3 for RGB).
# Pixel values run from 0 (black) to 255 (white).

# %%
images, labels = make_digits(8, seed=0)
print("batch shape N×H×W×C:", images.shape, images.dtype)
print("labels:", labels)
digit = images[0, :, :, 0]                   # one image, its only channel: 28×28
print(f"image 0 shows a {labels[0]}; rows 8..19, columns 6..21 as numbers:")
print(digit[8:20, 6:22])

# %% [markdown]
# **Exercise 1.** How many numbers does the whole batch above hold? (N·H·W·C)

# %%
answer_1 = None   # your number of values in `images`
### BEGIN SOLUTION
answer_1 = 8 * 28 * 28 * 1   # N·H·W·C: 8 images of 28×28 pixels, one channel
### END SOLUTION

# %%
check_answer(answer_1, images.size, f"{' · '.join(map(str, images.shape))} = {images.size:,} values.",
             hint='multiply the four numbers of images.shape: images, rows, columns, channels')

# %% [markdown]
# ## 2. One window, by hand
#
# A small example from Dumoulin and Visin's *A guide to convolution arithmetic for deep
# learning* (2016, figure 1.1): a 5×5 input and a 3×3 filter. The layer puts the
# filter on the top-left 3×3 window of the input, multiplies the nine pairs of numbers that
# lie on top of each other, and adds the nine products (plus the bias, here 0). That sum is
# output (0, 0). Then the filter moves one column to the right, and so on.
#
# $$y(i, j) = \sum_{u=0}^{2}\sum_{v=0}^{2} x(i+u,\ j+v)\,w(u, v) + b$$

# %%
x = np.array([[3, 3, 2, 1, 0],
              [0, 0, 1, 3, 1],
              [3, 1, 2, 2, 3],
              [2, 0, 0, 2, 2],
              [2, 0, 0, 0, 1]], dtype=float)
w = np.array([[0, 1, 2],
              [2, 2, 0],
              [0, 1, 2]], dtype=float)
window = x[0:3, 0:3]
print("window:\n", window)
print("window * filter, element by element:\n", window * w)
print("sum =", (window * w).sum())

# %% [markdown]
# **Exercise 2.** Now you: compute output (1, 2) by hand (row 1, column 2: the window whose
# top-left corner is x[1, 2]). Write the number, then check; the layer does all nine windows
# in the next section.

# %%
answer_2 = None   # your value of output (1, 2)
### BEGIN SOLUTION
# the window x[1:4, 2:5] = [[1, 3, 1], [2, 2, 3], [0, 2, 2]] times w, added:
answer_2 = (1*0 + 3*1 + 1*2) + (2*2 + 2*2 + 3*0) + (0*0 + 2*1 + 2*2)   # 19
### END SOLUTION

# %%
layer_net = cl.Network([cl.ImageInput((5, 5, 1), normalization="none"),
                        cl.Convolution2D(3, 1, weights=w[:, :, None, None], bias=np.zeros(1))])
step = layer_net.trace(x[:, :, None])["conv_1"].step(1, 2)
check_answer(answer_2, step.value, str(step),
             hint=('the window is x[1:4, 2:5]; multiply each of its nine numbers by the filter'
                   ' value in the same place and add the nine products'))

# %% [markdown]
# Now let cnnlab's convolution layer do all nine windows. The weights of a convolution layer
# are stored FH×FW×C×F (filter height, width, input channels, number of filters), so our one
# 3×3 filter on one channel is `w[:, :, None, None]`.

# %%
conv = cl.Convolution2D(3, 1, weights=w[:, :, None, None], bias=np.zeros(1))
net = cl.Network([cl.ImageInput((5, 5, 1), normalization="none"), conv])
y = net.predict(x[None, :, :, None])          # a batch of one 5×5×1 image
print("output, 3×3:\n", y[0, :, :, 0])

# %% [markdown]
# The trace keeps what the layer did, and every window can be printed as a sum:

# %%
rec = net.trace(x[:, :, None])["conv_1"]
for step in rec.steps(filter=0):
    print(step)

# %% [markdown]
# **Step through it.** The explorer below shows the same record: press ▶ or move the slider to
# move the window; the caption writes out the sum of each step.

# %%
from cnnlab.widgets.convolution import ConvolutionExplorer
ConvolutionExplorer(rec)

# %% [markdown]
# ## 3. Cross-correlation, not convolution
#
# In mathematics a convolution *flips* the filter (rotates it by 180°) before sliding it.
# Convolution layers do not flip: what they compute is cross-correlation. Since the filter is
# learned, the difference does not matter for training — but it matters when you compare with
# a textbook that computes a "true" convolution. The cell below shows that the flipped filter
# gives a different answer.

# %%
flipped = w[::-1, ::-1]
true_conv = np.array([[(x[i:i + 3, j:j + 3] * flipped).sum() for j in range(3)] for i in range(3)])
print("cross-correlation (the layer):\n", y[0, :, :, 0])
print("true convolution (flipped filter):\n", true_conv)

# %% [markdown]
# ## 4. The same on a real digit
#
# A 3×3 filter that subtracts the left column from the right column responds to vertical
# edges. We apply it to the 28×28 digit from section 1, with no padding and stride 1.
#
# **Exercise 3.** Before running the cell below: how many output rows will there be? (Lesson 2
# derives the formula.)

# %%
answer_3 = None   # number of output rows
### BEGIN SOLUTION
answer_3 = 28 - 3 + 1   # window positions down the 28 rows
### END SOLUTION

# %%
r = cl.arithmetic.conv_output_size(28, 3)
check_answer(answer_3, r.value, r.substituted,
             hint=('count how many window positions fit going down: input rows − filter rows +'
                   ' 1'))

# %% [markdown]
# Now apply the filter and look at where the output is large.

# %%
edge = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float)
edge_net = cl.Network([cl.ImageInput((28, 28, 1), normalization="none"),
                       cl.Convolution2D(3, 1, weights=edge[:, :, None, None], bias=np.zeros(1))])
response = edge_net.predict(images[:1] / 255)[0, :, :, 0]
print("output size:", response.shape, "(26×26: a 3×3 window fits 26 times along 28)")
print("responses (rounded), rows 8..19, columns 6..21:")
print(np.round(response[8:20, 6:22], 1))

# %% [markdown]
# The same filter on the digit, window by window:

# %%
ConvolutionExplorer(edge_net.layers[1], images[0] / 255, network=edge_net)

# %% [markdown]
# **What you saw.** An image batch is N×H×W×C; a convolution layer's output at (i, j) is the
# sum of the products of the filter and the window under it, plus the bias; no flipping.
# Next: what happens at the borders (padding) and when the filter jumps (stride).
