"""The ``cnnlab`` command: train, benchmark, and check textbook arithmetic from a terminal.

    cnnlab train                       LeNet-5 on the embedded digits (no download)
    cnnlab train --mnist DIR           ... on MNIST / Fashion-MNIST IDX files in DIR
    cnnlab bench                       cnnlab vs PyTorch, side by side, ratios
    cnnlab step --input 5x5 --filter 3 --padding 1     one convolution, window by window
    cnnlab animate conv --input 5x5 --filter 3 --padding 1 --stride 2 -o conv.gif
    cnnlab lab                         JupyterLab on the lessons
    cnnlab arithmetic conv --input 28x28 --filter 6x4 --stride 4 --padding "1 0"
    cnnlab summary "input 28x28x1; conv 3 16 padding=1; relu; maxpool 2 stride=2; fc 10"
    cnnlab summary lenet5.cnnlab       ... of a saved network

Errors are one line, "cnnlab <command>: what is wrong", with exit status 2 when an argument
or an input file is wrong, 1 when something else failed (an output that cannot be written, a
closed pipe) and 130 when interrupted (Ctrl-C). CNNLAB_TRACEBACK=1 shows the Python
traceback instead, for developers. "python -m cnnlab" is the same command.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, spec
from .helpformat import HelpFormatter, plain


def _hw_text(text):
    """--input/--filter/--stride/--dilation: '28' (height = width), '28x28', '6x4', '6,4'."""
    import re
    parts = [p for p in re.split(r"[x×, ]+", text.strip()) if p]
    if len(parts) not in (1, 2) or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: write one integer (height ="
                                         " width) or height x width, e.g. 28x28 or 6x4")
    values = tuple(int(p) for p in parts)
    return values * 2 if len(values) == 1 else values


def _padding_text(text):
    """--padding: 'same', 'p', 'a b' (a rows top and bottom, b columns left and right, as
    MATLAB's [a b]) or 't b l r'; commas or brackets may separate the numbers."""
    import re
    if text.strip() == "same":
        return "same"
    parts = [p for p in re.split(r"[\s,\[\]]+", text) if p]
    if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a padding: write p, \"a b\" (a rows top and bottom, b columns "
            "left and right), \"t b l r\" or same")
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


COUNT_LABELS = ("parameters", "neurons", "connections", "multiply-adds")


def _print_result(label, value_text, result):
    print(f"{label}: {value_text}")
    print(f"  {result.formula}")
    print(f"  {result.substituted}")
    for note in result.notes:
        print(f"  note: {note}")


def cmd_arithmetic(args) -> int:
    """Every size and count of one layer, height and width (one line when they agree)."""
    from . import arithmetic as ar
    from .viz.arithmetic_card import arithmetic_entries
    (ih, iw), (kh, kw), (sh, sw), (dh, dw) = args.input, args.filter, args.stride, \
        args.dilation
    if args.what in ("same", "dilation"):
        if args.what == "same":
            label = "'same' padding (before, after)"
            per_axis = [ar.same_padding(i, k, stride=s, dilation=d)
                        for i, k, s, d in ((ih, kh, sh, dh), (iw, kw, sw, dw))]
        else:
            label = "effective filter size"
            per_axis = [ar.effective_filter_size(k, d) for k, d in ((kh, dh), (kw, dw))]
        if per_axis[0] == per_axis[1]:
            _print_result(label, per_axis[0].value, per_axis[0])
        else:
            for axis, r in zip(("height", "width"), per_axis):
                _print_result(f"{label}, {axis}", r.value, r)
        return 0
    # conv, pool, transposed: the entries the arithmetic card and the calculator show
    counts = args.channels is not None and (args.filters is not None or args.what == "pool")
    entries = arithmetic_entries(args.what, input_size=(ih, iw), filter_size=(kh, kw),
                                 stride=(sh, sw), dilation=(dh, dw), padding=args.padding,
                                 channels=args.channels or 1, filters=args.filters or 1,
                                 groups=args.groups)
    errors = [f"{e.label}: {e.error}" for e in entries if e.error is not None
              and (counts or not e.label.startswith(COUNT_LABELS))]
    if errors:
        raise ValueError("; ".join(errors))
    for e in entries:
        if not counts and e.label.startswith(COUNT_LABELS):
            continue
        label = e.label.replace(" (height = width)", "")
        if e.result is None:
            print(f"{label}: {e.value_text}")
        else:
            _print_result(label, e.value_text, e.result)
    if not counts:
        print("(give --channels and --filters for parameters, neurons, connections and "
              "multiply-adds)")
    return 0


