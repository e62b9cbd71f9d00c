"""Privacy-utility benchmark: PrivCTGAN beside CTGAN and differentially private baselines.

Two phases per table, every run on a seeded members / non-members / reference split
(``split_for_evaluation``) and evaluated the same way:

1. **Sweep** (find the leaky regime): the unregularized model (PrivCTGAN with K=1,
   lambda=0, i.e. CTGAN, keeping its critic for the white-box attack) over training-set
   size, training steps and batch size. A setting *leaks* when the strongest attack
   (black-box or white-box) reaches ROC AUC >= 0.60 or TPR >= 3 % at 1 % FPR. The
   leakiest setting(s) are kept.
2. **Grid**: every model at the kept setting(s), on seeds other than the sweep's (so
   the selection does not inflate the baseline), with the same epochs, batch size and
   network sizes for every GAN.

Each run records max ROC AUC over the attacks (all, black-box only, white-box only),
TPR at 1 % FPR, per-attack AUCs, train-synthetic/test-real accuracy and ROC AUC,
the SDMetrics QualityReport score, fit seconds and, for K > 1, the post-hoc component
distinguishability (a fresh classifier) and the training-time JSD estimate per epoch.

    python benchmarks/privacy_utility.py            # default: credit, < 30 min on 2 CPU cores
    python benchmarks/privacy_utility.py --quick    # smoke test, ~2 min
    python benchmarks/privacy_utility.py --full --jobs 14    # every table / model, many cores
    python benchmarks/privacy_utility.py --tables churn --seeds 1 2 3 --models ctgan k1 k2_l1

Differentially private baselines (smartnoise-synth DP-CTGAN, PATE-CTGAN, MST) run in
their own venv through ``dp_baselines.py``; point ``--dp-python`` (or the environment
variable ``PRIVGAN_DP_PYTHON``) at its interpreter. Without it they are skipped.
Outputs: ``benchmarks/results/privacy_utility[_quick|_full]{.csv,_jsd.csv,_summary.md}``
and, except for ``--quick``, ``docs/images/privacy_utility_frontier.png`` and
``docs/images/jsd_vs_epochs.png`` (``_full`` suffix for ``--full``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from _common import epochs_for, load_table, quiet, single_thread
from pu_config import (
    DP_DELTA, GAN, HERE, IMAGES, LEAK_AUC, LEAK_TPR, MODELS, N_SYNTHETIC, POSTHOC_ROWS,
    PROFILES, REGULARIZER, REGULARIZERS, RESULTS)
from pu_report import plot_frontier, plot_jsd, summarize, sweep_table, to_markdown, write_plotly


# ------------------------------------------------------------------------ one run
def make_split(table, n_members, seed):
    from sdv_privgan.evaluation import split_for_evaluation

    data, metadata = load_table(table)
    n_members = min(n_members, len(data) - 2 * round(len(data) * 0.25))
    train, holdout, reference = split_for_evaluation(data, n_members=n_members, seed=seed)
    used = train.index.union(holdout.index).union(reference.index)
    unused = data.drop(index=used)
    return data, metadata, train, holdout, reference, unused


def evaluate(table, metadata, train, holdout, reference, synthetic, synthesizer, seed):
    """Attacks and utility of one synthetic table, as a flat dict."""
    from sdv_privgan.datasets import TARGETS
    from sdv_privgan.evaluation import UtilityReport, run_membership_inference
    from sdv_privgan.evaluation.membership import has_white_box

    table_dict = metadata.to_dict()['tables'][table]
    result = run_membership_inference(
        train, holdout, synthetic, reference, metadata=table_dict,
        synthesizer=synthesizer if has_white_box(synthesizer) else None, seed=seed)
    record = {'n_candidates': len(result.is_member)}
    black, white = [], []
    for attack, metric in result.metrics.items():
        record[f'auc_{attack}'] = metric['auc']
        record[f'tpr1_{attack}'] = metric['tpr_at_1pct_fpr']
        (white if attack.startswith('white_box') else black).append(attack)
    aucs = {attack: metric['auc'] for attack, metric in result.metrics.items()}
    record['max_auc'], record['best_attack'] = result.max_auc, result.best_attack
    record['max_auc_bb'] = max(aucs[a] for a in black)
    record['max_auc_wb'] = max(aucs[a] for a in white) if white else np.nan
    record['tpr1_max'] = max(m['tpr_at_1pct_fpr'] for m in result.metrics.values())
    record['tpr1_bb'] = max(result.metrics[a]['tpr_at_1pct_fpr'] for a in black)

    report = UtilityReport(seed=0)
    report.generate(train, synthetic, metadata, real_holdout_data=holdout,
                    target=TARGETS[table], verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    record['quality'] = float(np.mean([properties['Column Shapes'],
                                       properties['Column Pair Trends']]))
    efficacy = report.get_details('ML Efficacy')
    if 'Metric' in efficacy:
        efficacy = efficacy.set_index('Metric')
        record['tstr_accuracy'] = efficacy.loc['Accuracy', 'Train on synthetic']
        record['tstr_auc'] = efficacy.loc['ROC AUC', 'Train on synthetic']
        record['trtr_accuracy'] = efficacy.loc['Accuracy', 'Train on real']
        record['trtr_auc'] = efficacy.loc['ROC AUC', 'Train on real']
    return record


def fit_gan(model, metadata, table, train, setting, seed, device):
    """Fit SDV's CTGAN or PrivCTGAN at ``setting``; returns (synthesizer, seconds)."""
    import torch

    n_members, steps, batch_size = setting
    epochs = epochs_for(len(train), steps, batch_size)
    spec = MODELS[model]
    if spec['kind'] == 'ctgan':
        from sdv.single_table import CTGANSynthesizer

        synthesizer = CTGANSynthesizer(metadata, epochs=epochs, batch_size=batch_size,
                                       enable_gpu=device != 'cpu', **GAN)
        torch.manual_seed(seed)
        np.random.seed(seed)
    else:
        from sdv_privgan import PrivCTGANSynthesizer

        synthesizer = PrivCTGANSynthesizer(
            metadata, epochs=epochs, batch_size=batch_size, n_partitions=spec['n_partitions'],
            privacy_weight=spec['privacy_weight'], keep_training_state=True, seed=seed,
            device=device, enable_gpu=device != 'cpu', **GAN, **REGULARIZER)
    start = time.perf_counter()
    synthesizer.fit({table: train})
    return synthesizer, time.perf_counter() - start


