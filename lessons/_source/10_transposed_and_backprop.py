# %% [markdown]
# # Lesson 10 — Transposed convolution; backpropagation step by step
#
# **Goals.**
# 1. See a transposed convolution as an ordinary stride-1 convolution of an *upsampled* input
#    (zeros inserted between the values, then padded) with the 180°-rotated filter.
# 2. Use its output-size formula $o = (i - 1)\,s + k - c_{\text{top}} - c_{\text{bottom}}$.
# 3. Follow a gradient backwards through a convolution: how one output gradient flows to its
#    window of inputs and to the weights; then step the whole backward pass, layer by layer.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.arithmetic import transposed_conv_output_size
np.set_printoptions(linewidth=120, precision=4, suppress=True)


# %% [markdown]
# ## 1. A transposed convolution, 2×2 input, 3×3 filter, stride 2

# %%
x = np.array([[1, 2], [3, 4]], dtype=float)
w = np.arange(1, 10, dtype=float).reshape(3, 3)
tconv = cl.TransposedConvolution2D(3, 1, stride=2, weights=w[:, :, None, None], bias=np.zeros(1))
net = cl.Network([cl.ImageInput((2, 2, 1), normalization="none"), tconv])
rec = net.trace(x[:, :, None])[1]
print("upsampled input (zeros inserted, then padded):\n", rec.upsampled_input[:, :, 0])
print("mask (0 input value, 1 inserted zero, 2 padding):\n", rec.upsampled_mask)
print("rotated filter:\n", rec.effective_weights[:, :, 0, 0])
print("output:\n", rec.output[:, :, 0])

# %% [markdown]
# Each output is a window sum like in lesson 1, read from the upsampled input:

# %%
print(rec.step(2, 2))

# %% [markdown]
# Step through all 25 windows (a picture per step, drawn by cnnlab's renderer):

# %%
import ipywidgets as widgets
from cnnlab.viz.transposed_step import TransposedStepFigure
figure = TransposedStepFigure(rec)
picture = widgets.Image(format="png")
step_slider = widgets.IntSlider(0, min=0, max=rec.num_positions - 1, description="step")


def show_step(change=None):
    figure.show_step(step_slider.value)
    picture.value = figure.png()


step_slider.observe(show_step, names="value")
show_step()
widgets.VBox([step_slider, picture])

# %% [markdown]
# Equivalently, every input value *stamps* a copy of the filter, scaled by the value, onto the
# output, shifted by the stride; overlapping stamps add up. Check one output by hand:

# %%
stamped = np.zeros((5, 5))
for i in range(2):
    for j in range(2):
        stamped[2 * i:2 * i + 3, 2 * j:2 * j + 3] += x[i, j] * w
print("sum of stamps:\n", stamped)
print("same as the layer:", np.allclose(stamped, rec.output[:, :, 0]))

# %%
r = transposed_conv_output_size(2, 3, stride=2)
print(r.substituted)

# %% [markdown]
# **Exercise 1.** A 7×7 input, a 4×4 filter, stride 2, cropping 1 on every side. Output size?

# %%
answer_1 = None
### BEGIN SOLUTION
answer_1 = (7 - 1) * 2 + 4 - 1 - 1   # 14
### END SOLUTION

# %%
r = transposed_conv_output_size(7, 4, stride=2, cropping=1)
check_answer(answer_1, r.value, r.substituted,
             hint=("a transposed convolution's output side is (input − 1) · stride + filter − "
                   'cropping on one side − cropping on the other'))

# %% [markdown]
# ## 2. Backpropagation through a convolution
#
# The chain rule, for $y(i,j) = \sum_{u,v} x(i+u, j+v)\,w(u,v) + b$ and a loss L:
#
# $$\frac{\partial L}{\partial w(u,v)} = \sum_{i,j} \frac{\partial L}{\partial y(i,j)}\,x(i+u,j+v),\qquad
# \frac{\partial L}{\partial x(p,q)} = \sum_{(i,j):\ \text{window covers }(p,q)} \frac{\partial L}{\partial y(i,j)}\,w(p-i,q-j)$$
#
# A tiny network on a 4×4 input, traced with `backward=True`:

# %%
rng = np.random.default_rng(0)
small = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"),
                    cl.Convolution2D(2, 1), cl.Tanh(), cl.FullyConnected(2), cl.Softmax(),
                    cl.Classification()], seed=0, dtype="float64")
