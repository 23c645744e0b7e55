"""The network as a strip of boxes, one per layer, the current one highlighted (HTML).

Each box gives the layer's name, its type and its output shape (H×W×C), and how many steps it
has in the current direction; the box of the layer being stepped is vermillion, the layers
already walked are grey-blue, the ones still ahead white. Plain HTML in an
``ipywidgets.HTML``: nothing to lay out in matplotlib, so moving to another layer costs only
this string. Large text (15 px names, 13 px details) for a projector.

For a layer graph (``sources``: each layer's inputs) the boxes are in topological order, so
the one before a box is not always what it reads: the arrow between them is drawn only when
it is, a thin bar otherwise, and a box that reads other layers says which ("← relu1"; a
join: "= bn2 + proj_bn", "= [a | b | c]").
"""
from __future__ import annotations

import html

import ipywidgets as widgets

BOX = ("display:inline-block; margin:2px 3px; padding:4px 7px; border-radius:6px; "
       "min-width:82px; text-align:center; line-height:1.25; font-family:sans-serif;")
STATES = {"current": "border:3px solid #D55E00; background:#FBE3D3;",
          "done": "border:1px solid #7799BB; background:#E4ECF4; color:#333;",
          "ahead": "border:1px solid #999; background:#FFF; color:#333;",
          "none": "border:1px dashed #BBB; background:#F6F6F6; color:#999;"}


def shape_text(shape) -> str:
    return "×".join(str(int(v)) for v in shape)


def reads_text(rec, sources, previous) -> str:
    """What a box of a layer graph adds: the inputs it reads unless that is only the box
    before it ("" then, and always in a chain)."""
    if sources is None:
        return ""
    srcs = sources.get(rec.name, [])
    if rec.kind == "add":
        return "= " + " + ".join(srcs)
    if rec.kind == "depthcat":
        return "= [" + " | ".join(srcs) + "]"
    return f"← {srcs[0]}" if srcs and srcs != [previous] else ""


class PassStrip(widgets.HTML):
    """``show(records, counts, current, walked, direction, sources=None)``: records in
    network order, counts (steps in the current direction; 0 for a layer without steps),
    ``current`` the name being stepped, ``walked`` the names already walked in this
    direction, ``sources`` (a layer graph: name -> the layers it reads)."""

    def show(self, records, counts, current: str, walked, direction: str, sources=None):
        arrow = "→" if direction == "forward" else "←"
        boxes, joints = [], []
        previous = None
        for rec, n in zip(records, counts):
            state = ("current" if rec.name == current else "none" if n == 0 else
                     "done" if rec.name in walked else "ahead")
            steps = f"{n:,} steps" if n else "no steps"
            boxes.append(f"<div style='{BOX}{STATES[state]}' title='{html.escape(rec.type_name)}'>"
                         f"<b style='font-size:15px'>{html.escape(rec.name)}</b><br>"
                         f"<span style='font-size:13px'>{html.escape(rec.type_name)}<br>"
                         f"{shape_text(rec.output_shape)} · {steps}"
                         + (f"<br><i>{html.escape(reads)}</i>" if (reads := reads_text(
                             rec, sources, previous)) else "") + "</span></div>")
            follows = sources is None or sources.get(rec.name) == [previous]
            joints.append(f"<span style='font-size:18px; color:#777'>{arrow}</span>" if follows
                          else "<span style='font-size:18px; color:#BBB'>|</span>")
            previous = rec.name
        joined = boxes[0] if boxes else ""
        for joint, box in zip(joints[1:], boxes[1:]):
            joined += joint + box
        self.value = f"<div style='white-space:normal'>{joined}</div>"