def run_gan(phase, table, setting, model, seed, device):
    single_thread()
    quiet()
    _, metadata, train, holdout, reference, _ = make_split(table, setting[0], seed)
    synthesizer, seconds = fit_gan(model, metadata, table, train, setting, seed, device)
    synthetic = synthesizer.sample(N_SYNTHETIC)[table]
    record = _base(phase, table, setting, model, seed, len(train))
    record['fit_seconds'] = seconds
    record.update(evaluate(table, metadata, train, holdout, reference, synthetic,
                           synthesizer, seed))
    curves = []
    spec = MODELS[model]
    if spec['kind'] == 'privctgan' and spec['n_partitions'] > 1:
        gauge = synthesizer.get_component_distinguishability(POSTHOC_ROWS)
        record.update(posthoc_auc=gauge['auc'], posthoc_accuracy=gauge['accuracy'],
                      posthoc_jsd=gauge['jsd'], max_jsd=gauge['max_jsd'])
        losses = synthesizer.get_loss_values()
        tail = max(len(losses) // 10, 1)
        record['train_jsd_last10pct'] = float(losses['JSD Estimate'].tail(tail).mean())
        every = max(len(losses) // 200, 1)  # keep about 200 points per curve
        for _, row in losses.iloc[::every].iterrows():
            curves.append({'table': table, 'setting': record['setting'], 'model': model,
                           'seed': seed, 'epoch': int(row['Epoch']),
                           'jsd_estimate': row['JSD Estimate'],
                           'classifier_loss': row['Classifier Loss']})
    return [record], curves


def run_real(phase, table, setting, seed):
    """The noise floor: 'synthetic' rows that are real rows outside every split."""
    quiet()
    _, metadata, train, holdout, reference, unused = make_split(table, setting[0], seed)
    synthetic = unused.sample(n=min(N_SYNTHETIC, len(unused)), random_state=seed)
    record = _base(phase, table, setting, 'real', seed, len(train))
    record['fit_seconds'] = 0.0
    record.update(evaluate(table, metadata, train, holdout, reference, synthetic, None, seed))
    return [record], []


def _align(synthetic, real):
    """Give DP output the real table's dtypes and category values."""
    synthetic = synthetic[real.columns].copy()
    for column in real.columns:
        if pd.api.types.is_numeric_dtype(real[column]) and real[column].nunique() > 10:
            synthetic[column] = pd.to_numeric(synthetic[column], errors='coerce')
            continue
        lookup = {str(value): value for value in real[column].dropna().unique()}
        lookup.update({str(float(v)): v for v in real[column].dropna().unique()
                       if isinstance(v, (int, np.integer, float))})
        synthetic[column] = synthetic[column].map(
            lambda value: lookup.get(str(value), np.nan) if pd.notna(value) else np.nan)
    return synthetic


def run_dp(phase, table, setting, models, seed, dp_python):
    """All DP baselines of one split in one subprocess of the smartnoise venv."""
    quiet()
    data, metadata, train, holdout, reference, _ = make_split(table, setting[0], seed)
    table_dict = metadata.to_dict()['tables'][table]
    n_members, steps, batch_size = setting
    epochs = epochs_for(len(train), steps, batch_size)
    continuous = [c for c, m in table_dict['columns'].items() if m['sdtype'] == 'numerical']
    categorical = [c for c in train.columns if c not in continuous]
    records = []
    with tempfile.TemporaryDirectory(prefix='privgan_dp_') as folder:
        train_csv = Path(folder) / 'train.csv'
        train.to_csv(train_csv, index=False)
        jobs = []
        for model in models:
            spec = MODELS[model]
            params = {}
            if spec['method'] in ('dpctgan', 'patectgan'):
                params = {'epochs': epochs, 'batch_size': batch_size, 'pac': GAN['pac'],
                          'embedding_dim': GAN['embedding_dim'],
                          'generator_dim': list(GAN['generator_dim']),
                          'discriminator_dim': list(GAN['discriminator_dim'])}
            jobs.append({'method': spec['method'], 'epsilon': spec['epsilon'],
                         'delta': DP_DELTA, 'seed': seed, 'n_samples': N_SYNTHETIC,
                         'out_csv': str(Path(folder) / f'{model}.csv'), 'params': params,
                         'model': model})
        job_file = Path(folder) / 'job.json'
        job_file.write_text(json.dumps({
            'train_csv': str(train_csv), 'columns': list(train.columns),
            'categorical': categorical, 'continuous': continuous,
            # Public bounds: the population table's range, not the members'.
            'bounds': {c: [float(data[c].min()), float(data[c].max())] for c in continuous},
            'nullable': {c: bool(data[c].isna().any()) for c in train.columns},
            'integer': [c for c in continuous
                        if pd.api.types.is_integer_dtype(data[c].dropna().convert_dtypes())],
            'threads': 1, 'jobs': jobs}))
        process = subprocess.run([dp_python, str(HERE / 'dp_baselines.py'), str(job_file)],
                                 capture_output=True, text=True,
                                 env={**os.environ, 'OMP_NUM_THREADS': '1'})
        outcomes = {}
        for line in process.stdout.splitlines():
            if line.startswith('RESULT '):
                outcome = json.loads(line[len('RESULT '):])
                outcomes[outcome['out_csv']] = outcome
        for job in jobs:
            record = _base(phase, table, setting, job['model'], seed, len(train))
            outcome = outcomes.get(job['out_csv'], {
                'error': f'no result (exit {process.returncode}): {process.stderr[-300:]}'})
            record['fit_seconds'] = outcome.get('fit_seconds', np.nan)
            record['dp_epsilon'] = job['epsilon']
            record['dp_delta'] = outcome.get('delta', DP_DELTA)
            record['dp_epsilon_spent'] = outcome.get('epsilon_spent', np.nan)
            record['dp_epochs_run'] = outcome.get('epochs_run', np.nan)
            if 'error' in outcome:
                record['error'] = outcome['error']
            else:
                synthetic = _align(pd.read_csv(job['out_csv']), train)
                record.update(evaluate(table, metadata, train, holdout, reference, synthetic,
                                       None, seed))
            records.append(record)
    return records, []


def _base(phase, table, setting, model, seed, n_train):
    n_members, steps, batch_size = setting
    spec = MODELS[model]
    return {'phase': phase, 'table': table, 'setting': setting_name(setting),
            'n_members': n_train, 'steps': steps, 'batch_size': batch_size,
            'epochs': epochs_for(n_train, steps, batch_size) if spec['kind'] != 'real' else 0,
            'model': model, 'kind': spec['kind'], 'n_partitions': spec.get('n_partitions', 1),
            'privacy_weight': spec.get('privacy_weight', np.nan), 'seed': seed,
            'pac': GAN['pac'], 'dim': GAN['generator_dim'][0]}


def setting_name(setting):
    return 'n{}_s{}_b{}'.format(*setting)


# ------------------------------------------------------------------------ orchestration
def run_task(task):
    kind = task[0]
    if kind == 'gan':
        return run_gan(*task[1:])
    if kind == 'real':
        return run_real(*task[1:])
    return run_dp(*task[1:])


def task_keys(task):
    """(phase, table, setting, model, seed) of every record a task produces."""
    kind, phase, table, setting = task[:4]
    if kind == 'gan':
        return [(phase, table, setting_name(setting), task[4], task[5])]
    if kind == 'real':
        return [(phase, table, setting_name(setting), 'real', task[4])]
    return [(phase, table, setting_name(setting), model, task[5]) for model in task[4]]


def build_tasks(phase, table, setting, models, seeds, device, dp_python):
    tasks = []
    for seed in seeds:
        dp = [m for m in models if MODELS[m]['kind'] == 'dp']
        for model in models:
            kind = MODELS[model]['kind']
            if kind == 'real':
                tasks.append(('real', phase, table, setting, seed))
            elif kind in ('ctgan', 'privctgan'):
                tasks.append(('gan', phase, table, setting, model, seed, device))
        if dp and dp_python:
            tasks.append(('dp', phase, table, setting, dp, seed, dp_python))
    return tasks


class Runner:
    """Runs tasks (in parallel with ``jobs > 1``) and appends records to the CSVs as
    they finish, so an interrupted run resumes where it stopped (``--resume``)."""

    def __init__(self, out, jobs, resume):
        self.out, self.curves_out, self.jobs = out, out.with_name(out.stem + '_jsd.csv'), jobs
        self.records, self.curves = [], []
        if resume and out.exists():
            self.records = pd.read_csv(out).to_dict('records')
            if self.curves_out.exists():
                self.curves = pd.read_csv(self.curves_out).to_dict('records')
        self.done = {(r['phase'], r['table'], r['setting'], r['model'], int(r['seed']))
                     for r in self.records}

    def run(self, tasks):
        tasks = [self._pending(t) for t in tasks if not all(k in self.done for k in task_keys(t))]
        if self.jobs <= 1:
            for task in tasks:
                self._collect(run_task(task))
            return
        with ProcessPoolExecutor(self.jobs) as pool:
            futures = [pool.submit(run_task, task) for task in tasks]
            for future in as_completed(futures):
                self._collect(future.result())

    def _pending(self, task):
        """A DP task keeps only the baselines not yet in the CSV."""
        if task[0] != 'dp':
            return task
        models = [m for m, key in zip(task[4], task_keys(task)) if key not in self.done]
        return task[:4] + (models,) + task[5:]

    def _collect(self, result):
        records, curves = result
        self.records += records
        self.curves += curves
        for record in records:
            self.done.add((record['phase'], record['table'], record['setting'],
                           record['model'], int(record['seed'])))
            shown = {k: record.get(k) for k in ('phase', 'table', 'setting', 'model', 'seed',
                                                'fit_seconds', 'max_auc', 'best_attack',
                                                'max_auc_bb', 'tpr1_max', 'tstr_auc',
                                                'quality', 'posthoc_auc', 'error')}
            print(' '.join(f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}'
                           for k, v in shown.items() if v is not None
                           and not (isinstance(v, float) and np.isnan(v))), flush=True)
        self.frame().to_csv(self.out, index=False)
        if self.curves:
            pd.DataFrame(self.curves).to_csv(self.curves_out, index=False)

    def frame(self):
        return pd.DataFrame(self.records)


def leaky_settings(sweep, keep):
    """The ``keep`` leakiest sweep settings of a table, and whether each leaks."""
    ranked = sweep.sort_values(['max_auc', 'steps'], ascending=[False, True])
    leaks = (ranked['max_auc'] >= LEAK_AUC) | (ranked['tpr1_max'] >= LEAK_TPR)
    chosen = ranked[leaks].head(keep)
    if chosen.empty:  # nothing leaks: evaluate where it leaks most, and say so
        chosen = ranked.head(1)
    return [((int(r.n_members), int(r.steps), int(r.batch_size)), bool(l))
            for (_, r), l in zip(chosen.iterrows(), leaks.loc[chosen.index])]

def find_dp_python(option):
    candidates = [option, os.environ.get('PRIVGAN_DP_PYTHON'),
                  str(HERE / '.venv-dp' / 'bin' / 'python')]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--quick', action='store_true', help='smoke test (~2 min)')
    size.add_argument('--full', action='store_true', help='every table, model and seed')
    parser.add_argument('--tables', nargs='+', help='subset of credit churn wage penguins')
    parser.add_argument('--seeds', nargs='+', type=int, help='grid seeds')
    parser.add_argument('--models', nargs='+', help=f'subset of {list(MODELS)}')
    parser.add_argument('--sweep', nargs='+', metavar='N,STEPS,BATCH',
                        help='sweep settings, e.g. 100,2000,40 300,2000,40')
    parser.add_argument('--skip-sweep', action='store_true',
                        help='use the first --sweep setting directly for the grid')
    parser.add_argument('--keep', type=int, help='leaky settings kept per table')
    parser.add_argument('--jobs', type=int, default=1, help='parallel worker processes')
    parser.add_argument('--device', default='cpu', help="torch device, e.g. 'cuda'")
    parser.add_argument('--dp-python', help='python of the smartnoise-synth venv')
    parser.add_argument('--resume', action='store_true', help='skip runs already in the CSV')
    parser.add_argument('--out', help='CSV of every run')
    parser.add_argument('--pac', type=int, help=f"CTGAN's pac for every GAN (default {GAN['pac']})")
    parser.add_argument('--dim', type=int,
                        help=f"generator/critic layer width (default {GAN['generator_dim'][0]})")
    parser.add_argument('--plot-only', action='store_true',
                        help='redo the summary and figures from the existing CSV')
    parser.add_argument('--regularizer', choices=list(REGULARIZERS), default='averaged',
                        help='regularizer settings (pu_config.REGULARIZERS)')
    args = parser.parse_args()

    os.environ['PRIVGAN_BENCH_REGULARIZER'] = args.regularizer
    REGULARIZER.clear()
    REGULARIZER.update(REGULARIZERS[args.regularizer])
    overrides = {}
    if args.pac:
        overrides['pac'] = args.pac
    if args.dim:
        overrides['generator_dim'] = overrides['discriminator_dim'] = (args.dim, args.dim)
    if overrides:
        os.environ['PRIVGAN_BENCH_GAN'] = json.dumps(overrides)
        GAN.update(overrides)
    single_thread()
    quiet()
    profile_name = 'quick' if args.quick else 'full' if args.full else 'default'
    profile = dict(PROFILES[profile_name])
    tables = args.tables or profile['tables']
    seeds = args.seeds or profile['seeds']
    models = args.models or profile['models']
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f'unknown models {unknown}; choose from {list(MODELS)}')
    sweep = ([tuple(int(v) for v in s.split(',')) for s in args.sweep] if args.sweep
             else profile['sweep'])
    keep = args.keep or profile['keep']
    suffix = '' if profile_name == 'default' else f'_{profile_name}'
    out = Path(args.out) if args.out else RESULTS / f'privacy_utility{suffix}.csv'
    out.parent.mkdir(parents=True, exist_ok=True)
    dp_python = find_dp_python(args.dp_python)
    if any(MODELS[m]['kind'] == 'dp' for m in models) and not dp_python:
        print('smartnoise-synth venv not found (--dp-python): DP baselines skipped.')
    start = time.perf_counter()
    runner = Runner(out, args.jobs, args.resume or args.plot_only)
    if args.plot_only:
        report(runner, out, profile_name, suffix, profile, None)
        return

    # Phase 1: the sweep of the unregularized model (CTGAN keeping its critic).
    if not args.skip_sweep:
        tasks = []
        for table in tables:
            rows = len(load_table(table)[0])
            for setting in sweep:
                if setting[0] > rows - 2 * round(rows * 0.25):
                    print(f'{table}: {setting_name(setting)} skipped, too few rows ({rows})')
                    continue
                tasks += build_tasks('sweep', table, setting, ['real', 'k1'],
                                     [profile['sweep_seed']],
                                     args.device, dp_python)
        print(f'== sweep: {len(tasks)} runs', flush=True)
        runner.run(tasks)

    # Phase 2: every model at the leaky setting(s).
    frame = runner.frame()
    tasks, chosen = [], {}
    for table in tables:
        if args.skip_sweep:
            chosen[table] = [(sweep[0], None)]
        else:
            names = {setting_name(s) for s in sweep}
            rows = frame[(frame['phase'] == 'sweep') & (frame['table'] == table)
                         & frame['setting'].isin(names) & (frame['model'] == 'k1')]
            chosen[table] = leaky_settings(rows, keep)
        for setting, leaks in chosen[table]:
            print(f'== {table}: grid at {setting_name(setting)} '
                  f'({"leaks" if leaks else "no setting leaks" if leaks is False else "given"})',
                  flush=True)
            tasks += build_tasks('grid', table, setting, models, seeds, args.device, dp_python)
    print(f'== grid: {len(tasks)} tasks', flush=True)
    runner.run(tasks)
    report(runner, out, profile_name, suffix, profile, time.perf_counter() - start)


