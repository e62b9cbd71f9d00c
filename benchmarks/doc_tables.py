"""Which result files each table of the docs comes from, cell by cell (``doc_check``).

A row is built by a helper from the CSVs of ``benchmarks/results``; ``None`` marks a
text cell. When a rerun replaces a CSV, ``python -m benchmarks.doc_check --show``
prints the new values for the doc.
"""

import math
from functools import lru_cache

import pandas as pd

from benchmarks.common import RESULTS
from benchmarks.doc_check import DocTable
from benchmarks.models import get_model
from benchmarks.report import mean_sd, paired_delta, values

NAN = float('nan')

#: Doc figures that the committed CSVs do not reproduce, and why; ``doc_check`` lists
#: them without failing. Fixing the doc means replacing the figure, then the entry.
KNOWN_MISMATCHES = {
    ('sweep', 0, 'fit s'): 'the doc has the fit time of an earlier default run '
                           '(6.9 s, the sweep rows of privacy_utility_credit5.csv); the '
                           'committed default run took 6.3 s',
}


@lru_cache(maxsize=None)
def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / f'{name}.csv')


def stat(frame, metric, where=''):
    """(mean, sd) of a metric over the frame's runs."""
    mean, sd, _ = mean_sd(values(frame, metric, where))
    return mean, sd


def mean(frame, metric, where=''):
    return stat(frame, metric, where)[0]


# ------------------------------------------------------------------ distinguishability
def distinguishability_row(config, *files):
    frame = pd.concat([csv(name) for name in files])
    runs = frame[frame['config'] == config]
    if runs.empty:
        raise LookupError(f'no runs of {config} in {files}')
    return [None, (len(runs),)] + [stat(runs, metric, config) for metric in (
        'posthoc_auc', 'posthoc_accuracy', 'posthoc_jsd', 'train_jsd_last50', 'quality')]


def distinguishability_current():
    d = 'distinguishability'
    rows = [('lambda0_default', 'lambda0_default'), ('lambda0_ema', 'ema'),
            ('same_rows_lambda0_ema', 'ema_variants'), ('jsd_strong_noreplay', 'noema'),
            ('jsd_c5_ema', 'ema_variants', 'ema_variants34'),
            ('jsd_c2_ema', 'ema_variants', 'ema_variants34'), ('jsd_c1_ema', 'ema'),
            ('jsd_strong_ema', 'ema_replay'), ('jsd_c1_replay_ema', 'ema_replay'),
            ('lambda0_ema', 'ema_3000'), ('jsd_c1_ema', 'ema_3000'),
            ('lambda0_ema', 'ema_k4'), ('jsd_c1_ema', 'ema_k4'), ('jsd_c5_ema', 'ema_k4_c5')]
    return [distinguishability_row(config, *(f'{d}_{name}' for name in files))
            for config, *files in rows]


def distinguishability_earlier():
    configs = ['lambda0', 'same_rows_lambda0', 'uniform', 'uniform_w3', 'uniform_c5',
               'uniform_replay', 'strong', 'strong_w3', 'strong_w10', 'jsd', 'jsd_c5',
               'jsd_fast', 'jsd_strong', 'jsd_strong_noreplay', 'jsd_noreplay_w3',
               'jsd_noreplay_c10', 'jsd_strong_w3', 'jsd_strong_small', 'jsd_c3',
               'jsd_small_c1', 'jsd_strong_pac5']
    rows = [distinguishability_row(config, 'distinguishability') for config in configs]
    for name in ('distinguishability_3000', 'distinguishability_k4'):
        rows += [distinguishability_row(config, name) for config in ('lambda0', 'jsd_strong')]
    return rows


# ------------------------------------------------------------------ speed, SDGym, images
def speed():
    frame = csv('speed_cpu').set_index('model')
    labels = ['SDV CTGANSynthesizer', 'PrivCTGAN K=1, lambda=0', 'PrivCTGAN K=2, lambda=1',
              'PrivCTGAN K=4, lambda=1', 'PrivCTGAN K=2, lambda=1, replay_size=0',
              'PrivCTGAN K=2, lambda=1, classifier_steps=5',
              'PrivCTGAN K=2, lambda=1, ema_decay=0']
    return [[None, (frame.loc[label, 'cpu_seconds_per_epoch'],),
             (frame.loc[label, 'wall_seconds_per_epoch'],),
             (frame.loc[label, 'ratio_to_ctgan'],)] for label in labels]


