# %% [markdown]
# # Lesson 4 — Channels, filters and parameter counts; grouped and depthwise convolution
#
# **Goals.**
# 1. Know the shape of a convolution layer's weights: FH×FW×C×F (a filter spans *all* C input
#    channels) and its bias: F.
# 2. Count parameters, neurons and connections, and reproduce the counts of the MATLAB
#    documentation's and the crash-course article's worked examples yourself.
# 3. See how groups cut the count: grouped and depthwise convolution.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab import arithmetic as ar
np.set_printoptions(linewidth=120)


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
x = np.random.default_rng(0).random((32, 32, 3))
rec = net.trace(x)["conv_1"]
step = rec.step(0, 0, filter=3)
print(step.text(6))
print("output size:", rec.output.shape)

# %% [markdown]
# **Exercise 1 (the MATLAB documentation's example).** The layer above: 8 filters of size 5×5
# on a 3-channel input. How many learnable parameters? Work it out by hand: (weights per
# filter + 1 bias) × filters.

# %%
answer_1 = None   # number of parameters
### BEGIN SOLUTION
answer_1 = (5 * 5 * 3 + 1) * 8   # 75 weights and a bias per filter, 8 filters: 608
### END SOLUTION

# %%
r = ar.conv_parameters(5, 3, 8)
check_answer(answer_1, r.value, r.substituted,
             hint=('each filter has 5·5·3 weights (height × width × input channels) and one '
                   'bias; multiply by the 8 filters'))

# %% [markdown]
# The layer itself agrees:

# %%
print("learnable parameters of the built layer:", net.num_parameters)

# %% [markdown]
# The same layer produces 16×16 maps (lesson 2), so 16·16·8 neurons:

# %%
print(ar.neurons(16, 16, 8).substituted)

# %% [markdown]
# ## 2. Connections: the crash-course article's example
#
# The "Crash course in CNNs" article's worked example: a 32×32 grey image, 10 filters of 5×5,
# stride 1, no padding. The maps are 28×28 (lesson 2's formula: 32 − 5 + 1), and each of the
# 28·28·10 neurons is connected to 5·5 = 25 inputs plus its bias.
#
# **Exercise 2.** Count the connections, the bias included.

# %%
answer_2 = None   # number of connections
### BEGIN SOLUTION
answer_2 = 28 * 28 * 10 * (5 * 5 + 1)   # 7,840 neurons, 26 connections each
### END SOLUTION

# %%
side = ar.conv_output_size(32, 5)
r = ar.conv_connections(side.value, side.value, 5, 1, 10)
check_answer(answer_2, r.value, f"maps {side.substituted}; connections {r.substituted}",
             hint=('count the neurons (28·28·10 map values); each is connected to its 5·5 '
                   'inputs plus its bias'))

# %% [markdown]
# How the count is made (run this after your answer):

# %%
for note in r.notes:
    print("-", note)

# %% [markdown]
# ## 3. A fully connected layer: the crash-course article's example, continued
#
# The article pools the 28×28×10 maps 2×2 with stride 2 to 14×14×10 and follows them with a
# fully connected layer of 200 neurons: each neuron has one weight per input value plus one
# bias.
#
# **Exercise 3.** How many parameters has that fully connected layer?

# %%
answer_3 = None   # parameters of the fully connected layer
### BEGIN SOLUTION
answer_3 = (14 * 14 * 10 + 1) * 200   # 1,960 weights and a bias per neuron
### END SOLUTION

# %%
r = ar.fc_parameters((14, 14, 10), 200)
check_answer(answer_3, r.value, r.substituted,
             hint=('each of the 200 neurons has one weight per input value (14·14·10 of them) '
                   'and one bias'))

# %% [markdown]
# How the count is made, and a real layer built and counted (run this after your answer):

# %%
for note in r.notes:
    print("-", note)
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
### BEGIN SOLUTION
answer_4 = (3 * 3 + 1) * 32   # one 3×3 filter and a bias per channel: 320
### END SOLUTION

# %%
r = ar.conv_parameters(3, 32, 32, groups=32)
check_answer(answer_4, r.value, r.substituted,
             hint=('a depthwise filter sees one channel only: 3·3 weights and one bias per '
                   'channel, for 32 channels'))

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
