"""Tests of beam_ml.sources (a package: test_text.py, test_csv.py... are common names)."""
