import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Fill the registries: mmbyol's (``import mmbyol`` did) and MMPretrain's.

    Args:
        init_default_scope (bool): also make ``'mmbyol'`` the default scope,
            so that names in configs resolve in mmbyol's registries first and
            then in MMPretrain's and MMEngine's. Defaults to True.
    """
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    register_mmpretrain(init_default_scope=False)
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmbyol', scope_name='mmbyol')
    elif current.scope_name != 'mmbyol':
        warnings.warn(f'The default scope was "{current.scope_name}"; '
                      'register_all_modules switches it to "mmbyol".')
        DefaultScope.get_instance(f'mmbyol-{datetime.datetime.now()}',
                                  scope_name='mmbyol')
