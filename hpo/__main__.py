"""``python -m hpo`` is the ``hpo`` command."""

import sys

from hpo.cli import main

sys.exit(main())
