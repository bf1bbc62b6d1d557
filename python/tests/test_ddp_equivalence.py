"""One DDP step on 2 gloo processes (batch B/2 each) equals one step of 1 process with batch B.

Two levels: the gradients and BatchNorm running statistics of one step (the network, ``GlobalBatchNorm2d`` and DDP,
in 2 spawned gloo processes), and the trainer end to end (weights and buffers of the step-1 checkpoint). Adam's first
step is close to lr x sign(gradient), so the weights alone would hide most gradient errors; the gradient test does not.
"""

import os
import tempfile
import unittest

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from helpers import TINY, relative, run_module, run_trainer, state
from diffusionkit_torch import safetensors_io
from diffusionkit_torch.distributed import free_port
from diffusionkit_torch.global_batchnorm import to_global_batchnorm
from diffusionkit_torch.model import ContextUnet, ModelOptions
from diffusionkit_torch.noise_schedule import NoiseSchedule
from diffusionkit_torch.scheduler_config import SchedulerOptions
from diffusionkit_torch.shapes import ShapesDataset, create_encoder
from diffusionkit_torch.trainer import TrainingNetwork, compute_loss, draw_global_batch
from diffusionkit_torch.training_data import TrainingData

BATCH = 8


def one_step(rank: int, world: int, group) -> dict[str, torch.Tensor]:
    """One forward/backward of the trainer's network and loss on this rank's slice; the gradients and buffers after it."""
    torch.set_num_threads(1)
    shapes = ShapesDataset(16, 16, 0)
    data = TrainingData(shapes.images, shapes.captions)
    encoder = create_encoder()
    model = ContextUnet.seeded(ModelOptions(3, 8, encoder.context_size, 16), 0)
    if group is not None:
        to_global_batchnorm(model, group)
    network = TrainingNetwork(model, None)
    if group is not None:
        network = DistributedDataParallel(network, broadcast_buffers=False)
    schedule = NoiseSchedule(SchedulerOptions(prediction_type="v_prediction"))
    generator = torch.Generator().manual_seed(0)
    drawn = draw_global_batch(data, torch.randperm(data.count, generator=generator), 0, BATCH, schedule, 0.5, generator)
    rows = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    contexts = encoder.encode([shapes.captions[i] for i in drawn.index[rows].tolist()])
    loss = compute_loss(network, schedule, drawn.x0[rows], drawn.timesteps[rows], drawn.noise[rows], contexts, None,
                        encoder.encode_unconditional(), drawn.keep[rows], 5.0)
    loss.backward()
    result = {f"grad/{n}": p.grad.clone() for n, p in model.named_parameters()}
    result.update({f"buffer/{n}": b.clone() for n, b in model.named_buffers()})
    return result


def ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    """A spawned rank: joins the gloo group, takes the step, rank 0 saves the result."""
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    dist.init_process_group("gloo", rank=rank, world_size=world)
    result = one_step(rank, world, dist.new_group(backend="gloo"))
    if rank == 0:
        safetensors_io.write(out, result)
    dist.barrier()
    dist.destroy_process_group()


class DdpEquivalenceTests(unittest.TestCase):
    def test_gradients_and_batchnorm_statistics_of_one_step_match_one_process(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "ddp.safetensors")
            mp.spawn(ddp_worker, args=(2, free_port(), out), nprocs=2)
            ddp, _ = safetensors_io.read(out)
        single = one_step(0, 1, None)
        grads = [n for n in single if n.startswith("grad/")]
        buffers = [n for n in single if n.endswith(("running_mean", "running_var"))]
        self.assertLessEqual(relative(single, ddp, grads), 1e-5, "gradients")
        self.assertLessEqual(relative(single, ddp, buffers), 1e-5, "BatchNorm running statistics")
        self.assertGreater(float(sum(single[n].norm() for n in grads)), 0)

    def _compare_checkpoints(self, extra: list[str]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            single, double = os.path.join(tmp, "single"), os.path.join(tmp, "ddp")
            run_trainer(TINY + ["--steps", "1", "--out", single] + extra)
            run_trainer(TINY + ["--steps", "1", "--out", double, "--nproc-per-node", "2"] + extra)
            a, b = state(os.path.join(single, "step-0000001")), state(os.path.join(double, "step-0000001"))
            floats = [n for n in a if n.startswith(("model/", "encoder/")) and a[n].is_floating_point()]
            buffers = [n for n in floats if n.endswith(("running_mean", "running_var"))]
            weights = [n for n in floats if n not in buffers]
            self.assertGreater(len(buffers), 0)
            self.assertLessEqual(relative(a, b, weights), 1e-5, "weights")
            self.assertLessEqual(relative(a, b, buffers), 1e-5, "BatchNorm running statistics")
            counts = [n for n in a if n.endswith("num_batches_tracked")]
            self.assertTrue(all(int(a[n]) == int(b[n]) == 1 for n in counts))
            self.assertTrue((a["rng/generator"] == b["rng/generator"]).all(), "both runs drew the same randomness")

    def test_trainer_step_with_bag_of_words_matches_one_process(self) -> None:
        self._compare_checkpoints([])

    def test_trainer_step_with_learned_encoder_and_clipping_matches_one_process(self) -> None:
        self._compare_checkpoints(["--encoder", "learned", "--encoder-dim", "8", "--max-grad-norm", "0.5", "--dropout", "0.5"])

    def test_a_batch_that_does_not_divide_is_refused(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            done = run_module("diffusionkit_torch.train", TINY[:-4] + ["--batch", "7", "--threads", "1", "--steps", "1",
                                                                     "--out", tmp, "--nproc-per-node", "2"])
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("does not divide among 2 processes", done.stderr)


if __name__ == "__main__":
    unittest.main()
