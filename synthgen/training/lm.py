"""Training with Accelerate: one CPU process here, `accelerate launch` for many GPUs or machines.

A run folder holds:
  checkpoint/        the latest checkpoint (accelerate state: model, optimizer, scheduler, RNG states;
                     trainer_state.json: step and data position), replaced atomically; the one before is
                     kept as checkpoint.previous/ and resumed from, with a warning, if the latest is damaged
  log.jsonl          one line per optimizer step (loss, its parts: per-codebook cross-entropy for the codec LM,
                     learning rate) and per validation (valid_loss, valid_loss_parts)
  tensorboard/       the same curves for TensorBoard
  model/             the exported model at the lowest validation loss so far (config + safetensors + codec),
                     loadable with SynthGen.from_pretrained (a baseline's with synthgen.baselines.load_baseline);
                     every run validates at its last step, so it is the best of those validations

What is trained (`arch`): the codec LM (`synthgen`) on a token cache (`synthgen prepare`), or one of the seed's baselines
(`lstm`, `convae`) on the audio of the same windows of a data folder (synthgen.data.audio_windows).

Data order: epoch e visits the windows in a permutation seeded by (seed, e); each process takes its
share of every global batch, so each window is seen once per epoch across processes (a last global
batch with fewer windows than processes is skipped). The position in that order is checkpointed, so
a resumed run continues with exactly the data it would have seen.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from synthgen.codec import Codec, check_same_codec, load_codec
from synthgen.data.audio_windows import AudioWindows, collate_audio
from synthgen.data.cache import CodeCache
from synthgen.data.batches import Paraphrased, collate
from synthgen.errors import SynthGenError
from synthgen.files import append_jsonl, truncate_jsonl
from synthgen.model import CodecLM, build_model
from synthgen.model.pretrained import from_musicgen_melody
from synthgen.pipeline import SynthGen
from synthgen.training.checkpoints import checkpoints, install_checkpoint, load_checkpoint, refuse_a_started_run
from synthgen.training.lm_config import TrainConfig


class Objective(nn.Module):
    """The training loss as a module's forward, so DistributedDataParallel sees the computation."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.loss(batch, "train")


def epoch_order(num_windows: int, epoch: int, seed: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_windows, generator=generator).tolist()