def sdgym():
    frame = csv('sdgym_check')
    rows = []
    for dataset in ('credit', 'penguins'):
        for synthesizer in ('UniformSynthesizer', 'Custom:CTGAN', 'Custom:PrivCTGAN'):
            run = frame[(frame['Dataset'] == dataset) & (frame['Synthesizer'] == synthesizer)]
            (run,) = run.to_dict('records')
            rows.append([None, None] + [(run[column],) for column in (
                'Train_Time', 'Quality_Score', 'Diagnostic_Score', 'Privacy_Score')])
    return rows


IMAGE_METRICS = ['white_box_critic_auc', 'monte_carlo_auc', 'downstream_accuracy',
                 'distinguishability_auc']


def image_settings():
    default = csv('image_privacy')
    default = default[default['model'] == 'K=2, lambda=1']
    tuned = csv('image_privacy_jsd')
    tuned = tuned[tuned['model'] == 'K=2, lambda=1'].sort_values('seed')
    return [[None] + [stat(default, metric) for metric in IMAGE_METRICS],
            [None] + [tuple(tuned[metric]) for metric in IMAGE_METRICS]]


def image_benchmark():
    from benchmarks.image_privacy import COLUMNS

    frame = csv('image_privacy')
    rows = []
    for model in dict.fromkeys(frame['model']):
        runs = frame[frame['model'] == model]
        row = [None]
        for column in COLUMNS:
            mean_, sd = stat(runs, column, model)
            row.append((mean_,) if column == 'fit_seconds' else (mean_, sd))
        rows.append(row)
    return rows


# ------------------------------------------------------------------ privacy-utility
def grid(name):
    frame = csv(name)
    return frame[frame['phase'] == 'grid']


def runs(frame, model):
    selected = frame[frame['model'] == model]
    if selected.empty:
        raise LookupError(f'no grid runs of {model}')
    return selected


def delta(frame, model, reference):
    if reference is None or frame[frame['model'] == reference].empty:
        return (NAN,)
    mean_, se, n = paired_delta(runs(frame, model), runs(frame, reference), 'max_auc_bb',
                                where=f'{model} vs {reference}')
    return (mean_, se) if n > 1 else (NAN,)


def fit_seconds(frame, model):
    return (NAN,) if model == 'real' else (mean(runs(frame, model), 'fit_seconds'),)


CREDIT5 = ['real', 'ctgan', 'k1', 'k2_l0', 'k2_l0.3', 'k2_l1', 'k2_l3', 'k4_l0', 'k4_l1',
           'k8_l1', 'dpctgan_e1', 'dpctgan_e3', 'dpctgan_e10', 'mst_e1', 'mst_e3', 'mst_e10']


def credit5():
    frame = grid('privacy_utility_credit5')
    rows = []
    for model in CREDIT5:
        mine = runs(frame, model)
        row = [None] + [stat(mine, metric, model) for metric in (
            'max_auc', 'max_auc_bb', 'max_auc_wb', 'tpr1_max', 'tstr_accuracy', 'tstr_auc',
            'quality')]
        row += [fit_seconds(frame, model), stat(mine, 'posthoc_auc', model),
                delta(frame, model, 'k1' if model != 'k1' else None),
                delta(frame, model, get_model(model).ablation)]
        rows.append(row)
    return rows


def default_run():
    frame = grid('privacy_utility')
    models = ['real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'k2_l3', 'dpctgan_e1', 'dpctgan_e10',
              'mst_e3']
    return [[None] + [stat(runs(frame, m), metric, m) for metric in (
        'max_auc_bb', 'max_auc_wb', 'tpr1_max', 'tstr_auc', 'quality')]
        + [fit_seconds(frame, m), delta(frame, m, get_model(m).ablation)] for m in models]


