# %% [markdown]
# # Lesson 13 — Why convolution, and how it is computed
#
# **Goals.**
# 1. See what **weight sharing** buys: the same few weights at every position, instead of a
#    weight per input per output.
# 2. See **translation equivariance** (shift the input, the feature map shifts with it) and
#    how a stride breaks it (aliasing).
# 3. Compute a whole convolution as **one matrix product** (im2col), the way fast libraries
#    do, side by side with the loop.
# 4. Understand **1×1 convolutions**: a fully connected layer applied at every pixel.
# 5. See that the input gradient of a convolution **is** a transposed convolution with the
#    same filter (lesson 10's two halves, joined).
# 6. Tour four famous networks with `cl.analyze`: LeNet-5, AlexNet, VGG-16 and ResNet-18,
#    and check their numbers against the published ones.
# 7. Measure why **skip connections** let a deep network train: the signal and the gradient
#    layer by layer, with and without them.

# %%
import time
import numpy as np
import cnnlab as cl
import cnnlab.arithmetic as ar
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.datasets import digits_split
from cnnlab.explain import layer_outputs
from cnnlab.kernels.columns import im2col
from cnnlab.models import alexnet, lenet5, resnet18, vgg16
from cnnlab.viz.run_comparison import compare_runs
from cnnlab.viz.network_view import png_bytes
from IPython.display import Image, display
from matplotlib.figure import Figure
np.set_printoptions(linewidth=120, precision=3, suppress=True)

# %% [markdown]
# ## 1. Weight sharing
#
# LeNet-5's first layer turns a 28×28 image into six 28×28 feature maps with six 5×5 filters:
# 6·(5·5 + 1) = 156 learnable numbers. Every output of a map uses the *same* 25 weights, each
# at its own position. A fully connected layer making the same number of outputs would give
# every output its own weight for every pixel.

# %%
conv_params = ar.conv_parameters(5, 1, 6)
print("convolution, 6 filters of 5×5:", conv_params.substituted)
dense_params = ar.fc_parameters((28, 28, 1), 28 * 28 * 6)
print("fully connected, 784 inputs to 28·28·6 outputs:", dense_params.substituted)
print(f"the fully connected layer needs {dense_params.value / conv_params.value:,.0f} times more")

# %% [markdown]
# **Exercise 1.** Without padding the six maps are 24×24. How many learnable parameters has a
# fully connected layer from the 28×28 image to that many outputs (weights and biases)?

# %%
answer_1 = None
### BEGIN SOLUTION
answer_1 = (28 * 28 * 1 + 1) * 24 * 24 * 6   # 785 weights per output: 2,712,960
### END SOLUTION

# %%
outputs = ar.conv_output_size(28, 5).value ** 2 * 6
r = ar.fc_parameters((28, 28, 1), outputs)
check_answer(answer_1, r.value, r.substituted,
             hint="count the outputs first (24·24·6), then (inputs + 1) weights per output")

# %% [markdown]
# Sharing does more than save parameters: a filter that finds a stroke in one place finds it
# everywhere, which is the next section.
#
# ## 2. Translation equivariance, and what a stride does to it
#
# Shift a digit 3 pixels down and 2 right. A stride-1 convolution computes the same windows,
# shifted: its feature map is the old one, shifted by the same amount (where both exist).

# %%
x_digits, y_digits, _x, _y = digits_split(20, 1, seed=0)
digit = x_digits[list(y_digits).index(5)] / 255            # a 5


def shifted(image, down, right):
    """The image moved down and right, zeros coming in at the top and left."""
    out = np.zeros_like(image)
    out[down:, right:] = image[:image.shape[0] - down, :image.shape[1] - right]
    return out


def feature_map(image, stride):
    w = np.random.default_rng(0).normal(size=(3, 3, 1, 1))
    net = cl.Network([cl.ImageInput((28, 28, 1), normalization="none"),
                      cl.Convolution2D(3, 1, stride=stride, weights=w, bias=np.zeros(1))],
                     dtype="float64")
    return net.predict(image)[0, :, :, 0]


