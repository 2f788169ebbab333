from mmengine.model import MMDistributedDataParallel

from mmbyol.models.nonfinite_guard import guarded_train_step
from mmbyol.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class GuardedDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper whose ``train_step`` keeps the non-finite-loss
    guard (:func:`~mmbyol.models.nonfinite_guard.guarded_train_step`).

    ``MMDistributedDataParallel.train_step`` runs the forward itself and
    never calls the model's ``train_step``, so without this wrapper a
    distributed run would step on NaN losses.  The decision to skip is
    all-reduced, so every rank skips the same steps.  The step limit is the
    model's ``max_nonfinite_steps`` (10 if it has none).
    """

    def train_step(self, data, optim_wrapper):
        return guarded_train_step(
            self.module, self, data, optim_wrapper,
            getattr(self.module, 'max_nonfinite_steps', 10))
