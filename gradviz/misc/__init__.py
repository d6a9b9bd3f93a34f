"""Utilities autograd users import from ``autograd.misc``: flattening containers, optimizers, fixed points."""

from .flatten import flatten, flatten_func

__all__ = ["flatten", "flatten_func"]
