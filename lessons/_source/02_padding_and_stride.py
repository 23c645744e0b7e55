# %% [markdown]
# # Lesson 2 — Padding and stride: how big is the output?
#
# **Goals.**
# 1. Write padding in all four forms a convolution layer accepts: one number `p`, a pair
#    `(a, b)` (a rows top and bottom, b columns left and right), four numbers
#    `(top, bottom, left, right)`, and `"same"`.
# 2. Fill the border with each of the four padding values: a number (0 by default),
#    `"replicate"`, `"symmetric-include-edge"` and `"symmetric-exclude-edge"`.
# 3. Use the output-size formula, and know what happens when the division is not exact.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.arithmetic import conv_output_size, same_padding
np.set_printoptions(linewidth=120)


def padded(x, padding, padding_value=0, filter_size=3, stride=1):
    """The padded input a convolution layer really reads (from the layer's trace)."""
    layer = cl.Convolution2D(filter_size, 1, padding=padding, padding_value=padding_value,
                             stride=stride)
    net = cl.Network([cl.ImageInput(x.shape + (1,), normalization="none"), layer])
    return net.trace(x[:, :, None])["conv_1"]

# %% [markdown]
# ## 1. The four padding values
#
# Take a 3×3 input with the numbers 1..9 and pad it by 2 on every side. The padding value says
# what goes into the new cells:
# - a number (here 0): every new cell holds that number;
# - `"replicate"`: copy the nearest edge value outwards;
# - `"symmetric-include-edge"`: mirror the input, the edge row/column included in the mirror;
# - `"symmetric-exclude-edge"`: mirror around the edge, the edge itself is not repeated.

# %%
x = np.arange(1, 10, dtype=float).reshape(3, 3)
print("input:\n", x.astype(int), "\n")
for value in [0, "replicate", "symmetric-include-edge"]:
    rec = padded(x, 2, value)
    print(f"padding_value = {value!r}:")
    print(rec.padded_input[:, :, 0].astype(int), "\n")

# %% [markdown]
# `rec.padding_mask` marks which cells are padding (True) and which came from the input:

# %%
print(padded(x, 2).padding_mask.astype(int))

# %% [markdown]
# **Exercise 1.** With `"symmetric-exclude-edge"` and padding 2, what number lands in the
# top-left corner of the padded input? (The padded input is shown after the check.)

# %%
answer_1 = None   # top-left value of the padded input
### BEGIN SOLUTION
# exclude-edge mirrors around row 0 and column 0 without repeating them: the
# corner of the padded input is x[2, 2] of the original
answer_1 = 9
### END SOLUTION

# %%
mirrored = padded(x, 2, "symmetric-exclude-edge").padded_input[0, 0, 0]
check_answer(answer_1, mirrored, f"The corner holds {mirrored:g}: the input is mirrored around "
             "its edge row and column, which are not repeated.",
             hint=('symmetric-exclude-edge mirrors around the edge row and column without '
                   'repeating them: two steps out from the corner reads two steps in'))

# %%
print("padding_value = 'symmetric-exclude-edge':")
print(padded(x, 2, "symmetric-exclude-edge").padded_input[:, :, 0].astype(int))

# %% [markdown]
# ## 2. The four padding forms

# %%
x6 = np.arange(36, dtype=float).reshape(6, 6)
for padding in [1, (1, 0), (0, 1, 2, 0), "same"]:
    rec = padded(x6, padding, stride=2)
    print(f"padding = {padding!r}: pads (top, bottom, left, right) = {rec.pads}, "
          f"padded {rec.padded_input.shape[:2]}, output {rec.output.shape[:2]}")

# %% [markdown]
# `"same"` picks the padding that makes the output size `ceil(input / stride)`. When the
# total padding is odd, the extra row goes to the **bottom** and the extra column to the
# **right**:

# %%
r = same_padding(28, 3, stride=2)
print(r.value)
print(r.substituted)
for note in r.notes:
    print("-", note)

