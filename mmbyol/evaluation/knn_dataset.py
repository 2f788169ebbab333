from typing import Union

from mmengine.dataset import BaseDataset, ConcatDataset

from mmbyol.registry import DATASETS


@DATASETS.register_module()
class KNNEvalDataset(ConcatDataset):
    """A kNN bank and its queries as one data set, for :class:`KNNAccuracy`.

    Items ``0 .. len(bank) - 1`` come from ``bank``, the rest from
    ``query``; each item's data sample gets the metainfo flag ``knn_bank``
    (True for bank items), so a metric can split them after MMEngine has
    gathered every rank's results.

    Args:
        bank (dict | BaseDataset): labelled training images (eval pipeline).
        query (dict | BaseDataset): labelled held-out images.
    """

    def __init__(self, bank: Union[dict, BaseDataset],
                 query: Union[dict, BaseDataset], **kwargs) -> None:
        datasets = [
            d if isinstance(d, BaseDataset) else DATASETS.build(d)
            for d in (bank, query)
        ]
        super().__init__(datasets=datasets, **kwargs)
        self.num_bank = len(datasets[0])

    def __getitem__(self, idx: int) -> dict:
        item = super().__getitem__(idx)
        if idx < 0:
            idx += len(self)
        samples = item['data_samples']
        samples.set_metainfo(dict(knn_bank=idx < self.num_bank))
        return item
