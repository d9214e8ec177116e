from flow_ssl.cli.app import main

raise SystemExit(main())
