from lowlight_cli.cli.app import main

main()
