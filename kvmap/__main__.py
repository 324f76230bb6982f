"""Run the kvmap command line: ``python -m kvmap``."""

import sys

from kvmap.cli import main

sys.exit(main())
