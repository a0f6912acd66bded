"""`python -m satupintu` runs the `satupintu` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
