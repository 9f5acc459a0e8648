"""Generators and oracles for the hardening tests and `bench/fuzz_rewrite.py`: browser-like URL
resolution (`urls`), HTML documents with third-party references everywhere (`htmlgen`), and the leak
checker that reads rewritten pages the way a browser does (`leaks`)."""
