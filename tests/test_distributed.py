"""Components sharded over processes: the arithmetic of the replicated classifier in one
process, and a real two-process ``torchrun`` fit with the gloo backend.

Run as a script, this file is the worker ``torchrun`` starts (one per rank)."""

import copy
import json
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
import torch

from sdv_privgan.distributed import Shard, assemble_components, current_shard
from sdv_privgan.components import BatchedGenerator
from sdv_privgan.regularizer import MembershipRegularizer, mlp_classifier

K_CTGAN, K_TVAE = 2, 3


def test_each_rank_holds_every_world_size_th_component():
    shards = [Shard(5, rank, 2) for rank in range(2)]
    assert [s.ids.tolist() for s in shards] == [[0, 2, 4], [1, 3]]
    assert [s.share for s in shards] == [0.6, 0.4]
    partitions = torch.tensor([0, 1, 2, 3, 4, 4, 1])
    mask, local = shards[1].local_rows(partitions)
    assert mask.tolist() == [False, True, False, True, False, False, True]
    assert local.tolist() == [0, 1, 0]  # components 1, 3, 1 are rank 1's first and second
    with pytest.raises(ValueError, match='at least 3 partitions'):
        Shard(2, 0, 3)


def test_outside_torchrun_the_world_is_one_process(monkeypatch):
    monkeypatch.delenv('WORLD_SIZE', raising=False)
    shard = current_shard(4, 'cpu')
    assert (shard.world_size, shard.rank, shard.ids.tolist()) == (1, 0, [0, 1, 2, 3])
    total = torch.tensor([1.0, 2.0])
    assert shard.sum(total) is total and shard.smallest(7) == 7


def test_gathered_generators_put_each_component_back_in_its_place():
    torch.manual_seed(0)
    parts = [BatchedGenerator(n, 6, (4,), 3) for n in (2, 1)]  # K=3 on 2 ranks
    for part in parts:
        part.seq[0].bn.running_mean.uniform_()
    states = [{name: t.detach().clone() for name, t in
               list(part.named_parameters()) + list(part.named_buffers())} for part in parts]
    whole = assemble_components(parts[0], states, 3)
    x = torch.randn(1, 5, 6).expand(3, 5, 6)
    for module in [whole] + parts:
        module.eval()
    out = whole(x)
    owners = [(0, 0), (1, 0), (0, 1)]  # component k: (rank, local position)
    for k, (rank, j) in enumerate(owners):
        expected = parts[rank](x[:(2, 1)[rank]])[j]
        torch.testing.assert_close(out[k], expected)
    assert whole.seq[0].bn.num_features == 3 * 4


def _replica(classifier, components, reduce=None, weights=None):
    return MembershipRegularizer(classifier, 4, weights, weight=1.0, replay_size=0,
                                 components=components, reduce_gradients=reduce,
                                 classifier_steps=2)


