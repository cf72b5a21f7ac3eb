"""Audio codecs that turn audio into discrete codes and back."""

from synthgen.codec.encodec import CODEC_PRESETS, Codec, load_codec

__all__ = ["CODEC_PRESETS", "Codec", "load_codec"]
