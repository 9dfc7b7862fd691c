"""Tests of beam_ml.inference (a package: test_view.py, test_device.py... are common names)."""
