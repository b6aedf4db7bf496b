"""``python -m marketing.cli``: the same as the ``aurora-marketing`` command."""

from marketing.cli import main

main(prog_name="aurora-marketing")
