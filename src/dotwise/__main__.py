from dotwise.cli import main

main()
