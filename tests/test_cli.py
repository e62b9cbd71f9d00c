"""The command line, in-process: metadata -> split -> fit -> sample -> report, its errors,
its help and its HTML. Tiny tables and two epochs keep the module to seconds."""

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_mixed_table

from sdv_privgan.cli import build_parser, main
from sdv_privgan.cli._common import UsageError, round_batch_size
from sdv_privgan.datasets import detect_metadata
from sdv_privgan.evaluation import PrivacyReport

N_ROWS = 240


def run(*argv):
    """``(exit code, stdout, stderr)`` of one command."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


def make_table():
    """The mixed table plus what detection gets wrong (a repeated ``city``, a unique
    ``email``) and a target the other columns predict (``band``)."""
    table = make_mixed_table(N_ROWS, seed=0)
    rng = np.random.default_rng(1)
    table['city'] = rng.choice(['Paris', 'Lyon', 'Nice', 'Lille'], N_ROWS)
    table['email'] = [f'person{i}@example.org' for i in range(N_ROWS)]
    table['band'] = np.where(table['revenu €'] > table['revenu €'].median(), 'high', 'low')
    return table


@pytest.fixture(scope='module')
def workflow(tmp_path_factory):
    """Run the whole first-run sequence once; tests read its outputs."""
    folder = tmp_path_factory.mktemp('cli')
    make_table().to_csv(folder / 'data.csv', index=False)
    steps = {}
    steps['metadata'] = run('metadata', folder / 'data.csv', '--output', folder / 'metadata.json')
    steps['split'] = run('split', folder / 'data.csv', '--output-dir', folder, '--seed', 3)
    steps['fit'] = run('fit', folder / 'train.csv', '--output', folder / 'model.pkl',
                       '--epochs', 2, '--n-partitions', 4, '--seed', 0, '--quiet',
                       '--loss-plot', folder / 'losses.html')
    steps['sample'] = run('sample', folder / 'model.pkl', '--num-rows', 150,
                          '--output', folder / 'synthetic.csv', '--seed', 1)
    steps['report'] = run(
        'report', folder / 'train.csv', folder / 'synthetic.csv',
        '--holdout', folder / 'holdout.csv', '--reference', folder / 'reference.csv',
        '--target', 'band', '--known-columns', 'région', 'city', '--sensitive-columns', 'band',
        '--max-candidates', 50, '--quiet', '--output-dir', folder / 'report')
    return folder, steps


def test_every_step_succeeds(workflow):
    _, steps = workflow
    for name, (code, _, err) in steps.items():
        assert code == 0, f'{name} failed: {err}'
        assert 'Traceback' not in err


def test_metadata_is_modelling_ready_and_its_choices_are_printed(workflow):
    folder, steps = workflow
    columns = json.loads((folder / 'metadata.json').read_text())['tables']['data']['columns']
    assert columns['member'] == {'sdtype': 'boolean'}          # detection: categorical
    assert columns['constant'] == {'sdtype': 'categorical'}    # detection: ordinal
    assert columns['city'] == {'sdtype': 'categorical'}        # detection: PII, faked
    assert columns['email'] == {'sdtype': 'email', 'pii': True}  # unique: stays PII
    assert columns['signup'] == {'sdtype': 'datetime', 'datetime_format': '%Y-%m-%d'}
    assert columns['âge'] == {'sdtype': 'numerical'}           # no range kept
    out = steps['metadata'][1]
    for column in ('member', 'constant', 'city', 'email'):
        assert f"'{column}':" in out
    assert "'âge':" not in out  # unchanged columns are not reported


def test_detected_unique_numbers_are_learned_unless_named_as_id():
    table = pd.DataFrame({'price': np.arange(100, 300, 2), 'row_id': np.arange(100),
                          'kind': ['a', 'b'] * 50})
    metadata, choices = detect_metadata(table, 'items')
    columns = metadata.to_dict()['tables']['items']['columns']
    assert columns['price']['sdtype'] == 'numerical'
    assert columns['row_id']['sdtype'] == 'id'
    assert metadata.to_dict()['tables']['items'].get('primary_key') == 'row_id'
    assert any(choice.startswith("'price': numerical") for choice in choices)


def test_split_writes_three_disjoint_seeded_sets(workflow):
    folder, steps = workflow
    parts = {name: pd.read_csv(folder / f'{name}.csv')
             for name in ('train', 'holdout', 'reference')}
    assert [len(part) for part in parts.values()] == [120, 60, 60]
    emails = [set(part['email']) for part in parts.values()]
    assert len(set.union(*emails)) == N_ROWS
    assert 'seed 3' in steps['split'][1]


def test_fit_detects_metadata_beside_the_model_and_rounds_the_batch(workflow):
    from sdv.utils import load_synthesizer

    folder, steps = workflow
    _, out, err = steps['fit']
    warnings_shown = [line for line in err.splitlines() if line.startswith('warning:')]
    assert warnings_shown == ['warning: batch_size 500 is not an even multiple of pac * '
                              'n_partitions = 10 * 4 = 40; using 480.']
    assert (folder / 'model.metadata.json').is_file()
    assert 'model.metadata.json' in out
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer = load_synthesizer(folder / 'model.pkl')
    assert (synthesizer.batch_size, synthesizer.n_partitions, synthesizer.epochs) == (480, 4, 2)
    assert synthesizer.get_metadata().to_dict()['tables']['train']['columns']['city'] == {
        'sdtype': 'categorical'}


def test_sample_writes_the_rows_and_its_seed_decides_them(workflow, tmp_path):
    folder, _ = workflow
    synthetic = pd.read_csv(folder / 'synthetic.csv')
    assert len(synthetic) == 150
    assert list(synthetic.columns) == list(make_table().columns)
    for seed, name in ((1, 'again.csv'), (2, 'other.csv')):
        assert run('sample', folder / 'model.pkl', '--num-rows', 150, '--seed', seed,
                   '--output', tmp_path / name)[0] == 0
    numbers = ['âge', 'revenu €']
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / 'again.csv')[numbers], synthetic[numbers])
    assert not pd.read_csv(tmp_path / 'other.csv')[numbers].equals(synthetic[numbers])


def test_report_prints_utility_privacy_and_every_attack(workflow):
    folder, steps = workflow
    out = steps['report'][1]
    for name in ('Column Shapes', 'Column Pair Trends', 'Membership Inference',
                 'DCR Overfitting Protection', 'DCR Baseline Protection',
                 'Disclosure Protection', 'New Row Synthesis'):
        line = next(line for line in out.splitlines() if line.strip().startswith(name + ' '))
        float(line.split()[-1])  # every property computed: a number, not "not computed"
    assert "predicting 'band'" in out and 'Train on synthetic' in out
    attacks = PrivacyReport.load(folder / 'report' / 'privacy_report.pkl').get_details(
        'Membership Inference')
    for attack, auc in attacks[['Attack', 'AUC']].itertuples(index=False):
        assert f'{attack}  ' in out and f'{auc:.3f}' in out
    assert 'on 50 members and 50 non-members' in out


def test_html_outputs_share_one_plotly_bundle(workflow):
    folder, _ = workflow
    pages = [folder / 'losses.html', *sorted((folder / 'report').glob('*.html'))]
    assert {page.name for page in pages} >= {'losses.html', 'attacks_roc.html',
                                             'attacks_scores.html', 'column_shapes.html'}
    for page in pages:
        assert page.stat().st_size < 200_000, page  # an embedded plotly.js is 4.8 MB
        assert '<script charset="utf-8" src="plotly.min.js">' in page.read_text()
        assert (page.parent / 'plotly.min.js').stat().st_size > 1_000_000


def test_report_says_why_a_property_is_not_computed(workflow):
    folder, _ = workflow
    code, out, _ = run('report', folder / 'train.csv', folder / 'synthetic.csv', '--quiet',
                       '--metadata', folder / 'metadata.json')
    assert code == 0
    lines = {line.split('  ')[1]: line for line in out.splitlines() if 'not computed' in line}
    assert 'Needs --holdout' in lines['Membership Inference']
    assert '--known-columns' in lines['Disclosure Protection']
    assert '--target' in lines['ML Efficacy']


def test_report_prints_the_membership_verdict_when_the_report_has_one(workflow, monkeypatch):
    verdict = {'leakage_detected': False, 'p_value': 0.42, 'max_auc': 0.531,
               'floor_max_auc': 0.587, 'best_attack': 'domias'}
    monkeypatch.setattr(PrivacyReport, 'get_membership_verdict', lambda self: verdict,
                        raising=False)
    folder, _ = workflow
    code, out, _ = run('report', folder / 'train.csv', folder / 'synthetic.csv', '--quiet',
                       '--holdout', folder / 'holdout.csv', '--max-candidates', 30)
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith('Membership leakage'))
    assert 'not detected' in line and '0.531' in line and '0.587' in line and '0.42' in line
    assert 'DOMIAS' in line  # the attack's label, not its id


@pytest.mark.parametrize('argv, message', [
    (['fit', '{folder}/missing.csv'], "data '{folder}/missing.csv': no such file"),
    (['fit', '{folder}/train.csv', '--options', '{{"epochs": 2,'], '--options is not valid JSON'),
    (['fit', '{folder}/train.csv', '--options', '{{"epoch": 2}}'], "unknown arguments ['epoch']"),
    (['fit', '{folder}/train.csv', '--epochs', '2', '--options', '{{"epochs": 3}}'],
     'epochs is set both by --epochs and in --options'),
    (['fit', '{folder}/train.csv', '--metadata', '{folder}/metadata.json', '--epochs', '0'],
     "Invalid value '0' for parameter 'epochs'"),                      # SynthesizerInputError
    (['fit', '{folder}/binary.csv', '--metadata', '{folder}/metadata.json'],
     'is not a readable CSV file'),
    (['fit', '{folder}/train.csv', '--metadata', '{folder}/bad.json'], 'is not valid JSON'),
    (['fit', '{folder}/other.csv', '--metadata', '{folder}/metadata.json'],
     'does not match the metadata'),                                   # InvalidDataError
    (['fit', '{folder}/train.csv', '--device', 'cuda:7'], "--device 'cuda:7'"),
    (['fit', '{folder}/train.csv', '--output', '{folder}/edited.pkl'],
     'already exists and differs'),
    (['sample', '{folder}/metadata.json'], 'is not a saved synthesizer'),
    (['report', '{folder}/train.csv', '{folder}/synthetic.csv', '--target', 'nope'],
     "--target: unknown column 'nope'"),
    (['report', '{folder}/train.csv', '{folder}/other.csv'], "missing ['âge'"),
    (['report', '{folder}/train.csv', '{folder}/synthetic.csv', '--known-columns', 'city'],
     'needs both --known-columns and --sensitive-columns'),
    (['split', '{folder}/data.csv', '--holdout-fraction', '1.5'],
     '--holdout-fraction must be strictly between 0 and 1'),
    (['metadata', '{folder}/data.csv', '--output', '{folder}/metadata.json'],
     'pass --overwrite'),
    (['split', '{folder}/data.csv', '--threads', '0'], '--threads must be at least 1'),
])
def test_user_mistakes_get_one_line_and_exit_code_2(workflow, argv, message):
    folder, _ = workflow
    (folder / 'bad.json').write_text('{"tables": ')
    (folder / 'binary.csv').write_bytes(b'\xff\xfe\x00a,b\n\x00\xff,1\n')
    pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}).to_csv(folder / 'other.csv', index=False)
    edited = json.loads((folder / 'model.metadata.json').read_text())
    edited['tables']['train']['columns']['city'] = {'sdtype': 'city', 'pii': True}
    (folder / 'edited.metadata.json').write_text(json.dumps(edited))
    code, out, err = run(*[part.format(folder=folder) for part in argv])
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f'sdv-privgan {argv[0]}: error: ')
    assert message.format(folder=folder) in err
    assert 'Traceback' not in err + out


def test_debug_shows_the_real_exception(workflow):
    folder, _ = workflow
    with pytest.raises(UsageError, match='no such file'):
        main(['fit', str(folder / 'missing.csv'), '--debug'])
    with pytest.raises(UsageError, match='no such file'):
        main(['--debug', 'sample', str(folder / 'missing.pkl')])


def test_argument_errors_are_argparse_one_liners():
    code, _, err = run('fit', 'data.csv', '--epochs', 'many')
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "sdv-privgan fit: error: argument --epochs: invalid int value: 'many'")


def test_every_option_has_help_and_shows_its_default():
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == 'command')
    for name, command in commands.choices.items():
        text = ' '.join(command.format_help().split())
        for action in command._actions:
            if not action.option_strings or action.dest == 'help':
                continue
            assert action.help, f'{name} {action.option_strings[0]} has no help'
            if action.default not in (None, '==SUPPRESS=='):
                assert f'(default: {action.default})' in text, (name, action.option_strings)


@pytest.mark.parametrize('batch_size, pac, n_partitions, expected', [
    (500, 10, 2, 500), (500, 10, 4, 480), (500, 10, 3, 510), (60, 10, 4, 40), (5, 10, 4, 40),
    (7, 1, 1, 6), (11, 3, 1, 12), (100, 5, 3, 90)])  # 7: a tie goes to the smaller
def test_round_batch_size(batch_size, pac, n_partitions, expected):
    assert round_batch_size(batch_size, pac, n_partitions) == expected


def test_rounded_batch_sizes_are_the_nearest_the_library_accepts(metadata):
    from sdv_privgan import PrivCTGANSynthesizer

    for pac, n_partitions in ((10, 4), (3, 3), (1, 5), (10, 1)):
        valid = [size for size in range(2, 400, 2) if size % (pac * n_partitions) == 0]
        chosen = set()
        for batch_size in range(1, 300, 7):
            rounded = round_batch_size(batch_size, pac, n_partitions)
            assert rounded in valid
            assert abs(rounded - batch_size) == min(abs(size - batch_size) for size in valid)
            chosen.add(rounded)
        for rounded in chosen:  # the library's own check accepts each
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # "please save the metadata"
                PrivCTGANSynthesizer(metadata, batch_size=rounded, pac=pac,
                                     n_partitions=n_partitions)


def test_demo_runs_and_writes_compact_html(tmp_path):
    code, out, err = run('demo', '--epochs', 1, '--output', tmp_path)
    assert code == 0, err
    assert 'Leakage detected at the 5 % level' in out and 'ROC AUC for degree_type' in out
    header = next(line for line in out.splitlines() if 'SDV CTGAN' in line and 'PrivCTGAN' in line)
    assert header.index('SDV CTGAN') < header.index('PrivCTGAN')  # side by side
    assert 'told apart by a fresh classifier' in out
    for page in ('losses.html', 'attacks_sdv_ctgan.html', 'attacks_privctgan.html'):
        assert (tmp_path / page).stat().st_size < 200_000
    assert (tmp_path / 'plotly.min.js').is_file()
