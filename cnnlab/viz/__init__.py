"""Pictures of what the engine computed: matplotlib renderers and GIF export.

Renderers read a :class:`cnnlab.trace.Trace` (or an arithmetic Result, or a TrainingInfo)
and draw it; they never compute network values themselves.
"""
