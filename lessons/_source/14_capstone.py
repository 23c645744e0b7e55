# %% [markdown]
# # Lesson 14 — Capstone: your network, your image
#
# **Goals.**
# 1. Design a network to a budget: at most 10,000 learnable parameters, and find which layer
#    costs the most.
# 2. Train it with the live TrainingMonitor and evaluate it on held-out digits: accuracy and
#    a confusion matrix.
# 3. Draw or upload your own digit, prepare it the way MNIST's digits were prepared, and let
#    your network read it.
# 4. Explain one of its mistakes with feature maps, a receptive field and a saliency map.
#
# Everything runs without a network connection: with the real MNIST (or Fashion-MNIST) files
# on your disk the lesson uses them, otherwise cnnlab's embedded, generated digits.

# %%
import io
from pathlib import Path
import numpy as np
import ipywidgets as widgets
from IPython.display import display
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.design_check import check_design
from cnnlab.datasets import digits_split, load_mnist, default_cache_dir, prepare_digit
from cnnlab.models import lenet5
from cnnlab.viz.style import figure
np.set_printoptions(linewidth=120)

# %% [markdown]
# ## 1. The data
#
# `DATA_DIR` is the folder the lesson looks in for MNIST's four files
# (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
# `t10k-labels-idx1-ubyte.gz`). Get them once, with a connection, by running
# `cnnlab.datasets.download_mnist("mnist")`, which checks their published checksums and puts
# them in exactly this folder; or download them from the MNIST mirror
# `https://ossci-datasets.s3.amazonaws.com/mnist/` and set `DATA_DIR` to where they are.
# Fashion-MNIST (Zalando's ten kinds of clothes, same file names and sizes) works too:
# `download_mnist("fashion-mnist")`, then `DATA_DIR = default_cache_dir("fashion-mnist")`
# (section 6 then reads your picture as a piece of clothing: upload a photo of a shoe).
# Without the files the lesson uses generated digits, so it runs anywhere.
#
# Either way a few thousand training images are used (training stays under a minute) and a
# separate *held-out* set that the network never trains on: MNIST's own test set ("t10k",
# written by other people than the training set) or a second batch of generated digits.

# %%
DATA_DIR = default_cache_dir("mnist")      # or Path("/where/you/put/the/files")
NUM_TRAIN, NUM_TEST = 3000, 1000
try:
    x_all, y_all = load_mnist(DATA_DIR, kind="train")
    x_held, y_held = load_mnist(DATA_DIR, kind="t10k")
    x_train, y_train = x_all[:NUM_TRAIN], y_all[:NUM_TRAIN]
    x_test, y_test = x_held[:NUM_TEST], y_held[:NUM_TEST]
    source = f"the files in {DATA_DIR}"
except FileNotFoundError:
    x_train, y_train, x_test, y_test = digits_split(NUM_TRAIN, NUM_TEST, seed=1)
    source = "cnnlab's generated digits (no MNIST files found)"
x_train, x_test = x_train / 255, x_test / 255
print(f"data: {source}")
print(f"train {x_train.shape}, held-out {x_test.shape}, classes {np.unique(y_train)}")

# %% [markdown]
# ## 2. Design to a budget
#
# Your network may have at most **10,000** learnable parameters (a phone keyboard's digit
# reader might have to fit in that). LeNet-5, from lesson 9, is far over:

# %%
BUDGET = 10_000
print(cl.analyze(lenet5()))

# %% [markdown]
# A convolution's parameters do not depend on the image size, (FH·FW·C + 1)·F; a fully
# connected layer's do: every input value gets its own weight to every output, so the layer
# right after the last feature map usually costs the most. Pooling and stride shrink that map
# for free (they have no parameters).
#
# **Exercise 1 (design).** Replace `None` with your own list of layers, from
# `cl.ImageInput((28, 28, 1))` to `cl.Softmax(), cl.Classification()`, with at most `BUDGET`
# learnable parameters. The check tells you which layer to shrink. If it fits, the rest of
# the lesson trains *your* network; otherwise it uses the design in section 3.

# %%
answer_1 = None
### BEGIN SOLUTION
# one of many designs that fit: (3·3·1 + 1)·4 = 40, then 10·(7·7·4) + 10 = 1,970
answer_1 = [cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 4, padding=1),
            cl.ReLU(), cl.MaxPooling2D(4, stride=4), cl.FullyConnected(10),
            cl.Softmax(), cl.Classification()]
