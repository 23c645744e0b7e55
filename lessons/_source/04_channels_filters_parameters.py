# %% [markdown]
# # Lesson 4 — Channels, filters and parameter counts; grouped and depthwise convolution
#
# **Goals.**
# 1. Know the shape of a convolution layer's weights: FH×FW×C×F (a filter spans *all* C input
#    channels) and its bias: F.
# 2. Count parameters, neurons and connections — and verify the reference documents' numbers
#    608, 203,840 and 392,200 yourself.
# 3. See how groups cut the count: grouped and depthwise convolution.

# %%
import numpy as np
import cnnlab as cl
from cnnlab import arithmetic as ar
np.set_printoptions(linewidth=120)


def check(answer, expected, working=""):
    """Compare your answer with the one cnnlab computed; prints a message, never raises."""
    if answer is None:
        print("Fill in your answer (replace None), then run this cell again.")
    elif np.shape(answer) == np.shape(expected) and np.allclose(answer, expected):
        print(f"Right! {working}")
    else:
        print(f"Not yet: you wrote {answer!r}. Look again and try once more.")

# %% [markdown]
# ## 1. One filter spans every input channel
#
# On an RGB image (C = 3) a 5×5 filter is really 5×5×3: at each position it multiplies 75
# numbers and adds them, plus one bias. Eight such filters make eight output channels.

# %%
net = cl.Network([cl.ImageInput((32, 32, 3), normalization="none"),
                  cl.Convolution2D(5, 8, stride=2, padding=2)], seed=0)
conv = net.layers[1]
print("weights:", conv.params["weights"].shape, "(FH×FW×C×F)   bias:", conv.params["bias"].shape)
print("learnable parameters:", net.num_parameters)
x = np.random.default_rng(0).random((32, 32, 3))
rec = net.trace(x)["conv_1"]
step = rec.step(0, 0, filter=3)
print(step.text(6))
print("output size:", rec.output.shape)

# %% [markdown]
# **Exercise 1 (the reference documents' 608).** A layer of 8 filters of size 5×5 on a
# 3-channel input. How many learnable parameters? Work it out by hand: (weights per filter +
# 1 bias) × filters.

# %%
answer_1 = None   # number of parameters

# %%
r = ar.conv_parameters(5, 3, 8)
check(answer_1, r.value, r.substituted)

# %% [markdown]
# The same layer produces 16×16 maps (lesson 2), so 16·16·8 neurons:

# %%
print(ar.neurons(16, 16, 8).substituted)

# %% [markdown]
# ## 2. Connections: the reference documents' 203,840
#
# A 28×28 grey image, 10 filters of 5×5, stride 1, padded so that the maps stay 28×28 (as in
# the crash-course article the number comes from): each of the 28·28·10 neurons is connected to
# 5·5 = 25 inputs plus its bias. Count the connections, the bias included.

# %%
answer_2 = None   # number of connections

# %%
r = ar.conv_connections(28, 28, 5, 1, 10)
check(answer_2, r.value, r.substituted)
for note in r.notes:
    print("-", note)

# %% [markdown]
# ## 3. A fully connected layer: the reference documents' 392,200
#
# A fully connected layer of 200 neurons after a 14×14×10 input: each neuron has one weight
# per input value plus one bias.

# %%
answer_3 = None   # parameters of the fully connected layer

# %%
r = ar.fc_parameters((10, 14, 14), 200)
check(answer_3, r.value, r.substituted)
for note in r.notes:
    print("-", note)

# %% [markdown]
# Check with a real layer: build it and count.

# %%
fc_net = cl.Network([cl.ImageInput((14, 14, 10), normalization="none"), cl.FullyConnected(200)])
print("weights", fc_net.layers[1].params["weights"].shape, "bias", fc_net.layers[1].params["bias"].shape,
      "→", f"{fc_net.num_parameters:,}", "parameters")

# %% [markdown]
# ## 4. Grouped and depthwise convolution
#
# With `groups = g`, the C input channels and the F filters are split into g groups; each
# filter only sees the C/g channels of its group. Its weights are FH×FW×(C/g)×F: g times fewer.
# With g = C (one channel per group) the layer is *depthwise*.

# %%
for groups in [1, 2, 4, 16]:
    r = ar.conv_parameters(3, 16, 16, groups=groups)
    layer_net = cl.Network([cl.ImageInput((8, 8, 16), normalization="none"),
                            cl.Convolution2D(3, 16, groups=groups)], seed=0)
    print(f"groups={groups:2d}: weights {layer_net.layers[1].params['weights'].shape}, "
          f"{r.value:5,} parameters   {r.substituted}")

# %% [markdown]
# **Exercise 4.** A depthwise 3×3 convolution on 32 channels (one filter per channel), bias
# included. How many parameters?

# %%
answer_4 = None

# %%
r = ar.conv_parameters(3, 32, 32, groups=32)
check(answer_4, r.value, r.substituted)

# %% [markdown]
# ## 5. The whole network at once
#
# `cl.analyze` lists sizes, learnables, parameters, multiply-adds and receptive fields of every
# layer of a network:

# %%
from cnnlab.models import lenet5
print(cl.analyze(cl.Network(lenet5(), seed=0)))

# %% [markdown]
# ## 6. Try it
#
# Change channels, filters and groups in the calculator and watch the parameter count.

# %%
from cnnlab.widgets.arithmetic import ArithmeticCalculator
calc = ArithmeticCalculator("conv", input_size=32, filter_size=5, stride=2, padding=2,
                            channels=3, filters=8)
calc

# %% [markdown]
# **What you saw.** Parameters of a convolution layer: (FH·FW·C/g + 1)·F, independent of the
# image size; neurons and connections grow with the output size; a fully connected layer has
# one weight per input value per neuron, which is why it usually holds most parameters.
