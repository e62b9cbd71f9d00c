"""The K components sharded over processes with ``torch.distributed``.

Launched with ``torchrun --nproc_per_node N script.py`` (or under any process group the
script initializes itself), ``fit`` gives rank ``r`` the components ``k = r, r + N, ...``
with their critics and their partitions' rows: real rows of partition ``k`` reach only
the process that trains component ``k``. The component classifier is replicated: each
rank scores its own components' generated rows and the classifier's gradients are summed
over the ranks, so every replica takes the same update, the one a single process would
take on all components' rows. What crosses ranks during training is those gradients and,
once per epoch, the four mean losses; before it, the data transformer fitted on rank 0,
a common seed and the category counts of each rank's rows (aggregates every rank's copy
of the table already holds); after it, the released generators, gathered on rank 0.
With one process every collective is skipped and the code path is the same.
"""

import atexit
import copy
import os

import torch
from torch import distributed as dist
from torch import nn


class Shard:
    """Which of ``n_components`` this process trains, and the few collectives the game
    needs (each a no-op in a world of one process)."""

    def __init__(self, n_components, rank=0, world_size=1, device='cpu'):
        if n_components < world_size:
            raise ValueError(
                f'n_partitions={n_components} components cannot be shared by {world_size} '
                f'processes: use at least {world_size} partitions or fewer processes.')
        self.n_components = n_components
        self.rank = rank
        self.world_size = world_size
        self.device = torch.device(device)
        self.ids = torch.arange(rank, n_components, world_size)
        self.share = len(self.ids) / n_components

    @property
    def _comm(self):
        """Where collectives run: this process's GPU with NCCL, else the host (gloo)."""
        if dist.get_backend() == 'nccl':
            return torch.device('cuda', torch.cuda.current_device())
        return torch.device('cpu')

    @property
    def n_local(self):
        return len(self.ids)

    def local_rows(self, partitions):
        """The rows of this process's components (a boolean mask over ``partitions``) and
        their component's local position (``k // world_size``)."""
        mask = partitions % self.world_size == self.rank
        return mask, partitions[mask] // self.world_size

    def sum(self, tensor):
        """``tensor`` summed over the ranks (the same tensor when alone)."""
        if self.world_size == 1:
            return tensor
        total = tensor.to(self._comm)
        dist.all_reduce(total)
        return total.to(tensor.device)

    def smallest(self, value):
        """The smallest of every rank's integer ``value``."""
        if self.world_size == 1:
            return value
        tensor = torch.tensor([value], device=self._comm)
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return int(tensor)

    def reduce_gradients(self, parameters):
        """Sum the gradients of a replicated module over the ranks, in one message."""
        if self.world_size == 1:
            return
        grads = [p.grad for p in parameters if p.grad is not None]
        flat = self.sum(torch.cat([grad.reshape(-1) for grad in grads]))
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def broadcast_module(self, module):
        """Give every rank rank 0's parameters and buffers of ``module``."""
        if self.world_size == 1:
            return module
        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                sent = tensor.detach().to(self._comm)
                dist.broadcast(sent, src=0)
                tensor.copy_(sent)
        return module

    def broadcast_object(self, make):
        """``make()`` evaluated on rank 0 only and sent to every rank."""
        if self.world_size == 1:
            return make()
        box = [make() if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0, device=self._comm)
        return box[0]

    def gather_components(self, module):
        """On rank 0, ``module`` (a batched module of this rank's components) grown to all
        ``n_components``, component ``k`` from the rank that trained it; None elsewhere."""
        if self.world_size == 1:
            return module
        state = {name: tensor.detach().cpu() for name, tensor in _tensors(module)}
        states = [None] * self.world_size if self.rank == 0 else None
        dist.gather_object(state, states, dst=0)
        if self.rank != 0:
            return None
        return assemble_components(module, states, self.n_components).to(self.device)


def assemble_components(module, states, n_components):
    """A copy of ``module`` (a batched module of rank 0's components) holding all
    ``n_components``: ``states[r]`` are rank r's tensors (components r, r + N, ...)."""
    world_size = len(states)
    whole = copy.deepcopy(module)
    for name, kind in _component_axes(module, len(range(0, n_components, world_size))).items():
        value = states[0][name]
        if kind != 'shared':
            parts = [s[name].reshape(len(range(r, n_components, world_size)),
                                     *(s[name].shape[1:] if kind == 'axis0' else (-1,)))
                     for r, s in enumerate(states)]
            value = parts[0].new_empty((n_components,) + parts[0].shape[1:])
            for r, part in enumerate(parts):
                value[r::world_size] = part
            if kind == 'flat':
                value = value.reshape(-1)
        _replace(whole, name, value)
    return whole


def _tensors(module):
    return list(module.named_parameters()) + list(module.named_buffers())


def _component_axes(module, n_local):
    """How each tensor of a batched module holds its components: ``'axis0'`` (first axis,
    e.g. ``BatchedLinear``), ``'flat'`` (batch norm: ``K * features`` entries) or
    ``'shared'`` (a counter)."""
    norms = {name for name, sub in module.named_modules()
             if isinstance(sub, nn.modules.batchnorm._BatchNorm)}
    kinds = {}
    for name, tensor in _tensors(module):
        owner = name.rpartition('.')[0]
        if owner in norms and tensor.dim() == 0:
            kinds[name] = 'shared'
        elif owner in norms:
            kinds[name] = 'flat'
        elif tensor.dim() and tensor.shape[0] == n_local:
            kinds[name] = 'axis0'
        else:
            raise ValueError(f'Cannot tell the components of {name} {tuple(tensor.shape)} '
                             f'apart: its first axis is not the {n_local} components.')
    return kinds


def _replace(module, name, value):
    owner_name, _, leaf = name.rpartition('.')
    owner = module.get_submodule(owner_name) if owner_name else module
    if leaf in owner._parameters:
        owner._parameters[leaf] = nn.Parameter(value, requires_grad=owner._parameters[leaf]
                                               .requires_grad)
    else:
        owner._buffers[leaf] = value
    if isinstance(owner, nn.modules.batchnorm._BatchNorm) and value.dim() == 1:
        owner.num_features = value.numel()


def current_shard(n_components, device):
    """The ``Shard`` of this process: from the process group when one is initialized or
    when launched by ``torchrun`` (which sets ``WORLD_SIZE``; the group is then created
    here: NCCL on CUDA devices, gloo on CPU), else the whole world of one process. On
    CUDA, a device without an index becomes this process's ``LOCAL_RANK``."""
    device = torch.device(device)
    if not dist.is_available():
        return Shard(n_components, device=device)
    if not dist.is_initialized():
        if int(os.environ.get('WORLD_SIZE', '1')) <= 1:
            return Shard(n_components, device=device)
        _initialize(device)
    if device.type == 'cuda' and device.index is None:
        device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0')))
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    return Shard(n_components, dist.get_rank(), dist.get_world_size(), device)


def _initialize(device):
    backend = 'nccl' if device.type == 'cuda' and dist.is_nccl_available() else 'gloo'
    if backend == 'nccl':
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', '0')))
    dist.init_process_group(backend)
    atexit.register(_destroy)


def _destroy():
    if dist.is_initialized():
        dist.destroy_process_group()


def is_main_process():
    """True on rank 0 (or without torch.distributed): where to save the fitted model."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
