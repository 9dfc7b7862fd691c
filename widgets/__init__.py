"""Front-end assets (CSS) of the notebook views, shipped in the wheel as ``beam_ml.assets``."""

from __future__ import annotations

from importlib import resources


def css(*names: str) -> str:
    """The named stylesheets of this folder, joined, for a ``<style>`` element.

    >>> "bml" in css("base.css")
    True
    """
    folder = resources.files(__name__)
    return "\n".join(folder.joinpath(name).read_text(encoding="utf-8") for name in names)
