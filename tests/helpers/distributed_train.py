"""Run under `accelerate launch`: train a few steps, then write what this rank holds and saw."""

import hashlib
import json
import sys

import torch

from synthgen.training.lm import TrainConfig, Trainer

data, out = sys.argv[1], sys.argv[2]
trainer = Trainer(TrainConfig(data=data, out=out, preset="tiny", steps=6, batch_size=2, eval_every=3, save_every=3,
                              warmup=1, lr=1e-2), progress=False)
trainer.train()
model = trainer.accelerator.unwrap_model(trainer.objective).model
digest = hashlib.sha256()
for name, tensor in sorted(model.state_dict().items()):
    digest.update(tensor.detach().cpu().numpy().tobytes())
rank = trainer.accelerator.process_index
with open(f"{out}/rank{rank}.json", "w") as f:
    json.dump(dict(world=trainer.accelerator.num_processes, weights=digest.hexdigest(),
                   epoch0=trainer.batches(0), epoch1=trainer.batches(1), windows=len(trainer.train_data),
                   threads=torch.get_num_threads()), f)
