from keepwarm.workers.cli import main

main()
