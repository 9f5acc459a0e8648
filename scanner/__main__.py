"""`python -m scanner URL ...`: the same as `gatekeeper scan URL ...`."""

from .cli import main

raise SystemExit(main())
