import sys

from app.agent.cli import main

sys.exit(main())
