import sys

from pulsehost.cli.main import main

sys.exit(main())
