# %% [markdown]
# # Lesson 8 — Fully connected, softmax and the loss; a whole forward pass step by step
#
# **Goals.**
# 1. A fully connected layer: flatten H×W×C (row-major over H, W, C), multiply by the weight
#    matrix, add the bias.
# 2. Softmax turns K scores into probabilities; cross-entropy turns them into one loss number.
# 3. Walk through every layer of a small network on one digit.

# %%
import numpy as np
import cnnlab as cl
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
from cnnlab.datasets import make_digits
from cnnlab.models import reference_example
np.set_printoptions(linewidth=120, precision=4, suppress=True)


# %% [markdown]
# ## 1. Fully connected

# %%
x = np.arange(12, dtype=float).reshape(2, 3, 2) / 10          # 2×3×2 input
fc_net = cl.Network([cl.ImageInput((2, 3, 2), normalization="none"), cl.FullyConnected(3)], seed=0)
rec = fc_net.trace(x)[1]
print("flattened input (row-major over H, W, C):", rec.flattened_input)
print("weights", rec.weights.shape, " bias", rec.bias.shape)
by_hand = rec.weights @ rec.flattened_input + rec.bias
print("W·x + b by hand:", by_hand, "  layer:", rec.output.ravel())

# %% [markdown]
# ## 2. Softmax and cross-entropy
#
#
# $$p_i = \frac{e^{z_i}}{\sum_j e^{z_j}},\qquad \text{loss} = -\sum_i t_i \ln p_i = -\ln p_{\text{true class}}$$
#
# Softmax is computed after subtracting the largest score (same ratios, no overflow).

# %%
z = np.array([2.0, 1.0, 0.1])
sm_net = cl.Network([cl.ImageInput((1, 1, 3), normalization="none"), cl.Softmax(),
                     cl.Classification()], seed=0)
tr = sm_net.trace(z.reshape(1, 1, 3), labels=[0])
s = tr[1]
print("shift:", s.shift, " exponentials:", s.exponentials, " sum:", round(s.exp_sum, 4))
print("probabilities:", s.probabilities)
print("loss for true class 0:", tr.loss, "  −ln p0 =", -np.log(s.probabilities[0]))

# %% [markdown]
# **Exercise 1.** Same scores, but the true class is 2. What is the loss (3 decimals)?

# %%
answer_1 = None
### BEGIN SOLUTION
# softmax of the scores (2, 1, 0.1): p2 = e^0.1 / (e^2 + e^1 + e^0.1) = 0.0986
answer_1 = 2.317   # -ln 0.0986
### END SOLUTION

# %%
loss2 = sm_net.trace(z.reshape(1, 1, 3), labels=[2]).loss
check_answer(None if answer_1 is None else round(answer_1, 3), round(float(loss2), 3),
      f"−ln p2 = −ln {s.probabilities[2]:.4f} = {float(loss2):.4f}: a confident wrong answer costs a lot.",
             hint=('the loss is −ln of the probability softmax gives the true class: take the '
                   'softmax of the scores, then −ln of entry 2'))

# %% [markdown]
# ## 3. A whole forward pass, layer by layer
#
# The reference documents' network (untrained) on one digit. The trace keeps every layer's
# output; print each layer's output size and a few numbers.

# %%
images, labels = make_digits(8, seed=0)
net = cl.Network(reference_example(), seed=0)
net.fit_normalization(images / 255)
trace = net.trace(images[0] / 255, labels=[labels[0]])
for rec in trace:
    out = np.asarray(rec.output)
    print(f"{rec.index:2d} {rec.name:12s} {rec.type_name:24s} {str(rec.output_shape):14s} "
          f"min {out.min():8.3f}  max {out.max():8.3f}")
print(f"true class {labels[0]}, predicted {trace.label} (probability "
      f"{trace.prediction[trace.label]:.3f}), loss {trace.loss:.4f}  (untrained: a guess)")

# %% [markdown]
# One window of the first convolution, and one neuron of the fully connected layer:

# %%
print(trace["conv_1"].step(14, 14, filter=2).text(6))
fc = trace["fc_1"]
print(f"fc_1 neuron 0: {fc.weights.shape[1]:,} products + bias = {fc.output.ravel()[0]:.4f}")

# %% [markdown]
# ## 4. Step through the whole pass
#
# The stepper walks the same trace like a debugger: every layer, one output value at a time —
# the pixel's normalization, a convolution window, one batch-norm value on its channel's
# histogram, one ReLU point on its curve, one fully connected neuron as input × weights and
# its running sum, the softmax's exponentials, the loss term. **step ▶** goes one value on,
# **step over layer ▶▶** to the next layer, **run to layer** jumps; **play** runs it. Click the
# handle of the *pass* slider and use the ← / → keys to step from the keyboard.

