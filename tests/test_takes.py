"""Takes: cutting around the speech, the store (save, relabel, delete, metadata) and label checks."""

import json

import numpy as np
import pytest

from audio import takes as takes_module
from audio.dataset import scan_folder
from audio.labels import SILENCE
from audio.takes import METADATA_FILE, TakeStore, held_out
from audio.trim import cut_take, speech_bounds, takes_of, word_spans
from tests.conftest import tone_word


def word_at(seconds: float, total: float, rng_seed: int = 0) -> np.ndarray:
    """A 0.5 s tone word starting at `seconds` in `total` s of quiet noise: (samples,)."""
    rng = np.random.default_rng(rng_seed)
    audio = rng.normal(0, 0.002, round(total * 16_000)).astype(np.float32)
    word = tone_word(200.0, 100.0, samples=8_000 + 16_000)[:]  # the word lands somewhere in the first 1.5 s
    start, end = speech_bounds(word)
    piece = word[start:end]
    begin = round(seconds * 16_000)
    audio[begin : begin + len(piece)] += piece
    return audio


@pytest.mark.parametrize(("at", "total"), [(0.7, 2.5), (1.8, 2.5), (0.05, 0.8)])
def test_cut_take_centres_the_word_in_one_second(at, total):
    audio = word_at(at, total)
    clip = cut_take(audio)
    assert clip.shape == (16_000,) and clip.dtype == np.float32
    start, end = speech_bounds(clip)
    assert abs((start + end) / 2 - 8_000) < 800  # centred within 50 ms
    assert np.abs(clip).max() == pytest.approx(np.abs(audio).max(), rel=1e-6)  # the whole word is kept


def test_cut_take_of_background_keeps_one_second():
    noise = np.random.default_rng(1).normal(0, 0.01, 40_000).astype(np.float32)
    assert speech_bounds(noise) is None
    assert cut_take(noise).shape == (16_000,)


def test_takes_of_a_recording_are_its_word_or_whole_seconds_of_background():
    [clip] = takes_of("left", word_at(0.7, 2.5))
    assert clip.shape == (16_000,) and speech_bounds(clip) is not None
    noise = np.random.default_rng(1).normal(0, 0.01, 40_000).astype(np.float32)
    with pytest.raises(ValueError, match="no word heard"):
        takes_of("left", noise)  # under a word it would teach the word silence
    pieces = takes_of(SILENCE, noise)
    assert len(pieces) == 2 and np.array_equal(pieces[1], noise[16_000:32_000])
    with pytest.raises(ValueError, match="shorter than a 1 s take"):
        takes_of(SILENCE, noise[:8_000])


def test_a_recording_of_several_words_is_cut_into_one_take_a_word():
    rng = np.random.default_rng(2)
    word = cut_take(word_at(0.3, 1.5))
    start, end = speech_bounds(word)
    quiet = rng.normal(0, 0.002, 9_600).astype(np.float32)  # 0.6 s between the words
    click = np.zeros(1_600, np.float32)
    click[::8] = 0.2 * np.abs(word).max()  # 0.1 s, about 14 dB below the words: the button, not a word
    burst = np.concatenate(
        [quiet, click, quiet, word[start:end], quiet, 0.7 * word[start:end], quiet, word[start:end], quiet]
    )
    spans = word_spans(burst)
    assert len(spans) == 3 and all(abs((b - a) - (end - start)) < 800 for a, b in spans)
    clips = takes_of("left", burst, every_word=True)
    assert len(clips) == 3
    for clip in clips:
        first, last = speech_bounds(clip)
        assert clip.shape == (16_000,) and abs((first + last) / 2 - 8_000) < 800  # each word centred in its take
    assert len(takes_of("left", burst)) == 1  # a recorded take keeps one word
    stop = np.concatenate([quiet, word[start:end], np.zeros(2_400, np.float32), word[start:end], quiet])
    assert len(word_spans(stop)) == 1  # a 0.15 s closure inside a word does not split it


