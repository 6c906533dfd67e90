from osuus.cli import main

main()
