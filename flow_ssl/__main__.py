"""``python -m flow_ssl``: the flow-ssl command, or one line saying how to install it."""

import sys

try:
    from flow_ssl.cli.app import main
except ModuleNotFoundError as missing:  # a Python without flow-ssl's dependencies
    sys.stderr.write(
        f"flow-ssl: {missing.name} is not installed for {sys.executable}; install flow-ssl "
        "first (make install, then .venv/bin/flow-ssl; or pipx install .)\n"
    )
    raise SystemExit(70) from None

raise SystemExit(main())
