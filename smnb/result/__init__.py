"""What a session leaves: :class:`Result` (tables, text, state, exports) and loading it back.

- :mod:`~smnb.result.result`: :class:`Result`, a recorder plus lazily built, cached tables;
- :mod:`~smnb.result.facts`: one pass over the records: settings, id, the one outcome;
- :mod:`~smnb.result.view`: the text repr and the notebook HTML card;
- :mod:`~smnb.result.export`: CSV/Parquet tables and ``summary.json``;
- :mod:`~smnb.result.load`: ``smnb.load`` (Result, or :class:`Results` for a directory).

May import: :mod:`smnb.tables` (and so pandas), :mod:`smnb.recorder`,
:mod:`smnb.protocol`, :mod:`smnb.exceptions`. Never the transport (websockets,
:mod:`smnb.session`), widgets or plots.
"""

from smnb.result.load import Results, load_all, load_file
from smnb.result.result import Result

__all__ = ["Result", "Results", "load_all", "load_file"]
