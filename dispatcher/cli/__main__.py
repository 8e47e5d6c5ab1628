"""`python -m dispatcher.cli`."""

from dispatcher.cli.main import main

main()
