from .byol_neck import BYOLNeck

__all__ = ['BYOLNeck']
