"""What the holder of a saved PrivCTGAN or PrivTVAE file can run: ``GeneratorAccess``.

The latent-reconstruction attack of ``sdv_privgan.evaluation`` optimizes each target's
latent input through the released generators (or decoders). Our models hold K of them,
evaluated in one batched call, so the attack scores every target by the component that
reconstructs it best. The losses and the value space are those of the adapters for SDV's
own CTGAN and TVAE, so the figures of ours and of SDV's compare directly.
"""

import torch

from sdv_privgan.evaluation.sdv_access import CTGANAccess, TVAEAccess, _SDVAccess


class _ComponentsAccess:
    """The part both models share: SDV's adapter set up on the released network, whose
    batched layers hold all K components."""

    def _setup(self, synthesizer, network, latent_dim):
        model = synthesizer._model
        _SDVAccess.__init__(self, synthesizer, network, model._transformer, latent_dim)
        self.n_components = model.n_partitions


class PrivCTGANAccess(_ComponentsAccess, CTGANAccess):
    """The K generators of a ``PrivCTGANSynthesizer``, with CTGAN's conditional vectors."""

    def __init__(self, synthesizer):
        components = synthesizer._model._components
        self._setup(synthesizer, components.generator, components.embedding_dim)
        self._cond_dim = components.layout.n_categories if components.conditional else 0

    def generate(self, z, conditions):
        conditions = conditions.expand(z.shape[0], *conditions.shape)
        return self._network(torch.cat([z, conditions], dim=-1))


class PrivTVAEAccess(_ComponentsAccess, TVAEAccess):
    """The K decoders of a ``PrivTVAESynthesizer`` (the file holds no encoder)."""

    def __init__(self, synthesizer):
        components = synthesizer._model._components
        self._setup(synthesizer, components.generator, components.embedding_dim)
        self._sigma = self._network.sigma.detach()