# %%
from cnnlab.widgets import ForwardStepper
stepper = ForwardStepper(net, images[0] / 255, labels=int(labels[0]))
stepper.run_to_layer("fc_1")
stepper

# %% [markdown]
# The neuron the stepper shows is one dot product over the 6,272 flattened inputs; its step
# names every term. Check that the step's value is the layer's output:

# %%
step = stepper.current_step
print(stepper.layer_name, "neuron", step.flat_index, "=", round(step.value, 6))
print("recorded output:", round(float(trace["fc_1"].output.ravel()[step.flat_index]), 6))

# %% [markdown]
# ## 5. Explore it
#
# The network explorer shows each layer's feature maps; pick a layer and a neuron to see its
# value and receptive field.

# %%
from cnnlab.widgets.network import NetworkExplorer
explorer = NetworkExplorer(net, images[:4] / 255)
explorer

# %% [markdown]
# **Exercise 2.** The fc_1 layer above takes a 14×14×32 input and has 10 outputs. How many
# parameters does it have?

# %%
answer_2 = None
### BEGIN SOLUTION
answer_2 = 14 * 14 * 32 * 10 + 10   # 6,272 weights per output, 10 outputs, 10 biases
### END SOLUTION

# %%
r = cl.arithmetic.fc_parameters((14, 14, 32), 10)
check_answer(answer_2, r.value, r.substituted,
             hint=('one weight per input value per output (14·14·32 inputs, 10 outputs) and '
                   'one bias per output'))

# %% [markdown]
# **What you saw.** A fully connected layer is one matrix product on the flattened input;
# softmax makes probabilities; the cross-entropy loss is −ln of the probability of the true
# class; the trace shows every intermediate of a whole forward pass.

# %% [markdown]
# ## 6. The same network in PyTorch, and a PyTorch model stepped through
#
# When you move on to PyTorch, the network comes with you: `cl.to_torch(net)` builds a
# `torch.nn.Sequential` with the same weights, batch-norm statistics and input normalization,
# and `net.to_torch_code()` prints the PyTorch code beside each cnnlab layer. The other way,
# `cl.from_torch(model, input_size)` reads a PyTorch model into cnnlab, where every window can
# be stepped through. (PyTorch is optional: the cells below say how to install it if it is
# missing.) We compare in float64, where the two must agree to the last digits.

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: pip install torch (or pip install 'cnnlab[torch]'), "
          "then run this section again.")

# %%
if torch is not None:
    net64 = net.astype("float64")
    model = cl.to_torch(net64)
    x4 = images[:4] / 255                                   # N×H×W×C, as cnnlab takes it
    with torch.no_grad():                                   # PyTorch wants N×C×H×W
        p_torch = model(torch.from_numpy(x4.transpose(0, 3, 1, 2).copy())).numpy()
    p_cnnlab = net64.predict(x4)
    print("PyTorch probabilities of image 0:", p_torch[0].round(4))
    print("cnnlab  probabilities of image 0:", p_cnnlab[0].round(4))
    print(f"largest difference over 4 images: {np.abs(p_torch - p_cnnlab).max():.1e}")
    print()
    print(net.to_torch_code())

# %% [markdown]
# Now a model written in PyTorch (a convolution without bias, batch normalization, pooling,
# a linear layer), imported and traced: the window at row 14, column 14 of filter 2 adds up to
# exactly what PyTorch's convolution computed there.

# %%
if torch is not None:
    from torch import nn
    torch.manual_seed(0)
    tiny = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 14 * 14, 10),
                         nn.Softmax(dim=1)).double().eval()
    imported = cl.from_torch(tiny, input_size=(28, 28, 1))
    print(imported)
    step = imported.trace(x4[0])["conv_1"].step(14, 14, filter=2)
    print(step.text(6))
    with torch.no_grad():
        conv_out = tiny[0](torch.from_numpy(x4[:1].transpose(0, 3, 1, 2).copy()))
    print(f"PyTorch's convolution there: {float(conv_out[0, 2, 14, 14]):.6f}; "
          f"the steps add up to {step.value:.6f}")
    print("parameters:", imported.num_parameters, "in cnnlab,",
          sum(p.numel() for p in tiny.parameters()), "in PyTorch")

# %% [markdown]
# The network can also be saved as ONNX, a file other tools read; open it in Netron
# (https://netron.app, or `pip install netron` and `netron lesson08.onnx`) to see the graph
# with the same layer names.

# %%
try:
    import onnx  # noqa: F401
except ImportError:
    print("ONNX is not installed: pip install onnx (or pip install 'cnnlab[onnx]').")
else:
    cl.to_onnx(net, "lesson08.onnx")
    again = cl.from_onnx("lesson08.onnx")
    print("layers:", again.names)
    x4 = images[:4] / 255
    print(f"largest difference after the ONNX round trip: "
          f"{np.abs(again.predict(x4) - net.predict(x4)).max():.1e}")
