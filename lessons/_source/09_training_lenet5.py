# %% [markdown]
# # Lesson 9 — Train LeNet-5 on digits, then look inside
#
# **Goals.**
# 1. Train a real network (LeNet-5, in its modern form) on two thousand generated digits,
#    watching the loss and accuracy live, and stop it when you like.
# 2. Look inside the trained network: its first-layer filters, the feature maps of one digit,
#    the receptive field of a neuron.
# 3. Find the mistakes it makes and guess why.
#
# Training takes well under a minute on a laptop (Numba kernels; the very first run in a fresh
# environment also compiles them, about 15 s).

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.datasets import digits_split
from cnnlab.models import lenet5
from IPython.display import Image, display
np.set_printoptions(linewidth=120, precision=3, suppress=True)


# %% [markdown]
# ## 1. The data and the network
#
# 2,000 training digits and 500 *validation* digits, generated (no download); the network
# never trains on the validation digits, so they show how well it does on digits it has not
# seen. Pixel values are divided by 255.
#
# `lenet5()` is LeNet-5 as it is built today, not LeCun's 1998 original: a 28×28 input with
# padding 2 in the first convolution (the original took 32×32 images), ReLU instead of scaled
# tanh, max pooling instead of trainable subsampling, every second-layer filter connected to
# all six channels (the original used a sparse connection table), and softmax with
# cross-entropy instead of radial-basis output units. The sizes, 6 and 16 filters of 5×5 and
# 120, 84 and 10 neurons, are the original's.

# %%
x_train, y_train, x_val, y_val = digits_split(2000, 500, seed=0)
x_train, x_val = x_train / 255, x_val / 255
print("train", x_train.shape, " validation", x_val.shape, " classes", np.unique(y_train))
net = cl.Network(lenet5(), seed=0)
for rec in net.trace(x_train[0]):
    shapes = [f"{k} {'x'.join(map(str, v.shape))}" for k, v in rec.layer.params.items()]
    print(f"{rec.name:12s} {rec.type_name:24s} output {str(rec.output_shape):12s} "
          f"{', '.join(shapes) or '-'}")

# %% [markdown]
# **Exercise 1.** The list shows every layer's learnables (weights FH×FW×C×F for a
# convolution, outputs×inputs for a fully connected layer, and one bias per filter or neuron).
# How many learnable parameters does LeNet-5 have in total?

# %%
answer_1 = None
### BEGIN SOLUTION
# conv_1 (5·5·1 + 1)·6, conv_2 (5·5·6 + 1)·16, fc_1 (400 + 1)·120,
# fc_2 (120 + 1)·84, fc_3 (84 + 1)·10
answer_1 = 156 + 2416 + 48120 + 10164 + 850   # 61,706
### END SOLUTION

# %%
check_answer(answer_1, net.num_parameters, f"{net.num_parameters:,}: see which layer holds most.",
             hint=("add each layer's learnables in the list: a convolution has FH·FW·C·F "
                   'weights plus F biases, a fully connected layer outputs·inputs weights plus'
                   ' one bias per output'))

# %% [markdown]
# `cl.analyze` gives the same count per layer, with multiply-adds and receptive fields:

# %%
print(cl.analyze(net))

# %% [markdown]
# ## 2. Train, and watch
#
# Adam, learn rate 0.002, mini-batches of 50, two passes over the data (80 iterations). The
# monitor shows the loss and accuracy after every mini-batch, and the validation accuracy
# every 20 iterations. **Stop** ends training after the current iteration; the rest of the
# lesson then looks at the network as far as it got.
#
# The monitor trains in a background thread and the cell waits for it with `await`: that
# keeps the notebook listening to the Stop button while training runs. Each run starts from
# fresh weights (`lenet5()` builds new layers, seed 0), so running the cell again trains
# again instead of continuing.

