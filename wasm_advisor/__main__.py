"""``python -m wasm_advisor``: the same as the ``wasm-advisor`` command."""

import sys

from .cli import main

sys.exit(main())
