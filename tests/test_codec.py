import pytest
import torch

from synthgen.codec import EncodecCodec, load_codec
from synthgen.errors import SynthGenError


def test_tiny_preset_interface():
    codec = load_codec("tiny")
    assert (codec.sample_rate, codec.frame_rate, codec.num_codebooks, codec.cardinality) == (32000, 50.0, 4, 64)
    audio = torch.randn(2, 1, 32000 + 100)
    codes = codec.encode(audio)
    assert codes.shape == (2, 4, 51) and codes.dtype == torch.int64
    assert 0 <= codes.min() and codes.max() < 64
    decoded = codec.decode(codes)
    assert decoded.shape == (2, 1, 51 * 640) and torch.isfinite(decoded).all()
    assert load_codec("tiny").identity() == codec.identity()  # presets are seeded


def test_pretrained_directory_round_trip(tmp_path):
    codec = EncodecCodec.from_preset("tiny", seed=3)
    codec.save_pretrained(tmp_path / "encodec")
    loaded = load_codec(tmp_path / "encodec")
    audio = torch.randn(1, 1, 32000)
    assert torch.equal(loaded.encode(audio), codec.encode(audio))
    assert loaded.identity()["fingerprint"] == codec.identity()["fingerprint"]
    assert loaded.identity()["fingerprint"] != load_codec("tiny").identity()["fingerprint"]


def test_fingerprint_covers_what_decides_the_codes():
    codec = load_codec("tiny")
    before = codec.identity()["fingerprint"]
    with torch.no_grad():
        codec.model.decoder.layers[-1].conv.bias.add_(0.5)  # the decoder renders codes, it does not choose them
    assert codec.identity()["fingerprint"] == before
    with torch.no_grad():
        codec.model.encoder.layers[-1].conv.bias.add_(0.5)
    assert codec.identity()["fingerprint"] != before
    with torch.no_grad():
        codec.model.encoder.layers[-1].conv.bias.sub_(0.5)
        codec.model.quantizer.layers[0].codebook.embed[0] += 1.0
    assert codec.identity()["fingerprint"] != before


def test_unknown_codec():
    with pytest.raises(SynthGenError, match="not a directory and not a preset"):
        load_codec("huge")


@pytest.mark.parametrize("spec, cardinality", [("tiny", 64), ("encodec:tiny", 64), ("spectral:tiny", 1024)])
def test_both_kinds_keep_the_contract(tmp_path, spec, cardinality):
    codec = load_codec(spec)
    assert (codec.sample_rate, codec.frame_rate, codec.num_codebooks, codec.cardinality) == (32000, 50.0, 4, cardinality)
    audio = 0.3 * torch.randn(2, 1, 32000 + 100, generator=torch.Generator().manual_seed(0))
    codes = codec.encode(audio)
    assert codes.shape == (2, 4, 51) and codes.dtype == torch.int64  # T = ceil(N / 640)
    assert 0 <= codes.min() and codes.max() < cardinality
    decoded = codec.decode(codes)
    assert decoded.shape == (2, 1, 51 * 640) and torch.isfinite(decoded).all()
    assert codec.latents(audio).shape[::2] == (2, 51)
    codec.save_pretrained(tmp_path / "codec")
    loaded = load_codec(tmp_path / "codec")
    assert loaded.kind == codec.kind and torch.equal(loaded.encode(audio), codes)
    assert loaded.identity()["fingerprint"] == codec.identity()["fingerprint"]
    assert torch.allclose(loaded.decode(codes), decoded, atol=1e-5)


def test_spectral_fingerprint_covers_the_encoder_not_the_decoder():
    codec = load_codec("spectral:tiny")
    before = codec.identity()["fingerprint"]
    assert before != load_codec("tiny").identity()["fingerprint"]
    with torch.no_grad():
        codec.net.decoder[-1].bias.add_(0.5)
    assert codec.identity()["fingerprint"] == before
    with torch.no_grad():
        codec.net.bin_mean.add_(0.5)  # the analysis decides the codes too
    assert codec.identity()["fingerprint"] != before


def test_codec_directory_errors_name_the_problem(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SynthGenError, match="no config.json"):
        load_codec(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(SynthGenError, match="not valid JSON"):
        load_codec(tmp_path / "bad")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(SynthGenError, match="not a codec of a known kind"):
        load_codec(tmp_path / "other")


def test_a_damaged_spectral_codec_stops_with_one_line(tmp_path):
    load_codec("spectral:tiny").save_pretrained(tmp_path / "codec")
    weights = tmp_path / "codec" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # cut short
    with pytest.raises(SynthGenError, match="not a loadable spectral codec"):
        load_codec(tmp_path / "codec")
    load_codec("spectral:tiny").save_pretrained(tmp_path / "other")
    (tmp_path / "other" / "config.json").write_text('{"kind": "spectral", "colour": "blue"}')
    with pytest.raises(SynthGenError, match="not a loadable spectral codec"):
        load_codec(tmp_path / "other")
