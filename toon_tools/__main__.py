"""``python -m toon_tools`` is the ``toon`` command."""

from .cli.main import main

main()
