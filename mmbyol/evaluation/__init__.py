from .features import extract_features
from .knn import knn_classify, knn_evaluate, topk_accuracy
from .knn_dataset import KNNEvalDataset
from .knn_metric import KNNAccuracy

__all__ = [
    'knn_classify', 'knn_evaluate', 'topk_accuracy', 'extract_features',
    'KNNAccuracy', 'KNNEvalDataset'
]
