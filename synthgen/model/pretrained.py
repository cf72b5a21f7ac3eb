"""The pretrained MusicGen-Melody (a local `facebook/musicgen-melody` snapshot) as a CodecLM,
for full fine-tuning or LoRA. Its decoder, T5 text encoder, projections and EnCodec load unchanged;
only the time-aligned mix codes (their projection initialised at zero) are new. transformers is imported when a snapshot is loaded,
not when this module is."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import torch
from torch import nn

from synthgen.codec import EncodecCodec
from synthgen.errors import SynthGenError
from synthgen.files import read_json
from synthgen.hub import resolve
from synthgen.model.decoder import DecoderConfig, MusicGenDecoder
from synthgen.model.lm import CodecLM, CodecLMConfig
from synthgen.model.text import TextEncoder
from synthgen.quiet import quiet_transformers

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


def is_musicgen_melody(directory: Path) -> bool:
    """Whether a folder holds a transformers MusicGen-Melody (its config.json's model_type)."""
    config = directory / "config.json"
    return config.is_file() and read_json(config).get("model_type") == "musicgen_melody"


def from_musicgen_melody(directory: str | Path, lora: bool = False, lora_rank: int = 16) -> tuple[CodecLM, EncodecCodec]:
    """The snapshot's decoder, text encoder and projections as a CodecLM, and its EnCodec as the codec.
    `directory` may be a Hub id (`hub.resolve`)."""
    from transformers import AutoTokenizer, MusicgenMelodyForConditionalGeneration

    directory = resolve(directory)
    if not (directory / "config.json").is_file():
        raise SynthGenError(f"{directory}: not a MusicGen-Melody snapshot (no config.json)")
    with quiet_transformers():
        pretrained = MusicgenMelodyForConditionalGeneration.from_pretrained(str(directory), local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    config = CodecLMConfig(decoder={}, text_encoder="t5", use_chroma=True,
                            chroma_length=pretrained.config.chroma_length, preset="musicgen-melody",
                            extra={"pretrained": str(directory.resolve())})
    model = CodecLM(
        config, TextEncoder(pretrained.text_encoder, tokenizer, "t5"), decoder=_own_decoder(pretrained.decoder),
        text_proj=getattr(pretrained, "enc_to_dec_proj", nn.Identity()),
        chroma_proj=getattr(pretrained, "audio_enc_to_dec_proj", nn.Identity()),
    )
    codec = EncodecCodec(pretrained.audio_encoder, name=str(directory.resolve()))
    if lora:
        add_lora(model, lora_rank)
    return model, codec


def _own_decoder(decoder: nn.Module) -> MusicGenDecoder:
    """transformers' MusicgenMelodyForCausalLM as our MusicGenDecoder, sharing its tensors (the names match)."""
    settings = decoder.config.to_dict()
    config = DecoderConfig(**{f.name: settings[f.name] for f in fields(DecoderConfig)})
    with torch.device("meta"):
        own = MusicGenDecoder(config)
    own.load_state_dict(decoder.state_dict(), assign=True)
    return own


def add_lora(model: CodecLM, rank: int) -> None:
    """Freeze the decoder and add LoRA adapters to its attention; the new conditioning stays trainable."""
    from peft import LoraConfig, inject_adapter_in_model

    model.decoder.requires_grad_(False)
    inject_adapter_in_model(LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=LORA_TARGETS), model.decoder)
    model.config.extra["lora_rank"] = rank


def merge_lora(model: CodecLM) -> None:
    """Fold LoRA adapters into the decoder's weights, leaving a plain decoder (for export)."""
    from peft.tuners.lora import LoraLayer

    for name, module in list(model.decoder.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent = model.decoder.get_submodule(name.rpartition(".")[0])
            setattr(parent, name.rpartition(".")[2], module.get_base_layer())
    model.config.extra.pop("lora_rank", None)
