"""Entry point: ``python cli.py …`` behaves exactly like the installed ``tiering`` console script."""

from tiering.cli import main

if __name__ == "__main__":
    main(prog_name="tiering")
