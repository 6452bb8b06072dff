from dockyard.interfaces.cli.main import main

main()
