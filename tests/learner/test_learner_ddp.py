"""BYOLLearner under DistributedDataParallel: 2 gloo processes on the CPU."""
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

STEPS = 3


def _worker(rank: int, world_size: int, tmp: str) -> None:
    from mmbyol.learner import BYOLLearner
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{tmp}/rendezvous',
                            rank=rank, world_size=world_size)
    try:
        torch.manual_seed(rank)  # different initial weights on each rank:
        net = nn.Sequential(  # DDP must broadcast rank 0's
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
        learner = BYOLLearner(net, 12, hidden_layer=-2, projection_size=8,
                              projection_hidden_size=16, total_steps=STEPS)
        # the Linear classifier gets no gradient: tell DDP
        model = DistributedDataParallel(
            learner, find_unused_parameters=bool(learner.unused_parameters))
        optimizer = torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=0.5)
        learner.attach(optimizer)  # the learner inside the wrapper
        initial = {k: v.clone() for k, v in learner.state_dict().items()
                   if k.startswith('target_') and torch.is_tensor(v)}
        generator = torch.Generator().manual_seed(100 + rank)
        for _ in range(STEPS):
            images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8,
                                   generator=generator)
            loss = model(images, generator=generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        state = {k: v for k, v in learner.state_dict().items()
                 if torch.is_tensor(v) and 'running' not in k
                 and 'num_batches' not in k}
        torch.save(dict(state=state, initial=initial, steps=learner.steps,
                        loss=loss.item()), f'{tmp}/rank{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_ddp_two_gloo_ranks_keep_identical_targets(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
             for r in range(2)]
    assert ranks[0]['steps'] == ranks[1]['steps'] == STEPS
    assert ranks[0]['loss'] != ranks[1]['loss']  # each rank saw its data
    targets = [k for k in ranks[0]['state'] if k.startswith('target_')]
    assert len(targets) == 12, targets
    for key, value in ranks[0]['state'].items():
        torch.testing.assert_close(ranks[1]['state'][key], value, rtol=0,
                                   atol=0, msg=key)
    # The target moved away from the (broadcast) initial weights.
    moved = [k for k in targets
             if not torch.equal(ranks[0]['initial'][k], ranks[0]['state'][k])]
    assert 'target_net.0.weight' in moved
    assert 'target_projector.mlp.0.weight' in moved