def report(runner, out, profile_name, suffix, profile, elapsed):
    """Summary markdown, figures and console tables from the runs in ``runner``."""
    frame = runner.frame()
    curves = pd.DataFrame(runner.curves)
    summary = summarize(frame)
    sweep_summary = sweep_table(frame)
    summary_path = out.with_name(out.stem + '_summary.md')
    if elapsed is None:  # --plot-only: keep the command and wall time of the real run
        previous = summary_path.read_text().split('\n\n')[0] if summary_path.exists() else ''
        header = previous or 'Command: unknown'
    else:
        header = (f'Command: `python benchmarks/privacy_utility.py {" ".join(sys.argv[1:])}`'
                  f'  \nWall time: {elapsed / 60:.1f} min')
    with open(summary_path, 'w') as handle:
        handle.write(header + f'\n\n## Sweep (unregularized, seed {profile["sweep_seed"]})\n\n')
        handle.write(to_markdown(sweep_summary) if not sweep_summary.empty else '-')
        handle.write('\n\n## Grid (mean ± sd over seeds)\n\n')
        handle.write(to_markdown(summary) if not summary.empty else '-')
        handle.write('\n')
    if profile_name == 'quick':
        frontier, jsd_path = out.with_name(out.stem + '_frontier.png'), out.with_name(
            out.stem + '_jsd.png')
    else:  # docs/images/privacy_utility_frontier<tag>.png, tag from the CSV's name
        IMAGES.mkdir(parents=True, exist_ok=True)
        stem = out.stem
        tag = stem[len('privacy_utility'):] if stem.startswith('privacy_utility') else f'_{stem}'
        frontier = IMAGES / f'privacy_utility_frontier{tag}.png'
        jsd_path = IMAGES / f'jsd_vs_epochs{tag}.png'
    plot_frontier(frame, frontier)
    plot_jsd(curves, frame, jsd_path)
    try:
        write_plotly(frame, out.with_name(out.stem + '_frontier.html'))
    except Exception as error:  # noqa: BLE001 - the PNGs are the deliverable
        print(f'plotly HTML skipped: {error}')
    print(sweep_summary.to_string(index=False))
    print(summary.to_string(index=False))
    print(f'{header}; wrote {out}, {frontier}, {jsd_path}')


if __name__ == '__main__':
    main()
