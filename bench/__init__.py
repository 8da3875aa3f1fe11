"""Benchmarks of disinto-infra (python bench/run.py); not part of the test run."""
