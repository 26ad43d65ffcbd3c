"""`python -m hyperlax.cli ...`"""

import sys

from hyperlax.cli import main

sys.exit(main())
