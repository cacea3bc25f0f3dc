"""``python -m app.gateway`` (``make gateway``): one gateway process until SIGTERM or Ctrl-C."""

from app.gateway.coordinator import main

main()
