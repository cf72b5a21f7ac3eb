"""The seed's two baselines, kept to show what SynthGen improves on: `SynthLSTM` (mel spectrograms) and
`ConvEncoderDecoder` (raw audio). Both read the mix audio only; neither reads the prompt."""

from synthgen.baselines.base import BASELINES, AudioBaseline, is_baseline_dir, load_baseline
from synthgen.baselines.convae import ConvEncoderDecoder
from synthgen.baselines.lstm import SynthLSTM

__all__ = ["AudioBaseline", "BASELINES", "ConvEncoderDecoder", "SynthLSTM", "is_baseline_dir", "load_baseline"]