y = feature_map(digit, 1)
y_shift = feature_map(shifted(digit, 3, 2), 1)
print("stride 1: map of the shifted digit equals the shifted map:",
      np.allclose(y_shift[3:, 2:], y[:-3, :-2]))

# %% [markdown]
# With stride 2 the layer looks only at every second position. Shift the input by one pixel
# and the windows fall *between* the old ones: the new map is not the old map shifted by any
# whole number of its cells. Shift by two pixels (one output cell) and it is again.

# %%
y2 = feature_map(digit, 2)
for move in (1, 2):
    y2_shift = feature_map(shifted(digit, move, move), 2)
    cells = move // 2
    same = np.allclose(y2_shift[cells:, cells:], y2[:y2.shape[0] - cells, :y2.shape[1] - cells])
    gap = np.abs(y2_shift[cells:, cells:] - y2[:y2.shape[0] - cells, :y2.shape[1] - cells]).max()
    print(f"stride 2, input shifted by {move}: shifted map? {same} (largest difference {gap:.3f})")

fig = Figure(figsize=(9, 5), dpi=80)
for row, stride in enumerate((1, 2)):
    before, after = feature_map(digit, stride), feature_map(shifted(digit, 1, 1), stride)
    cells = 1 if stride == 1 else 0           # a 1-pixel shift is one cell at stride 1
    gap = after[cells:, cells:] - before[:before.shape[0] - cells, :before.shape[1] - cells]
    for n, (values, title, cmap) in enumerate(
            [(before, f"stride {stride}: map", "viridis"),
             (after, "map of the digit shifted by 1 pixel", "viridis"),
             (gap, "difference from the map shifted 1 cell" if cells else
              "difference from the map (1 pixel is half a cell)", "PuOr")]):
        ax = fig.add_subplot(2, 3, 3 * row + n + 1)
        limit = np.abs(gap).max() or 1.0
        shown = ax.imshow(values, cmap=cmap, **({"vmin": -limit, "vmax": limit}
                                                if cmap == "PuOr" else {}))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
        fig.colorbar(shown, ax=ax, fraction=0.046)
fig.tight_layout()
display(Image(png_bytes(fig)))

# %% [markdown]
# The encyclopedia article among this project's reference documents says it plainly:
# convolution and pooling layers with stride 1 are equivariant to translations, but "layers
# with a stride greater than one ignore the Nyquist-Shannon sampling theorem and might lead
# to aliasing". The clearest case is a pattern finer than the stride: vertical stripes one
# pixel wide, sampled every second column.

# %%
stripes = np.tile([0.0, 1.0], (8, 4))                       # 8×8, columns 0 1 0 1 ...
sample = cl.Network([cl.ImageInput((8, 8, 1), normalization="none"),
                     cl.Convolution2D(1, 1, stride=2, weights=np.ones((1, 1, 1, 1)),
                                      bias=np.zeros(1))], dtype="float64")
blur = cl.Network([cl.ImageInput((8, 8, 1), normalization="none"),
                   cl.AveragePooling2D(2, stride=2)], dtype="float64")
print("stripes, first row:", stripes[0])
print("sampled with stride 2:\n", sample.predict(stripes)[0, :, :, 0])

# %% [markdown]
# **Exercise 2.** Predict before you run: shift the stripes one pixel to the right (each
# column takes its left neighbour's value; the last column wraps round to the first). What
# is the *sum* of the 4×4 sampled output then?

# %%
answer_2 = None
### BEGIN SOLUTION
# stride 2 reads columns 0, 2, 4, 6: after the shift they all hold 1
answer_2 = 16
### END SOLUTION

# %%
moved = np.roll(stripes, 1, axis=1)                           # columns 1 0 1 0 ...
after = sample.predict(moved)[0, :, :, 0]
check_answer(answer_2, float(after.sum()), f"every sampled column is now a 1-column:\n{after}",
             hint="which columns does stride 2 read (0, 2, 4, 6), and what is in them now?")

