# %% [markdown]
# # Lesson 12 — What does the network see?
#
# **Goals.**
# 1. Find the pixels a class score is most sensitive to: the **saliency map**, the gradient of
#    the score with respect to the image (the backward pass you followed in lesson 10, run
#    all the way to the input).
# 2. Hide parts of a digit and watch the network's belief fall: an **occlusion map**.
# 3. Find the image patches that make one filter respond most, each cut out exactly by the
#    neuron's receptive field (lesson 3).
# 4. Fool the network: change every pixel by at most ε, in the direction the gradient says,
#    and the digit's class flips while the digit looks the same (**fast gradient sign**).
#
# Everything here is computed by `cnnlab.explain` from the network's own layers; the
# pictures come from `cnnlab.viz.explain`.

# %%
import time
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.datasets import digits_split
from cnnlab.models import lenet5
from cnnlab import explain
from cnnlab.viz import explain as pictures
from cnnlab.viz.network_view import png_bytes
from IPython.display import Image, display
np.set_printoptions(linewidth=120, precision=3, suppress=True)

# %% [markdown]
# ## 0. A trained network
#
# LeNet-5 trained as in lesson 9 (2,000 generated digits, two passes with Adam), without the
# monitor: a few seconds.

# %%
x_train, y_train, x_val, y_val = digits_split(2000, 500, seed=0)
x_train, x_val = x_train / 255, x_val / 255
options = cl.TrainingOptions("adam", initial_learn_rate=0.002, max_epochs=2, mini_batch_size=50,
                             verbose=False, progress_bar=False, seed=0)
start = time.perf_counter()
net, info = cl.train_network(x_train, y_train, lenet5(), options)
pred = net.predict(x_val).argmax(axis=1)
print(f"trained in {time.perf_counter() - start:.1f} s; "
      f"validation accuracy {np.mean(pred == y_val):.1%}")

# %% [markdown]
# ## 1. Saliency: which pixels matter to the score?
#
# Before the softmax the network computes one **score** $s_k$ per class. Nudge one pixel
# $x_{ij}$ a little: the score changes by about $\frac{\partial s_k}{\partial x_{ij}}$ times
# the nudge. The **saliency map** (Simonyan, Vedaldi and Zisserman, 2014) is the size of that
# derivative at every pixel:
#
# $$M_{ij} = \left|\frac{\partial s_k}{\partial x_{ij}}\right|$$
#
# It is computed by one backward pass. `net.trace(x, backward=True, labels=...)` already
# records the gradient of the *loss* $L = -\ln p_k$ at every layer, down to the image: the
# first record's `input_gradient`. `explain.saliency` computes the same backward pass, from
# the score or from the loss:

# %%
k = 3
trace = net.trace(x_val[k], backward=True, labels=[y_val[k]])
from_trace = trace[0].input_gradient
from_loss = explain.saliency(net, x_val[k], y_val[k], target="loss")
print(f"digit {k}: true class {y_val[k]}, p = {trace.prediction[y_val[k]]:.3f}")
print("the trace's dL/dx equals saliency(target='loss').gradient:",
      np.allclose(from_trace, from_loss.gradient, rtol=1e-4, atol=1e-7))

# %% [markdown]
# The two gradients differ by a factor per class: $\frac{\partial L}{\partial s_j} = p_j - [j = k]$.
# When the network is sure ($p_k$ close to 1) the loss barely changes and its gradient is
# tiny, whatever the pixel. The score's gradient does not fade that way, so saliency maps
# use the score:

# %%
from_score = explain.saliency(net, x_val[k], y_val[k])
print(f"largest |dL/dx| {np.abs(from_loss.gradient).max():.5f}   "
      f"largest |ds/dx| {from_score.map.max():.3f}")
maps = [explain.saliency(net, x_val[i], y_val[i]) for i in (k, 1, 2)]
display(Image(png_bytes(pictures.saliency_figure(maps))))

