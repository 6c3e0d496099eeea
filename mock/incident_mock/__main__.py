from incident_mock.cli import main

main()
