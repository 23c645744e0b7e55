"""Steps of the layers that join branches: one output element from its inputs.

    addition             y[r, c, ch] = in1[r, c, ch] + in2[r, c, ch] + ...   (each input at
                         the same element; ResNet's F(x) + x)
    depth concatenation  y[r, c, ch] = in_i[r, c, ch − offset_i], where input i's channels
                         start at offset_i = C_1 + ... + C_(i−1): a copy, no arithmetic

The trace records every input (``rec.inputs``, in1 first) and the layer that fed it
(``rec.sources``); ``value`` is evaluated in float64 from them, ``output`` is what the
network computed.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..arithmetic.formatting import factor
from .step_base import Step, flat_of, signed


@dataclass(frozen=True)
class AdditionStep(Step):
    """One element of an Addition (fields of ``Step`` plus):

    terms : the inputs' values at this element, in1 first; sources : the layers that fed them
    """
    terms: tuple
    sources: tuple

    @property
    def reads(self) -> str:
        return ", ".join(f"in{i + 1} (from '{s}') = {factor(t)}"
                         for i, (s, t) in enumerate(zip(self.sources, self.terms)))

    def formula(self) -> str:
        sums = " + ".join([factor(self.terms[0])] + [signed(t) for t in self.terms[1:]])
        return f"{sums} = {factor(self.value)}"

    def text(self) -> str:
        return f"output {self.where}: {self.formula()}"


@dataclass(frozen=True)
class ConcatenationStep(Step):
    """One element of a DepthConcatenation (fields of ``Step`` plus):

    input : which input it copies (1 for in1); source : the layer that fed that input;
    input_channel : the channel of that input; offset : where that input's channels start
    """
    input: int
    source: str
    input_channel: int
    offset: int

    @property
    def reads(self) -> str:
        return (f"in{self.input} (from '{self.source}') channel {self.input_channel} at "
                f"row {self.row}, col {self.col}")

    def formula(self) -> str:
        return (f"channel {self.channel} = {self.offset} + {self.input_channel}: a copy of "
                f"in{self.input}, y = {factor(self.value)}")

    def text(self) -> str:
        return f"output {self.where}: {self.formula()}"


def addition_step(rec, row, col, ch) -> AdditionStep:
    terms = tuple(float(x[row, col, ch]) for x in rec.inputs)
    return AdditionStep(row=row, col=col, channel=ch,
                        flat_index=flat_of(rec.output_shape, row, col, ch), value=sum(terms),
                        output=float(rec.output[row, col, ch]), terms=terms,
                        sources=tuple(rec.sources))


def concatenation_step(rec, row, col, ch) -> ConcatenationStep:
    offset = 0
    for i, x in enumerate(rec.inputs):
        if ch < offset + x.shape[2]:
            break
        offset += x.shape[2]
    c = ch - offset
    return ConcatenationStep(row=row, col=col, channel=ch,
                             flat_index=flat_of(rec.output_shape, row, col, ch),
                             value=float(x[row, col, c]), output=float(rec.output[row, col, ch]),
                             input=i + 1, source=rec.sources[i], input_channel=c,
                             offset=offset)