xs = rng.random((4, 4, 1))
trace = small.trace(xs, backward=True, labels=[1])
print(f"loss {trace.loss:.4f}")
for rec in trace:
    if getattr(rec, "output_gradient", None) is not None:
        print(f"{rec.name:12s} dL/d(output) shape {np.shape(rec.output_gradient)}")

# %% [markdown]
# The forward windows of this convolution, to compare with the backward steps below:

# %%
from cnnlab.widgets.convolution import ConvolutionExplorer
ConvolutionExplorer(trace["conv_1"])

# %%
conv = trace["conv_1"]
print("dL/dy of the convolution (3×3):\n", conv.output_gradient[:, :, 0])
print("dL/dw:\n", conv.param_gradients["weights"][:, :, 0, 0])
print("dL/dx (4×4):\n", conv.input_gradient[:, :, 0])

# %% [markdown]
# Step by step: each output's gradient flows back into its 2×2 window of inputs (times the
# weights) and into the weights (times the inputs):

# %%
steps = list(conv.backward_steps(0))
for step in steps[:2]:
    print(step)
    print("  to the inputs at rows", step.rows, "columns", step.cols, ":\n", step.input_gradient[:, :, 0])
    print("  to the weights:\n", step.weight_gradient[:, :, 0])

# %% [markdown]
# Add up the contributions of all nine windows: that is exactly the gradient the layer computed.

# %%
dx, dw = np.zeros((4, 4)), np.zeros((2, 2))
for step in steps:
    dx[np.ix_(step.rows, step.cols)] += step.input_gradient[:, :, 0]
    dw += step.weight_gradient[:, :, 0]
print("sum of window contributions equals dL/dx:", np.allclose(dx, conv.input_gradient[:, :, 0]))
print("sum of window contributions equals dL/dw:",
      np.allclose(dw, conv.param_gradients["weights"][:, :, 0, 0]))

# %% [markdown]
# ## 3. The whole backward pass, step by step
#
# The stepper walks the same network backward: from the loss, through softmax, the fully
# connected layer, tanh and the convolution, back to the input. Each step is the chain rule at
# one input element: the incoming gradients dL/dy it reads (outlined), the local derivative
# ∂y/∂x, their products and the sum, which is the recorded dL/dx. Switch to *forward* to see
# the same layers computing their outputs.

# %%
from cnnlab.widgets import ForwardStepper
backward = ForwardStepper(small, xs, labels=1)
backward.direction = "backward"
backward.run_to_layer("conv_1")
backward

# %%
step = backward.current_step
print(step.text())
print("recorded dL/dx:", round(float(conv.input_gradient.ravel()[step.flat_index]), 6))

# %% [markdown]
# Check the weight gradient with the formula above, by hand:

# %%
g = conv.output_gradient[:, :, 0]
by_hand = np.array([[(g * xs[u:u + 3, v:v + 3, 0]).sum() for v in range(2)] for u in range(2)])
print(by_hand)
print("matches:", np.allclose(by_hand, conv.param_gradients["weights"][:, :, 0, 0]))

# %% [markdown]
# **Exercise 2.** dL/db, the bias gradient of the convolution, is the sum of dL/dy over all
# output positions. Compute it from the printed dL/dy (4 decimals).

# %%
answer_2 = None
### BEGIN SOLUTION
# the nine dL/dy values as printed (4 decimals), added
answer_2 = float(np.round(conv.output_gradient[:, :, 0], 4).sum())
### END SOLUTION

# %%
# each printed dL/dy is rounded to 4 decimals (off by up to 0.00005), and so is your sum:
# a sum of the printed values is right if it is within 0.00005 per term, plus 0.00005
bias_gradient = float(conv.param_gradients["bias"][0])
terms = conv.output_gradient[:, :, 0].size
check_answer(answer_2, bias_gradient, f"sum of dL/dy = {bias_gradient:.6f} (adding the "
             f"{terms} rounded values may differ from it in the 4th decimal)",
             atol=(terms + 1) * 0.5e-4,
             hint='add every printed dL/dy value of the output map, signs included')

# %% [markdown]
# **What you saw.** A transposed convolution is a convolution of a zero-stuffed, padded input
# with the rotated filter (or, equally, overlapping stamps of the filter); backpropagation
# sends each output's gradient back through the same window: times the weights to the inputs,
# times the inputs to the weights.
