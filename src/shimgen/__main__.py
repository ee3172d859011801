from shimgen.cli import main

main()
