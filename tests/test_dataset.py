"""The Speech Commands loader: layout, splits, label mapping, conversion, bad files."""

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.dataset import discover_labels, hash_split, load_clips, load_splits, scan_folder, speaker_of
from audio.io import AudioFileError, read_audio, write_wav
from audio.labels import UNKNOWN


def make_layout(root, words=("yes", "no", "cat"), speakers=("aa", "bb", "cc", "dd"), takes=2):
    rng = np.random.default_rng(0)
    for word in words:
        for speaker in speakers:
            for take in range(takes):
                write_wav(root / word / f"{speaker}_nohash_{take}.wav", rng.normal(0, 0.1, 16_000).astype(np.float32))
    return root


def test_lists_define_validation_and_test(tmp_path):
    root = make_layout(tmp_path)
    (root / "validation_list.txt").write_text("yes/aa_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("no/bb_nohash_1.wav\ncat/cc_nohash_0.wav\n")
    clips = scan_folder(root, ("yes", "no", UNKNOWN))
    by_split = {
        split: sorted(f"{c.path.parent.name}/{c.path.name}" for c in clips if c.split == split)
        for split in ("validation", "test")
    }
    assert by_split == {"validation": ["yes/aa_nohash_0.wav"], "test": ["cat/cc_nohash_0.wav", "no/bb_nohash_1.wav"]}
    assert sum(c.split == "train" for c in clips) == len(clips) - 3


def test_without_lists_a_speaker_never_straddles_splits(tmp_path):
    speakers = tuple(f"s{i:03d}" for i in range(60))
    root = make_layout(tmp_path, words=("yes",), speakers=speakers, takes=2)
    clips = scan_folder(root, ("yes", "no"))
    splits_of = {}
    for clip in clips:
        splits_of.setdefault(speaker_of(clip.path), set()).add(clip.split)
    assert all(len(s) == 1 for s in splits_of.values())
    assert {"train", "validation", "test"} <= {c.split for c in clips}
    assert [c.split for c in clips] == [c.split for c in scan_folder(root, ("yes", "no"))]  # deterministic


def test_file_without_nohash_splits_by_file(tmp_path):
    assert speaker_of(tmp_path / "take-17.wav") == "take-17"
    assert hash_split(tmp_path / "a_nohash_1.wav") == hash_split(tmp_path / "a_nohash_2.wav")


def test_other_folders_map_to_unknown_or_are_skipped(tmp_path, caplog):
    root = make_layout(tmp_path)
    (root / "_background_noise_").mkdir()
    write_wav(root / "_background_noise_" / "long.wav", np.zeros(48_000, np.float32))
    assert {c.label for c in scan_folder(root, ("yes", "no", UNKNOWN))} == {"yes", "no", UNKNOWN}
    with caplog.at_level(logging.WARNING):
        assert {c.label for c in scan_folder(root, ("yes", "no"))} == {"yes", "no"}
    assert "'cat' is not a label" in caplog.text
    assert discover_labels([root]) == ("cat", "no", "yes")


def test_any_rate_depth_and_channels_become_16k_mono(tmp_path):
    t = np.arange(44_100) / 44_100
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "stereo.wav", np.stack([tone, tone], axis=1), 44_100, subtype="PCM_24")
    sf.write(tmp_path / "float.wav", tone[:22_050].astype(np.float32), 22_050, subtype="FLOAT")
    stereo = read_audio(tmp_path / "stereo.wav")
    assert stereo.dtype == np.float32 and stereo.shape == (16_000,)
    spectrum = np.abs(np.fft.rfft(stereo))
    assert abs(np.argmax(spectrum) * 16_000 / len(stereo) - 440) < 2
    assert read_audio(tmp_path / "float.wav").shape == (16_000,)


def test_resampling_is_anti_aliased(tmp_path):
    """A 12 kHz tone at 48 kHz is above the new Nyquist frequency and must vanish, not fold to 4 kHz."""
    t = np.arange(48_000) / 48_000
    sf.write(tmp_path / "high.wav", 0.5 * np.sin(2 * np.pi * 12_000 * t), 48_000)
    interior = read_audio(tmp_path / "high.wav")[200:-200]  # away from the filter's edge transients
    assert np.abs(interior).max() < 0.01


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk", b"hello world" * 100])
def test_corrupt_and_empty_files_are_named(tmp_path, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(AudioFileError, match=r"bad\.wav") as error:
        read_audio(bad)
    assert str(error.value).count("bad.wav") == 1  # the path once, then the reason


def test_a_missing_file_or_a_folder_is_said_to_be_so(tmp_path):
    with pytest.raises(AudioFileError, match=r"gone\.wav: no such file$"):
        read_audio(tmp_path / "gone.wav")
    (tmp_path / "takes.wav").mkdir()  # a folder given where a sound file goes
    with pytest.raises(AudioFileError, match=r"takes\.wav: a folder, not a sound file$"):
        read_audio(tmp_path / "takes.wav")


def test_a_bad_file_is_skipped_not_fatal(tmp_path, caplog):
    root = make_layout(tmp_path, words=("yes", "no"), speakers=("aa",), takes=1)
    (root / "yes" / "zz_nohash_0.wav").write_bytes(b"not audio")
    sf.write(root / "no" / "empty_nohash_0.wav", np.zeros((0,)), 16_000)
    with caplog.at_level(logging.WARNING):
        clips = load_clips(scan_folder(root, ("yes", "no")), ("yes", "no"))
    assert len(clips) == 2 and clips.waveforms.shape == (2, 16_000)
    assert "zz_nohash_0.wav" in caplog.text and "empty_nohash_0.wav" in caplog.text


def test_load_splits_pads_and_labels(tmp_path):
    root = make_layout(tmp_path, words=("yes", "no"), speakers=("aa",), takes=1)
    write_wav(root / "yes" / "short_nohash_0.wav", np.ones(4_000, np.float32) * 0.5)
    (root / "testing_list.txt").write_text("yes/short_nohash_0.wav\n")
    splits = load_splits([root], ("no", "yes"))
    assert len(splits["train"]) == 2 and len(splits["test"]) == 1 and len(splits["validation"]) == 0
    assert splits["test"].targets.tolist() == [1]
    assert splits["test"].waveforms.shape == (1, 16_000)
    assert splits["train"].counts() == {"no": 1, "yes": 1}


def test_fold_validation_trains_on_validation_clips_in_scan_order(tmp_path):
    root = make_layout(tmp_path, words=("yes", "no"), speakers=("aa", "bb", "cc"), takes=1)
    (root / "validation_list.txt").write_text("no/bb_nohash_0.wav\nyes/bb_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("yes/cc_nohash_0.wav\n")
    folded = load_splits([root], ("no", "yes"), fold_validation=True)
    assert len(folded["validation"]) == 0 and [Path(p).name for p in folded["test"].paths] == ["cc_nohash_0.wav"]
    (root / "validation_list.txt").unlink()  # the same corpus without a validation list
    assert folded["train"].paths == load_splits([root], ("no", "yes"))["train"].paths  # 5 clips, same order


def test_missing_data_folder_has_a_hint(tmp_path):
    with pytest.raises(FileNotFoundError, match="one sub-folder per label"):
        scan_folder(tmp_path / "nope", ("yes",))
