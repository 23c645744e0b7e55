# %% [markdown]
# # Lesson 3 — Dilation and receptive fields
#
# **Goals.**
# 1. See what a dilated filter is: the same k×k weights with gaps of d−1 between them.
# 2. Compute the effective filter size $(k-1)\,d+1$ — and catch a textbook slip.
# 3. Compute the receptive field of a neuron deep in a network: the patch of the input it sees.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.arithmetic import effective_filter_size, receptive_field
np.set_printoptions(linewidth=120)


# %% [markdown]
# ## 1. A dilated filter
#
# Build a 3×3 filter with the weights 1..9 and dilation 2, and look at the filter the layer
# really slides over the input (`effective_weights`): zeros between the weights.

# %%
w = np.arange(1, 10, dtype=float).reshape(3, 3)
conv = cl.Convolution2D(3, 1, dilation=2, weights=w[:, :, None, None], bias=np.zeros(1))
net = cl.Network([cl.ImageInput((9, 9, 1), normalization="none"), conv])
x = np.arange(81, dtype=float).reshape(9, 9)
rec = net.trace(x[:, :, None])["conv_1"]
print("effective filter:\n", rec.effective_weights[:, :, 0, 0].astype(int))
print("output size:", rec.output.shape[:2])
print(rec.step(0, 0))

# %% [markdown]
# Step through the dilated windows (the taps are 2 apart):

# %%
from cnnlab.widgets.convolution import ConvolutionExplorer
ConvolutionExplorer(rec)

# %%
r = effective_filter_size(3, 2)
print(r.value, "=", r.substituted)

# %% [markdown]
# ## 2. A textbook slip
#
# An encyclopedia article says that **dilation 4 turns a 3×3 filter into a 7×7 one**. Is that
# right? Build the layer below with dilation 4 and look at the size of its effective filter,
# then answer.

# %%
conv4 = cl.Convolution2D(3, 1, dilation=4, weights=w[:, :, None, None], bias=np.zeros(1))
net4 = cl.Network([cl.ImageInput((12, 12, 1), normalization="none"), conv4])
rec4 = net4.trace(np.zeros((12, 12, 1)))["conv_1"]
print("effective filter shape:", rec4.effective_weights.shape[:2])
print((rec4.effective_weights[:, :, 0, 0] != 0).astype(int))

# %% [markdown]
# **Exercise 1.** What is the effective size of a 3×3 filter with dilation 4?

# %%
answer_1 = None   # effective size (one number)
### BEGIN SOLUTION
answer_1 = (3 - 1) * 4 + 1   # two gaps of 4 between three taps: 9
### END SOLUTION

# %%
r = effective_filter_size(3, 4)
check_answer(answer_1, r.value, f"{r.substituted}: two gaps of 4 steps between three taps, plus "
      "the first tap. A 7×7 span would be dilation 3.",
             hint=('a dilated filter has dilation − 1 gaps between neighbouring taps: its span'
                   ' is (filter − 1) · dilation + 1'))

# %% [markdown]
# ## 3. Receptive fields
#
# A neuron in the first convolution layer sees a k×k window of the image. A neuron one layer
# deeper sees a window of windows: its receptive field grows by $(k-1)\cdot j$ per layer,
# where $j$ is the product of the strides before it (the "jump"). Pooling grows it too.
#
# $$r_{\ell} = r_{\ell-1} + (k_\ell^{\text{eff}} - 1)\, j_{\ell-1},\qquad j_\ell = j_{\ell-1}\, s_\ell$$

# %%
from cnnlab.models import reference_example
ref_net = cl.Network(reference_example(), seed=0)
print(cl.analyze(ref_net))

# %% [markdown]
# Along one axis, describe each layer by (kernel, stride, padding before). conv_1 is
# (3, 1, 1), the max pooling (2, 2, 0), conv_2 (3, 1, 1); element-wise layers such as ReLU and
# batch normalization are (1, 1, 0) and change nothing.

# %%
r = receptive_field([(3, 1, 1), (2, 2, 0), (3, 1, 1)])
print("(size, jump, start) after each layer:", r.value)
print(r.substituted)

# %% [markdown]
# The trace gives the exact rows and columns for one neuron (clipped to the image):

# %%
from cnnlab.datasets import make_digits
images, labels = make_digits(4, seed=0)
ref_net.fit_normalization(images / 255)
trace = ref_net.trace(images[0] / 255)
rf = trace.receptive_field("conv_2", 5, 5)
print(f"conv_2 neuron (5, 5) sees rows {rf.top}..{rf.bottom - 1} and columns {rf.left}..{rf.right - 1} "
      f"of the image: {rf.size[0]}×{rf.size[1]} pixels")
print("its window in each layer's input as (top, left, bottom, right), bottom and right "
      "exclusive (rows top..bottom - 1):")
for name, window in rf.chain:
    print(f"  through {name:12s} {window}")

# %% [markdown]
# **Exercise 2.** Three 3×3 convolutions with stride 1 and no pooling, stacked. What is the
# receptive field of one neuron of the third layer (one side, in pixels)?

# %%
answer_2 = None   # side of the receptive field
### BEGIN SOLUTION
answer_2 = 3 + 2 + 2   # each further 3×3 layer adds 3 - 1 = 2 rows: 7
### END SOLUTION

# %%
r = receptive_field([(3, 1, 0), (3, 1, 0), (3, 1, 0)])
side = r.value[-1].size
check_answer(answer_2, side, f"sizes {[f.size for f in r.value]}: the same field as one "
             f"{side}×{side} filter, with 3 layers · 9 = {3 * 9} weights per pair of channels "
             f"instead of {side * side}.",
             hint=('each 3×3 layer with stride 1 widens what one neuron sees by 2 pixels: '
                   "start from the first layer's 3 and add 2 per layer after it"))

# %% [markdown]
# ## 4. Try it
#
# Set the dilation slider in the calculator and watch the effective size and the output size.

# %%
from cnnlab.widgets.arithmetic import ArithmeticCalculator
calc = ArithmeticCalculator("conv", input_size=28, filter_size=3, dilation=4)
calc

# %% [markdown]
# **What you saw.** Dilation spreads the same weights out: effective size $(k-1)d+1$, so 3×3
# at dilation 4 spans 9×9, not 7×7. Stacking layers, striding and pooling grow the receptive
# field.
