import sys

from audiox_bench.cli import main

sys.exit(main())