def churn():
    frame = grid('privacy_utility_churn')
    models = ['real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'k2_l3', 'k4_l1', 'dpctgan_e1',
              'dpctgan_e10', 'mst_e3']
    return [[None] + [stat(runs(frame, m), metric, m) for metric in (
        'max_auc_bb', 'max_auc_wb', 'tstr_auc', 'quality')]
        + [fit_seconds(frame, m), stat(runs(frame, m), 'posthoc_auc', m),
           delta(frame, m, get_model(m).ablation)] for m in models]


def sweep():
    frame = csv('privacy_utility')
    frame = frame[frame['phase'] == 'sweep']
    rows = []
    for setting in ('n100_s600_b40', 'n100_s2000_b40', 'n300_s2000_b40'):
        probe = frame[(frame['setting'] == setting) & (frame['model'] == 'k1')]
        (probe,) = probe.to_dict('records')
        (floor,) = frame[(frame['setting'] == setting)
                         & (frame['model'] == 'real')].to_dict('records')
        rows.append([(probe['n_members'],), (probe['steps'],), (probe['epochs'],),
                     (probe['fit_seconds'],), (probe['max_auc'],), None,
                     (probe['max_auc_bb'],), (probe['max_auc_wb'],), (probe['tpr1_max'],),
                     (floor['max_auc'], floor['tpr1_max']), None])
    return rows


def regularizer_settings():
    """K = 2: lambda = 0 -> 1 per regularizer setting; (…) marks a borrowed lambda = 0."""
    def pair(frame, zero_frame, metric):
        return (mean(runs(zero_frame, 'k2_l0'), metric), mean(runs(frame, 'k2_l1'), metric))

    def row(name, zero_name=None, show_delta=True):
        frame, zero = grid(name), grid(zero_name or name)
        one = runs(frame, 'k2_l1')
        return [None, pair(frame, zero, 'max_auc_bb'),
                delta(frame, 'k2_l1', 'k2_l0') if show_delta else None,
                (mean(one, 'max_auc_wb'),), pair(frame, zero, 'tstr_auc'),
                (mean(one, 'quality'),), pair(frame, zero, 'posthoc_auc')]

    p = 'privacy_utility_'
    return [row(p + 'averaged_replay'), row(p + 'averaged'),
            row(p + 'averaged_c5', p + 'averaged', show_delta=False),
            row(p + 'averaged_c5_replay', show_delta=False), row(p + 'credit5')]


#: Below this excess of the baseline over its floor, "excess removed" is not shown:
#: a share of a leak that small is noise.
MIN_EXCESS = 0.05


def audit(name, models, baseline):
    """Per table and model: the floor, the black-box attacks and the file holder's (the
    black-box ones and those on rows drawn from the saved model), the share of runs whose
    verdict over the holder's attacks detected leakage, the holder's best TPR at 1 % FPR,
    the share of ``baseline``'s excess over the floor removed (on the file holder's max
    AUC), utility and fit time."""
    frame = grid(name).copy()
    frame['max_auc_holder'] = frame[['max_auc_bb', 'max_auc_drawn']].max(axis=1, skipna=False)
    frame['tpr1_holder'] = frame[['tpr1_bb', 'tpr1_drawn']].max(axis=1, skipna=False)
    # A run without white-box attacks had only the holder's: its verdict is the holder's.
    with_critics = frame['max_auc_wb'].notna()
    frame['holder_detected'] = frame['leakage_detected'].astype(object)
    frame.loc[with_critics, 'holder_detected'] = frame.loc[
        with_critics, 'holder_leakage_detected'] if 'holder_leakage_detected' in frame else NAN
    if frame.loc[frame['model'] != 'real', 'holder_detected'].isna().any():
        raise LookupError(f'{name}: runs with white-box attacks lack the holder verdict; '
                          're-run them (their run files predate it)')
    rows = []
    for table in dict.fromkeys(frame['table']):
        here = frame[frame['table'] == table]
        floor = mean(here[here['model'] != 'real'], 'floor_auc')
        excess = mean(runs(here, baseline), 'max_auc_holder') - floor
        for model in models:
            mine = runs(here, model)
            removed = (NAN if model == baseline or excess < MIN_EXCESS else
                       100 * (1 - (mean(mine, 'max_auc_holder') - floor) / excess))
            rows.append([None, None] + [stat(mine, metric, model) for metric in (
                'floor_auc', 'max_auc_bb', 'max_auc_holder')]
                + [(int(mine['holder_detected'].astype(bool).sum()), len(mine)), (removed,)]
                + [stat(mine, metric, model) for metric in ('tpr1_holder', 'tstr_auc', 'quality')]
                + [(mean(mine, 'fit_seconds'),)])
    return rows


