from mock.cli import main

main()
