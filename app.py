"""Start the askculture web chat: ``python app.py`` (the same as ``askculture serve``).

On the first start there is no index yet: it is built from the bundled sample corpus (progress
on the console and on the page). Settings come from the environment, e.g.
``ASKCULTURE_APP__PORT=8080`` or ``ASKCULTURE_INDEX__DIR=/data/index``.
"""

from __future__ import annotations

import sys

from askculture.errors import AskCultureError
from askculture.web import serve

if __name__ == "__main__":
    try:
        serve()
    except AskCultureError as exc:
        print(f"askculture: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