def test_store_saves_relabels_deletes_and_keeps_metadata(tmp_path):
    store = TakeStore(tmp_path / "takes", speaker="Ada L")
    take = store.save("left", cut_take(word_at(0.3, 1.5)), device="USB mic")
    assert take.path.parent == tmp_path / "takes" / "left"
    assert take.path.name.startswith("ada-l_nohash_")
    assert store.counts() == {"left": 1}
    metadata = json.loads((tmp_path / "takes" / METADATA_FILE).read_text())
    assert metadata["takes"][take.name]["device"] == "USB mic" and metadata["takes"][take.name]["speaker"] == "ada-l"
    second = store.save("left", np.zeros(16_000, np.float32))
    assert second.path != take.path
    moved = store.relabel(take, "right")
    assert store.counts() == {"left": 1, "right": 1} and moved.device == "USB mic"
    reopened = TakeStore(tmp_path / "takes")
    assert [t.name for t in reopened.takes("right")] == [moved.name]
    assert reopened.takes("right")[0].device == "USB mic"
    assert reopened.delete(moved) == moved.name
    assert reopened.counts() == {"left": 1, "right": 0}
    assert moved.name not in json.loads((tmp_path / "takes" / METADATA_FILE).read_text())["takes"]
    clips = scan_folder(tmp_path / "takes", ["left", "right"])  # the project's loader reads the store
    assert [clip.label for clip in clips] == ["left"]  # not the deleted take, kept aside for Undo
    restored = TakeStore(tmp_path / "takes").restore(moved.name)  # in a later session too
    assert restored == moved and TakeStore(tmp_path / "takes").takes("right")[0].device == "USB mic"
    with pytest.raises(FileNotFoundError):
        reopened.restore(moved.name)  # restored already


@pytest.mark.parametrize("broken", ["{not json", '{"takes": []}'])
def test_a_broken_details_file_is_put_aside_and_the_takes_stay(tmp_path, broken):
    store = TakeStore(tmp_path / "takes")
    take = store.save("left", cut_take(word_at(0.3, 1.5)), device="USB mic")
    (tmp_path / "takes" / METADATA_FILE).write_text(broken)
    reopened = TakeStore(tmp_path / "takes")
    assert [t.name for t in reopened.takes()] == [take.name] and reopened.takes()[0].device == ""
    [kept] = (tmp_path / "takes").glob(f"{METADATA_FILE}.unreadable-*")
    assert kept.read_text() == broken and kept.name in reopened.metadata_problem  # nothing lost
    assert reopened.save("right", np.zeros(16_000, np.float32), device="mic").device == "mic"  # the store goes on
    assert TakeStore(tmp_path / "takes").metadata_problem == ""


BAD_LABELS = ["", "   ", "../evil", "a/b", "a\\b", "..", ".hidden", "_background_noise_", "a\x01b", "what?", "c:x"]


@pytest.mark.parametrize("label", BAD_LABELS)
def test_bad_labels_are_refused_and_write_nothing(tmp_path, label):
    store = TakeStore(tmp_path / "takes")
    with pytest.raises(ValueError):
        store.save(label, np.zeros(16_000, np.float32))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["takes"]  # not even an empty folder
    take = store.save("ok", np.zeros(16_000, np.float32))
    with pytest.raises(ValueError):
        store.relabel(take, label)
    assert take.path.is_file()


def test_held_out_takes_are_deterministic_and_stable():
    names = [f"left/me_nohash_{i:03d}.wav" for i in range(20)]
    chosen = held_out(names)
    assert len(chosen) == 4 and chosen == held_out(list(reversed(names)))
    assert chosen <= held_out(names + [f"left/me_nohash_{i:03d}.wav" for i in range(20, 25)]) | chosen
    assert held_out(names[:4]) == set()  # too few takes: all train


def test_a_batch_of_saves_writes_the_details_at_most_once_a_second_and_as_it_ends(tmp_path, monkeypatch):
    store, clip = TakeStore(tmp_path), np.zeros(16_000, np.float32)
    writes = []  # how many takes each write of takes.json held
    write = takes_module.write_json_atomically
    monkeypatch.setattr(
        takes_module, "write_json_atomically", lambda path, data: writes.append(len(data["takes"])) or write(path, data)
    )
    monkeypatch.setattr(takes_module, "DETAILS_EVERY_SECONDS", 60.0)
    with store.batch():
        for _ in range(30):
            store.save("left", clip)
        assert writes == [1]  # the first save; the rest wait
        assert len(TakeStore(tmp_path).takes("left")) == 30  # every take is on disk and listed meanwhile
    assert writes == [1, 30]  # and the details of all as the batch ends
    assert all(take.time for take in TakeStore(tmp_path).takes("left"))
    store.save("left", clip)
    assert writes == [1, 30, 31]  # outside a batch: at once
    with store.batch():  # deletions, restores and relabellings too
        names = [store.delete(take) for take in store.takes("left")[:10]]
        store.restore(names[0])
        store.relabel(store.takes("left")[0], "right")
    assert writes == [1, 30, 31, 22]  # one write, as the batch ends
    assert TakeStore(tmp_path).counts() == {"left": 21, "right": 1}
    monkeypatch.setattr(takes_module, "DETAILS_EVERY_SECONDS", 0.0)
    with store.batch():  # a second gone by after every save
        store.save("left", clip)
        store.save("left", clip)
    assert writes == [1, 30, 31, 22, 23, 24]