# %% [markdown]
# A one-pixel shift turned an all-dark output into an all-bright one: the stripes are
# *aliased*, as a wagon wheel in a film seems to turn backwards. Averaging before
# subsampling (a blur, here 2×2 average pooling) removes the detail the stride cannot
# represent, and the output no longer depends on the shift:

# %%
print("average pool 2×2, stride 2, stripes: ", blur.predict(stripes)[0, 0, :, 0])
print("average pool 2×2, stride 2, shifted:", blur.predict(moved)[0, 0, :, 0])

# %% [markdown]
# ## 3. im2col: the whole convolution as one matrix product
#
# A convolution output is a window of the input times the filter, summed. Copy every window
# into one row of a matrix (**im2col**, "image to columns"), and stack the filters as columns
# of a weight matrix: the whole layer is one matrix product,
#
# $$Y = \mathrm{cols}\cdot W + b,\qquad \mathrm{cols}\ \text{is}\ (N \cdot OH \cdot OW) \times (FH \cdot FW \cdot C),\quad W\ \text{is}\ (FH \cdot FW \cdot C) \times F$$
#
# `cnnlab.kernels.columns.im2col` gathers the windows with the kernel cnnlab's fast
# convolution uses. Lesson 1's 5×5 example with its 3×3 filter:

# %%
x5 = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
               [2, 0, 0, 0, 1]], dtype=float)
w3 = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)
cols = im2col(x5[None, :, :, None], 3)
print("cols: one row per output position, one column per filter tap", cols.shape)
print(cols.astype(int))
print("cols · w =", (cols @ w3.reshape(9, 1)).reshape(3, 3))

# %% [markdown]
# The same numbers as a loop over the output positions, one window at a time (what
# `kernels/reference/conv.py` does), for a real layer: 64 feature maps of 14×14×6 through 16
# filters of 5×5×6.

