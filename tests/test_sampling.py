"""Streamed and parallel sampling: chunks seeded by (seed, i), files written chunk by
chunk, the same rows from any number of Dask workers."""

import pickle
import warnings

import pandas as pd
import pytest
from sdv.errors import SamplingError

from sdv_privgan import PrivCTGANSynthesizer
from sdv_privgan.sampling import chunk_plan, sample_parallel, write_chunks

from conftest import fit_quietly, make_mixed_table, mixed_metadata

FAST = {'epochs': 1, 'batch_size': 40, 'embedding_dim': 16, 'generator_dim': (32, 32),
        'discriminator_dim': (32, 32), 'classifier_dim': (32,), 'seed': 0}


def _fit(table, metadata):
    return fit_quietly(PrivCTGANSynthesizer(metadata, **FAST), table)


@pytest.fixture(scope='module')
def fitted(mixed_table, metadata):
    return _fit(mixed_table, metadata)


@pytest.fixture(scope='module')
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp('saved') / 'synthesizer.pkl'
    fitted.save(path)
    return path


def _batches(synthesizer, num_rows, **kwargs):
    return pd.concat(list(synthesizer.sample_batches(num_rows, **kwargs)), ignore_index=True)


def test_chunk_plan_covers_the_rows_and_checks_its_arguments():
    assert chunk_plan(250, 100) == [(0, 100), (1, 100), (2, 50)]
    assert chunk_plan(3, 100) == [(0, 3)]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="parameter 'num_rows'"):
            chunk_plan(bad)


def test_batches_are_seeded_by_their_index(fitted, mixed_table):
    sizes = [len(frame) for frame in fitted.sample_batches(250, batch_size=100, seed=3)]
    assert sizes == [100, 100, 50]
    first = _batches(fitted, 250, batch_size=100, seed=3)
    assert list(first.columns) == list(mixed_table.columns)
    assert first.equals(_batches(fitted, 250, batch_size=100, seed=3))
    # a longer request shares its first batches: batch i depends on (seed, i) alone
    longer = _batches(fitted, 300, batch_size=100, seed=3)
    assert longer.iloc[:200].equals(first.iloc[:200])
    assert not longer.iloc[200:250].reset_index(drop=True).equals(
        first.iloc[200:].reset_index(drop=True))  # a 100-row batch, not the 50-row one
    assert not first.equals(_batches(fitted, 250, batch_size=100, seed=4))


def test_batches_leave_the_sampling_state_as_it_was(fitted):
    fitted.reset_sampling()
    expected = fitted.sample(20)['people']
    fitted.reset_sampling()
    _batches(fitted, 50, batch_size=20, seed=1)
    assert fitted.sample(20)['people'].equals(expected)


def test_default_seed_follows_the_sampling_state(fitted):
    fitted.reset_sampling()
    first = _batches(fitted, 60, batch_size=30)
    second = _batches(fitted, 60, batch_size=30)
    fitted.reset_sampling()
    assert _batches(fitted, 60, batch_size=30).equals(first)
    assert not second.equals(first)


@pytest.mark.parametrize('file_format', ['parquet', 'csv'])
def test_sample_to_folder_writes_the_batches(fitted, tmp_path, file_format, capsys):
    path = fitted.sample_to_folder(130, tmp_path, file_format=file_format, batch_size=50,
                                   seed=2)
    assert path == tmp_path / f'people.{file_format}'
    expected = _batches(fitted, 130, batch_size=50, seed=2)
    if file_format == 'parquet':
        written = pd.read_parquet(path)
        assert written.equals(expected)  # dtypes too
    else:
        written = pd.read_csv(path)
        assert len(written) == 130 and list(written.columns) == list(expected.columns)
        pd.testing.assert_series_equal(written['revenu €'], expected['revenu €'])
    assert 'Sampling rows' in capsys.readouterr().err
    with pytest.raises(FileExistsError, match=f'people.{file_format} already exists'):
        fitted.sample_to_folder(10, tmp_path, file_format=file_format)
    with pytest.raises(ValueError, match="parameter 'file_format'"):
        fitted.sample_to_folder(10, tmp_path, file_format='xlsx')


def test_a_chunk_is_written_before_the_next_is_drawn(fitted, tmp_path):
    path = tmp_path / 'rows.csv'
    lines_before = []

    def chunks():
        for frame in fitted.sample_batches(90, batch_size=30, seed=0):
            lines_before.append(len(path.read_text().splitlines()) if path.exists() else 0)
            yield frame

    assert write_chunks(chunks(), path, 90, file_format='csv', show_progress_bar=False) == 90
    assert lines_before == [0, 31, 61]  # header + the rows of the chunks before


def test_sdv_output_folder_path_still_writes_the_table_csv(fitted, tmp_path):
    rows = fitted.sample(120, batch_size=50, output_folder_path=str(tmp_path))['people']
    written = pd.read_csv(tmp_path / 'people.csv')
    assert len(rows) == 120
    # SDV writes whole batches: its last batch of 50 rows lands whole in the file.
    assert len(written) == 150
    pd.testing.assert_series_equal(written['revenu €'].head(120), rows['revenu €'])


def test_a_copy_from_another_rank_cannot_sample(fitted):
    copy = pickle.loads(pickle.dumps(fitted))
    copy._model._components, copy._model._rank = None, 1
    for call in (lambda: copy.sample(5), lambda: copy.sample_batches(5)):
        with pytest.raises(SamplingError, match='rank 1.*rank 0'):
            call()


def test_parallel_workers_draw_the_same_rows_as_one_process(saved, tmp_path):
    from sdv.utils import load_synthesizer

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        serial = _batches(load_synthesizer(str(saved)), 250, batch_size=60, seed=4)
        two = sample_parallel(saved, 250, tmp_path / 'two', batch_size=60, seed=4,
                              num_workers=2)
        one = sample_parallel(saved, 250, tmp_path / 'one', batch_size=60, seed=4,
                              scheduler='synchronous')
    assert sorted(p.name for p in two.iterdir())[0] == 'part-00000.parquet'
    assert pd.read_parquet(two).equals(serial)
    assert pd.read_parquet(one).equals(serial)
    with pytest.raises(FileExistsError, match='not empty'):
        sample_parallel(saved, 10, tmp_path / 'one', scheduler='synchronous')


def test_parallel_sampling_refuses_a_primary_key(tmp_path):
    table = make_mixed_table(120, seed=1).assign(id=range(120))
    metadata = mixed_metadata(table)
    metadata.update_column('id', table_name='people', sdtype='id')
    metadata.set_primary_key('id', table_name='people')
    path = tmp_path / 'keyed.pkl'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _fit(table, metadata).save(path)
    with pytest.raises(ValueError, match="primary key 'id'"):
        sample_parallel(path, 10, tmp_path / 'out', scheduler='synchronous')
