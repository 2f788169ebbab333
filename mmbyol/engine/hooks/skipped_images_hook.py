import os.path as osp
from typing import Set

from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class SkippedImagesHook(Hook):
    """Reports, after every epoch, the distinct image files that could not
    be read and were skipped (``skip_bad_images=True``).

    mmbyol's datasets mark the sample drawn in place of a bad file with the
    skipped paths (``metainfo['skipped_images']``); this hook collects them
    from the training batches of all ranks, logs how many distinct files
    were skipped in the epoch (with the first few names) and writes the
    full list to ``WORK_DIR/skipped_images_epoch_N.txt``. An epoch with no
    bad file logs nothing.

    Args:
        shown (int): file names quoted in the log line. Defaults to 3.
    """

    priority = 'LOW'

    def __init__(self, shown: int = 3) -> None:
        self.shown = shown
        self.epoch_files: Set[str] = set()

    def before_train_epoch(self, runner) -> None:
        self.epoch_files = set()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        samples = (data_batch or {}).get('data_samples') if isinstance(
            data_batch, dict) else None
        for sample in samples or ():
            metainfo = getattr(sample, 'metainfo', {})
            self.epoch_files.update(metainfo.get('skipped_images', ()))

    def after_train_epoch(self, runner) -> None:
        files = sorted(set().union(*all_gather_object(self.epoch_files)))
        self.epoch_files = set()
        if not files or not is_main_process():
            return
        report = osp.join(runner.work_dir,
                          f'skipped_images_epoch_{runner.epoch + 1}.txt')
        with open(report, 'w') as f:
            f.write('\n'.join(files) + '\n')
        names = ', '.join(files[:self.shown])
        more = f', ... (all in {report})' if len(files) > self.shown else ''
        print_log(f'epoch {runner.epoch + 1}: {len(files)} unreadable image '
                  f'files skipped: {names}{more}', logger='current',
                  level=30)
