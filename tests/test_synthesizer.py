import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sdv.errors import InvalidDataError, NotFittedError, SamplingError, SynthesizerInputError
from sdv.sampling import Condition
from sdv.utils import load_synthesizer

from sdv_privgan import PrivCTGANSynthesizer

from conftest import fit_quietly, make_mixed_table, mixed_metadata

FAST = {'epochs': 3, 'batch_size': 40, 'embedding_dim': 16, 'generator_dim': (32, 32),
        'discriminator_dim': (32, 32), 'classifier_dim': (32,), 'seed': 0}


def _fit(table, metadata, **kwargs):
    return fit_quietly(PrivCTGANSynthesizer(metadata, **{**FAST, **kwargs}), table)


@pytest.fixture(scope='module')
def fitted(mixed_table, metadata):
    return _fit(mixed_table, metadata, keep_training_state=True)


def test_fit_sample_keeps_columns_dtypes_and_missing_values(fitted, mixed_table):
    synthetic = fitted.sample(300)['people']
    assert list(synthetic.columns) == list(mixed_table.columns)
    assert len(synthetic) == 300
    assert synthetic['âge'].isna().any() and synthetic['âge'].notna().any()
    assert pd.api.types.is_datetime64_any_dtype(synthetic['signup'])
    assert synthetic['member'].dtype == bool
    assert (synthetic['constant'] == 7).all()
    assert set(synthetic['名前']) <= {'愛', '優', '蓮'}
    assert set(synthetic['région']) <= set(mixed_table['région'])


def test_loss_values_and_plot(fitted):
    losses = fitted.get_loss_values()
    assert list(losses.columns) == ['Epoch', 'Generator Loss', 'Discriminator Loss',
                                    'Classifier Loss', 'JSD Estimate']
    assert len(losses) == 3 and losses.notna().all().all()
    figure = fitted.get_loss_values_plot()
    assert {trace.name for trace in figure.data} >= {'JSD Estimate', 'Generator Loss'}
    assert [t.yaxis for t in figure.data if t.name == 'JSD Estimate'] == ['y2']


def test_unfitted_errors(metadata):
    synthesizer = PrivCTGANSynthesizer(metadata)
    with pytest.raises(NotFittedError):
        synthesizer.get_loss_values()
    with pytest.raises(NotFittedError):
        synthesizer.get_component_distinguishability()


def test_get_parameters_echoes_every_argument(metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, n_partitions=4, privacy_weight=0.5,
                                       batch_size=80, epochs=7)
    parameters = synthesizer.get_parameters()
    assert parameters['n_partitions'] == 4 and parameters['privacy_weight'] == 0.5
    assert parameters['batch_size'] == 80 and parameters['epochs'] == 7
    assert parameters['enforce_min_max_values'] is True and parameters['pac'] == 10
    assert parameters['keep_training_state'] is False
    assert None not in (parameters['embedding_dim'], parameters['classifier_lr'])


def test_ctgan_arguments_have_the_same_names_and_defaults(metadata):
    import inspect

    from sdv.single_table import CTGANSynthesizer

    theirs = inspect.signature(CTGANSynthesizer.__init__).parameters
    ours = inspect.signature(PrivCTGANSynthesizer.__init__).parameters
    for name, parameter in theirs.items():
        assert name in ours, name
        assert ours[name].default == parameter.default, name


def test_entry_point_registers_in_sdv_single_table():
    import sdv.single_table

    assert sdv.single_table.PrivCTGANSynthesizer is PrivCTGANSynthesizer


@pytest.mark.parametrize('kwargs, message', [
    ({'n_partitions': 0}, 'n_partitions'),
    ({'n_partitions': 1.5}, 'n_partitions'),
    ({'privacy_weight': -1}, 'privacy_weight'),
    ({'privacy_loss': 'kl'}, 'privacy_loss'),
    ({'batch_size': 500, 'n_partitions': 4}, 'multiple of pac \\* n_partitions = 40'),
    ({'batch_size': 15, 'pac': 5, 'n_partitions': 1}, 'even'),
    ({'epochs': 0}, 'epochs'),
])
def test_bad_arguments_raise_before_training(metadata, kwargs, message):
    with pytest.raises(SynthesizerInputError, match=message):
        PrivCTGANSynthesizer(metadata, **kwargs)


def test_too_many_partitions_for_the_data(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, n_partitions=30, batch_size=600)
    with pytest.raises(InvalidDataError, match='fewer than pac=10'):
        synthesizer.fit({'people': mixed_table})
    assert not synthesizer._fitted


def test_empty_data_is_refused(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, **FAST)
    with pytest.raises(InvalidDataError, match='empty'):
        synthesizer.fit({'people': mixed_table.iloc[:0]})
    assert not synthesizer._fitted


