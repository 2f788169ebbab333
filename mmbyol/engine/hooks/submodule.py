import torch.nn as nn


def find_submodule(module: nn.Module, path: str, where: str) -> nn.Module:
    """``module.get_submodule(path)``, or a ValueError that starts with
    ``where`` (e.g. ``"ChannelsLastHook(keep_nchw=...): backbone"``) and
    lists the children ``module`` does have."""
    try:
        return module.get_submodule(path)
    except AttributeError:
        children = ', '.join(n for n, _ in module.named_children())
        raise ValueError(f'{where} has no sub-module {path!r}; its children '
                         f'are: {children}') from None
