# %% [markdown]
# # Lesson 11 — Training and generalization
#
# **Goals.**
# 1. See what the learning rate does to gradient descent: too small crawls, too large fails.
#    Predict which rate fails before you run it.
# 2. Compare three solvers (momentum SGD, Adam, RMSProp) and a learning rate that drops on a
#    schedule.
# 3. Overfit on purpose — a network that learns a small training set perfectly and does much
#    worse on digits it has not seen — then cure it with L2 regularization, dropout and data
#    augmentation, and measure which cure helps.
#
# Every run here is short (a small network or LeNet-5, one to fifty passes over a few
# thousand or a hundred digits): the whole lesson trains in well under a minute.

# %%
import math
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet (with a hint) / Fill in
from cnnlab.datasets import digits_split
from cnnlab.models import lenet5
from cnnlab.viz import augmented_samples, training_curves
from cnnlab.viz.run_comparison import compare_runs
from IPython.display import display
np.set_printoptions(linewidth=120, precision=3, suppress=True)

x_train, y_train, x_val, y_val = digits_split(2000, 500, seed=0)
x_train, x_val = x_train / 255, x_val / 255
print("train", x_train.shape, " validation", x_val.shape)


def quiet(solver, **options):
    """Training options for this lesson's runs: no table, no progress bar, seed 0."""
    return cl.TrainingOptions(solver, verbose=False, progress_bar=False, seed=0, **options)


def small_net(batch_norm=False):
    """A small classifier: 8 filters of 3×3, ReLU, 2×2 max pooling, 10 outputs (fresh weights);
    with ``batch_norm=True`` a BatchNormalization layer between the convolution and the ReLU."""
    return ([cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 8, padding="same")]
            + ([cl.BatchNormalization()] if batch_norm else [])
            + [cl.ReLU(), cl.MaxPooling2D(2, stride=2), cl.FullyConnected(10), cl.Softmax(),
               cl.Classification()])


# %% [markdown]
# ## 1. Gradient descent and the learning rate
#
# Training repeats one step: take a mini-batch, compute the loss $L$ and its gradient with
# respect to every learnable $\theta$ (backpropagation, lesson 10), and move each $\theta$ a
# little downhill:
#
# $$\theta \leftarrow \theta - \eta \, \frac{\partial L}{\partial \theta}$$
#
# The **learning rate** $\eta$ sets how far. Too small and the loss barely moves; too large
# and a step jumps past the valley floor, to a place where the loss is higher, and training
# goes nowhere (or the numbers blow up to NaN). With 10 classes, a network that guesses
# (probability 1/10 for every class) has the loss $-\ln(1/10) = \ln 10 \approx 2.30$: every run
# of the sweep starts near it, because fresh weights know nothing (a fresh network may start a
# little above it, when its random scores are confidently wrong).
#
# **Exercise 1 (predict, then run).** The next cell trains the small network four times, one
# pass over the 2,000 training digits (mini-batches of 50, so 40 steps each), with momentum SGD
# at $\eta$ = 0.001, 0.01, 0.1 and 1. One of these rates *fails*: its loss ends no lower than
# where it started (its last ten mini-batch losses average no less than its first). Which one? Write your prediction into `answer_1` **before** you run the
# sweep, then run the sweep and the check.

# %%
answer_1 = None
### BEGIN SOLUTION
answer_1 = 1.0   # momentum SGD at η = 1 overshoots: its loss does not come down
### END SOLUTION

# %%
rates = [0.001, 0.01, 0.1, 1.0]
sweep = {}
for rate in rates:
    _net, sweep[rate] = cl.train_network(
        x_train, y_train, small_net(),
        quiet("sgdm", initial_learn_rate=rate, max_epochs=1, mini_batch_size=50,
              validation_data=(x_val, y_val), validation_frequency=40))
compare_runs({f"η = {rate:g}": info for rate, info in sweep.items()},
             reference=(math.log(10), "guessing (ln 10)"))

# %%
ending = {rate: float(np.nanmean(info.loss[-10:])) for rate, info in sweep.items()}
failed = [rate for rate in rates if not ending[rate] < sweep[rate].loss[0]]
first_failed = min(failed) if failed else math.nan     # nan: no rate failed (if you changed them)
check_answer(answer_1, first_failed,
             f"η = {first_failed:g}: its last ten mini-batch losses average "
             f"{ending.get(first_failed, math.nan):.3f}, against {sweep[first_failed].loss[0]:.3f} "
             "at the start." if failed else "",
             hint="run the sweep and read each panel's last value against the dotted line of "
                  "guessing")