@pytest.mark.parametrize('model', ['ctgan', 'tvae'])
def test_all_missing_columns_come_back_all_missing(mixed_table, metadata, model):
    """As with SDV's own synthesizers: a column with no value in the data (numerical,
    categorical, datetime) is synthesized as missing, and the others are unaffected."""
    from sdv_privgan import PrivTVAESynthesizer

    table = mixed_table.copy()
    table['âge'], table['région'], table['signup'] = np.nan, None, pd.NaT
    if model == 'ctgan':
        synthesizer = PrivCTGANSynthesizer(metadata, **FAST)
    else:
        synthesizer = PrivTVAESynthesizer(metadata, epochs=2, batch_size=40, seed=0)
    fit_quietly(synthesizer, table)
    rows = synthesizer.sample(50)['people']
    assert list(rows.columns) == list(table.columns) and len(rows) == 50
    assert rows[['âge', 'région', 'signup']].isna().all().all()
    assert rows['revenu €'].notna().any() and rows['grade'].notna().all()


def test_data_not_matching_metadata(mixed_table, metadata):
    table = mixed_table.rename(columns={'grade': 'level'})
    with pytest.raises(InvalidDataError):
        PrivCTGANSynthesizer(metadata, **FAST).fit({'people': table})


def test_values_of_another_kind_name_their_column(fitted, mixed_table, metadata):
    table = mixed_table.astype({'revenu €': object, 'signup': object})
    table.loc[4, 'revenu €'] = 'abc'
    with pytest.raises(InvalidDataError, match="Column 'revenu €' is numerical .*'abc'"):
        PrivCTGANSynthesizer(metadata, **FAST).fit({'people': table})
    table = mixed_table.astype({'signup': object})
    table.loc[2, 'signup'] = 'not a date'
    with pytest.raises(InvalidDataError, match="Column 'signup' is datetime .*'not a date'"):
        PrivCTGANSynthesizer(metadata, **FAST).fit({'people': table})
    with pytest.raises(ValueError, match="Invalid conditions: Column 'âge' is numerical"):
        fitted.sample_remaining_columns(pd.DataFrame({'âge': ['thirty']}))


def test_input_is_not_mutated(mixed_table, metadata):
    before = mixed_table.copy(deep=True)
    _fit(mixed_table, metadata, epochs=1)
    pd.testing.assert_frame_equal(mixed_table, before)


def test_seeded_fit_is_reproducible_on_cpu(mixed_table, metadata):
    first = _fit(mixed_table, metadata, epochs=2)
    second = _fit(mixed_table, metadata, epochs=2)
    pd.testing.assert_frame_equal(first.get_loss_values(), second.get_loss_values())
    pd.testing.assert_frame_equal(first.sample(50)['people'], second.sample(50)['people'])
    other = _fit(mixed_table, metadata, epochs=2, seed=1)
    assert not first.get_loss_values().equals(other.get_loss_values())


def test_one_partition_without_weight_is_plain_ctgan(mixed_table, metadata):
    synthesizer = _fit(mixed_table, metadata, n_partitions=1, privacy_weight=0.0,
                       keep_training_state=True)
    model = synthesizer._model
    assert model._regularizer is None  # no classifier was built or trained
    losses = synthesizer.get_loss_values()
    assert losses['Classifier Loss'].isna().all() and losses['Generator Loss'].notna().all()
    assert len(synthesizer.sample(20)['people']) == 20


def test_released_generators_are_the_weight_average(mixed_table, metadata):
    """Averaging changes what is released, not how training goes."""
    last = _fit(mixed_table, metadata, ema_decay=0.0)
    averaged = _fit(mixed_table, metadata, ema_decay=0.9)
    pd.testing.assert_frame_equal(last.get_loss_values(), averaged.get_loss_values())
    released = [p.detach() for p in averaged._model._components.generator.parameters()]
    final = [p.detach() for p in last._model._components.generator.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(released, final))
    assert len(averaged.sample(30)['people']) == 30


def test_save_and_load(fitted, tmp_path):
    path = tmp_path / 'model.pkl'
    fitted.save(path)
    loaded = load_synthesizer(str(path))
    fitted.reset_sampling()
    loaded.reset_sampling()
    pd.testing.assert_frame_equal(fitted.sample(40)['people'], loaded.sample(40)['people'])


def _pickle_without_training_state(table, metadata):
    synthesizer = _fit(table, metadata, epochs=1)
    return pickle.dumps(synthesizer)