# %% [markdown]
# ## 3. The output-size formula
#
# With input size $i$, filter size $k$, dilation $d$, stride $s$ and padding $p_b$ before and
# $p_a$ after, the effective filter size is $(k-1)\,d+1$ and
#
# $$o = \left\lfloor \frac{i - ((k-1)\,d+1) + p_b + p_a}{s} \right\rfloor + 1.$$
#
# `cnnlab.arithmetic` returns the value, the quotient inside the floor (`r.quotient`), the
# output size the formula would give without the floor (`r.unfloored` = quotient + 1), and
# the formula with your numbers in it.

# %%
r = conv_output_size(32, 5, stride=2, padding=2)
print("value:", r.value, " quotient:", r.quotient, " unfloored:", r.unfloored)
print(r.formula)
print(r.substituted)
for note in r.notes:
    print("-", note)

# %% [markdown]
# The quotient is 15.5, not a whole number (so the unfloored size is 16.5, and the floor makes
# it 16): the filter's last position would stick out of the padded input, so the layer stops
# one step early and the last row/column of the padded input is never read. The reference
# documents' example: a 32×32 input, 5×5 filters, stride 2 and padding 2 give 16×16 maps
# (2048 neurons with 8 filters).

# %% [markdown]
# **Exercise 2.** The reference documents' 28×28 input with a 6×4 filter (6 rows, 4 columns),
# stride 4 and padding `(1, 0)` (1 row top and bottom, no columns). What is the output size?
# Give (rows, columns).

# %%
answer_2 = None   # (rows, columns)
### BEGIN SOLUTION
# rows: floor((28 - 6 + 1 + 1) / 4) + 1 = 7; columns: floor((28 - 4) / 4) + 1 = 7
answer_2 = (7, 7)
### END SOLUTION

# %%
rows, cols = conv_output_size(28, 6, stride=4, padding=1), conv_output_size(28, 4, stride=4)
check_answer(answer_2, (rows.value, cols.value),
             f"rows: {rows.substituted}; columns: {cols.substituted}",
             hint=('use floor((input − filter + padding before + padding after) / stride) + 1 '
                   'separately for the rows (filter 6, padding 1 and 1) and the columns '
                   '(filter 4, no padding)'))

# %% [markdown]
# **Exercise 3.** Input 7, filter 3, stride 2, no padding. Is the quotient exact? What is the
# output size?

# %%
answer_3 = None   # output size
### BEGIN SOLUTION
answer_3 = (7 - 3) // 2 + 1   # the quotient 4 / 2 = 2 is exact: 3
### END SOLUTION

# %%
r = conv_output_size(7, 3, stride=2)
exact = "a whole number" if r.quotient == int(r.quotient) else "not a whole number"
check_answer(answer_3, r.value, f"{r.substituted}: the quotient {r.quotient:g} is {exact}.",
             hint=('compute (7 − 3) / 2 first: the output size is that quotient, floored, plus'
                   ' 1'))

# %% [markdown]
# ## 4. Try it: the arithmetic calculator
#
# Move the sliders: the table shows every size and count, and the card below shows the
# formula with your numbers. Invalid combinations are explained instead of computed.

# %%
from cnnlab.widgets.arithmetic import ArithmeticCalculator
calc = ArithmeticCalculator("conv", input_size=32, filter_size=5, stride=2, padding=2,
                            channels=3, filters=8)
calc

# %% [markdown]
# ## 5. Watch it
#
# The convolution explorer builds a small layer from the controls: change the padding, the
# padding value and the stride, and step through the windows. Grey cells are padding.

# %%
from cnnlab.widgets.convolution import ConvolutionExplorer
ConvolutionExplorer()

# %% [markdown]
# **What you saw.** Padding adds a border of known values in one of four forms; stride skips
# positions; the output size is the floored quotient plus one, and a non-integer quotient means
# the last positions of the padded input are never visited.
