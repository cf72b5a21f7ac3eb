from dataclasses import asdict

import pytest
import torch
from transformers import (AutoTokenizer, MusicgenMelodyDecoderConfig, MusicgenMelodyForCausalLM,
                          MusicgenMelodyForConditionalGeneration)

from synthgen.chroma import dominant_pitch_class
from synthgen.model import CodecLM, build_model
from synthgen.model.decoder import DecoderConfig, MusicGenDecoder
from synthgen.model.minilm import minilm_directory
from synthgen.model.text import MAX_TOKENS, TextEncoder
from synthgen.model.delay import apply_delay, code_mask, decoder_inputs, undo_delay
from synthgen.model.lm import chroma_frame_index
from synthgen.model.pretrained import from_musicgen_melody, merge_lora
from synthgen.pipeline import SynthGen
from tests.helpers.factories import make_tiny_musicgen_melody

K, V, T = 4, 64, 40


def make_batch(b=2, t=T, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(target=torch.randint(0, V, (b, K, t), generator=g), mix_codes=torch.randint(0, V, (b, K, t), generator=g),
                chroma=torch.rand(b, 16, 12, generator=g), prompt=["a bright saw lead", "a soft dark pad holding the chords"][:b],
                valid_frames=torch.full((b,), t))


def full_logits(model, batch):
    ones = torch.ones(batch["target"].shape[0])
    return model.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = build_model("tiny", K, V).eval()
    torch.nn.init.normal_(model.mix_proj.weight, std=0.5)  # a trained model uses the mix's codes
    return model


def test_decoder_matches_transformers_in_float32():
    """Our decoder and transformers' MusicgenMelodyForCausalLM share parameter names and compute the same logits,
    for a full prefix, a partly masked one and a dropped one (classifier-free guidance's rows)."""
    torch.manual_seed(0)
    config = DecoderConfig(vocab_size=V, num_codebooks=K, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           ffn_dim=64, dropout=0.0, pad_token_id=V, bos_token_id=V)
    ours = MusicGenDecoder(config).eval()
    theirs = MusicgenMelodyForCausalLM(MusicgenMelodyDecoderConfig(**asdict(config))).eval()
    assert set(ours.state_dict()) == set(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])
    prefix, states = torch.randn(3, 5, 32) * mask[..., None], torch.randn(3, 7, 32)
    with torch.no_grad():
        hidden = theirs.model.decoder(inputs_embeds=states, attention_mask=torch.ones(3, 7), encoder_hidden_states=prefix,
                                      encoder_attention_mask=mask).last_hidden_state[:, -7:]
        want = torch.stack([head(hidden) for head in theirs.lm_heads], dim=1)
        got = ours(states, prefix, mask)
    assert got.shape == (3, K, 7, V)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_minilm_matches_transformers_in_float32():
    """Our MiniLM and tokenizer give transformers' BertModel states and token ids, padding and truncation included."""
    from transformers import AutoModel

    directory = minilm_directory()
    ours = TextEncoder.load("minilm")
    texts = ["a soft dark pad holding the chords", "Bright SAW lead, with glide!", " ".join(["arpeggio"] * 80)]
    tokens = AutoTokenizer.from_pretrained(str(directory))(texts, padding=True, truncation=True, max_length=MAX_TOKENS,
                                                          return_tensors="pt")
    ids, mask = ours.tokenize(texts)
    assert ids.shape == (3, MAX_TOKENS)
    assert torch.equal(ids, tokens["input_ids"]) and torch.equal(mask, tokens["attention_mask"])
    with torch.no_grad():
        want = AutoModel.from_pretrained(str(directory)).eval()(**tokens).last_hidden_state
    got, got_mask = ours.encode(texts)
    valid = mask.bool()
    torch.testing.assert_close(got[valid], want[valid], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sr, n_fft", [(32000, 16384), (32000, 2048), (44100, 1024)])
def test_chroma_filters_are_librosas(sr, n_fft):
    import librosa

    from synthgen.chroma import chroma_filters

    want = librosa.filters.chroma(sr=sr, n_fft=n_fft)
    torch.testing.assert_close(chroma_filters(sr, n_fft), torch.from_numpy(want).float(), rtol=0, atol=1e-7)


def test_delay_pattern_round_trip_and_mask():
    codes = torch.arange(2 * K * 5).reshape(2, K, 5)
    delayed = apply_delay(codes, pad_id=99)
    assert delayed.shape == (2, K, 5 + K - 1)
    assert delayed[0, 2, :2].tolist() == [99, 99] and delayed[0, 2, 2] == codes[0, 2, 0]
    assert torch.equal(undo_delay(delayed), codes)
    mask = code_mask(K, torch.tensor([5, 3]), 5)
    assert torch.equal(mask[0], delayed[0] != 99)
    assert mask[1, 0].sum() == 3 and mask[1, 3].tolist() == [False] * 3 + [True] * 3 + [False] * 2
    assert decoder_inputs(delayed, 99)[0, :, 0].tolist() == [99] * K


def test_tiny_overfits_one_batch():
    torch.manual_seed(0)
    model = build_model("tiny", K, V).train()
    batch = make_batch()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    first = None
    for _ in range(40):
        loss, _ = model.loss(batch, "full")
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 2


def test_causal_in_the_target(tiny):
    batch = make_batch()
    changed = {**batch, "target": batch["target"].clone()}
    t = 17
    changed["target"][:, :, t:] = (changed["target"][:, :, t:] + 1) % V
    a, b = full_logits(tiny, batch), full_logits(tiny, changed)
    # step s reads delayed step s - 1, which holds frames <= s - 1: steps <= t never see frame t
    torch.testing.assert_close(a[:, :, : t + 1], b[:, :, : t + 1], rtol=0, atol=1e-5)
    assert not torch.allclose(a[:, :, t + 1 :], b[:, :, t + 1 :])


def test_mix_codes_are_time_aligned(tiny):
    batch = make_batch()
    changed = {**batch, "mix_codes": batch["mix_codes"].clone()}
    t = 23
    changed["mix_codes"][:, :, t:] = (changed["mix_codes"][:, :, t:] + 7) % V
    a, b = full_logits(tiny, batch), full_logits(tiny, changed)
    torch.testing.assert_close(a[:, :, :t], b[:, :, :t], rtol=0, atol=1e-5)
    assert not torch.allclose(a[:, :, t], b[:, :, t])  # step t predicts frame t with the mix's frame t


def test_conditions_matter_and_dropping_them_is_clean(tiny):
    batch = make_batch()
    ones, zeros = torch.ones(2), torch.zeros(2)
    args = (batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"])
    full = tiny.logits_for(*args, ones, ones)
    for keep_text, keep_mix in ((zeros, ones), (ones, zeros), (zeros, zeros)):
        other = tiny.logits_for(*args, keep_text, keep_mix)
        assert torch.isfinite(other).all() and not torch.allclose(full, other)
    # with text dropped, the prompt no longer matters
    swapped = (batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"][::-1])
    torch.testing.assert_close(tiny.logits_for(*args, zeros, ones), tiny.logits_for(*swapped, zeros, ones))


def test_save_and_load_give_identical_logits(tiny, tmp_path):
    tiny.save_pretrained(tmp_path / "model")
    loaded = CodecLM.from_pretrained(tmp_path / "model")
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    batch = make_batch()
    torch.testing.assert_close(full_logits(loaded, batch), full_logits(tiny, batch), rtol=0, atol=0)
    assert "text_encoder.model.embeddings.word_embeddings.weight" not in tiny.trainable_state_dict()


def test_a_model_saved_under_the_old_names_loads(tiny, tmp_path):
    """Model folders written before the mix codes had their name: use_context and context_dropout in config.json,
    context_embed and context_proj in model.safetensors."""
    import json

    from safetensors.torch import load_file, save_file

    tiny.save_pretrained(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["use_context"], config["context_dropout"] = config.pop("use_mix_codes"), config.pop("mix_dropout")
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    weights = load_file(str(tmp_path / "model" / "model.safetensors"))
    weights = {k.replace("mix_embed.", "context_embed.").replace("mix_proj.", "context_proj."): v for k, v in weights.items()}
    assert any(k.startswith("context_proj.") for k in weights)
    save_file(weights, str(tmp_path / "model" / "model.safetensors"))
    loaded = CodecLM.from_pretrained(tmp_path / "model")
    assert loaded.config.use_mix_codes and loaded.config.mix_dropout == tiny.config.mix_dropout
    batch = make_batch()
    torch.testing.assert_close(full_logits(loaded, batch), full_logits(tiny, batch), rtol=0, atol=0)


def test_a_trainable_minilm_saved_by_transformers_loads(tmp_path):
    """Models with a trainable MiniLM saved when it was transformers' BertModel (before model/minilm.py) hold its
    weights, pooler included."""
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    model = build_model("tiny", K, V).eval()
    model.config.text_trainable = True
    model.save_pretrained(tmp_path / "model")
    weights = load_file(str(tmp_path / "model" / "model.safetensors"))
    assert "text_encoder.model.embeddings.word_embeddings.weight" in weights
    weights |= {"text_encoder.model.pooler.dense.weight": torch.zeros(384, 384), "text_encoder.model.pooler.dense.bias": torch.zeros(384)}
    save_file(weights, str(tmp_path / "model" / "model.safetensors"))
    loaded = CodecLM.from_pretrained(tmp_path / "model")
    batch = make_batch()
    torch.testing.assert_close(full_logits(loaded, batch), full_logits(model, batch), rtol=0, atol=0)


@pytest.fixture(scope="module")
def musicgen_dir(tmp_path_factory):
    return make_tiny_musicgen_melody(tmp_path_factory.mktemp("musicgen-melody"))


def test_musicgen_melody_loads_unchanged(musicgen_dir, tmp_path):
    model, codec = from_musicgen_melody(musicgen_dir)
    model.eval()
    reference = MusicgenMelodyForConditionalGeneration.from_pretrained(str(musicgen_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(musicgen_dir))
    batch = make_batch(b=1)
    chroma = dominant_pitch_class(batch["chroma"])
    delayed = apply_delay(batch["target"], model.pad_id)
    tokens = tokenizer(batch["prompt"], return_tensors="pt")
    with torch.no_grad():
        want = reference(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"], input_features=chroma,
                         decoder_input_ids=decoder_inputs(delayed, model.pad_id).reshape(K, -1)).logits
        got = full_logits(model, {**batch, "chroma": chroma})
    want = want.reshape(1, K, -1, V)[:, :, -delayed.shape[-1] :]
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)  # the zero-initialised mix codes change nothing

    SynthGen(model, codec).save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "text_encoder").is_dir() and (tmp_path / "saved" / "codec").is_dir()
    loaded = SynthGen.from_pretrained(tmp_path / "saved")
    torch.testing.assert_close(full_logits(loaded.model, batch), full_logits(model, batch), rtol=0, atol=0)
    assert loaded.codec.identity()["fingerprint"] == codec.identity()["fingerprint"]


def test_musicgen_melody_lora_trains_adapters_and_merges(musicgen_dir, tmp_path):
    model, _ = from_musicgen_melody(musicgen_dir, lora=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or not n.startswith("decoder.") for n in trainable)
    assert not any(n.startswith("text_encoder.") for n in trainable)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        loss, _ = model.loss(make_batch(b=1), "full")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    batch = make_batch(b=1, seed=3)
    before = full_logits(model, batch)
    merge_lora(model)
    model.save_pretrained(tmp_path / "merged")
    loaded = CodecLM.from_pretrained(tmp_path / "merged")
    torch.testing.assert_close(full_logits(loaded, batch), before, rtol=1e-4, atol=1e-5)


def test_frame_chroma_starts_unchanged_is_time_aligned_and_saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("tiny", K, V).eval()
    torch.nn.init.normal_(model.mix_proj.weight, std=0.5)
    batch = make_batch()
    before = full_logits(model, batch)
    model.add_frame_chroma()
    torch.testing.assert_close(full_logits(model, batch), before, rtol=0, atol=0)  # a fine-tune starts where it was
    torch.nn.init.normal_(model.frame_chroma_proj.weight, std=1.0)
    changed = {**batch, "chroma": batch["chroma"].clone()}
    changed["chroma"][:, 4:] *= 0.5  # the same strongest classes: the prefix is unchanged, the frames are not
    first = int((chroma_frame_index(T, batch["chroma"].shape[1]) >= 4).nonzero()[0])  # code frame of chroma frame 4
    assert 20 < first < 30  # 4 chroma frames of 4096 samples = 25.6 code frames of 640
    a, b = full_logits(model, batch), full_logits(model, changed)
    torch.testing.assert_close(a[:, :, :first], b[:, :, :first], rtol=0, atol=1e-5)
    assert not torch.allclose(a[:, :, first], b[:, :, first])
    model.save_pretrained(tmp_path / "model")
    loaded = CodecLM.from_pretrained(tmp_path / "model")
    assert loaded.config.frame_chroma
    torch.testing.assert_close(full_logits(loaded, batch), a, rtol=0, atol=0)
