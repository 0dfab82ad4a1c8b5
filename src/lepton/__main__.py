"""``python -m lepton`` and the ``lepton`` console script (see :mod:`lepton.cli`)."""
import sys


def main(argv=None):
    """Entry point of the ``lepton`` command; returns its exit status."""
    from lepton.cli import main as _main

    return _main(argv)


if __name__ == "__main__":
    sys.exit(main())