def _is_network_file(text: str) -> bool:
    """A saved network's path (or a folder given by mistake) rather than a layer spec."""
    return text.endswith(".cnnlab") or (";" not in text and Path(text).exists())


def cmd_summary(args) -> int:
    from .analysis import analyze
    from .network import Network
    if _is_network_file(args.spec):
        from .io import load
        net = load(args.spec, backend="reference")       # FileNotFoundError when missing
    else:
        layers = spec.parse(args.spec)
        size = tuple(args.input_size) if args.input_size else None
        net = Network(layers, input_size=size, backend="reference")
    print(net)
    print()
    print(analyze(net))
    if args.torch:
        print()
        print(net.to_torch_code(), end="")
    return 0


def writable_output(text: str) -> Path | None:
    """The absolute path ``-o`` names, checked before any work is done (None for '')."""
    if not text:
        return None
    path = Path(text).expanduser().absolute()
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file name", str(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(2, "no such folder", str(path.parent))
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(13, "cannot write in this folder", str(path.parent))
    return path


def cmd_train(args) -> int:
    import numpy as np

    from . import datasets
    from .io import save
    from .models import lenet5
    from .kernels import resolve_backend
    from .training import TrainingOptions, train_network
    output = writable_output(args.output)
    backend = resolve_backend(args.backend)
    if args.mnist:
        x_train, y_train = datasets.load_mnist(args.mnist, kind="train")
        x_test, y_test = datasets.load_mnist(args.mnist, kind="t10k")
        source = f"IDX files in {args.mnist}"
    else:
        x_train, y_train, x_test, y_test = datasets.digits_split(
            args.num_train, args.num_test, seed=args.seed)
        source = "embedded generated digits"
    # pixels 0..255 -> 0..1 (the input layer then subtracts the mean image); raw 0..255
    # values with glorot weights make the first steps at learn rate 0.01 diverge
    x_train = x_train.astype(np.float32) / 255
    x_test = x_test.astype(np.float32) / 255
    print(f"Training LeNet-5 on {len(x_train):,} {source} "
          f"({args.epochs} epochs, mini-batch {args.mini_batch_size}, backend {backend})")
    options = TrainingOptions("sgdm", initial_learn_rate=args.learn_rate,
                              max_epochs=args.epochs, mini_batch_size=args.mini_batch_size,
                              shuffle="every-epoch", validation_data=(x_test, y_test),
                              validation_frequency=100, verbose=False, seed=args.seed,
                              backend=backend)
    net, info = train_network(x_train, y_train, lenet5(x_train.shape[1:]), options)
    if info.stopped_reason == "interrupted":
        raise KeyboardInterrupt(f"interrupted after iteration {info.iteration} of "
                                f"{info.total_iterations}; nothing saved")
    accuracy = float(np.mean(net.classify(x_test) == y_test))
    print(f"Held-out accuracy: {accuracy:.2%} on {len(x_test):,} images "
          f"({info.elapsed_seconds:.1f} s training, stopped: {info.stopped_reason})")
    if output is not None:
        save(net, output)
        print(f"Saved the trained network to {output}")
    return 0


