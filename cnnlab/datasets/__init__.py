"""Data sets for cnnlab: embedded generated digits (no download) and MNIST-format IDX files.

``make_digits`` / ``digits_split``
    MNIST-like 28 x 28 handwritten-style digits, generated deterministically from a seed.
``read_idx`` / ``write_idx``
    The IDX file format of MNIST and Fashion-MNIST (raw or gzip), strictly validated.
``load_mnist``
    The four standard MNIST / Fashion-MNIST files in a folder -> ``(X, y)``.
``download_mnist``
    Optional, checksummed download of those files into a cache folder.
``prepare_digit``
    Your own photo or drawing of a digit -> a 28 x 28 x 1 MNIST-style image (float32 0..255).

Images are uint8 arrays (N, H, W, C), channels last; labels are int64 (N,).
"""
from .digits import class_names, digits_split, make_digits
from .idx import (DATASETS, IDX_TYPES, default_cache_dir, download_mnist, load_mnist, read_idx,
                  write_idx)
from .prepare import prepare_digit

__all__ = ["DATASETS", "IDX_TYPES", "class_names", "default_cache_dir", "digits_split",
           "download_mnist", "load_mnist", "make_digits", "prepare_digit", "read_idx", "write_idx"]
