# %% [markdown]
# # Lesson 6 — Activations, batch normalization, cross-channel normalization
#
# **Goals.**
# 1. Apply ReLU, leaky ReLU, clipped ReLU, tanh and sigmoid element by element.
# 2. Compute batch normalization: subtract the mean, divide by √(variance + ε), scale and shift —
#    with batch statistics when training and the running (trained) statistics when predicting.
# 3. Compute cross-channel (local response) normalization across neighbouring channels.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
np.set_printoptions(linewidth=120, precision=4, suppress=True)


def one(layer, shape):
    return cl.Network([cl.ImageInput(shape, normalization="none"), layer], seed=0)

# %% [markdown]
# ## 1. Activations

# %%
z = np.linspace(-3, 3, 7)
x = z.reshape(1, 1, 7, 1)
for layer in [cl.ReLU(), cl.LeakyReLU(0.1), cl.ClippedReLU(2), cl.Tanh(), cl.Sigmoid()]:
    y = one(layer, (1, 7, 1)).predict(x)
    print(f"{layer.type_name:14s}", y.ravel())
print(f"{'input':14s}", z)

# %% [markdown]
# **Exercise 1.** Leaky ReLU with scale 0.1 at input −2.5?

# %%
answer_1 = None
### BEGIN SOLUTION
answer_1 = 0.1 * -2.5   # negative inputs are scaled: -0.25
### END SOLUTION

# %%
leaky = one(cl.LeakyReLU(0.1), (1, 1, 1)).predict(np.full((1, 1, 1, 1), -2.5)).item()
check_answer(answer_1, leaky,
             f"Negative inputs are multiplied by the scale: 0.1 · (−2.5) = {leaky:g}.",
             hint=('a leaky ReLU keeps positive inputs and multiplies negative ones by its '
                   'scale'))

# %% [markdown]
# ## 2. Batch normalization
#
# For each channel c, over the mini-batch and all positions:
#
# $$\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}},\qquad y = \gamma_c\,\hat x + \beta_c$$
#
# γ (scale) and β (offset) are learned. While training the layer also keeps running averages of
# μ and σ², which it uses when predicting.

# %%
rng = np.random.default_rng(0)
batch = rng.normal(5.0, 2.0, size=(16, 4, 4, 2))
bn_net = one(cl.BatchNormalization(), (4, 4, 2))
y_train = bn_net.forward(batch, training=True)
print("batch mean per channel    :", batch.mean(axis=(0, 1, 2)))
print("output mean per channel   :", y_train.mean(axis=(0, 1, 2)), "(≈ 0)")
print("output std per channel    :", y_train.std(axis=(0, 1, 2)), "(≈ 1)")
bn = bn_net.layers[1]
print("learnables:", {k: v.shape for k, v in bn.params.items()})

# %% [markdown]
# One value by hand. Trace the whole batch (and look at its first image): in training mode the
# trace keeps the statistics the layer used, those of the 16 images together, the same
# numbers as the batch mean printed above.

# %%
tr = bn_net.trace(batch, image=0, training=True)["batchnorm_1"]
print("mode:", tr.mode)
print("mean used     :", tr.mean, "  batch mean     :", batch.mean(axis=(0, 1, 2)))
print("variance used :", tr.variance, "  batch variance :", batch.var(axis=(0, 1, 2)))
print("epsilon", tr.epsilon, " scale", tr.scale_param, " offset", tr.offset)
v = batch[0, 0, 0, 0]
by_hand = (v - tr.mean[0]) / np.sqrt(tr.variance[0] + tr.epsilon) * tr.scale_param[0] + tr.offset[0]
print(f"image 0, row 0, column 0, channel 0: x = {v:.4f} → by hand {by_hand:.4f}, "
      f"layer {y_train[0, 0, 0, 0]:.4f}")

# %% [markdown]
# **Exercise 2.** Batch normalization on a 16-channel input: how many learnable parameters?

# %%
answer_2 = None
### BEGIN SOLUTION
answer_2 = 2 * 16   # a scale γ and an offset β per channel: 32
### END SOLUTION

# %%
r = cl.arithmetic.batchnorm_parameters(16)
check_answer(answer_2, r.value, r.substituted,
             hint='batch normalization learns a scale γ and an offset β for every channel')

# %% [markdown]
# ## 3. Cross-channel normalization (local response normalization)
#
# Each value is divided by a term built from the squares of the values at the same position in
# the n neighbouring channels:
#
# $$y = \frac{x}{\left(k + \frac{\alpha}{n}\sum_{\text{window}} x_j^2\right)^{\beta}}$$

# %%
xc = np.arange(1, 6, dtype=float).reshape(1, 1, 5)
lrn_net = one(cl.CrossChannelNormalization(3, alpha=1.0, beta=0.75, k=2), (1, 1, 5))
rec = lrn_net.trace(xc)[1]          # record 1: the normalization layer
print("channels in each window:", rec.windows)
print("sums of squares:", rec.window_sums.ravel())
print("denominator base k + α·ss/n:", rec.scale_factor.ravel())
print("output:", rec.output.ravel())
print("by hand, channel 2:", 3 / (2 + 1.0 * (2**2 + 3**2 + 4**2) / 3) ** 0.75)

# %% [markdown]
# ## 4. In a network
#
# The MATLAB documentation's first digit network has convolution → batch normalization → ReLU
# twice. Untrained and predicting, its batch normalization changes nothing: it starts with
# running mean 0, running variance 1, scale 1 and offset 0, so y = x / √(1 + ε) ≈ x and its
# maps equal the convolution's. Ten training steps on 200 digits train the scale and offset
# and move the running statistics *towards* the channels' real numbers: each step keeps 90 %
# of the old value and adds 10 % of the batch's, so after ten steps 0.9¹⁰ ≈ 35 % of the
# starting variance 1 is still in it (the channels' own variances are far smaller). Even so,
# the maps now differ.

# %%
from cnnlab.datasets import make_digits
from cnnlab.models import reference_example
from cnnlab.widgets.network import NetworkExplorer
images, labels = make_digits(200, seed=0)
ref = cl.Network(reference_example(), seed=0)
ref.fit_normalization(images / 255)


def compare(net, title):
    """Batch-norm output against its input (the convolution's output), predicting digit 0."""
    tr = net.trace(images[0] / 255)
    conv_map, bn_map = tr["conv_1"].output, tr["batchnorm_1"].output
    state = net["batchnorm_1"].state
    print(f"{title}: running mean {state['trained_mean'][:3]}..., running variance "
          f"{state['trained_variance'][:3]}...")
    print(f"   largest |batchnorm_1 − conv_1| on digit 0: {np.abs(bn_map - conv_map).max():.4f}")


compare(ref, "untrained")
options = cl.TrainingOptions("sgdm", max_epochs=1, mini_batch_size=20, plots="none",
                             verbose=False, progress_bar=False, seed=0)
ref, info = cl.train_network(images / 255, labels, ref, options)
compare(ref, f"after {info.iteration} training steps")

# %% [markdown]
# Pick conv_1 and batchnorm_1 in the explorer (the same channel) and compare their maps: the
# trained batch normalization shifts and rescales each channel.

# %%
NetworkExplorer(ref, images[:4] / 255, layer="batchnorm_1")

# %% [markdown]
# **What you saw.** Activations act on each number alone; batch normalization standardizes each
# channel with batch (training) or running (prediction) statistics and then scales and shifts
# with two learned numbers per channel; cross-channel normalization divides by the energy of
# neighbouring channels.