def rank_batches(order: list[int], batch_size: int, rank: int, world: int) -> list[list[int]]:
    """This process's batches of one epoch: global batches of batch_size * world windows, split evenly."""
    per_global = batch_size * world
    batches = [order[i + rank * batch_size : i + (rank + 1) * batch_size]
               for i in range(0, len(order) - per_global + 1, per_global)]
    leftover = order[len(order) // per_global * per_global :]
    if len(leftover) >= world:
        share = math.ceil(len(leftover) / world)
        batches.append(leftover[rank * share : (rank + 1) * share] or leftover[-1:])
    return batches


def _cache_codec(cache: CodeCache):
    """The codec that made a cache's codes (to ship with the model), checked by fingerprint."""
    identity = cache.codec
    codec = load_codec(identity["name"].removeprefix("preset:"))
    check_same_codec(codec, identity, cache.root)  # the codec has changed since the cache was made
    return codec


def build_for_cache(config: TrainConfig, cache: CodeCache) -> tuple[CodecLM, Codec]:
    """The model to train on a token cache and the codec that made the cache's codes (exported with it)."""
    model, codec = _model_for_cache(config, cache)
    if config.frame_chroma and not model.config.frame_chroma:
        model.add_frame_chroma()
    if config.notes and not model.config.notes:
        if len(cache) and "notes" not in cache[0]:
            raise SynthGenError(f"{cache.root}: its tracks' notes are not known (--notes trains on SynthStems' true notes)")
        model.add_notes()
    return model, codec


def _model_for_cache(config: TrainConfig, cache: CodeCache) -> tuple[CodecLM, Codec]:
    identity = cache.codec
    if config.init:
        pipeline = SynthGen.from_pretrained(config.init)
        model, codec = pipeline.model, pipeline.codec
    elif config.preset == "musicgen-melody":
        if config.pretrained is None:
            raise SynthGenError("--preset musicgen-melody needs --pretrained (a local facebook/musicgen-melody snapshot or that Hub id)")
        model, codec = from_musicgen_melody(config.pretrained, lora=config.lora)
    else:
        model = build_model(config.preset, identity["num_codebooks"], identity["cardinality"])
        model.config.chroma_length = int(cache[0]["chroma"].shape[0])
        return model, _cache_codec(cache)
    check_same_codec(codec, identity, cache.root)  # encode the data with the model's codec: prepare --codec
    return model, codec


def build_task(config: TrainConfig) -> tuple[Dataset, Dataset, nn.Module, Codec | None, Callable]:
    """(train data, valid data, model, the codec to export with the model or None, collate) for the run's arch."""
    from synthgen.baselines import BASELINES

    if config.arch == "synthgen":
        train_cache, valid_data = CodeCache(config.data, split="train"), CodeCache(config.data, split="valid")
        if len(train_cache) == 0:
            raise SynthGenError(f"{config.data}: no training windows")
        train_data = Paraphrased(train_cache, config.seed) if config.paraphrase else train_cache
        return train_data, valid_data, *build_for_cache(config, train_cache), collate
    if config.arch in BASELINES:
        if config.init:
            raise SynthGenError(f"--init fine-tunes SynthGen models; --arch {config.arch} trains from scratch")
        if (Path(config.data) / "cache.json").is_file():
            raise SynthGenError(f"{config.data}: a token cache; --arch {config.arch} reads the audio of a data folder")
        return AudioWindows(config.data, "train"), AudioWindows(config.data, "valid"), BASELINES[config.arch](), None, collate_audio
    raise SynthGenError(f"unknown --arch '{config.arch}' (choose from synthgen, {', '.join(BASELINES)})")


class Trainer:
    def __init__(self, config, resume: bool = False, progress: bool = True, task: tuple | None = None):
        """config: TrainConfig, or another loop's settings with the same loop fields (`training.planner`); task:
        (train data, valid data, model, codec or None, collate), built from a TrainConfig when not given."""
        from accelerate import Accelerator
        from transformers import get_cosine_schedule_with_warmup

        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        self.config = config
        self.out = Path(config.out)
        self.progress = progress
        self.checkpoint = self.out / "checkpoint"
        refuse_a_started_run(self.out, self.checkpoint, resume)
        torch.manual_seed(config.seed)
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=config.mixed_precision,
                                       gradient_accumulation_steps=config.grad_accum)
        self.train_data, self.valid_data, self.model, self.codec, self.collate = task or build_task(config)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.95))
        scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup, config.steps)
        self.objective, self.optimizer, self.scheduler = self.accelerator.prepare(Objective(self.model), optimizer, scheduler)
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.best_valid = math.inf  # lowest validation loss so far: the exported model's
        if resume and checkpoints(self.checkpoint):
            self._load()

    # ----- checkpoints -----
    def _load(self) -> None:
        """Resume from the newest good checkpoint (the previous one, with a warning, if the latest is damaged)."""
        def load(path: Path) -> dict:
            state = json.loads((path / "trainer_state.json").read_text())
            self.accelerator.load_state(str(path))
            return state

        state = load_checkpoint(self.checkpoint, load)
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.best_valid = state.get("best_valid", math.inf)
        if self.accelerator.is_main_process:
            truncate_jsonl(self.out / "log.jsonl", self.step)

    def save(self) -> None:
        """Write a checkpoint beside the current one, then swap it in (the one before is kept as the previous)."""
        tmp = self.out / ".checkpoint.tmp"
        if self.accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self.accelerator.save_state(str(tmp))
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            state = dict(step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch, best_valid=self.best_valid,
                         config=asdict(self.config))
            (tmp / "trainer_state.json").write_text(json.dumps(state, indent=1))
            install_checkpoint(self.checkpoint, tmp)
        self.accelerator.wait_for_everyone()

    # ----- logging -----
    def _log(self, record: dict) -> None:
        if not self.accelerator.is_main_process:
            return
        append_jsonl(self.out / "log.jsonl", record)
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, record["step"])
            elif isinstance(value, list):
                for k, v in enumerate(value):
                    self.writer.add_scalar(f"{key}/codebook{k}", v, record["step"])

    # ----- the loop -----
    def batches(self, epoch: int) -> list[list[int]]:
        order = epoch_order(len(self.train_data), epoch, self.config.seed)
        return rank_batches(order, self.config.batch_size, self.accelerator.process_index, self.accelerator.num_processes)

    @torch.no_grad()
    def validate(self) -> dict:
        """The loss and its parts on the first eval_windows validation windows (the codec LM: cross-entropy
        per codebook with all conditions on)."""
        model = self.accelerator.unwrap_model(self.objective).model
        model.eval()
        data = self.valid_data if len(self.valid_data) else self.train_data
        indices = list(range(min(self.config.eval_windows, len(data))))[self.accelerator.process_index :: self.accelerator.num_processes]
        sums = counts = torch.zeros((), device=self.accelerator.device)
        for i in range(0, len(indices), self.config.batch_size):
            with self.accelerator.autocast():
                s, c = model.validation_losses(self.collate(data, indices[i : i + self.config.batch_size], self.accelerator.device))
            sums, counts = sums + s.float(), counts + c.float()
        sums, counts = self.accelerator.reduce(sums, "sum"), self.accelerator.reduce(counts, "sum")
        model.train()
        parts = (sums / counts.clamp(min=1)).tolist()
        return dict(step=self.step, valid_loss=sum(parts) / len(parts), valid_loss_parts=parts)

    def train(self) -> Path:
        from torch.utils.tensorboard import SummaryWriter

        config = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(str(self.out / "tensorboard")) if self.accelerator.is_main_process else None
        self.objective.train()
        bar = tqdm(total=config.steps, initial=self.step, desc="train", unit="step",
                   disable=not (self.progress and self.accelerator.is_main_process))
        micro_losses = []
        while self.step < config.steps:
            batches = self.batches(self.epoch)
            if hasattr(self.train_data, "set_epoch"):
                self.train_data.set_epoch(self.epoch)
            while self.batch_in_epoch < len(batches) and self.step < config.steps:
                batch = self.collate(self.train_data, batches[self.batch_in_epoch], self.accelerator.device)
                self.batch_in_epoch += 1
                self.objective.train()  # dropout on, whatever validation or export did
                with self.accelerator.accumulate(self.objective), self.accelerator.autocast():
                    loss, parts = self.objective(batch)
                    self.accelerator.backward(loss)
                    if self.accelerator.sync_gradients and config.clip:
                        self.accelerator.clip_grad_norm_(self.objective.parameters(), config.clip)
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                micro_losses.append(parts)
                if self.accelerator.sync_gradients:
                    self._finish_step(torch.stack(micro_losses).mean(0), bar)
                    micro_losses = []
            if self.batch_in_epoch >= len(batches):
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        bar.close()
        if self.step % config.save_every:
            self.save()
        return self.out / "model"

    def _finish_step(self, parts: torch.Tensor, bar: tqdm) -> None:
        self.step += 1
        parts = self.accelerator.reduce(parts.to(self.accelerator.device), "mean").tolist()
        loss = sum(parts) / len(parts)
        self._log(dict(step=self.step, loss=loss, loss_parts=parts, lr=self.scheduler.get_last_lr()[0], epoch=self.epoch))
        bar.set_postfix(loss=f"{loss:.3f}", epoch=self.epoch)
        bar.update()
        if self.step % self.config.eval_every == 0 or self.step == self.config.steps:
            record = self.validate()
            best = record["valid_loss"] < self.best_valid
            if best:
                self.best_valid = record["valid_loss"]
                self.export()
            self._log(dict(record, best=best))
            if self.accelerator.is_main_process:
                bar.write(f"step {self.step}: valid loss {record['valid_loss']:.3f}" + (" (best so far: exported)" if best else ""))
        if self.step % self.config.save_every == 0:
            self.save()

    def export(self) -> Path:
        """Save the model as it is now as config + safetensors (+ codec for the codec LM) in RUN/model. The model
        being trained is left as it was: in train mode, and with its LoRA adapters (a copy is merged)."""
        target = self.out / "model"
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.objective).model
            if getattr(self.config, "lora", False):
                from synthgen.model.pretrained import merge_lora

                model = copy.deepcopy(model)
                merge_lora(model)
            was_training = model.training
            model.eval()
            if self.codec is None:
                model.save_pretrained(target)
            else:
                SynthGen(model, self.codec).save_pretrained(target)
            model.train(was_training)
        self.accelerator.wait_for_everyone()
        return target


def run_training(config: TrainConfig, resume: bool) -> Path:
    trainer = Trainer(config, resume=resume)
    out = trainer.train()
    if os.environ.get("LOCAL_RANK", "0") == "0":
        print(f"{config.out}: trained to step {trainer.step}; model in {out}")
    return out
