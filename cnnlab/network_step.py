"""One training step's numbers: forward in training mode, the loss, the parameter gradients.

``Network.training_pass`` is what ``Network.loss_and_gradients`` and ``train_network``
compute for each mini-batch, before the solver updates the parameters:

    y = forward(x, training=True);  loss = output.loss(y, labels);  backward from the loss

(Measured and left alone: running all three in one dispatch of the fast backend's thread
pool — each chunk of LeNet-5's images through forward, softmax, loss gradient and backward
on one thread — came out no faster than two dispatches, 2.77 against 2.76 ms per step on
two threads in 80 paired rounds: it saves a dispatch and the NumPy work between the
passes, and its chunks, each a whole forward and backward, end less evenly.)
"""
from __future__ import annotations

import numpy as np


class TrainingPass:
    """Mixin of :class:`cnnlab.Network`: :meth:`training_pass`."""

    def training_pass(self, x, labels, *, stop_if_not_finite: bool = False):
        """(loss, y): forward in training mode, the loss on ``labels``, and the gradient of
        every parameter (the layers' ``.grads``); y is the network's output for ``x``.

        ``stop_if_not_finite``: when the loss is NaN or infinite, skip the backward pass and
        leave the gradients as they were (``train_network`` then restores its last good
        weights)."""
        out = self._require_loss_layer()
        with self.computing():
            y = self.forward(x, training=True)
            labels = self.check_labels(labels, y)
            loss = float(out.loss(y, labels))
            if np.isfinite(loss) or not stop_if_not_finite:
                self.backward_from_loss(y, labels)
        return loss, y