# %% [markdown]
# Each run's loss at the start and at the end (the mean of its last ten mini-batches), and its
# accuracy on the validation digits it never trained on:

# %%
for rate, info in sweep.items():
    print(f"η = {rate:<6g} loss {info.loss[0]:.3f} → {ending[rate]:.3f}   "
          f"validation accuracy {info.final_validation_accuracy:6.1%}")
best_rate = max(rates, key=lambda r: sweep[r].final_validation_accuracy)
print(f"best of the four after 40 steps: η = {best_rate:g}")

# %% [markdown]
# Compare the failed rate's validation accuracy with 10 %, what guessing scores. The useful
# range is narrow and you find it by trying, on a logarithmic scale (0.001, 0.01, 0.1, ...),
# exactly as here.
#
# ## 2. Three solvers: momentum SGD, Adam, RMSProp
#
# `TrainingOptions(solver)` chooses how the gradient $g$ turns into a step (cnnlab/solvers.py,
# the rules MATLAB's `trainingOptions` uses):
#
# - `"sgdm"`, momentum $\mu = 0.9$: a velocity that keeps moving the same way,
#   $v \leftarrow \mu v - \eta g$, then $\theta \leftarrow \theta + v$.
# - `"rmsprop"`: divide each parameter's step by a running root-mean-square of its own
#   gradients, $s \leftarrow \beta_2 s + (1 - \beta_2) g^2$, then
#   $\theta \leftarrow \theta - \eta \, g / (\sqrt{s} + \epsilon)$: every parameter takes
#   steps of about the same size, whatever the scale of its gradient.
# - `"adam"`: both, a running mean $m$ of the gradients (momentum) divided by the running
#   root-mean-square (bias-corrected for the first steps).
#
# Each with its default learning rate (0.01 for sgdm, 0.001 for the other two), the same
# network, the same 40 mini-batches:

# %%
solvers = {}
for solver in ("sgdm", "adam", "rmsprop"):
    options = quiet(solver, max_epochs=1, mini_batch_size=50,
                    validation_data=(x_val, y_val), validation_frequency=40)
    _net, solvers[f"{solver}, η = {options.resolved_initial_learn_rate:g}"] = \
        cl.train_network(x_train, y_train, small_net(), options)
for name, info in solvers.items():
    print(f"{name:20s} validation accuracy {info.final_validation_accuracy:.1%}")
compare_runs(solvers, reference=(math.log(10), "guessing (ln 10)"))

# %% [markdown]
# None of them is best everywhere: a solver and its learning rate are chosen together (try
# `initial_learn_rate=0.01` for Adam). Adam is a common first choice because its default rate
# works for many networks.
#
# ## 3. A learning rate that drops on a schedule
#
# Early in training large steps make fast progress; later they only rattle around the bottom
# of the valley. A **piecewise** schedule multiplies the rate by a drop factor $f$ every $P$
# epochs:
#
# $$\eta_e = \eta_0 \cdot f^{\lfloor (e - 1)/P \rfloor}$$
#
# for epoch $e$ = 1, 2, 3, ... (`learn_rate_schedule="piecewise"`, `learn_rate_drop_factor`,
# `learn_rate_drop_period`).
#
# **Exercise 2.** With $\eta_0 = 0.05$, drop factor 0.2 and drop period 2, what is the
# learning rate in epoch 5?

# %%
answer_2 = None
### BEGIN SOLUTION
answer_2 = 0.05 * 0.2 ** 2   # epochs 5-6 come after two drops: 0.002
### END SOLUTION

# %%
schedule = quiet("sgdm", initial_learn_rate=0.05, learn_rate_schedule="piecewise",
                 learn_rate_drop_factor=0.2, learn_rate_drop_period=2)
check_answer(answer_2, schedule.learn_rate(5),
             f"epoch 5 is in the third block of 2 epochs, so two drops: "
             f"0.05 · 0.2² = {schedule.learn_rate(5):g}.",
             hint="count how many drops have happened before epoch 5: epochs 1-2 use η0, "
                  "epochs 3-4 η0·f")

# %% [markdown]
# Now a constant rate against the same rate dropped tenfold after two epochs (momentum SGD,
# $\eta_0 = 0.1$, four epochs of 40 steps). The left picture is the loss, the right one the
# rate each step used:

