"""`python -m scoring` runs the command-line interface."""

from scoring.cli import main

if __name__ == "__main__":
    main()
