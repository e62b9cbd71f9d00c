import torch
from ctgan.synthesizers.ctgan import Discriminator, Generator

from sdv_privgan.components import (
    BatchedBatchNorm1d, BatchedCritic, BatchedGenerator, BatchedLinear)


def _copy_linear(batched, linear, k=0):
    with torch.no_grad():
        batched.weight[k].copy_(linear.weight.T)
        batched.bias[k, 0].copy_(linear.bias)


def test_one_component_equals_ctgan_generator():
    torch.manual_seed(0)
    reference = Generator(12, (16, 16), 7)
    batched = BatchedGenerator(1, 12, (16, 16), 7)
    for ours, theirs in zip(batched.seq, reference.seq):
        if hasattr(theirs, 'fc'):
            _copy_linear(ours.fc, theirs.fc)
        else:
            _copy_linear(ours, theirs)
    x = torch.randn(20, 12)
    assert torch.allclose(batched(x[None])[0], reference(x), atol=1e-5)


def test_one_component_equals_ctgan_critic_and_gradient_penalty():
    torch.manual_seed(0)
    reference = Discriminator(6, (16,), pac=5).eval()
    batched = BatchedCritic(1, 6, (16,), pac=5).eval()
    _copy_linear(batched.seq[0], reference.seq[0])
    _copy_linear(batched.seq[3], reference.seq[3])
    real, fake = torch.randn(20, 6), torch.randn(20, 6).requires_grad_(True)
    assert torch.allclose(batched(real[None])[0], reference(real).squeeze(1), atol=1e-5)
    torch.manual_seed(1)
    ours = batched.gradient_penalty(real[None], fake[None])
    torch.manual_seed(1)
    theirs = reference.calc_gradient_penalty(real, fake, pac=5)
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_components_are_independent():
    torch.manual_seed(0)
    generator = BatchedGenerator(3, 4, (8,), 5)
    x = torch.randn(3, 10, 4)
    out = generator(x)
    changed = x.clone()
    changed[1] += 10
    out2 = generator(changed)
    assert torch.allclose(out[0], out2[0]) and torch.allclose(out[2], out2[2])
    assert not torch.allclose(out[1], out2[1])
    # Gradients of component 0's output reach only component 0's weights.
    generator.zero_grad()
    generator(x)[0].sum().backward()
    grad = generator.seq[-1].weight.grad
    assert grad[0].abs().sum() > 0 and grad[1:].abs().sum() == 0


def test_batch_norm_statistics_are_per_component():
    norm = BatchedBatchNorm1d(2, 3)
    x = torch.stack([torch.randn(50, 3), 100 + 5 * torch.randn(50, 3)])
    out = norm(x)
    assert torch.allclose(out.mean(1), torch.zeros(2, 3), atol=1e-4)
    assert torch.allclose(out.std(1, unbiased=False), torch.ones(2, 3), atol=1e-2)


def test_batched_linear_matches_per_component_linears():
    layer = BatchedLinear(4, 5, 3)
    x = torch.randn(4, 7, 5)
    expected = torch.stack([x[k] @ layer.weight[k] + layer.bias[k] for k in range(4)])
    assert torch.allclose(layer(x), expected, atol=1e-6)


def test_gumbel_softmax_samples_the_softmax_and_respects_masked_entries():
    from sdv_privgan.tabular.layout import _gumbel_softmax

    torch.manual_seed(0)
    logits = torch.tensor([[1.0, 0.0, -1.0, float('-inf')], [0.0, 2.0, 0.5, 0.0]])
    draws = _gumbel_softmax(logits.expand(40_000, 2, 4), tau=0.2)
    assert torch.allclose(draws.sum(-1), torch.ones(40_000, 2))
    assert float(draws[..., 0, 3].max()) == 0.0  # a padded entry is never chosen
    frequencies = torch.nn.functional.one_hot(draws.argmax(-1), 4).float().mean(0)
    assert torch.allclose(frequencies, torch.softmax(logits, -1), atol=0.01)
    one_entry = _gumbel_softmax(torch.zeros(10_000, 1), tau=0.2)
    assert torch.equal(one_entry, torch.ones(10_000, 1))


def test_adam_uses_a_single_kernel_for_all_tensors():
    from sdv_privgan.components import adam

    network = torch.nn.Linear(3, 2)
    optimizer = adam(network, 1e-3)
    assert optimizer.defaults['fused'] or optimizer.defaults['foreach']
    network(torch.randn(4, 3)).sum().backward()
    before = network.weight.detach().clone()
    optimizer.step()
    assert not torch.equal(before, network.weight)
