from citetool.cli import main

main()
