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
from cnnlab.testing import check_answer   # prints Right! / Not yet / Fill in
np.set_printoptions(linewidth=120, precision=3, suppress=True)


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
### BEGIN SOLUTION
answer_1 = 1 / (1 - 0.2)   # 1.25
### END SOLUTION

# %%
scale = cl.Dropout(0.2).scale
check_answer(answer_1, scale,
             f"1 / (1 − 0.2) = {scale:g}, so that the expected output equals the input.",
             hint=('the kept values are scaled so that the expected sum stays the same: by 1 /'
                   ' (1 − p)'))

# %% [markdown]
# ## 2. A new mask every pass
#
# Each training forward pass draws a fresh mask from the network's random generator. A trace
# does not use the generator up: it shows the mask the *next* pass will draw. So the first
# line below is section 1's mask again, and every line after it is a new one.

# %%
for _ in range(3):
    y = net.forward(x[None], training=True)[0, :, :, 0]
    print((y > 0).astype(int).ravel()[:18], " kept:", int((y > 0).sum()))

# %% [markdown]
# ## 3. The expected value is preserved
#
# One training pass over a batch of 200 images of ones: each image gets its own mask, so this
# averages 200 masks. The mean output approaches the input, 1.

# %%
big = np.ones((200, 6, 6, 1))
y = net.forward(big, training=True)
print("mean over 200 images, one mask each:", y.mean().round(3),
      "  fraction kept:", (y > 0).mean().round(3))

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
### BEGIN SOLUTION
answer_2 = (1 - 0.5) * 10 * 10 * 20   # expected number kept: 1,000
### END SOLUTION

# %%
big_net = cl.Network([cl.ImageInput((10, 10, 20), normalization="none"), cl.Dropout(0.5)], seed=0)
rec = big_net.trace(np.ones((10, 10, 20)), training=True)[1]
size = rec.mask.size
check_answer(answer_2, rec.expected_kept, f"(1 − p)·H·W·C = 0.5·{size} = {rec.expected_kept:g} "
             f"on average; this pass kept {rec.kept}.",
             hint='each of the 10·10·20 values is kept with probability 1 − p')

# %% [markdown]
# **What you saw.** While training, dropout zeros each value with probability p and scales the
# survivors by 1/(1 − p); a new mask each pass; when predicting it is the identity.
