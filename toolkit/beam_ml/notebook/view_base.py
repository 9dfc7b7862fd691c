"""What every notebook view shares: a result, its static bundle, and a lazy ipywidgets box.

ipywidgets is imported lazily: these modules import without it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from beam_ml.errors import one_line

DEVICE_LABELS = (("Auto", "auto"), ("CPU", "cpu"), ("GPU", "gpu"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _ipywidgets() -> Any:
    import ipywidgets

    return ipywidgets


def css() -> str:
    """The CSS of the notebook views (``widgets/notebook.css``, shipped as beam_ml.assets)."""
    from beam_ml.assets import css as read_css

    return read_css("notebook.css")


def _styled(body: str) -> str:
    """``body`` (already rendered HTML) inside the notebook views' styled container."""
    from beam_ml.rendering import render_macro

    return render_macro("notebook.html", "view", body)


def _bundle(obj: Any) -> dict[str, Any]:
    """The static mime bundle of a result (text/plain always)."""
    method = getattr(obj, "_repr_mimebundle_", None)
    bundle = dict(method()) if method else {}
    if isinstance(obj, pd.DataFrame):
        bundle = {"text/plain": repr(obj), "text/html": obj.to_html(max_rows=20)}
    bundle.setdefault("text/plain", repr(obj))
    return bundle


class View:
    """Base: a result, its static bundle, and (lazily) an ipywidgets box."""

    def __init__(self) -> None:
        self._widget: Any = None

    @property
    def widget(self) -> Any:
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        raise NotImplementedError

    def static_bundle(self) -> dict[str, Any]:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget for live frontends, plus static HTML and text for everything else."""
        bundle = self.static_bundle()
        try:
            live = self.widget._repr_mimebundle_()
        except ImportError:
            return bundle
        if live and WIDGET_MIME in live:
            bundle[WIDGET_MIME] = live[WIDGET_MIME]
        return bundle


def value_text(value: Any, limit: int = 80) -> str:
    """A check's observed/expected value, short: floats to 4 significant digits."""
    from beam_ml.rendering import clip, fmt

    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, dict):
        return clip(", ".join(f"{k}: {value_text(v, limit)}" for k, v in value.items()), limit)
    return clip(one_line(str(value), 1000), limit)
