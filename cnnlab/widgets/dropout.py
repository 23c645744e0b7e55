"""DropoutExplorer: draw dropout masks over a map of activations and see the survivors scaled.

    DropoutExplorer()                              # an 8×8 map of small integers, p = 0.5
    DropoutExplorer(net["dropout_1"], image)       # the activations that reach a real layer
    DropoutExplorer(activations=a)                 # any H×W×C (or H×W) array

Controls: the probability p, "resample" (a new mask from the same random stream), and
training / prediction. The explorer owns a one-layer network (input + ``Dropout(p)``) on the
activations and traces it (``net.trace(a, training=...)``): the picture
(``cnnlab.viz.dropout_view.DropoutView``) reads the trace's mask, scale and counts. With a
real layer, the activations are that layer's input in a prediction-mode trace of its
network (a 1×1×K fully connected output is laid out as a 1×K row); the layer's own
probability is the slider's start.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..viz.canvas import push
from ..viz.dropout_view import DropoutView
from ..trace.records import LayerRecord
from ._controls import Message, find_network, safe


def default_activations(seed: int = 0) -> np.ndarray:
    """An 8×8×1 map of integers 1..9 (easy to check: kept values double at p = 0.5)."""
    return np.random.default_rng(seed).integers(1, 10, (8, 8, 1)).astype(np.float64)


class DropoutExplorer(widgets.VBox):
    """See the module docstring. Attributes: ``activations``, ``record`` (the traced dropout
    record), ``view`` (DropoutView), ``image``, ``summary`` (HTML with the counts, as in
    the picture; not displayed twice),
    ``message``, ``probability``, ``resample``, ``mode``, ``seed``."""

    def __init__(self, source=None, image=None, *, network=None, activations=None,
                 probability: float | None = None, seed: int = 0):
        self.message = Message()
        if activations is None:
            if source is None:
                activations = default_activations(seed)
            else:
                activations, probability = self._activations_of(source, image, network,
                                                                probability)
        a = np.asarray(activations, dtype=np.float64)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"DropoutExplorer: activations have shape {a.shape}; expected "
                             "H×W×C or H×W")
        if a.shape[:2] == (1, 1):
            a = a.reshape(1, a.shape[2], 1)       # a fully connected output: one row of K
        self.activations = a
        self.rng = np.random.default_rng(seed)
        self.probability = widgets.FloatSlider(0.5 if probability is None else probability,
                                               min=0.0, max=0.95, step=0.05,
                                               description="p (drop)", continuous_update=False)
        self.resample = widgets.Button(description="resample mask", icon="refresh")
        self.mode = widgets.ToggleButtons(options=["training", "prediction"], value="training",
                                          description="mode")
        self.image = widgets.Image(format="png")
        self.summary = widgets.HTML()
        self.view, self.record = None, None
        redraw = safe(self.message, lambda *_: self.redraw())
        self.probability.observe(redraw, names="value")
        self.mode.observe(redraw, names="value")
        self.resample.on_click(redraw)
        # the counts are written in the picture; ``summary`` holds the same text for code
        super().__init__([widgets.HBox([self.probability, self.resample]), self.mode,
                          self.message, self.image])
        self.redraw()

    @staticmethod
    def _activations_of(source, image, network, probability):
        if getattr(source, "kind", None) != "dropout":
            raise ValueError(f"DropoutExplorer: {getattr(source, 'name', source)!r} is not a "
                             "dropout layer")
        if isinstance(source, LayerRecord):                # a trace record
            return source.input, probability if probability is not None else source.probability
        if image is None:
            raise ValueError("DropoutExplorer: give the image to trace the network on: "
                             "DropoutExplorer(net['dropout_1'], image)")
        net = network if network is not None else find_network(source)
        rec = net.trace(image, upto=source.name)[source.name]
        return rec.input, probability if probability is not None else source.probability

    def redraw(self):
        """Trace the dropout layer once more (a new mask in training mode) and draw it."""
        from ..layers.dropout import Dropout
        from ..layers.input import ImageInput
        from ..network import Network
        a = self.activations
        net = Network([ImageInput(a.shape, normalization="none"),
                       Dropout(self.probability.value)], dtype="float64",
                      backend="reference",
                      # a trace gives its network's generator back untouched, so each redraw
                      # gets a fresh generator seeded from this widget's stream: a new mask
                      rng=np.random.default_rng(self.rng.integers(2**63)))
        record = net.trace(a, training=self.mode.value == "training")[1]
        if self.view is None:
            self.view = DropoutView(record)
        else:
            self.view.show(record)
        self.record = record
        self.message.clear()
        push(self.image, self.view.png())
        self.summary.value = f"<pre style='font-size:12px'>{self.view.summary.get_text()}</pre>"