def test_saved_model_holds_no_training_rows(metadata):
    table = make_mixed_table(240)
    income = table['revenu €']
    secret = round(float(income.median()), 2) + 0.005  # interior: not a min, max or mode
    assert income.min() < secret < income.max()
    table.loc[17, 'revenu €'] = secret
    blob = _pickle_without_training_state(table, metadata)
    for encoding in (np.float64(secret).tobytes(), np.float32(secret).tobytes(),
                     repr(secret).encode()):
        assert encoding not in blob
    # The search itself works: the pickled table does contain the value.
    assert np.float64(secret).tobytes() in pickle.dumps(table)


def test_saved_model_does_not_grow_with_training_rows():
    small, large = make_mixed_table(240, seed=1), make_mixed_table(2400, seed=1)
    sizes = [len(_pickle_without_training_state(t, mixed_metadata(t))) for t in (small, large)]
    assert sizes[1] < sizes[0] * 1.1


def test_conditions_use_the_model_and_rare_categories_are_cheap(fitted):
    calls = []
    original = fitted._model.sample
    fitted._model.sample = lambda *args, **kwargs: calls.append(args) or original(*args, **kwargs)
    try:
        samples = fitted.sample_from_conditions(
            [Condition({'région': 'île', '名前': '愛'}, num_rows=30),
             Condition({'région': 'sud'}, num_rows=10)], max_tries_per_batch=1)['people']
        known = pd.DataFrame({'région': ['île', 'est'], 'member': [True, False]})
        filled = fitted.sample_remaining_columns(known, max_tries_per_batch=1)['people']
    finally:
        del fitted._model.sample
    assert len(calls) == 4  # one model call per condition group: no reject loop
    assert (samples['région'] == 'île').sum() == 30 and (samples['région'] == 'sud').sum() == 10
    assert (samples.loc[samples['région'] == 'île', '名前'] == '愛').all()
    assert list(filled['région']) == ['île', 'est'] and list(filled['member']) == [True, False]


def test_native_conditions_are_exact_and_unknown_values_are_left_alone(fitted):
    rows = fitted._model.sample(200, condition_column='région', condition_value='île')
    assert (rows['région'] == 'île').all()
    assert rows['grade'].nunique() > 1 and rows['âge'].nunique() > 1  # still generated
    free = fitted._model.sample(200, conditions={'région': 'Atlantis'})
    assert free['région'].nunique() > 1


def test_constraints_keep_categorical_columns_discrete(mixed_table, metadata):
    from sdv.cag import FixedCombinations

    synthesizer = PrivCTGANSynthesizer(metadata, **FAST)
    synthesizer.add_constraints([FixedCombinations(['région', '名前'])])
    transformers = synthesizer._data_processor._hyper_transformer.field_transformers
    assert transformers.get('grade') is None  # raw pass-through kept
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'people': mixed_table})
    pairs = set(zip(mixed_table['région'], mixed_table['名前']))
    synthetic = synthesizer.sample(100)['people']
    assert set(zip(synthetic['région'], synthetic['名前'])) <= pairs
    assert synthesizer._model._layout.n_discrete >= 3


def test_white_box_scores(fitted, mixed_table, metadata):
    scores = fitted.get_white_box_scores(mixed_table.head(15))
    assert list(scores.columns) == ['critic', 'critic_contrast', 'classifier']
    assert len(scores) == 15
    again = fitted.get_white_box_scores(mixed_table.head(15))
    pd.testing.assert_frame_equal(scores, again)  # the encoding's random draw is fixed
    assert scores.notna().all().all() and (scores['classifier'] <= 1).all()
    with pytest.raises(SamplingError, match='keep_training_state'):
        _fit(mixed_table, metadata, epochs=1).get_white_box_scores(mixed_table)


def test_component_distinguishability_reports_figures(fitted):
    gauge = fitted.get_component_distinguishability(300)
    assert 0.0 <= gauge['auc'] <= 1.0 and 0.0 <= gauge['jsd'] <= gauge['max_jsd'] + 1e-9
    assert gauge['chance_accuracy'] == pytest.approx(0.5, abs=0.02)


def test_table_without_discrete_columns(metadata):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({'x': rng.normal(size=200), 'y': rng.normal(size=200)})
    from sdv.metadata import Metadata

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        md = Metadata.detect_from_dataframes({'points': table})
        synthesizer = PrivCTGANSynthesizer(md, **FAST)
        synthesizer.fit({'points': table})
    assert synthesizer.sample(30)['points'].shape == (30, 2)


def test_trains_on_the_requested_device(mixed_table, metadata):
    synthesizer = _fit(mixed_table, metadata, epochs=1, device='cpu', enable_gpu=True)
    assert next(synthesizer._model._components.generator.parameters()).device == torch.device('cpu')