def audit_markdown(name, models, baseline, labels=None):
    """The markdown of ``audit`` (paste into the doc, then ``doc_check`` keeps it true)."""
    lines = [AUDIT_HEADER, '|' + '---|' * AUDIT_HEADER.count(' | ') + '---|']
    frame = grid(name)
    tables = list(dict.fromkeys(frame['table']))
    rows = iter(audit(name, models, baseline))
    for table in tables:
        for model in models:
            cells = next(rows)[2:]
            text = [f'{a:.3f} ± {b:.3f}' for a, b in cells[:3]]
            text += [f'{cells[3][0]}/{cells[3][1]}',
                     '-' if math.isnan(cells[4][0]) else f'{cells[4][0]:.0f} %']
            text += [f'{a:.3f} ± {b:.3f}' for a, b in cells[5:8]] + [f'{cells[8][0]:.0f}']
            label = (labels or AUDIT_LABELS)[model]
            lines.append(f'| {table} | {label} | ' + ' | '.join(text) + ' |')
    return '\n'.join(lines)


AUDIT_HEADER = ('| table | model | floor AUC | black-box max AUC | file holder max AUC | '
                'leakage detected | excess removed | TPR@1%FPR | TSTR AUC | Quality '
                '| fit s |')
#: The audit tables of docs/benchmarks.md, in doc order: (CSV, models, baseline).
AUDITS = [('privacy_utility_ctgan', ['ctgan', 'ctgan_w128', 'ctgan_w64', 'k1', 'k2_l0', 'k2_l1',
                                    'k2_l3', 'k4_l1', 'k2_l0_w128', 'k2_l1_w128', 'k2_l3_w128'],
           'ctgan'),
          ('privacy_utility_tvae_split', ['tvae', 'tvae_w64', 'tvae_w32', 'tvae_k2_l0',
                                          'tvae_k2_l1', 'tvae_k2_l3', 'tvae_k2_l10',
                                          'tvae_k2_l20'], 'tvae'),
          ('privacy_utility_tvae_default_split', ['tvae', 'tvae_w64', 'tvae_k2_l1',
                                                  'tvae_k2_l3', 'tvae_k2_l10'], 'tvae'),
          ('privacy_utility_tvae', ['tvae', 'tvae_k2_l0', 'tvae_k2_l1', 'tvae_k2_l10'], 'tvae'),
          ('privacy_utility_tvae_default', ['tvae', 'tvae_k2_l1', 'tvae_k2_l10'], 'tvae'),
          ('privacy_utility_tvae_classifier', ['tvae', 'tvae_k2_l10', 'tvae_k2_l3_c3',
                                               'tvae_k2_l10_c3', 'tvae_k2_l10_c3_r2000',
                                               'tvae_k2_l10_c512'], 'tvae')]
