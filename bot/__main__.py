import sys

from bot.cli import main

if __name__ == "__main__":  # worker processes (spawned) import this module too
    sys.exit(main())
