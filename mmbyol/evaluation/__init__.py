from .health import mean_cosine, projection_std
from .knn import knn_classify, topk_accuracy

__all__ = ['knn_classify', 'topk_accuracy', 'projection_std', 'mean_cosine']
