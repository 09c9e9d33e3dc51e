"""Client audio on the server: whatever the client sends → 16 kHz mono int16, incrementally.

:mod:`~smnb.server.audio.input` holds the streaming decoders (raw PCM, μ-law, WAV, other
containers via PyAV); :mod:`~smnb.server.audio.pcm` the sample conversions and resampling.

May import: the standard library, numpy, soxr, av, :mod:`smnb.exceptions` and
:mod:`smnb.server.recognizer`. Must not import: asyncio, websockets, pocketsphinx, pandas,
anything from ``smnb.session``.
"""
