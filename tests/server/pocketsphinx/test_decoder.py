"""smnb.server.pocketsphinx.decoder: the configured decoder and the per-process cache.

Real pocketsphinx decoders throughout (≈0.5 s to load each); the ``loads`` fixture only
records every decoder the module loads, so a test can tell a reused one from a new one.
"""

from __future__ import annotations

from typing import Any

import pytest
from pocketsphinx import Decoder

from smnb.server.pocketsphinx import batch, cmn, decoder
from smnb.server.pocketsphinx.decoder import DECODER_CONFIG, DecoderCache, new_decoder
from tests.support.engine_audio import clip, white_noise


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every decoder the module loads from now on (real ones), in order."""
    loaded: list[Any] = []
    real = decoder.new_decoder

    def recording() -> Any:
        loaded.append(real())
        return loaded[-1]

    monkeypatch.setattr(decoder, "new_decoder", recording)
    return loaded


def test_a_new_decoder_has_the_recommended_configuration() -> None:
    fresh = new_decoder()
    assert isinstance(fresh, Decoder)
    for key, value in DECODER_CONFIG.items():
        assert fresh.config[key] == value, key
    assert fresh.lookup_word("kittens")  # the generic dictionary is loaded


def test_an_empty_cache_loads_a_decoder_for_each_take(loads: list[Any]) -> None:
    cache = DecoderCache()
    first, second = cache.take(), cache.take()
    assert loads == [first, second]
    assert first is not second


def test_a_clean_decoder_given_back_is_handed_out_again(loads: list[Any]) -> None:
    cache = DecoderCache()
    taken = cache.take()
    cache.give_back(taken, dirty=False)
    assert cache.take() is taken
    assert len(loads) == 1
    cache.take()  # the cache held that one decoder only: the next is loaded
    assert len(loads) == 2


def test_a_dirty_decoder_is_dropped_not_reused(loads: list[Any]) -> None:
    cache = DecoderCache()
    taken = cache.take()
    taken.add_word("smnbotron", taken.lookup_word("small"), True)  # what additional_vocab does
    cache.give_back(taken, dirty=True)
    again = cache.take()
    assert again is not taken
    assert len(loads) == 2
    assert again.lookup_word("smnbotron") is None


def test_one_idle_decoder_is_kept_at_most(loads: list[Any]) -> None:
    cache = DecoderCache()
    first, second = cache.take(), cache.take()
    cache.give_back(first, dirty=False)
    cache.give_back(second, dirty=False)  # the cache is full: dropped
    assert cache.take() is first
    third = cache.take()
    assert third is not second
    assert loads == [first, second, third]


def test_prewarm_loads_the_next_decoder_ahead_and_only_once(loads: list[Any]) -> None:
    cache = DecoderCache()
    cache.prewarm()
    cache.prewarm()  # already warm: nothing loaded
    assert len(loads) == 1
    assert cache.take() is loads[0]  # handed out without loading
    assert len(loads) == 1
    cache.prewarm()  # the cache is empty again
    assert len(loads) == 2


def test_prewarm_keeps_a_decoder_given_back(loads: list[Any]) -> None:
    cache = DecoderCache()
    taken = cache.take()
    cache.give_back(taken, dirty=False)
    cache.prewarm()
    assert cache.take() is taken
    assert len(loads) == 1


def test_module_prewarm_fills_this_process_cache_and_cmn_meter(
    monkeypatch: pytest.MonkeyPatch, loads: list[Any]
) -> None:
    monkeypatch.setattr(decoder, "CACHE", DecoderCache())  # as in a process just started
    monkeypatch.setattr(cmn, "_METER", None)
    decoder.prewarm()
    assert len(loads) == 1
    assert cmn._METER is not None
    assert cmn.meter() is cmn._METER  # no second meter is loaded
    assert decoder.CACHE.take() is loads[0]


def test_a_decoder_given_back_decodes_the_next_session_like_a_fresh_one() -> None:
    cache = DecoderCache()
    used = cache.take()
    batch.recognize(white_noise(3.0, seed=7), decoder=used)  # a session that would leave state
    cache.give_back(used, dirty=False)
    again = cache.take()
    assert again is used
    audio = clip("librispeech-1988-24833-0000")
    heard = batch.recognize(audio, decoder=again)
    assert "kittens" in [w.content for w in heard]
    assert heard == batch.recognize(audio, decoder=new_decoder())
