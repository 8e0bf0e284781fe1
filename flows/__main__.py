"""``python -m flows``: the deltaflow command line."""

from flows.cli import main

if __name__ == "__main__":
    main()