### END SOLUTION

# %%
fits_1 = check_design(answer_1, BUDGET, outputs=10)
### BEGIN HIDDEN TESTS
assert fits_1, "the design is not a network within the budget (see the message above)"
### END HIDDEN TESTS

# %% [markdown]
# ## 3. A design that fits
#
# Two 3×3 convolutions with padding 1 (8 then 16 filters), each followed by ReLU and 2×2 max
# pooling (28 → 14 → 7), then one fully connected layer to the ten classes.
#
# **Exercise 2.** The last feature map is 7×7×16. How many learnable parameters has the fully
# connected layer that maps it to the ten classes (weights and biases)?

# %%
answer_2 = None
### BEGIN SOLUTION
answer_2 = 10 * 7 * 7 * 16 + 10   # 784 weights per class and 10 biases: 7,850
### END SOLUTION

# %%
def lesson_design():
    return [cl.ImageInput((28, 28, 1)),
            cl.Convolution2D(3, 8, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
            cl.Convolution2D(3, 16, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
            cl.FullyConnected(10), cl.Softmax(), cl.Classification()]

fc_params = cl.analyze(lesson_design())["fc_1"].parameters
check_answer(answer_2, fc_params, f"10·(7·7·16) + 10 = 10·784 + 10 = {fc_params:,}",
             hint="one weight from every one of the 7·7·16 inputs to each output, plus one "
                  "bias per output")

# %%
design = answer_1 if fits_1 else lesson_design()
print("training", "your design" if fits_1 else "the design of section 3")
print(cl.analyze(design))

# %% [markdown]
# ## 4. Train it, and watch
#
# Adam, learn rate 0.003, mini-batches of 50, three passes over the training images. The
# monitor draws the loss and accuracy after every mini-batch and the accuracy on 200 held-out
# images every 30 iterations; **Stop** ends training after the current iteration. Running the
# cell again trains fresh weights.

# %%
from cnnlab.widgets.training import TrainingMonitor
monitor = TrainingMonitor()
display(monitor)
options = cl.TrainingOptions("adam", initial_learn_rate=0.003, max_epochs=3, mini_batch_size=50,
                             validation_data=(x_test[:200], y_test[:200]),
                             validation_frequency=30, verbose=False, progress_bar=False, seed=0)
net, info = await monitor.run(x_train, y_train, design, options)
print(f"stopped: {info.stopped_reason}; {info.iteration} iterations "
      f"in {info.elapsed_seconds:.1f} s; {net.num_parameters:,} parameters")

# %% [markdown]
# ## 5. Evaluate on the held-out set
#
# Accuracy on all held-out images, and the confusion matrix: row = true class, column =
# predicted class, so everything off the diagonal is a mistake.

# %%
probs = net.predict(x_test)
pred = probs.argmax(axis=1)
wrong = np.flatnonzero(pred != y_test)
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (y_test, pred), 1)
print(f"held-out accuracy {np.mean(pred == y_test):.1%}: {len(wrong)} mistakes "
      f"out of {len(y_test)}")
fig = figure(4.6, 4.2)
ax = fig.add_subplot(1, 1, 1)
ax.imshow(confusion, cmap="Blues")
for t in range(10):
    for p in range(10):
        if confusion[t, p]:
            ax.text(p, t, str(confusion[t, p]), ha="center", va="center", fontsize=8,
                    color="white" if confusion[t, p] > confusion.max() / 2 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title("confusion matrix, held-out set")
fig.tight_layout()
fig

# %% [markdown]
# **Exercise 3.** Which pair (true class, predicted class) is the most common mistake? Write
# it as a tuple, e.g. `(4, 9)` for "a 4 read as 9". (The largest number off the diagonal.)

# %%
answer_3 = None
### BEGIN SOLUTION
# the largest count off the diagonal of the confusion matrix, as (row, column)
mistakes = confusion - np.diag(np.diag(confusion))
answer_3 = tuple(int(v) for v in np.unravel_index(mistakes.argmax(), mistakes.shape))
### END SOLUTION

# %%
off = confusion - np.diag(np.diag(confusion))
ties = [tuple(int(v) for v in pair) for pair in np.argwhere(off == off.max())]
# when several pairs share the largest count, any of them is right
chosen = isinstance(answer_3, tuple) and tuple(answer_3) in ties
worst = tuple(answer_3) if chosen else ties[0]
check_answer(answer_3, worst, f"{worst}: {off.max()} times"
             + (f" (as often as {', '.join(str(t) for t in ties if t != worst)})"
                if len(ties) > 1 else ""),
             hint="look for the darkest square that is not on the diagonal")

# %% [markdown]
# ## 6. Your own digit
#
# MNIST's digits were prepared in a fixed way, and a network trained on them expects it:
# white ink on black, the digit scaled to fit a 20×20 box (keeping its shape) and placed in a
# 28×28 field so that its centre of mass is in the middle. `prepare_digit` does exactly that
# to any picture: grayscale, invert light paper, crop to the ink, fit 20×20, centre by mass.
#
# **Upload** a photo or a drawing of one digit (draw it in any paint program, or on paper and
# take a photo: dark ink on light paper works best). The picture below then shows what the
# network reads and its probabilities for the ten classes. Until you upload, it reads a "7"
# drawn here with Pillow's `ImageDraw`; change the line's points to draw another digit.

# %%
from PIL import Image, ImageDraw

def drawn_digit():
    paper = Image.new("RGB", (200, 260), "white")
    pen = ImageDraw.Draw(paper)
    pen.line([(40, 50), (160, 50), (90, 220)], fill="black", width=18, joint="curve")
    pen.line([(75, 140), (140, 140)], fill="black", width=14)        # the crossbar
    return paper

def read_digit(picture):
    """Prepare a picture MNIST's way, classify it, and draw both."""
    x = prepare_digit(picture) / 255                 # 28×28×1, white ink on black, 0..1
    p = net.predict(x[None])[0]
    fig = figure(8, 2.6)
    ax = fig.add_subplot(1, 3, 1)
    ax.imshow(np.asarray(picture.convert("L")), cmap="gray")
    ax.set_title("your picture")
    ax.axis("off")
    ax = fig.add_subplot(1, 3, 2)
    ax.imshow(x[:, :, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("prepared 28×28")
    ax.axis("off")
    ax = fig.add_subplot(1, 3, 3)
    ax.bar(range(10), p, color=["#D55E00" if k == p.argmax() else "#0072B2" for k in range(10)])
    ax.set_xticks(range(10))
    ax.set_ylim(0, 1)
    ax.set_title(f"read as {p.argmax()} (p = {p.max():.2f})")
    fig.tight_layout()
    return x, p, fig

upload = widgets.FileUpload(accept="image/*", multiple=False, description="your digit")
shown = widgets.Image(format="png")
status = widgets.HTML()

def on_upload(change=None):
    if upload.value:
        item = upload.value[0]
        picture, where = Image.open(io.BytesIO(bytes(item["content"]))), item["name"]
    else:
        picture, where = drawn_digit(), "the 7 drawn with Pillow (nothing uploaded)"
    try:
        x, p, fig = read_digit(picture)
    except ValueError as e:                          # a blank picture, an unreadable file
        status.value = f"<b>{where}</b>: {e}"
        return
    shown.value = fig.png()
    status.value = f"<b>{where}</b>: read as {p.argmax()} with probability {p.max():.2f}"

upload.observe(on_upload, names="value")
on_upload()
display(widgets.VBox([upload, status, shown]))

# %% [markdown]
# The same path, as code, for the drawn 7:

# %%
mine, mine_p, mine_fig = read_digit(drawn_digit())
print("probabilities:", np.round(mine_p, 3))
print(f"read as {mine_p.argmax()}")
mine_fig

# %% [markdown]
# ## 7. Explain one mistake
#
# Take the held-out image the network got wrong with the most confidence. First its feature
# maps, layer by layer (`net.trace`):

# %%
from cnnlab.viz.network_view import network_view
from cnnlab.viz.receptive_field import ReceptiveFieldView
k = int(wrong[np.argmax(probs[wrong, pred[wrong]])]) if len(wrong) else 0
true_k, pred_k = int(y_test[k]), int(pred[k])
print(f"held-out image {k}: true {true_k}, read as {pred_k} with p = {probs[k, pred_k]:.3f} "
      f"(p of the true class {probs[k, true_k]:.3f})")
network_view(net.trace(x_test[k]))

# %% [markdown]
# **The receptive field.** A neuron of the last convolution sees only part of the digit.
# Which part does the neuron that fires most strongly see? (A dashed box, if there is one,
# is its full window where it reaches into the padding beyond the image.)
#
# **Exercise 4.** The network of section 3 has two 3×3 convolutions and a 2×2 pooling
# between them. How many pixels high is the receptive field of one neuron of `conv_2`?
# (Grow it backward: one 3×3 convolution sees 3 rows; the 2×2 pooling adds a row and
# doubles the step.)

# %%
answer_4 = None
### BEGIN SOLUTION
answer_4 = 3 + 1 + (3 - 1) * 2   # conv_1 3 rows, the pooling one more, conv_2 two steps of 2: 8
### END SOLUTION

# %%
trace = net.trace(x_test[k])
last_conv = [r.name for r in trace if r.kind == "conv"][-1]
fmap = trace[last_conv].output
row, col, ch = (int(v) for v in np.unravel_index(np.argmax(fmap), fmap.shape))
field = trace.receptive_field(last_conv, row, col)
rf_conv_2 = cl.analyze(lesson_design())["conv_2"].receptive_field[0]   # section 3's design
check_answer(answer_4, rf_conv_2,
             f"3 rows for conv_1; the 2×2 pooling adds one more (4), and conv_2's 3 steps "
             f"are 2 image pixels apart: 4 + (3 - 1)·2 = {rf_conv_2}",
             hint="the first convolution sees 3 rows and the 2×2 pooling one row more; after "
                  "the pooling each step of conv_2 moves 2 image pixels, and conv_2 spans 3 steps")
print(f"{last_conv} channel {ch}, neuron ({row}, {col}): strongest value {fmap[row, col, ch]:.2f}")
print(f"its field: rows {field.top}..{field.bottom - 1}, columns {field.left}..{field.right - 1} "
      f"of the image ({field.size[0]}×{field.size[1]} with padding)")
rf_view = ReceptiveFieldView(max_chain=3)
rf_view.show(trace, field)
rf_view

# %% [markdown]
# **Saliency.** Which pixels would change the decision? `net.trace(image, backward=True,
# labels=[c])` propagates the loss $L = -\ln p_c$ back to the image: the first record's
# `input_gradient` is $\partial L / \partial x$, one number per pixel. Where it is large, a
# small change of that pixel changes $p_c$ most. Minus the gradient points the way that
# *raises* $p_c$: the middle map for the true class, the right one for the class the network
# chose.

# %%
def saliency(image, label):
    t = net.trace(image, backward=True, labels=[label])
    return -t[0].input_gradient[:, :, 0], t.loss

grad_true, loss_true = saliency(x_test[k], true_k)
grad_pred, loss_pred = saliency(x_test[k], pred_k)
print(f"loss for the true class {true_k}: {loss_true:.3f} = -ln {np.exp(-loss_true):.4g}; "
      f"for the chosen class {pred_k}: {loss_pred:.3f}")
fig = figure(7.5, 3.1)
panels = [(x_test[k, :, :, 0], "the image", "gray", 0, 1)]
for g, c in ((grad_true, true_k), (grad_pred, pred_k)):
    m = float(np.abs(g).max()) or 1.0
    panels.append((g, f"−∂L/∂x towards {c}", "PuOr", -m, m))
for j, (values, title, cmap, lo, hi) in enumerate(panels):
    ax = fig.add_subplot(1, 3, j + 1)
    im = ax.imshow(values, cmap=cmap, vmin=lo, vmax=hi)
    ax.set_title(title)
    ax.axis("off")
    fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, pad=0.04)
fig.tight_layout()
fig

# %% [markdown]
# Read the maps together: purple pixels are ink that would help the class if it were
# brighter, orange ones would help if they were darker. Where the true class wants ink the
# writer left out (or the chosen class wants a stroke the image happens to have), there is the
# reason for the mistake. The feature maps show which strokes the filters found, and the
# receptive field shows that one neuron of the last convolution sees only a small window:
# the fully connected layer has to put the windows together.
#
# **Try it.** Design a network with half the budget (5,000): how much accuracy do you lose?
# Upload a digit written badly on purpose: at what point does the network change its mind?
#
# **What you did.** You designed a network to a parameter budget (the layer after the last
# feature map is where parameters go), trained and evaluated it on images it never saw,
# prepared your own digit as MNIST did, and explained a mistake from the inside: feature maps,
# a receptive field and the input gradient.
