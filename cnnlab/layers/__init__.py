"""Layers, one family per file: input, conv, transposed, pool, norm, activation, dropout,
dense, output. Each is a thin class over the kernels (see base.py for the contract)."""
