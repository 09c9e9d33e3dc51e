"""The engine's process side: recognizers in worker processes, driven from asyncio.

:class:`~smnb.server.engine.pool.EnginePool` (the asyncio half) starts, reuses and stops
the workers; :mod:`~smnb.server.engine.worker` is what runs inside each one.

May import: the standard library (the pool alone imports asyncio), numpy,
:mod:`smnb.exceptions` and :mod:`smnb.server.recognizer`; the worker loads
:mod:`smnb.server.pocketsphinx` only inside the worker process, when its default factory
runs. Must not import: websockets, pandas, anything from ``smnb.session``.
"""