# %% [markdown]
# Bright pixels are where a small change moves the score most. They lie on and next to the
# strokes; the background far from the digit hardly matters. The maps are speckled: each
# pixel's derivative is its own, and neighbouring pixels can differ a lot.
#
# ## 2. Occlusion: hide a part, watch the probability
#
# A gradient describes tiny changes. Zeiler and Fergus (2014) asked a blunter question: cover
# a square of the image and see how much the probability of the true class falls. Slide the
# square over the image, record the drop at each position, and you have an **occlusion map**.
# Every number in it is a real prediction of a real, modified image.
#
# **Exercise 1.** A 6×6 patch slides over the 28×28 digit in steps of 2 pixels (starting at
# the top-left corner, always fully inside the image). How many occluded images does the
# network classify?

# %%
answer_1 = None
### BEGIN SOLUTION
answer_1 = ((28 - 6) // 2 + 1) ** 2   # 12 positions per axis: 144
### END SOLUTION

# %%
occlusion = explain.occlusion_map(net, x_val[k], y_val[k], patch=6, stride=2, fill=0.0)
rows, cols = occlusion.drop.shape
check_answer(answer_1, rows * cols, f"tops 0, 2, ..., 22: (28 - 6)/2 + 1 = {rows} per axis, "
             f"{rows}·{cols} = {rows * cols} images",
             hint="count the positions along one axis, (28 - 6)/2 + 1, then for both axes")

# %% [markdown]
# The patch is filled with 0, the background of these digits, so it erases whatever strokes
# it covers. The middle picture shows, at each pixel, the mean drop of $p_k$ over the patches
# that covered it; the right one shows the patch where the drop was largest.

# %%
display(Image(png_bytes(pictures.occlusion_figure(occlusion))))
i, j = np.unravel_index(np.argmax(occlusion.drop), occlusion.drop.shape)
print(f"p({y_val[k]}) unoccluded {occlusion.baseline:.3f}; with the patch at top "
      f"{occlusion.tops[i]}, left {occlusion.lefts[j]}: {occlusion.probability[i, j]:.3f} "
      f"(predicted {occlusion.predicted[i, j]})")
print("the same as predicting that image directly:",
      np.isclose(net.predict(occlusion.occluded(i, j))[0, y_val[k]],
                 occlusion.probability[i, j], rtol=1e-4, atol=1e-6))

# %% [markdown]
# ## 3. What one filter responds to
#
# A neuron of layer `relu_2` (after the second convolution) sees only part of the image: its
# receptive field (lesson 3), which cnnlab traces exactly, down through the real layers.
#
# **Exercise 2.** How many image pixels does a `relu_2` neuron away from the edges see? Work
# down: a 5×5 convolution of the pooled maps, 2×2 pooling with stride 2, a 5×5 convolution
# with padding 2 of the image.

# %%
answer_2 = None
### BEGIN SOLUTION
# 5 pooled rows come from 10 conv_1 rows, each reading 5 image rows: 14 rows
answer_2 = 14 * 14   # 196
### END SOLUTION

# %%
field = trace.receptive_field("relu_2", 5, 5)
check_answer(answer_2, int(field.mask.sum()),
             f"rows {field.top}..{field.bottom - 1}, columns {field.left}..{field.right - 1}: "
             f"{field.bottom - field.top}×{field.right - field.left} = {int(field.mask.sum())} pixels",
             hint=('5 pooled rows come from 10 conv_1 rows, and each conv_1 row reads 5 image '
                   'rows'))

# %% [markdown]
# Now run all 500 validation digits up to `relu_2`, find for each digit where filter f
# responds most, keep the nine strongest digits and cut out of each exactly the pixels that
# neuron sees. Hatched: the part of a field that lies outside the image (a neuron near the
# edge sees the padding there). Above each patch: the digit's index, the neuron (row, col)
# and its activation.

# %%
for f in (3, 9):
    top = explain.top_activating_patches(net, x_val, "relu_2", f, k=9)
    display(Image(png_bytes(pictures.patches_figure(top, title=f"relu_2, filter {f}"))))

# %% [markdown]
# What the nine patches of a filter have in common is what it detects: a stroke of one
# direction, an end of a line, a curve. Try other filters (0..15), or `"relu_1"` (5×5 fields:
# plain edges).
#
# ## 4. Fool the network: the fast gradient sign method
#
# The loss gradient $g = \frac{\partial L}{\partial x}$ says in which direction each pixel
# should move to make the true class *less* likely. Goodfellow, Shlens and Szegedy (2015)
# move every pixel by the same small ε in that direction:
#
# $$x_{\text{adv}} = \operatorname{clip}\left(x + \varepsilon\,\operatorname{sign}(g),\ 0,\ 1\right)$$
#
# No pixel changes by more than ε, but all 784 changes push the same way: to first order the
# loss grows by $\varepsilon \sum_{ij} |g_{ij}|$.

# %%
epsilon = 0.1
attack = explain.fgsm(net, x_val[k], y_val[k], epsilon)
print(f"before: class {attack.original_label} with p = "
      f"{attack.original_probabilities[attack.original_label]:.3f}")
print(f"after:  class {attack.adversarial_label} with p = "
      f"{attack.adversarial_probabilities[attack.adversarial_label]:.3f}; "
      f"flipped: {attack.flipped}")
print(f"largest change of a pixel: {np.abs(attack.perturbation).max():.3f}")
display(Image(png_bytes(pictures.adversarial_figure(attack))))

# %% [markdown]
# A person still reads the same digit. How often does it work? The same step for the first
# 200 validation digits, at several ε (at ε = 0 the accuracy is those 200 digits', a little
# different from the whole validation set's above):

# %%
for eps in (0.0, 0.02, 0.05, 0.1, 0.15, 0.2):
    batch = explain.fgsm(net, x_val[:200], y_val[:200], eps)
    print(f"epsilon {eps:4.2f}: accuracy {np.mean(batch.adversarial_label == y_val[:200]):6.1%}")

# %% [markdown]
# **Exercise 3.** With ε = 0.1, by how much at most can the *sum* of the 784 pixel values of
# a digit change?

# %%
answer_3 = None
### BEGIN SOLUTION
answer_3 = 28 * 28 * 0.1   # every pixel moves by at most ε: 78.4
### END SOLUTION

# %%
pixels = x_val[k].size
check_answer(answer_3, pixels * epsilon, f"{pixels} pixels × ε = {pixels} × {epsilon} = "
             f"{pixels * epsilon:g} (less where clipping stops a pixel at 0 or 1)",
             hint="every pixel moves by at most ε, and there are 28·28 of them")

# %% [markdown]
# **Try it.** Choose a digit and ε: the perturbed digit and the network's verdict.

# %%
import ipywidgets as widgets
digit = widgets.IntSlider(k, min=0, max=len(x_val) - 1, description="digit")
eps_slider = widgets.FloatSlider(0.1, min=0.0, max=0.3, step=0.01, description="ε")
picture = widgets.Image(format="png")


def show_attack(change=None):
    a = explain.fgsm(net, x_val[digit.value], y_val[digit.value], eps_slider.value)
    picture.value = png_bytes(pictures.adversarial_figure(a))


digit.observe(show_attack, names="value")
eps_slider.observe(show_attack, names="value")
show_attack()
widgets.VBox([widgets.HBox([digit, eps_slider]), picture])

# %% [markdown]
# **What you saw.** One backward pass gives the saliency map: where a small change moves the
# score. Occlusion measures real drops of the probability when a part is hidden. A filter's
# strongest patches, cut by the exact receptive field, show what it detects. And the same
# gradient, followed by ε at every pixel, flips the class of a digit that looks unchanged:
# the network's decision depends on many small things at once, not only on the strokes a
# person sees.