AUDIT_LABELS = {'ctgan': 'SDV CTGAN', 'ctgan_w128': 'SDV CTGAN (128, 128)',
                'ctgan_w64': 'SDV CTGAN (64, 64)', 'k1': 'PrivCTGAN K=1, λ=0',
                'k2_l0': 'PrivCTGAN λ=0', 'k2_l1': 'PrivCTGAN λ=1',
                'k2_l3': 'PrivCTGAN λ=3', 'k4_l1': 'PrivCTGAN K=4, λ=1',
                'k2_l0_w128': 'PrivCTGAN λ=0, (128, 128)', 'k2_l1_w128': 'PrivCTGAN λ=1, (128, 128)',
                'k2_l3_w128': 'PrivCTGAN λ=3, (128, 128)',
                'tvae': 'SDV TVAE', 'tvae_w64': 'SDV TVAE (64, 64)',
                'tvae_w32': 'SDV TVAE (32, 32)', 'tvae_k2_l0': 'PrivTVAE λ=0',
                'tvae_k2_l1': 'PrivTVAE λ=1', 'tvae_k2_l3': 'PrivTVAE λ=3',
                'tvae_k2_l10': 'PrivTVAE λ=10', 'tvae_k2_l20': 'PrivTVAE λ=20',
                'tvae_k2_l3_c3': 'PrivTVAE λ=3, 3 classifier steps',
                'tvae_k2_l10_c3': 'PrivTVAE λ=10, 3 classifier steps',
                'tvae_k2_l10_c3_r2000': 'PrivTVAE λ=10, 3 steps, replay 2000',
                'tvae_k2_l10_c512': 'PrivTVAE λ=10, 3 steps, classifier (512, 512)'}

B = 'docs/benchmarks.md'
SPECS = [
    *[DocTable(f'audit {spec[0]}', B, AUDIT_HEADER, lambda spec=spec: audit(*spec),
               occurrence=i) for i, spec in enumerate(AUDITS)],
    DocTable('distinguishability, current defaults', B,
             '| configuration | seeds | fresh-classifier AUC | accuracy | JSD (nats) | '
             'training-time JSD estimate | quality |', distinguishability_current),
    DocTable('distinguishability, earlier settings', B,
             '| configuration | seeds | fresh-classifier AUC | accuracy | JSD (nats) | '
             'training-time JSD estimate | quality |', distinguishability_earlier, occurrence=1),
    DocTable('speed, CPU', B, '| model | CPU s / epoch | wall s / epoch | ratio to SDV CTGAN |',
             speed),
    DocTable('regularizer settings', B,
             '| regularizer settings (K = 2, λ = 1) | black-box max AUC, λ = 0 → 1 | paired Δ '
             '(± s.e.) | white-box max AUC, λ = 1 | TSTR ROC AUC, λ = 0 → 1 | quality, λ = 1 '
             '| fresh-classifier AUC, λ = 0 → 1 |', regularizer_settings),
    DocTable('sweep', B, '| members | steps | epochs | fit s | max AUC (all) | best attack | '
             'black-box | white-box critic | TPR@1%FPR | floor (real rows) | leaks? |', sweep),
    DocTable('credit, 5 seeds', B,
             '| model | max AUC (all) | black-box max AUC | white-box max AUC | TPR@1%FPR | '
             'TSTR acc. | TSTR AUC | Quality | fit s | components distinguishable (fresh AUC) '
             '| Δ black-box vs CTGAN (k1) | Δ black-box vs λ=0, same K |', credit5),
    DocTable('credit, default run', B,
             '| model (default run, 2 seeds) | black-box max AUC | white-box max AUC | '
             'TPR@1%FPR | TSTR AUC | Quality | fit s | Δ black-box vs λ=0 |', default_run),
    DocTable('churn', B, '| model | black-box max AUC | white-box max AUC | TSTR AUC | Quality '
             '| fit s | fresh comp. AUC | Δ black-box vs λ=0 |', churn),
    DocTable('SDGym', B, '| synthesizer | dataset | train s | quality | diagnostic | '
             'privacy (DCRBaselineProtection) |', sdgym),
    DocTable('image classifier settings', B, '| image classifier settings | LOGAN AUC | '
             'MC AUC | downstream accuracy | components distinguishable (AUC) |',
             image_settings),
    DocTable('image benchmark', 'docs/images.md',
             '| model | LOGAN AUC | LOGAN top-members acc. | Classifier AUC | MC AUC | '
             'MC top-members acc. | Downstream acc. (synthetic) | Components distinguishable '
             '(AUC) | Fit (s) |', image_benchmark),
]