# %%
scheduled = {}
for name, extra in (("constant η", {}),
                    ("piecewise η", dict(learn_rate_schedule="piecewise",
                                         learn_rate_drop_factor=0.1, learn_rate_drop_period=2))):
    _net, scheduled[name] = cl.train_network(
        x_train, y_train, small_net(),
        quiet("sgdm", initial_learn_rate=0.1, max_epochs=4, mini_batch_size=50,
              validation_data=(x_val, y_val), validation_frequency=40, **extra))
    info = scheduled[name]
    print(f"{name:12s} rates used {np.unique(info.learn_rate)[::-1]}, last-epoch loss "
          f"{np.mean(info.loss[info.epochs == 4]):.3f}, validation accuracy "
          f"{info.final_validation_accuracy:.1%}")
display(compare_runs(scheduled))
compare_runs(scheduled, metric="learn_rate", log_y=True)

# %% [markdown]
# Whether the drop pays off depends on when it comes: too early and the small steps slow
# learning down, too late and the large ones have long stopped helping. Here, measured:

# %%
gain = (scheduled["piecewise η"].final_validation_accuracy
        - scheduled["constant η"].final_validation_accuracy)
print(f"the schedule changed the validation accuracy by {100 * gain:+.1f} percentage points")

# %% [markdown]
# Try `learn_rate_drop_period=3` or `initial_learn_rate=0.3` above and run both cells again.
#
# ## 4. Overfitting on purpose
#
# A network with tens of thousands of parameters can memorize a small training set: it can
# learn each image by heart instead of what makes a 3 a 3. Take only the first 100 training
# digits, LeNet-5 (lesson 09), Adam with $\eta$ = 0.002, mini-batches of 10 and 50 epochs.
#
# **Exercise 3.** How many training steps (iterations, one per mini-batch) will that run take?

# %%
answer_3 = None
### BEGIN SOLUTION
answer_3 = 100 // 10 * 50   # 10 mini-batches per epoch, 50 epochs: 500
### END SOLUTION

# %%
x_small, y_small = x_train[:100], y_train[:100]


def overfit_options(**extra):
    """Adam, η = 0.002, mini-batches of 10, 50 epochs; validated every 25 iterations."""
    return quiet("adam", initial_learn_rate=0.002, max_epochs=50, mini_batch_size=10,
                 validation_data=(x_val, y_val), validation_frequency=25, **extra)


net, plain = cl.train_network(x_small, y_small, lenet5(), overfit_options())
check_answer(answer_3, plain.iteration,
             f"100 images / 10 per mini-batch = {plain.iterations_per_epoch} steps per epoch, "
             f"times {plain.max_epochs} epochs = {plain.iteration}.",
             hint="first count the mini-batches in one pass over the 100 images")


def accuracy(net, x, y):
    return float(np.mean(net.predict(x).argmax(axis=1) == y))


plain_train = accuracy(net, x_small, y_small)
print(f"training accuracy (the 100 digits it learned): {plain_train:.1%}")
print(f"validation accuracy (digits it never saw):     {plain.final_validation_accuracy:.1%}")
print(f"generalization gap: {100 * (plain_train - plain.final_validation_accuracy):.1f} "
      "percentage points")
training_curves(plain)

# %% [markdown]
# Compare where the blue mini-batch curves end with where the orange validation points end.
# The difference between the two accuracies is the **generalization gap**: what the network
# learned about these 100 images that is not true of digits. For comparison, lesson 09
# trained the same LeNet-5 on all 2,000 digits.
#
# ## 5. Three cures, measured
#
# - **L2 regularization** (`l2_regularization=λ`, also called weight decay) adds
#   $\frac{\lambda}{2}\sum \theta^2$ to the loss, so every step also pulls each weight
#   towards 0 by $\lambda\theta$: large weights that fit single images cost something.
# - **Dropout** (lesson 07) zeros each activation with probability $p$ while training, so no
#   neuron can rely on one particular other neuron being there: the network has to spread what
#   it knows. Here two `Dropout(0.5)` layers go after the first two fully connected layers.
# - **Data augmentation** shows the network a new random variant of every image at every
#   epoch: rotated, shifted and scaled a little, as handwriting varies. It cannot memorize
#   100 images it never sees twice the same. `cl.ImageDataAugmenter` draws one transform per
#   image of each mini-batch from the network's random generator (so a seed repeats a run);
#   the validation images stay as they are.
#
# What the augmenter draws (each title is the transform that made the picture):

