from typing import Dict, Optional, Sequence, Union

from mmengine.dist import broadcast_object_list, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.utils import get_ori_model
from torch.utils.data import DataLoader

from mmbyol.evaluation import extract_features, knn_evaluate
from mmbyol.registry import HOOKS


def _loader_cfg(cfg: Union[dict, DataLoader]) -> Union[dict, DataLoader]:
    """Evaluation defaults: ordered sampler, dict-collated batches."""
    if isinstance(cfg, DataLoader):
        return cfg
    cfg = dict(cfg)
    cfg.setdefault('sampler', dict(type='DefaultSampler', shuffle=False))
    cfg.setdefault('collate_fn', dict(type='default_collate'))
    cfg.setdefault('batch_size', 256)
    cfg.setdefault('num_workers', 0)
    return cfg


@HOOKS.register_module()
class KNNHook(Hook):
    r"""kNN top-k accuracy of the **online** encoder during pretraining.

    Every ``interval`` epochs (or iterations) the pooled features of
    ``model.backbone`` (never ``target_backbone``), in eval mode, are
    extracted for a labelled bank and a labelled query set; each query is
    classified by the cosine-weighted vote
    :math:`s_c = \sum_{i \in N_k, y_i = c} \exp(\cos(x, x_i) / t)` of its
    ``k`` nearest bank features (:func:`mmbyol.evaluation.knn_classify`).
    Each rank encodes the shard its sampler gives it; features are gathered
    on rank 0 and the numbers broadcast to all ranks. The model is put back
    into training mode afterwards.

    Results go to the message hub (``knn/top1`` ...), the visualizer (every
    backend: ``scalars.json``, TensorBoard) and the log.

    Args:
        bank_dataloader (dict | DataLoader): labelled training images with
            an evaluation pipeline (no augmentation); a dict is built with
            :meth:`Runner.build_dataloader` (defaults: no shuffling,
            ``default_collate``, batch 256).
        query_dataloader (dict | DataLoader): labelled held-out images.
        interval (int): run every ``interval`` epochs or iterations.
        by_epoch (bool): count ``interval`` in epochs. Defaults to True.
        k (int): neighbours. Defaults to 200.
        temperature (float): vote temperature. Defaults to 0.1.
        topk (Sequence[int]): accuracies to log. Defaults to (1, 5).
        num_classes (int, optional): inferred from the labels when None.
        eval_before_train (bool): also evaluate the initial encoder (step
            0), e.g. to compare with random init. Defaults to False.
        collect_device (str): ``'cpu'`` or ``'gpu'`` gather.
        prefix (str): name prefix of the logged scalars.
    """

    priority = 'LOW'

    def __init__(self,
                 bank_dataloader: Union[dict, DataLoader],
                 query_dataloader: Union[dict, DataLoader],
                 interval: int = 1,
                 by_epoch: bool = True,
                 k: int = 200,
                 temperature: float = 0.1,
                 topk: Sequence[int] = (1, 5),
                 num_classes: Optional[int] = None,
                 eval_before_train: bool = False,
                 collect_device: str = 'cpu',
                 prefix: str = 'knn') -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if k < 1 or temperature <= 0:
            raise ValueError(f'need k >= 1 and temperature > 0, got k={k}, '
                             f'temperature={temperature}')
        self.bank_dataloader = _loader_cfg(bank_dataloader)
        self.query_dataloader = _loader_cfg(query_dataloader)
        self.interval = interval
        self.by_epoch = by_epoch
        self.k = k
        self.temperature = temperature
        self.topk = tuple(topk)
        self.num_classes = num_classes
        self.eval_before_train = eval_before_train
        self.collect_device = collect_device
        self.prefix = prefix
        self.history = []  # [(step, {name: value})]

    def before_train(self, runner) -> None:
        self.bank_dataloader = runner.build_dataloader(
            self.bank_dataloader, seed=runner.seed)
        self.query_dataloader = runner.build_dataloader(
            self.query_dataloader, seed=runner.seed)
        if self.eval_before_train:
            self.evaluate(runner, step=runner.iter)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and (self.every_n_epochs(runner, self.interval)
                              or self.is_last_train_epoch(runner)):
            self.evaluate(runner, step=runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and (
                self.every_n_train_iters(runner, self.interval)
                or self.is_last_train_iter(runner)):
            self.evaluate(runner, step=runner.iter + 1)

    def evaluate(self, runner, step: int) -> Dict[str, float]:
        """Encode both sets, classify, log; returns ``{name: accuracy}``."""
        model = get_ori_model(runner.model)
        was_training = model.training
        encoded = []
        try:
            for loader in (self.bank_dataloader, self.query_dataloader):
                encoded.append(
                    extract_features(model.backbone, model.data_preprocessor,
                                     loader, self.collect_device))
        finally:
            model.train(was_training)
        metrics = [None]
        if get_rank() == 0:
            (bank_x, bank_y), (query_x, query_y) = encoded
            accs = knn_evaluate(bank_x, bank_y, query_x, query_y,
                                self.num_classes, self.k, self.temperature,
                                self.topk)
            metrics = [{f'{self.prefix}/{n}': v for n, v in accs.items()}]
        broadcast_object_list(metrics)
        metrics = metrics[0]
        for name, value in metrics.items():
            runner.message_hub.update_scalar(name, value)
        runner.visualizer.add_scalars(metrics, step=step)
        self.history.append((step, metrics))
        print_log(
            f'kNN (k={self.k}, t={self.temperature}) at iter {step}: ' +
            '  '.join(f'{n}: {v:.4f}' for n, v in metrics.items()),
            logger='current')
        return metrics
