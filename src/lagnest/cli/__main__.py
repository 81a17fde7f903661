"""``python -m lagnest.cli``: the ``lagnest`` command."""

from lagnest.cli import main

raise SystemExit(main())
