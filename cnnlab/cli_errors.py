"""How a failed ``cnnlab`` command ends: one line on stderr and an exit status, no traceback.

    cnnlab <command>: <what is wrong>

Exit status, by what failed:

* 2: what the user typed is wrong: a bad value (ValueError, the layers' and the arithmetic's
  own messages), an input file or folder that does not exist or is of the wrong kind
  (FileNotFoundError, IsADirectoryError, NotADirectoryError). argparse's usage errors also
  exit 2.
* 1: the command could not finish for another reason: an output that cannot be written
  (PermissionError, a full or read-only disk: any other OSError), a closed pipe
  (``cnnlab step | head``), a missing optional package, or a bug (named as one).
* 130: interrupted by Ctrl-C (128 + SIGINT, as shells report it).

``CNNLAB_TRACEBACK=1`` re-raises instead, for developers.
"""
from __future__ import annotations

import os
import sys

USAGE, FAILED, INTERRUPTED = 2, 1, 130
INPUT_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError)


def strip_prefix(message: str, command: str) -> str:
    """``message`` without a leading "cnnlab <command>:" or "<command>:" it already carries
    (so a layer's "animate: fps = 0 ..." is not shown as "cnnlab animate: animate: ...")."""
    for prefix in (f"cnnlab {command}:", f"{command}:"):
        if command and message.startswith(prefix):
            return message[len(prefix):].lstrip()
    return message


def _os_message(error: OSError) -> str:
    """"PATH: reason" for an OSError that names a file, else its own text."""
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # stdout without a file descriptor
        pass


def message_and_code(error: BaseException) -> tuple[str, int]:
    if isinstance(error, KeyboardInterrupt):
        detail = str(error)
        if not detail.startswith("interrupted"):
            detail = "interrupted" + (f": {detail}" if detail else "")
        return detail, INTERRUPTED
    if isinstance(error, BrokenPipeError):
        return "output closed before everything was written (broken pipe)", FAILED
    if isinstance(error, ImportError):      # a missing optional package, numba not loading
        text = str(error)
        if isinstance(error, ModuleNotFoundError) and error.name and \
                text.startswith("No module named"):
            root = error.name.split(".")[0]
            text = f"needs the {root} package, which is not installed (pip install {root})"
        return text, FAILED
    if isinstance(error, INPUT_ERRORS):
        return (_os_message(error) if isinstance(error, OSError) else str(error)), USAGE
    if isinstance(error, OSError):
        return _os_message(error), FAILED
    return (f"internal error, please report it: {type(error).__name__}: {error} "
            "(CNNLAB_TRACEBACK=1 shows where)", FAILED)


def report(command: str, error: BaseException) -> int:
    """Print the one-line message for ``error`` and return the exit status."""
    if isinstance(error, BrokenPipeError):
        _silence_stdout()
    text, code = message_and_code(error)
    # one line: a message written over several lines is joined, not cut
    text = " ".join(part.strip() for part in strip_prefix(text, command).splitlines())
    line = f"cnnlab {command}: {text}" if command else f"cnnlab: {text}"
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass                        # stderr closed too: the exit status is all that is left
    return code
