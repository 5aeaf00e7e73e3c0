"""Logs go to the stderr of the moment, never to a stream that has since been closed."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from calle.logging_setup import configure_logging


def test_a_record_after_the_configuring_stream_closed_reaches_the_current_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    earlier = io.StringIO()  # e.g. the captured output of a command that has finished
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", earlier)
        configure_logging("INFO")
        logging.getLogger("calle.test").info("while the command ran")
    assert "while the command ran" in earlier.getvalue()
    earlier.close()
    logging.getLogger("calle.test").info("from a thread that outlived it")
    err = capsys.readouterr().err
    assert "from a thread that outlived it" in err
    assert "Logging error" not in err