def test_sharded_classifier_replicas_take_the_whole_update():
    """Two replicas, each given two of four components and summing their gradients (an
    all-reduce emulated by two threads), end where one classifier on all four does, and
    their losses, estimates and generator terms add up to the whole's."""
    torch.manual_seed(0)
    classifier = mlp_classifier(5, 4, (16,))
    weights = torch.tensor([0.3, 0.2, 0.25, 0.25])
    samples = torch.randn(4, 6, 5)
    whole = _replica(classifier, None, weights=weights)
    gradients, barrier = {}, threading.Barrier(2)

    def reduce_for(name, other):
        def reduce(parameters):
            parameters = list(parameters)
            gradients[name] = [p.grad.clone() for p in parameters]
            barrier.wait()
            for parameter, grad in zip(parameters, gradients[other]):
                parameter.grad += grad
            barrier.wait()
        return reduce

    ids = {'a': torch.tensor([0, 2]), 'b': torch.tensor([1, 3])}
    replicas = {name: _replica(copy.deepcopy(classifier), ids[name],
                               reduce_for(name, 'b' if name == 'a' else 'a'), weights)
                for name in ids}
    results = {}
    threads = [threading.Thread(target=lambda n=name: results.__setitem__(
        n, replicas[n].step(samples[ids[n]]))) for name in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected_loss, expected_jsd = whole.step(samples)
    torch.testing.assert_close(results['a'][0] + results['b'][0], expected_loss)
    torch.testing.assert_close(results['a'][1] + results['b'][1], expected_jsd)
    for name in ids:
        for mine, theirs in zip(replicas[name].classifier.parameters(),
                                whole.classifier.parameters()):
            torch.testing.assert_close(mine, theirs)
    fresh = torch.randn(4, 3, 5)
    term = sum(replicas[n].generator_loss(fresh[ids[n]]) for n in ids)
    torch.testing.assert_close(term, whole.generator_loss(fresh))


# ---------------------------------------------------------------------- two processes
@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ranks')
    env = {**os.environ, 'OMP_NUM_THREADS': '1',
           'PYTHONPATH': os.pathsep.join([str(Path(__file__).parents[1]),
                                          os.environ.get('PYTHONPATH', '')])}
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
               '--nproc_per_node', '2', __file__, str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, [json.loads((out / f'rank{r}.json').read_text()) for r in range(2)]


@pytest.mark.parametrize('model', ['ctgan', 'tvae'])
def test_each_rank_trains_only_on_its_own_partitions(two_ranks, model):
    _, ranks = two_ranks
    for rank, record in enumerate(ranks):
        seen = record[model]
        assert seen['matched'] > 50  # real rows did reach the rank's critics or encoders
        assert seen['foreign'] == 0
        assert set(seen['partitions_seen']) == {k for k in range(seen['k']) if k % 2 == rank}
        assert seen['encoded_foreign'] == 0  # other partitions' rows are never encoded
    assert ranks[0][model]['encoded'] + ranks[1][model]['encoded'] == 240
    assert ranks[0][model]['partitions'] == ranks[1][model]['partitions']
    assert ranks[0][model]['losses'] == ranks[1][model]['losses']  # summed over ranks
    assert ranks[0][model]['classifier'] == pytest.approx(ranks[1][model]['classifier'])


@pytest.mark.parametrize('model', ['ctgan', 'tvae'])
def test_rank_0_releases_every_component_and_the_others_none(two_ranks, model):
    from sdv.utils import load_synthesizer

    out, ranks = two_ranks
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer = load_synthesizer(str(out / f'{model}.pkl'))
        rows = synthesizer.sample(60)['people']
    k = K_CTGAN if model == 'ctgan' else K_TVAE
    assert len(rows) == 60 and rows['région'].notna().all()
    released = torch.load(out / f'{model}_released.pt')
    for rank in range(2):
        local = torch.load(out / f'{model}_local{rank}.pt')
        for name, value in local.items():
            if value.dim() and value.shape[0] == len(range(rank, k, 2)):
                torch.testing.assert_close(released[name][rank::2], value)
    assert 'rank 1' in ranks[1][model]['sample_error']
    assert 'keep_training_state' in ranks[0]['keep_error']


def _worker(out):
    """One rank: fit both models with isolation probes, save what the tests read."""
    sys.path.insert(0, str(Path(__file__).parent))
    import joblib

    from conftest import make_mixed_table, mixed_metadata
    from sdv_privgan import PrivCTGANSynthesizer, PrivTVAESynthesizer
    from sdv_privgan.distributed import is_main_process
    from sdv_privgan.game import ComponentGame
    from sdv_privgan.tabular import ctgan, encoded, model, tvae

    torch.set_num_threads(1)
    joblib.parallel_config(backend='threading')
    warnings.simplefilter('ignore')
    rank = int(os.environ['RANK'])
    table = make_mixed_table(240, seed=3)
    metadata = mixed_metadata(table)
    record, captured = {}, {}

    original_partition_rows, original_encode = model.partition_rows, encoded.encode_table

    def partition_rows(*args, **kwargs):
        captured['partitions'] = original_partition_rows(*args, **kwargs)
        return captured['partitions']

    def encode_table(transformer, data, layout, device, rows=None, **kwargs):
        table = original_encode(transformer, data, layout, device, rows=rows, **kwargs)
        captured['positions'] = torch.as_tensor(rows)  # the table rows this rank encodes
        captured['encoded'] = table[torch.arange(len(table))]
        return table

    model.partition_rows, model.encode_table = partition_rows, encode_table
    for name, cls, components, network, k in [
            ('ctgan', PrivCTGANSynthesizer, ctgan.CTGANComponents, 'critic', K_CTGAN),
            ('tvae', PrivTVAESynthesizer, tvae.TVAEComponents, 'encoder', K_TVAE)]:
        seen = {'matched': 0, 'foreign': 0, 'partitions_seen': set(), 'k': k}
        _probe(components, network, captured, seen, rank)
        classifier = {}
        _probe_classifier(ComponentGame, classifier)
        synthesizer = cls(metadata, epochs=2, batch_size=60, n_partitions=k, seed=0)
        synthesizer.fit({'people': table})
        seen['partitions_seen'] = sorted(seen['partitions_seen'])
        seen['partitions'] = captured['partitions'].tolist()
        owners = captured['partitions'][captured['positions']]
        seen['encoded'], seen['encoded_foreign'] = len(owners), int((owners % 2 != rank).sum())
        seen['losses'] = synthesizer.get_loss_values().fillna(0).values.tolist()
        seen['classifier'] = classifier['sum']
        generator = synthesizer._model._components
        torch.save(classifier['local'], Path(out) / f'{name}_local{rank}.pt')
        if is_main_process():
            torch.save(generator.generator.state_dict(), Path(out) / f'{name}_released.pt')
            synthesizer.save(Path(out) / f'{name}.pkl')
        else:
            try:
                synthesizer.sample(5)
            except Exception as error:  # noqa: BLE001 - the message is what is checked
                seen['sample_error'] = str(error)
        record[name] = seen
    try:
        PrivCTGANSynthesizer(metadata, epochs=1, batch_size=60, keep_training_state=True,
                             seed=0).fit({'people': table})
    except ValueError as error:
        record['keep_error'] = str(error)
    (Path(out) / f'rank{rank}.json').write_text(json.dumps(record))


def _probe(components_class, network, captured, seen, rank):
    """Count the inputs of this rank's ``network`` equal to an encoded row it holds, and
    those (of the table rows it encoded) of a partition another rank trains."""
    original = components_class.__init__

    def init(self, layout, data, partitions, *args):
        original(self, layout, data, partitions, *args)

        def hook(_, inputs):
            encoded, owners = captured['encoded'], captured['partitions']
            rows = inputs[0][..., :encoded.shape[1]].reshape(-1, encoded.shape[1])
            hit_rows, hit_data = torch.nonzero((rows[:, None] == encoded[None]).all(-1),
                                               as_tuple=True)
            partitions = owners[captured['positions'][hit_data]]
            seen['matched'] += len(hit_rows)
            seen['foreign'] += int((partitions % 2 != rank).sum())
            seen['partitions_seen'] |= set(partitions.tolist())
        getattr(self, network).register_forward_pre_hook(hook)
        components_class.__init__ = original

    components_class.__init__ = init


def _probe_classifier(game_class, classifier):
    original = game_class.release

    def release(self):
        classifier['sum'] = float(sum(p.double().sum() for p in
                                      self.regularizer.classifier.parameters()))
        generator = self.average.module if self.average is not None else self.model.generator
        classifier['local'] = {n: t.detach().clone() for n, t in generator.state_dict().items()}
        game_class.release = original
        return original(self)

    game_class.release = release


if __name__ == '__main__':
    _worker(sys.argv[1])
