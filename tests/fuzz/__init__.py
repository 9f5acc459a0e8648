"""The rewriter's one document generator and one leak checker, for every test that fuzzes or checks it
(tests/test_rewrite*.py, tests/test_hardening_rewrite.py, tests/browser/test_fuzz_leaks.py) and
`bench/fuzz_rewrite.py`: browser-like URL resolution (`urls`), HTML documents with third-party references
everywhere, by seed or for hypothesis (`htmlgen`), the leak checker that reads rewritten pages the way a
browser does (`leaks`), and the differential check of one document (`differential`)."""
