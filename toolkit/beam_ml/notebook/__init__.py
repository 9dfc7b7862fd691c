"""The notebook layer: the session with its preview cache, the magics and the widgets.

It imports the engine; nothing in the engine imports it.
"""
