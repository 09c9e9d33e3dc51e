"""The sans-I/O core: RT v2 messages, config validation and the client session state machine.

Imports only the standard library and :mod:`smnb.exceptions`.
"""

from smnb.protocol.config import validate_audio_format, validate_transcription_config
from smnb.protocol.messages import ClientMessage, ErrorType, Message, ServerMessage
from smnb.protocol.session import ClientSession, SessionState

__all__ = [
    "ClientMessage",
    "ClientSession",
    "ErrorType",
    "Message",
    "ServerMessage",
    "SessionState",
    "validate_audio_format",
    "validate_transcription_config",
]
