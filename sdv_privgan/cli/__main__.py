"""``python -m sdv_privgan.cli``: the same as ``sdv-privgan``."""

import sys

from sdv_privgan.cli import main

sys.exit(main())
