from .features import extract_features
from .health import mean_cosine, projection_std
from .knn import knn_classify, knn_evaluate, topk_accuracy
from .knn_dataset import KNNEvalDataset
from .knn_metric import KNNAccuracy

__all__ = [
    'knn_classify', 'knn_evaluate', 'topk_accuracy', 'projection_std',
    'mean_cosine', 'extract_features', 'KNNAccuracy', 'KNNEvalDataset'
]
