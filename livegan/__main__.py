"""`python -m livegan` (and `torchrun -m livegan`): the same as the `livegan` command."""

import sys

from livegan.cli import main

sys.exit(main())
