"""Background work and the entry points that run it: Dramatiq actors, the worker, the CLI.

Dependencies point one way: workers -> services -> connectors.
"""
