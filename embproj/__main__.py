from embproj.cli import main

main()
