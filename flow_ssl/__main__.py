from flow_ssl.cli import main

raise SystemExit(main())
