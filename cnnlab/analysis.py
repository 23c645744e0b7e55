"""``cnnlab.analyze``: a network's sizes, parameters, work and receptive fields as a table.

Every number comes from the layers' own arithmetic (``cnnlab.arithmetic``), so the table,
the layer shapes and the lessons can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import arithmetic
from .analysis_graph import graph_fields
from .network import Network


@dataclass
class Row:
    """One layer of an analysis."""
    index: int
    name: str
    type: str
    activations: tuple            # output H, W, C
    learnables: dict              # parameter name -> shape
    parameters: int
    multiply_adds: int            # per image, forward pass
    receptive_field: tuple | None  # (height, width) on the input; None = not defined here
    jump: tuple | None            # input pixels between neighbouring outputs (rows, columns)
    note: str = ""

    @property
    def neurons(self) -> int:
        h, w, c = self.activations
        return h * w * c


@dataclass
class Analysis:
    """Rows per layer, totals and warnings. ``print(analysis)`` shows a table."""
    rows: list
    input_size: tuple
    warnings: list = field(default_factory=list)

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def total_multiply_adds(self) -> int:
        return sum(r.multiply_adds for r in self.rows)

    def __getitem__(self, name) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def __str__(self):
        def size(t):
            return "x".join(map(str, t)) if t else "-"

        table = [("#", "name", "type", "activations", "learnables", "parameters",
                  "multiply-adds", "receptive field")]
        for r in self.rows:
            learn = ", ".join(f"{k} {size(v)}" for k, v in r.learnables.items()) or "-"
            rf = size(r.receptive_field) if r.receptive_field else r.note or "-"
            table.append((str(r.index), r.name, r.type, size(r.activations), learn,
                          f"{r.parameters:,}", f"{r.multiply_adds:,}", rf))
        widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
        right = {0, 5, 6}
        lines = []
        for i, row in enumerate(table):
            cells = [c.rjust(w) if k in right else c.ljust(w)
                     for k, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("-" * len(lines[0]))
        lines.append("")
        lines.append(f"Input {size(self.input_size)}; total learnable parameters "
                     f"{self.total_parameters:,}; multiply-adds per image "
                     f"{self.total_multiply_adds:,}")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))


def analyze(net_or_layers, input_size=None) -> Analysis:
    """Analyze a Network, a list of layers or a LayerGraph (built here for ``input_size`` if
    the first layer is not an ImageInput). A graph's rows come in topological order; its
    receptive fields are the union over the paths that reach each layer
    (``analysis_graph.py``).

    >>> import cnnlab as cl
    >>> a = cl.analyze([cl.ImageInput((32, 32, 3), normalization="none"),
    ...                 cl.Convolution2D(5, 8, stride=2, padding=2)])
    >>> a.total_parameters, a.rows[1].activations, a.rows[1].neurons
    (608, (16, 16, 8), 2048)
    """
    net = (net_or_layers if isinstance(net_or_layers, Network)
           else Network(net_or_layers, input_size=input_size, backend="reference"))
    rows, warnings = [], []
    # a graph (rows in topological order): fields as the union over paths, analysis_graph.py
    fields = graph_fields(net) if net.is_graph else None
    chain_h, chain_w = [], []   # (kernel, stride, pad_before) per layer, while defined
    defined, why = True, ""
    for i, layer in enumerate(net.layers):
        spatial = layer.spatial()
        if defined and spatial is None:
            defined = False
            why = ("whole input" if layer.kind != "transposed-conv"
                   else "not tracked through a transposed convolution")
        rf = jump = None
        if fields is not None:
            rf, jump, note = fields[layer.name]
        elif defined:
            chain_h.append(spatial[0])
            chain_w.append(spatial[1])
            fh = arithmetic.receptive_field(chain_h).value[-1]
            fw = arithmetic.receptive_field(chain_w).value[-1]
            rf, jump = (fh.size, fw.size), (fh.jump, fw.jump)
        if fields is None:
            note = "" if defined else why
        rows.append(Row(index=i + 1, name=layer.name, type=layer.type_name,
                        activations=tuple(layer.output_shape),
                        learnables={k: tuple(v.shape) for k, v in layer.params.items()},
                        parameters=layer.num_parameters, multiply_adds=layer.multiply_adds(),
                        receptive_field=rf, jump=jump, note=note))
        for key, result in layer.arithmetic().items():
            exact = getattr(result, "exact", None)
            if key.startswith("output_") and exact is not None and exact != int(exact):
                note = " ".join(result.notes)
                warnings.append(f"{layer.name}: {key.replace('_', ' ')} {result.exact:g} is "
                                f"not a whole number, floored to {result.value}. {note}".strip())
        if getattr(layer, "statistics_set", True) is False:
            warnings.append(f"{layer.name}: normalization statistics are not set (training "
                            "computes them; or call net.fit_normalization(images))")
    if net.loss_layer is None:
        warnings.append("no output layer: end with Softmax + Classification, or Regression, "
                        "to train")
    return Analysis(rows=rows, input_size=net.input_size, warnings=warnings)
