"""The renderer: a trace as a view model (groups, loops, initial collapse), as Graphviz DOT, as files and widgets.

Nothing here is imported by the engine or the record; ``Trace.to_dot``, ``Trace.render``, ``Trace.save_html`` and
``Trace.widget`` import what they need when called (``graphviz`` is imported only by gradviz.render.dot).
"""

__all__ = ["view_model", "to_dot", "render"]


def __getattr__(name: str):
    if name == "view_model":
        from .model import view_model

        return view_model
    if name in ("to_dot", "render"):
        from . import dot

        return getattr(dot, name)
    raise AttributeError(f"module 'gradviz.render' has no attribute {name!r}")
