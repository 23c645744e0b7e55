# %% [markdown]
# # Lesson 7 — Dropout: masks, scaling, training versus prediction
#
# **Goals.**
# 1. See a dropout mask: each value is dropped (set to 0) with probability p while training.
# 2. Understand the scaling: the kept values are multiplied by 1/(1 − p), so the expected sum
#    is unchanged.
# 3. See that in prediction mode dropout does nothing at all.

# %%
import numpy as np
import cnnlab as cl
np.set_printoptions(linewidth=120, precision=3, suppress=True)


def check(answer, expected, working=""):
    """Compare your answer with the one cnnlab computed; prints a message, never raises."""
    if answer is None:
        print("Fill in your answer (replace None), then run this cell again.")
    elif np.shape(answer) == np.shape(expected) and np.allclose(answer, expected):
        print(f"Right! {working}")
    else:
        print(f"Not yet: you wrote {answer!r}. Look again and try once more.")

# %% [markdown]
# ## 1. A mask, and the scaling

# %%
net = cl.Network([cl.ImageInput((6, 6, 1), normalization="none"), cl.Dropout(0.5)], seed=0)
x = np.ones((6, 6, 1))
rec = net.trace(x, training=True)[1]          # record 1: the dropout layer
print("kept (1) / dropped (0):\n", rec.mask[:, :, 0].astype(int))
print("output:\n", rec.output[:, :, 0])
print(rec.note)
print(f"kept {rec.kept} of {x.size}; expected {rec.expected_kept:g}")

# %% [markdown]
# **Exercise 1.** With p = 0.2, by what number are the kept values multiplied?

# %%
answer_1 = None

# %%
check(answer_1, cl.Dropout(0.2).scale,
      "1 / (1 − 0.2) = 1.25, so that the expected output equals the input.")

# %% [markdown]
# ## 2. A new mask every time
#
# Each training forward pass draws a fresh mask from the network's random generator.

# %%
for _ in range(3):
    y = net.forward(x[None], training=True)[0, :, :, 0]
    print((y > 0).astype(int).ravel()[:18], " kept:", int((y > 0).sum()))

# %% [markdown]
# ## 3. The expected value is preserved
#
# Average many training passes: the mean output approaches the input, 1.

# %%
big = np.ones((200, 6, 6, 1))
y = net.forward(big, training=True)
print("mean over 200 passes:", y.mean().round(3), "  fraction kept:", (y > 0).mean().round(3))

# %% [markdown]
# **Try it.** Change p, draw new masks, and switch between training and prediction mode.

# %%
from cnnlab.widgets.dropout import DropoutExplorer
DropoutExplorer(probability=0.5, seed=0)

# %% [markdown]
# ## 4. Prediction mode: the identity

# %%
pred = net.predict(x[None])
print("equal to the input:", np.array_equal(pred[0], x))
print(net.trace(x)[1].note)

# %% [markdown]
# **Exercise 2.** A dropout layer with p = 0.5 sits on a 10×10×20 input. In a training pass,
# how many values do you *expect* to be kept?

# %%
answer_2 = None

# %%
big_net = cl.Network([cl.ImageInput((10, 10, 20), normalization="none"), cl.Dropout(0.5)], seed=0)
rec = big_net.trace(np.ones((10, 10, 20)), training=True)[1]
check(answer_2, rec.expected_kept, f"(1 − p)·H·W·C = 0.5·2000 = {rec.expected_kept:g} on average; "
      f"this pass kept {rec.kept}.")

# %% [markdown]
# **What you saw.** While training, dropout zeros each value with probability p and scales the
# survivors by 1/(1 − p); a new mask each pass; when predicting it is the identity.
