"""Suite-wide: every server message any test produces must validate against the RT v2 schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import server_messages


@pytest.fixture(scope="session", autouse=True)
def _server_messages_are_checked() -> Iterator[None]:
    undo = server_messages.install()
    yield
    undo()


@pytest.fixture(autouse=True)
def _no_invalid_server_message() -> Iterator[None]:
    server_messages.take_failures()  # a background server's stray messages belong elsewhere
    yield
    found = server_messages.take_failures()
    if found:
        pytest.fail(
            f"{len(found)} server message(s) break the RT v2 schema:\n" + "\n".join(found[:10])
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = sum(server_messages.checked.values())
    if total:
        kinds = ", ".join(f"{k} {n}" for k, n in server_messages.checked.most_common())
        terminalreporter.write_line(f"RT v2 schema: {total} server messages validated ({kinds})")