# %%
from cnnlab.widgets.training import TrainingMonitor
monitor = TrainingMonitor()
display(monitor)
options = cl.TrainingOptions("adam", initial_learn_rate=0.002, max_epochs=2, mini_batch_size=50,
                             validation_data=(x_val, y_val), validation_frequency=20,
                             verbose=False, progress_bar=False, seed=0)
net, info = await monitor.run(x_train, y_train, lenet5(), options)
print(f"stopped: {info.stopped_reason}; {info.iteration} iterations "
      f"in {info.elapsed_seconds:.1f} s")
print(f"first loss {info.loss[0]:.6f}; validation accuracy: {info.final_validation_accuracy:.1%}")

# %% [markdown]
# ## 3. The first-layer filters
#
# Six 5×5 filters, learned from the data (purple positive, orange negative, white 0). After
# 80 steps (fewer if you pressed Stop) they are still rough; look for bands of one sign next
# to bands of the other: those respond to an edge or a stroke in that direction.

# %%
from cnnlab.viz.filters import filters_figure
from cnnlab.viz.network_view import network_view, png_bytes
display(Image(png_bytes(filters_figure(net.layers[1]))))

# %% [markdown]
# ## 4. One digit through the network
#
# The feature maps of every layer for one validation digit (a few channels each).

# %%
k = 3
trace = net.trace(x_val[k])
print(f"true {y_val[k]}, predicted {trace.label} (probability {trace.prediction[trace.label]:.3f})")
display(Image(png_bytes(network_view(trace))))

# %% [markdown]
# Explore it yourself: choose a layer, a neuron and see its receptive field.

# %%
from cnnlab.widgets.network import NetworkExplorer
explorer = NetworkExplorer(net, x_val[:8])
explorer

# %% [markdown]
# ## 5. The mistakes
#
# Which validation digits does it get wrong, and which classes does it confuse?

# %%
probs = net.predict(x_val)
pred = probs.argmax(axis=1)
wrong = np.flatnonzero(pred != y_val)
print(f"accuracy {np.mean(pred == y_val):.3f}: {len(wrong)} mistakes out of {len(y_val)}")
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (y_val, pred), 1)
print("confusion matrix (rows: true class, columns: predicted):")
print(confusion)
for i in wrong[:6]:
    print(f"validation image {i}: true {y_val[i]}, predicted {pred[i]} with p = {probs[i, pred[i]]:.2f}")

# %% [markdown]
# Look at the first mistakes (white ink on black):

# %%
from matplotlib.figure import Figure
fig = Figure(figsize=(8, 1.6), dpi=80)
for j, i in enumerate(wrong[:6]):
    ax = fig.add_subplot(1, 6, j + 1)
    ax.imshow(x_val[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{y_val[i]} → {pred[i]}", fontsize=9)
    ax.axis("off")
display(Image(png_bytes(fig)))

# %% [markdown]
# **Exercise 2.** From the confusion matrix: which true class is most often misclassified?
# (The row with the largest count off the diagonal.)

# %%
answer_2 = None
### BEGIN SOLUTION
# read the confusion matrix: per row (true class), the counts off the diagonal
answer_2 = int((confusion - np.diag(np.diag(confusion))).sum(axis=1).argmax())
### END SOLUTION

# %%
off = confusion - np.diag(np.diag(confusion))
check_answer(answer_2, int(off.sum(axis=1).argmax()), f"class {int(off.sum(axis=1).argmax())} with "
      f"{int(off.sum(axis=1).max())} mistakes.",
             hint=('for each row of the confusion matrix (a true class) add the counts off the'
                   ' diagonal; the answer is the row with the largest such sum'))

# %% [markdown]
# **Try it.** Train again with `max_epochs=4` (or 4,000 images in `digits_split`): which of
# these mistakes disappear? The network has seen each digit only twice so far; many of its
# mistakes are digits a person reads without hesitating.
#
# **What you saw.** A real network trained in seconds; its first filters respond to edges and
# strokes, its feature maps get smaller and more abstract layer by layer, and the confusion
# matrix shows which classes it still mixes up.
