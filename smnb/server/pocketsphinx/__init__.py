"""The pocketsphinx engine: the :class:`~smnb.server.recognizer.Recognizer` smnb ships.

:mod:`~smnb.server.pocketsphinx.recognizer` (streaming decoding),
:mod:`~smnb.server.pocketsphinx.unit` (one unit at a time: every call into pocketsphinx),
:mod:`~smnb.server.pocketsphinx.cmn` (the cepstral mean, measured on the session's audio),
:mod:`~smnb.server.pocketsphinx.decoder` (decoder configuration, per-process cache),
:mod:`~smnb.server.pocketsphinx.segmenter` (VAD utterance segmentation),
:mod:`~smnb.server.pocketsphinx.commit_policy` (``max_delay`` deadlines),
:mod:`~smnb.server.pocketsphinx.diarization`, :mod:`~smnb.server.pocketsphinx.vocabulary`
(``additional_vocab`` pronunciations) and :mod:`~smnb.server.pocketsphinx.batch`
(whole-file recognition, the reference the streaming output is compared with).

The only package in smnb that imports ``pocketsphinx``. May import: the standard library,
numpy, soundfile, soxr, pocketsphinx and :mod:`smnb.server.recognizer`. Must not import:
asyncio, websockets, pandas, :mod:`smnb.server.protocol`, anything from ``smnb.session``.
"""
