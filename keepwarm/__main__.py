"""`python -m keepwarm` is the `keepwarm` command."""

from keepwarm.workers.cli import main

main()
