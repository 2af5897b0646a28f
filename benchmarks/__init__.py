"""Benchmarks: one command each, printing medians and ratios against a baseline measured in the same run."""
