"""The server's protocol side, sans-I/O: one RT v2 session as a state machine.

:class:`~smnb.server.protocol.session.ServerSession` takes client frames and engine
outcomes and returns :mod:`~smnb.server.protocol.actions` for the transport
(:mod:`smnb.server.app`) to carry out; it keeps one
:class:`~smnb.server.protocol.channel.Channel` per audio channel (audio in, transcript
out). :mod:`~smnb.server.protocol.start` checks
``StartRecognition`` and :mod:`~smnb.server.protocol.transcript` turns recognizer updates
into transcript messages. :mod:`~smnb.server.protocol.inline` runs a whole session
synchronously on a recognizer, no sockets (benchmarks, tests).

May import: the standard library, :mod:`smnb.protocol`, :mod:`smnb.exceptions`,
:mod:`smnb.server.recognizer`, :mod:`smnb.server.voiceprint` (to check speaker identifiers)
and :mod:`smnb.server.audio`. Must not import: asyncio, websockets, pocketsphinx, pandas,
anything from ``smnb.session``.
"""
