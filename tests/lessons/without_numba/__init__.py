"""A folder to put on PYTHONPATH: its sitecustomize.py blocks numba (see there).

A package, so that pytest's doctest collection imports the file as
tests.lessons.without_numba.sitecustomize, never as a top-level sitecustomize.
"""