# %%
def conv_by_loop(x, w):
    n, h, wd, c = x.shape
    fh, fw, _, f = w.shape
    out = np.zeros((n, h - fh + 1, wd - fw + 1, f))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            window = x[:, i:i + fh, j:j + fw, :]                   # N×FH×FW×C
            out[:, i, j, :] = np.tensordot(window, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


rng = np.random.default_rng(1)
x_batch, w_layer = rng.random((64, 14, 14, 6)), rng.normal(size=(5, 5, 6, 16))
by_loop = conv_by_loop(x_batch, w_layer)
big_cols = im2col(x_batch, 5)
by_matrix = (big_cols @ w_layer.reshape(-1, 16)).reshape(64, 10, 10, 16)
print("same result:", np.allclose(by_loop, by_matrix))
print(f"the loop: {by_loop.shape[1] * by_loop.shape[2]} small products; im2col: one product "
      f"of {big_cols.shape[0]:,}×{big_cols.shape[1]} by {w_layer.size // 16}×16")
print(f"cols holds {big_cols.nbytes / x_batch.nbytes:.0f} times the input's bytes")

# %% [markdown]
# One large product is what BLAS, the most tuned routine in numerical computing, does best;
# cnnlab's fast backend computes every convolution this way (lesson 9 trained with it). The
# price is memory: each input value is copied into up to FH·FW rows.
#
# **Exercise 3.** A batch of 10 digits (28×28×1) goes through LeNet-5's first layer (5×5
# filters, padding 2). How many rows has its column matrix?

# %%
answer_3 = None
### BEGIN SOLUTION
answer_3 = 10 * 28 * 28   # one row per output position (padding 2 keeps 28×28)
### END SOLUTION

# %%
size = ar.conv_output_size(28, 5, padding=2).value
rows = im2col(np.zeros((10, 28, 28, 1)), 5, padding=2).shape[0]
check_answer(answer_3, rows, f"10 images · {size}·{size} positions = {rows:,} rows "
             f"(of 5·5·1 = 25 columns)", hint="one row per output position of every image")

# %% [markdown]
# ## 4. 1×1 convolutions
#
# A 1×1 filter sees one pixel, all its channels: at every position it computes
# $y = W^{\mathsf T} x + b$ over the C channels, a fully connected layer from C to F numbers,
# the same at every pixel. It mixes channels and changes their number, without looking at
# neighbours; networks use it to shrink 256 channels to 64 before an expensive 3×3.

# %%
x8 = rng.random((5, 5, 8))
one = cl.Network([cl.ImageInput((5, 5, 8), normalization="none"), cl.Convolution2D(1, 3)],
                 dtype="float64", seed=0)
w1, b1 = one.layers[1].params["weights"], one.layers[1].params["bias"]
per_pixel = x8.reshape(25, 8) @ w1.reshape(8, 3) + b1.reshape(-1)
print("weights", w1.shape, "->", ar.conv_parameters(1, 8, 3).substituted)
print("same as a fully connected layer at each pixel:",
      np.allclose(one.predict(x8)[0], per_pixel.reshape(5, 5, 3)))
direct = ar.conv_parameters(3, 256, 256).value
bottleneck = ar.conv_parameters(1, 256, 64).value + ar.conv_parameters(3, 64, 256).value
print(f"3×3 from 256 to 256 channels: {direct:,} parameters; "
      f"1×1 to 64 first, then 3×3 to 256: {bottleneck:,}")

# %% [markdown]
# **Exercise 4.** How many learnable parameters has a 1×1 convolution from 192 channels to
# 64 (weights and biases)?

# %%
answer_4 = None
### BEGIN SOLUTION
answer_4 = 192 * 64 + 64   # C·F weights and F biases: 12,352
### END SOLUTION

# %%
r = ar.conv_parameters(1, 192, 64)
check_answer(answer_4, r.value, r.substituted, hint="C·F weights, one per channel per "
             "filter, and one bias per filter")

# %% [markdown]
# ## 5. The input gradient of a convolution is a transposed convolution
#
# Lesson 10 showed two things: a transposed convolution stamps a copy of the filter, scaled
# by each input value, onto its output; and backpropagation sends each output gradient back
# over its window, times the weights. These are the same operation. For a convolution with
# stride s and padding p, $\frac{\partial L}{\partial x}$ is the transposed convolution of
# $\frac{\partial L}{\partial y}$ with the **same** weight array, stride s and cropping p:

# %%
conv_net = cl.Network([cl.ImageInput((7, 7, 3), normalization="none"),
                       cl.Convolution2D(3, 2, stride=2, padding=1)], dtype="float64", seed=0)
x7 = rng.random((1, 7, 7, 3))
y7 = conv_net.forward(x7, keep_caches=True)
dy = rng.normal(size=y7.shape)                    # any gradient arriving from above
dx = conv_net.backward(dy)
w = conv_net.layers[1].params["weights"]          # 3×3×3×2: FH×FW×C×F
# a transposed layer's weights are FH×FW×(its outputs)×(its inputs): here 3×3×3×2, the
# same array, neither flipped nor transposed
tconv = cl.Network([cl.ImageInput((4, 4, 2), normalization="none"),
                    cl.TransposedConvolution2D(3, 3, stride=2, cropping=1, weights=w,
                                               bias=np.zeros(3))], dtype="float64")
print("conv: 7×7×3 ->", y7.shape[1:], "; transposed: 4×4×2 ->", tconv.output_shape)
print(ar.transposed_conv_output_size(4, 3, stride=2, cropping=1).substituted)
print("dL/dx equals the transposed convolution of dL/dy:",
      np.allclose(dx, tconv.predict(dy)))

# %% [markdown]
# That is why a transposed convolution is called *transposed*: written as a matrix acting on
# the flattened image, a convolution is a matrix $C$, its input gradient is $C^{\mathsf T}$
# times the output gradient, and the transposed convolution is that $C^{\mathsf T}$. (When
# the stride leaves rows of the padded input that no window reaches, the transposed output is
# shorter than the input and the gradient of those rows is zero.)
#
# ## 6. An architecture tour
#
# Four networks, 1998 to 2015. `cl.analyze` counts from the layers' own arithmetic; the
# weights are built as zeros (`weights_initializer="zeros"`): counting needs shapes, not the
# 138 million random numbers VGG-16 would otherwise draw. ResNet-18 is not a chain but a
# *layer graph* (section 7 builds one): its receptive field is the union of the fields of
# every path through it.

# %%
tour = {"LeNet-5": cl.analyze(lenet5(normalization="none")),
        "AlexNet": cl.analyze(alexnet(normalization="none", weights_initializer="zeros")),
        "VGG-16": cl.analyze(vgg16(normalization="none", weights_initializer="zeros")),
        "ResNet-18": cl.analyze(resnet18(normalization="none", weights_initializer="zeros"))}
print(f"{'network':9s} {'input':>10s} {'parameters':>13s} {'multiply-adds':>15s} "
      f"{'activations':>12s} {'receptive field':>16s}")
for name, a in tour.items():
    neurons = sum(row.neurons for row in a.rows)
    last_field = [row for row in a.rows if row.receptive_field][-1]
    print(f"{name:9s} {'x'.join(map(str, a.input_size)):>10s} {a.total_parameters:13,} "
          f"{a.total_multiply_adds:15,} {neurons * 4 / 2**20:9.1f} MiB "
          f"{last_field.receptive_field[0]:>7d} ({last_field.name})")

# %% [markdown]
# Check them against the published figures: torchvision's model table lists AlexNet with
# 61.1 M parameters and 0.71 G multiply-adds ("GFLOPS 0.71"), VGG-16 with 138.4 M and
# 15.47 G, and ResNet-18 with 11.7 M and 1.81 G; Araujo, Norris and Sim's "Computing
# Receptive Fields of Convolutional Neural Networks" (Distill, 2019) gives ResNet-18 a
# receptive field of 435 pixels. "Activations" is the memory of every layer's output for one image in float32,
# what a forward pass for training keeps. The receptive field is that of the last layer
# whose outputs still form a grid: after it every neuron sees the whole image.
#
# Where do VGG-16's parameters sit, and where its work?

# %%
vgg = tour["VGG-16"]
conv_rows = [r for r in vgg.rows if r.type == "Convolution"]
fc_rows = [r for r in vgg.rows if r.type == "Fully Connected"]
for label, part in (("13 convolutions", conv_rows), ("3 fully connected", fc_rows)):
    print(f"{label:18s} {sum(r.parameters for r in part) / vgg.total_parameters:6.1%} of "
          f"the parameters, {sum(r.multiply_adds for r in part) / vgg.total_multiply_adds:6.1%}"
          " of the multiply-adds")

# %% [markdown]
# The convolutions do almost all the work with few parameters (weight sharing again); the
# first fully connected layer alone holds 102.8 M parameters. AlexNet's first layer has a
# well-known wrinkle, which `cl.analyze` reports: with a 224×224 input, padding 2 and stride
# 4 the output size is not a whole number.

# %%
print(tour["AlexNet"].warnings[0].split(". ")[0] + ".")
print(ar.conv_output_size(224, 11, stride=4, padding=2).substituted)

# %% [markdown]
# ## 7. Skip connections: why a deep network trains
#
# ResNet-18 is deep (17 convolutions and a fully connected layer) because of one idea of He,
# Zhang, Ren and Sun (2015): a **residual block** adds its input to the output of its
# layers, $y = \mathrm{relu}(x + F(x))$, where a plain chain of the same layers computes
# $y = \mathrm{relu}(F(x))$. The path that skips $F$ is a **skip connection**. A network
# with one is a layer graph: `cl.LayerGraph(layers)` connects the layers in order, and
# `connect` adds the skip path into the second input of a `cl.Addition` layer.
#
# Two networks with the same 13 convolutions (3×3, 8 filters, no batch normalization) on the
# digits: six blocks of two convolutions each, with or without the skip connection.

# %%
def deep_network(skip: bool, blocks: int = 6) -> cl.LayerGraph:
    """conv 3×3/2 → 6 blocks (conv, relu, conv, [+ the block's input], relu) → pool → fc."""
    graph = cl.LayerGraph([cl.ImageInput((28, 28, 1)),
                           cl.Convolution2D(3, 8, stride=2, padding=1), cl.ReLU()])
    source = "relu_1"                                  # the output the next block reads
    for b in range(1, blocks + 1):
        block = [cl.Convolution2D(3, 8, padding=1, name=f"block{b}_conv1"),
                 cl.ReLU(name=f"block{b}_relu1"),
                 cl.Convolution2D(3, 8, padding=1, name=f"block{b}_conv2")]
        if skip:
            block.append(cl.Addition(2, name=f"block{b}_add"))
        graph.add_layers(block + [cl.ReLU(name=f"block{b}_relu")])
        graph.connect(source, f"block{b}_conv1")
        if skip:
            graph.connect(source, f"block{b}_add/in2")  # the skip connection
        source = f"block{b}_relu"
    graph.add_layers([cl.MaxPooling2D(2, stride=2, name="pool"), cl.FullyConnected(10),
                      cl.Softmax(), cl.Classification()])
    graph.connect(source, "pool")
    return graph


x_train, y_train, x_test, y_test = digits_split(1000, 300, seed=3)
x_train, x_test = x_train / 255, x_test / 255
networks = {}
for name, skip in (("plain", False), ("with skip connections", True)):
    networks[name] = cl.Network(deep_network(skip), seed=0)
    networks[name].fit_normalization(x_train)
    convs = [layer for layer in networks[name].layers if layer.type_name == "Convolution"]
    print(f"{name:22s} {len(convs)} convolutions, {networks[name].num_parameters:,} parameters")
print(networks["with skip connections"]["block1_add"].describe())

# %% [markdown]
# The skip connections add no parameters. What do they change? Measure both networks before
# any training: for every convolution, how large its output is (the signal going forward,
# root mean square over one batch) and how large the gradient of the loss with respect to
# its weights is (what training has to work with).

# %%
def signal_and_gradient(net, x, y):
    """Per convolution: RMS of its output on the batch x, and RMS of dL/dW on (x, y)."""
    _loss, grads = net.loss_and_gradients(x, y)
    rows = []
    for layer in net.layers:
        if layer.type_name == "Convolution":
            out = layer_outputs(net, x, layer.name)
            rows.append((layer.name, float(np.sqrt(np.mean(out ** 2))),
                         float(np.sqrt(np.mean(grads[layer.name]["weights"] ** 2)))))
    return rows


measured = {name: signal_and_gradient(net, x_train[:128], y_train[:128])
            for name, net in networks.items()}
print(f"{'convolution':14s} {'output RMS':>22s} {'weight gradient RMS':>26s}")
print(f"{'':14s} {'plain':>10s} {'skip':>11s} {'plain':>12s} {'skip':>13s}")
for (layer, s0, g0), (_, s1, g1) in zip(*measured.values()):
    print(f"{layer:14s} {s0:10.2e} {s1:11.2e} {g0:12.2e} {g1:13.2e}")
first = {name: rows[1][2] for name, rows in measured.items()}
ratio = first["with skip connections"] / first["plain"]
print(f"block1_conv1's weight gradient is {ratio:,.0f} times larger with skip connections")

fig = Figure(figsize=(9, 3), dpi=80)
for n, (column, title) in enumerate(((1, "output RMS of each convolution"),
                                     (2, "RMS of dL/dW of each convolution"))):
    ax = fig.add_subplot(1, 2, n + 1)
    for name, rows in measured.items():
        ax.semilogy(range(len(rows)), [r[column] for r in rows], "o-", label=name)
    ax.set_xlabel("convolution (0 = the first)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
display(Image(png_bytes(fig)))

# %% [markdown]
# In the plain chain the signal shrinks at every layer: with the default (Glorot) weights a
# convolution keeps about the variance of its input, and each ReLU then zeroes about half of
# its values, so after a dozen layers almost nothing is left; the scores are all about equal,
# and the loss hardly depends on any weight. A block with a skip connection passes its input
# on unchanged *and* adds $F(x)$, so the signal cannot fade, and neither can the gradient:
# by the chain rule the gradient reaching $x$ is the gradient at $y$ through the skip path,
# plus whatever comes back through $F$.
#
# **Exercise 5.** In one residual block without its final ReLU, $y = x + F(x)$, suppose the
# weights of $F$ are all zero. What is $\partial y / \partial x$ for each element (one number)?
# And what would it be for the plain block $y = F(x)$? (Write the residual one.)

# %%
answer_5 = None
### BEGIN SOLUTION
answer_5 = 1.0   # dy/dx = 1 + dF/dx, and dF/dx = 0 when F's weights are zero (plain: 0)
### END SOLUTION

# %%
# a residual block whose F has all-zero weights: back-propagate dL/dy = 1 to the input
block = cl.LayerGraph([cl.ImageInput((4, 4, 1), normalization="none"),
                       cl.Convolution2D(3, 1, padding=1, weights=np.zeros((3, 3, 1, 1)),
                                        bias=np.zeros(1)),
                       cl.Addition(2)])
block.connect("imageinput", "add_1/in2")
tiny = cl.Network(block, dtype="float64")
tiny.forward(np.random.default_rng(0).random((1, 4, 4, 1)), training=True)
dx = tiny.backward(np.ones((1, 4, 4, 1)))
check_answer(answer_5, float(dx.mean()),
             f"every element of dL/dx is {float(dx.mean()):g}: the skip path passes the "
             "gradient on unchanged, whatever F does (the plain block would pass 0)",
             hint="differentiate x + F(x) with respect to x: the first term gives one "
                  "thing, the second nothing when F's weights are zero")

# %% [markdown]
# Now train both networks the same way: momentum SGD at $\eta = 0.01$, mini-batches of 50,
# three passes over the 1,000 training digits.

# %%
trained = {}
for name, net in networks.items():
    options = cl.TrainingOptions("sgdm", initial_learn_rate=0.01, max_epochs=3,
                                 mini_batch_size=50, validation_data=(x_test, y_test),
                                 validation_frequency=20, plots="none", verbose=False,
                                 progress_bar=False, seed=0)
    start = time.perf_counter()
    _net, trained[name] = cl.train_network(x_train, y_train, net, options)
    info = trained[name]
    print(f"{name:22s} loss {info.loss[0]:.3f} → {np.mean(info.loss[-10:]):.3f}, "
          f"validation accuracy {info.final_validation_accuracy:.1%} "
          f"({time.perf_counter() - start:.1f} s)")
compare_runs(trained, reference=(np.log(10), "guessing (ln 10)"), panel_inches=3.6,
             height=2.8)

# %% [markdown]
# The same layers, the same weights to start from, the same data and optimizer: the plain
# chain stays at the loss of guessing, the network with skip connections learns. (With
# batch normalization after each convolution, as ResNet-18 has, the plain chain trains too,
# but less well as it gets deeper: He et al. measured a 56-layer plain network doing worse
# than a 20-layer one, and the residual version of each doing better.)

# %% [markdown]
# **What you saw.** Sharing a filter's weights over all positions costs a few hundred numbers
# where a dense layer needs millions, and makes stride-1 layers equivariant to shifts; a
# stride samples, and a pattern finer than the stride aliases. A convolution is one matrix
# product after im2col. A 1×1 convolution is a per-pixel fully connected layer. The
# gradient flowing back through a convolution is a transposed convolution with the same
# weights. The famous networks' sizes follow from the same arithmetic as LeNet-5's. And a
# skip connection keeps the signal and the gradient alive through many layers: the same
# deep stack that learns nothing as a chain learns with them.
