"""``python -m minigan ...``: the command line of ``minigan.cli``."""
from minigan.cli import main

raise SystemExit(main())