# Subcommands with their own argument parsers live beside the code they drive.
DELEGATED = {
    "bench": ("cnnlab.bench", "cnnlab vs PyTorch images/s"),
    "bench-stepper": ("cnnlab.bench_stepper", "ForwardStepper step latency per layer"),
    "step": ("cnnlab.trace.cli", "step through a small convolution or pooling, window by window"),
    "animate": ("cnnlab.viz.cli", "GIF/MP4 of a convolution, pooling or transposed convolution"),
    "lab": ("cnnlab.lab", "open JupyterLab on the lessons ([-- JUPYTER ARGS])"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnnlab", description=plain(__doc__),
                                formatter_class=HelpFormatter)
    p.add_argument("--version", action="version", version=f"cnnlab {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train LeNet-5 (embedded digits by default)",
                       description="Train LeNet-5 and save it; prints the held-out accuracy "
                       "and where the network was saved.", formatter_class=HelpFormatter)
    t.add_argument("--mnist", metavar="DIR",
                   help="folder with MNIST/Fashion-MNIST IDX files (default: the embedded "
                   "generated digits)")
    t.add_argument("--epochs", type=int, default=2, help="passes over the training images")
    t.add_argument("--num-train", type=int, default=10000, help="generated training digits")
    t.add_argument("--num-test", type=int, default=2000, help="generated held-out digits")
    t.add_argument("--mini-batch-size", type=int, default=64, help="images per update")
    t.add_argument("--learn-rate", type=float, default=0.01, help="SGD-with-momentum rate")
    t.add_argument("--backend", choices=("auto", "fast", "reference"), default="auto",
                   help="kernels: fast (Numba), reference (plain loops), auto (fast when "
                   "Numba imports)")
    t.add_argument("--seed", type=int, default=0, help="weights, shuffling and digits")
    t.add_argument("-o", "--output", metavar="PATH", default="lenet5.cnnlab",
                   help="where to save the trained network, '' to skip (default: "
                   "lenet5.cnnlab in the current folder)")
    t.set_defaults(func=cmd_train)

    a = sub.add_parser("arithmetic", help="output size, padding, parameters with the formula",
                       description="Sizes are height x width (28x28, 6x4) or one number for "
                       "both;\n--padding is p, \"a b\" (a rows top and bottom, b columns left "
                       "and right,\nMATLAB's [a b]), \"t b l r\" or same. Example:\n\n    cnnlab "
                       "arithmetic conv --input 28x28 --filter 6x4 --stride 4 --padding \"1 0\"",
                       formatter_class=HelpFormatter)
    a.add_argument("what", choices=("conv", "pool", "transposed", "same", "dilation"),
                   help="which layer (or: same = the 'same' padding, dilation = the "
                   "effective filter size)")
    a.add_argument("--input", type=_hw_text, default=(1, 1), help="input size, e.g. 28x28")
    a.add_argument("--filter", type=_hw_text, required=True,
                   help="filter (or pool) size, e.g. 5 or 6x4")
    a.add_argument("--stride", type=_hw_text, default=(1, 1), help="e.g. 2 or 4x2")
    a.add_argument("--padding", type=_padding_text, default=0,
                   help='p, "a b", "t b l r" or same (the cropping for transposed)')
    a.add_argument("--dilation", type=_hw_text, default=(1, 1), help="e.g. 2 or 2x1")
    a.add_argument("--channels", type=int, help="input channels (for parameter counts)")
    a.add_argument("--filters", type=int, help="number of filters (for parameter counts)")
    a.add_argument("--groups", type=int, default=1, help="grouped convolution")
    a.set_defaults(func=cmd_arithmetic)

    s = sub.add_parser("summary", help="layer array and analysis of a layer spec or a saved "
                       "network", formatter_class=HelpFormatter,
                       description="The layer array and its analysis (sizes, parameters, "
                       "warnings) of a compact layer spec or of a saved .cnnlab network.")
    s.add_argument("spec", help='a spec, e.g. "input 28x28x1; conv 3 16 padding=1; relu; fc '
                   '10", or a saved network, e.g. lenet5.cnnlab')
    s.add_argument("--input-size", type=int, nargs=3, metavar=("H", "W", "C"),
                   help="input size when the spec has no input layer")
    s.add_argument("--torch", action="store_true",
                   help="also print the PyTorch code that builds the same network")
    s.set_defaults(func=cmd_summary)

    for command, (_, text) in DELEGATED.items():
        sub.add_parser(command, help=f"{text} (pass --help for options)", add_help=False)
    return p


def run_delegated(command, argv) -> int:
    import importlib
    return importlib.import_module(DELEGATED[command][0]).main(argv) or 0


def main(argv=None) -> int:
    """Run one command; every failure becomes one line on stderr and an exit status
    (``cnnlab.cli_errors``), unless CNNLAB_TRACEBACK=1."""
    from .cli_errors import report
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv[:1] and not argv[0].startswith("-") else None
    try:
        if command in DELEGATED:
            code = run_delegated(command, argv[1:])
        else:
            args = build_parser().parse_args(argv)
            code = args.func(args)
        sys.stdout.flush()          # a closed pipe shows here, not at interpreter exit
        return code
    except SystemExit:
        raise                       # argparse: --help, --version, usage errors (exit 2)
    except BaseException as error:  # noqa: BLE001 -- turned into one line by report()
        if os.environ.get("CNNLAB_TRACEBACK") == "1" and not isinstance(error, BrokenPipeError):
            raise
        return report(command or "", error)


if __name__ == "__main__":
    sys.exit(main())
