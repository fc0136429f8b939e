"""``python -m dumpproc``: the same as the ``dumpproc`` command."""

import sys

from .cli import main

sys.exit(main())
