"""``--help`` text for every ``cnnlab`` command: docstrings without reST markup, defaults shown.

The command modules' docstrings double as their ``--help`` description; they are written for
Sphinx-style readers (````cnnlab step````, ``:func:`name```), which a terminal shows raw.
:func:`plain` removes that markup; :class:`HelpFormatter` keeps the description's line breaks
(its examples are laid out by hand) and appends "(default: X)" to an option's help when the
default says something (not None, not False, not already in the help text).

>>> plain("``cnnlab step``: see :func:`cnnlab.viz.animate` and `x`")
'cnnlab step: see cnnlab.viz.animate and x'
"""
from __future__ import annotations

import argparse
import re

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")       # :func:`name`, :class:`~mod.Name`
_LITERAL = re.compile(r"``([^`]+)``")             # ``literal``
_INTERPRETED = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")   # `text`


def plain(text: str | None) -> str:
    """``text`` with reST roles and literal markup removed (the words kept)."""
    if not text:
        return ""
    text = _ROLE.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    return _INTERPRETED.sub(r"\1", text)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Raw description, and each option's default appended to its help when it is useful."""

    def _get_help_string(self, action):
        text = plain(action.help or "")
        default = action.default
        if (action.help is argparse.SUPPRESS or not action.option_strings
                or default is None or default is False or default == argparse.SUPPRESS
                or "default" in text):
            return text
        if isinstance(default, tuple):          # a size: height x width
            shown = "x".join(map(str, default))
        elif isinstance(default, list):         # nargs="+": as it is typed
            shown = " ".join(map(str, default))
        else:
            shown = default
        return f"{text} (default: {shown})" if text else f"default: {shown}"
