from __future__ import annotations

import sys

from epay_desktop.app import main

sys.exit(main())