# %%
augmenter = cl.ImageDataAugmenter(rotation=(-10, 10), x_translation=(-3, 3),
                                  y_translation=(-3, 3), scale=(0.9, 1.1))
augmented_samples(augmenter, x_small[:3], num_variants=5, seed=0)

# %% [markdown]
# The same 100 images, the same 50 epochs, with each cure and with dropout and augmentation
# together (five runs of LeNet-5, a few seconds):

# %%
def with_dropout():
    """LeNet-5 with Dropout(0.5) after the ReLUs of its first two fully connected layers."""
    layers = lenet5()
    relus = [i for i, layer in enumerate(layers) if isinstance(layer, cl.ReLU)]
    for i in reversed(relus[-2:]):
        layers.insert(i + 1, cl.Dropout(0.5))
    return layers


cures = {"L2, λ = 0.005": (lenet5, dict(l2_regularization=0.005)),
         "dropout 0.5": (with_dropout, {}),
         "augmentation": (lenet5, dict(augmentation=augmenter)),
         "dropout + augmentation": (with_dropout, dict(augmentation=augmenter))}
results = {"no cure": (plain_train, plain.final_validation_accuracy)}
runs = {"no cure": plain}
for name, (layers, extra) in cures.items():
    net_c, runs[name] = cl.train_network(x_small, y_small, layers(), overfit_options(**extra))
    results[name] = (accuracy(net_c, x_small, y_small), runs[name].final_validation_accuracy)
print(f"{'':24s} {'training':>9s} {'validation':>11s} {'change':>8s}")
for name, (train_acc, val_acc) in results.items():
    change = val_acc - results["no cure"][1]
    print(f"{name:24s} {train_acc:9.1%} {val_acc:11.1%} {100 * change:+7.1f} pt")
best = max(results, key=lambda k: results[k][1])
print(f"highest validation accuracy: {best}")
compare_runs(runs, metric="accuracy")

# %% [markdown]
# Read the table rather than a rule of thumb: with so few images, a cure that helps one
# network can do nothing for another, and a strength (λ, p, the augmenter's ranges) that is
# too large makes the training accuracy drop as well. Try a larger λ or `Dropout(0.2)`, or
# widen the rotation range, and run the cell again: each run starts from fresh weights.
#
# ## 6. What batch norm and dropout are for
#
# Lessons 06 and 07 showed what these layers compute; this lesson is what they are *for*:
#
# - **Dropout** is a regularizer: it fights overfitting, as section 5 measured. It changes
#   nothing when the network predicts (lesson 07), so it costs nothing after training.
# - **Batch normalization** is mainly for *optimization*: it keeps each channel's values at
#   mean 0 and variance 1 over the mini-batch, whatever the layers before it learned, so the
#   scale of a layer's input stops drifting as the weights change. It is often said to allow
#   larger learning rates and fewer epochs; the noise of mini-batch statistics regularizes a
#   little too.
#
# Measured: section 1's small network, momentum SGD at $\eta$ = 0.01 for its 40 steps, without
# and with a batch norm layer after the convolution:

# %%
batch_norm_runs = {}
for name, with_bn in (("without batch norm", False), ("with batch norm", True)):
    _net, batch_norm_runs[name] = cl.train_network(
        x_train, y_train, small_net(batch_norm=with_bn),
        quiet("sgdm", initial_learn_rate=0.01, max_epochs=1, mini_batch_size=50,
              validation_data=(x_val, y_val), validation_frequency=40))
    info = batch_norm_runs[name]
    print(f"{name:18s} loss {info.loss[0]:.3f} → {np.mean(info.loss[-10:]):.3f}, "
          f"validation accuracy {info.final_validation_accuracy:.1%}")
compare_runs(batch_norm_runs, reference=(math.log(10), "guessing (ln 10)"))

# %% [markdown]
# Try the other rates of section 1 (`initial_learn_rate=0.1`, `1.0`) with and without batch
# norm: a layer that speeds training up at one rate need not rescue every rate.
#
# **What you saw.** The learning rate decides whether training works at all, and you find a
# good one by sweeping it on a log scale; solvers and schedules change how fast the loss falls.
# A large network on few images learns them perfectly and generalizes poorly; regularization
# (L2, dropout) and data augmentation narrow that gap, and the only way to know by how much is
# to measure validation accuracy, as the table did.
