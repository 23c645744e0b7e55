"""The network as a strip of boxes, one per layer, the current one highlighted (HTML).

Each box gives the layer's name, its type and its output shape (H×W×C), and how many steps it
has in the current direction; the box of the layer being stepped is vermillion, the layers
already walked are grey-blue, the ones still ahead white. Plain HTML in an
``ipywidgets.HTML``: nothing to lay out in matplotlib, so moving to another layer costs only
this string. Large text (15 px names, 13 px details) for a projector.
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


class PassStrip(widgets.HTML):
    """``show(records, counts, current, walked)``: records in network order, counts (steps
    in the current direction; 0 for a layer without steps), ``current`` the name being
    stepped, ``walked`` the names already walked in this direction."""

    def show(self, records, counts, current: str, walked, direction: str):
        arrow = "→" if direction == "forward" else "←"
        boxes = []
        for rec, n in zip(records, counts):
            state = ("current" if rec.name == current else "none" if n == 0 else
                     "done" if rec.name in walked else "ahead")
            steps = f"{n:,} steps" if n else "no steps"
            boxes.append(f"<div style='{BOX}{STATES[state]}' title='{html.escape(rec.type_name)}'>"
                         f"<b style='font-size:15px'>{html.escape(rec.name)}</b><br>"
                         f"<span style='font-size:13px'>{html.escape(rec.type_name)}<br>"
                         f"{shape_text(rec.output_shape)} · {steps}</span></div>")
        joined = f"<span style='font-size:18px; color:#777'>{arrow}</span>".join(boxes)
        self.value = f"<div style='white-space:normal'>{joined}</div>"
