"""The ``lepton`` command: train, evaluate, predict, info, bench.

``lepton train`` with no arguments trains on the embedded UCI digits and prints a report;
``lepton train data.csv --target COLUMN`` trains on your data.  Errors print one line,
``lepton: error: ...``, and exit with status 2 (usage) or 1 (data, files, anything else);
never a traceback, unless ``LEPTON_DEBUG=1`` (see :mod:`lepton.cli._errors`).

The command uses lepton's public API only.  The command line is built in
:mod:`lepton.cli._parser`, data files are read in :mod:`lepton.cli._data`, ``lepton train``
is :mod:`lepton.cli._train`, model files are checked and read in :mod:`lepton.cli._model`.
"""
from lepton.cli._main import DataError, UsageError, build_parser, main

__all__ = ["main", "build_parser", "UsageError", "DataError"]
