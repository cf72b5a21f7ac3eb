"""SF3 SoundFonts (MuseScore's: each sample an Ogg Vorbis stream) decompressed once into plain SF2 files.

FluidSynth decodes every sample of an .sf3 each time it loads one (about 4 s for MuseScore_General_Lite), and a
loaded synth cannot be reused bit-for-bit (a note's sound depends on what the synth played before), so SynthStems
starts a new synth per part: from a decompressed copy that loads in milliseconds.

    sf2 = decompressed("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3")  # made once, kept in the cache folder

SF3 sample headers hold the byte range of each Ogg stream in the sample chunk and loop points counted from the
sample's own start; an SF2's hold sample offsets into one 16-bit chunk, each sample followed by 46 zeros.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from synthgen.errors import SynthGenError
from synthgen.files import user_cache, write_atomic

SAMPLE_HEADER = struct.Struct("<20sIIIIIBbHH")  # name, start, end, loop start, loop end, rate, pitch, correction, link, type
VORBIS = 0x10  # sample type flag of a compressed sample
PADDING = 46  # zero samples after each sample (SF2 spec)


def cache_folder() -> Path:
    return user_cache("soundfonts")


@functools.lru_cache(maxsize=8)
def decompressed(soundfont: str | Path) -> Path:
    """An SF2 copy of an .sf3 SoundFont (made on first use, named by its content's hash, remembered for the
    process); an .sf2 as it is."""
    soundfont = Path(soundfont)
    if soundfont.suffix.lower() != ".sf3":
        return soundfont
    digest = hashlib.sha256(soundfont.read_bytes()).hexdigest()[:16]
    target = cache_folder() / f"{soundfont.stem}-{digest}.sf2"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        converted = sf3_to_sf2(soundfont.read_bytes(), soundfont)
        write_atomic(target, lambda tmp: tmp.write_bytes(converted))
    return target


def _chunks(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    """RIFF chunks between two offsets: id (or LIST type) -> (offset of its data, size)."""
    found, at = {}, start
    while at + 8 <= end:
        name, size = data[at : at + 4].decode("latin-1"), struct.unpack("<I", data[at + 4 : at + 8])[0]
        if name == "LIST":
            found[data[at + 8 : at + 12].decode("latin-1")] = (at + 12, size - 4)
        else:
            found[name] = (at + 8, size)
        at += 8 + size
        if size % 2 and not data[at : at + 4].isalnum():  # the pad byte after an odd chunk (some writers omit it)
            at += 1
    return found


def _chunk(name: str, body: bytes) -> bytes:
    return name.encode("latin-1") + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)


def sf3_to_sf2(data: bytes, name: Path) -> bytes:
    """The bytes of an .sf3 file -> the bytes of the equivalent .sf2 file."""
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise SynthGenError(f"{name}: not a SoundFont (no RIFF sfbk header)")
    top = _chunks(data, 12, len(data))
    if not {"INFO", "sdta", "pdta"} <= set(top):
        raise SynthGenError(f"{name}: a SoundFont without its INFO, sdta and pdta lists")
    info, pdta = _chunks(data, *_span(top["INFO"])), _chunks(data, *_span(top["pdta"]))
    smpl_at, smpl_size = _chunks(data, *_span(top["sdta"]))["smpl"]
    smpl = data[smpl_at : smpl_at + smpl_size]
    shdr_at, shdr_size = pdta["shdr"]
    samples, headers, offset = [], [], 0
    for i in range(shdr_size // SAMPLE_HEADER.size):
        fields = list(SAMPLE_HEADER.unpack_from(data, shdr_at + i * SAMPLE_HEADER.size))
        start, end, loop_start, loop_end, kind = fields[1], fields[2], fields[3], fields[4], fields[9]
        if i == shdr_size // SAMPLE_HEADER.size - 1:  # the terminal record
            headers.append(SAMPLE_HEADER.pack(fields[0], *[0] * 9))
            break
        if kind & VORBIS:
            pcm, _ = sf.read(io.BytesIO(smpl[start:end]), dtype="int16")
        else:
            pcm = np.frombuffer(smpl[2 * start : 2 * end], "<i2")
            loop_start, loop_end = loop_start - start, loop_end - start
        pcm = np.asarray(pcm, "<i2").reshape(-1)
        samples += [pcm.tobytes(), bytes(2 * PADDING)]
        fields[1:5] = offset, offset + len(pcm), offset + loop_start, offset + loop_end
        fields[9] = kind & ~VORBIS
        headers.append(SAMPLE_HEADER.pack(*fields))
        offset += len(pcm) + PADDING
    info_body = b"".join(_chunk(k, struct.pack("<HH", 2, 1) if k == "ifil" else data[a : a + s])
                         for k, (a, s) in info.items())
    pdta_body = b"".join(_chunk(k, b"".join(headers) if k == "shdr" else data[a : a + s]) for k, (a, s) in pdta.items())
    body = b"sfbk" + _list("INFO", info_body) + _list("sdta", _chunk("smpl", b"".join(samples))) + _list("pdta", pdta_body)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _span(chunk: tuple[int, int]) -> tuple[int, int]:
    return chunk[0], chunk[0] + chunk[1]


def _list(kind: str, body: bytes) -> bytes:
    return _chunk("LIST", kind.encode("latin-1") + body)
