from .curves import find_scalars_file, load_scalars, plot_curves

__all__ = ['find_scalars_file', 'load_scalars', 'plot_curves']
