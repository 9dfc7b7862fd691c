"""Front-end assets (CSS) of the notebook views, shipped in the wheel as ``beam_ml.assets``."""
