"""``python -m shimgen``: the command line, for an environment whose Scripts folder is not on PATH."""

from shimgen.cli import main

main()
