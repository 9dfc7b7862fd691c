"""Tests of beam_ml.profiling (a package: test_view.py, test_column.py... are common names)."""
