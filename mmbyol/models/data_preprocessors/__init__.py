from .byol_data_preprocessor import BYOLDataPreprocessor

__all__ = ['BYOLDataPreprocessor']
