from .conv_backward_as_forward import (Conv2dBackwardAsForward,
                                       ConvBackwardAsForward)

__all__ = ['ConvBackwardAsForward', 'Conv2dBackwardAsForward']
