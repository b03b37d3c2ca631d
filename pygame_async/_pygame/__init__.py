"""The pygame adapter: completions as pygame events, Surfaces and Masks across processes.

It plugs into the core's seams; the core never imports it.
"""
