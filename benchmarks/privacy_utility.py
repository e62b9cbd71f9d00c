"""Privacy-utility benchmark: PrivCTGAN and PrivTVAE beside SDV's CTGAN and TVAE and
differentially private baselines.

Two phases per table, every run on a seeded members / non-members / reference split and
evaluated alike (``pu_tasks``):

1. **Sweep** (find the leaky regime): the unregularized model (``probe``: PrivCTGAN with
   K=1, lambda=0, i.e. CTGAN keeping its critic for the white-box attack) and the noise
   floor over the sweep's regimes. A regime *leaks* when the strongest attack reaches
   ROC AUC >= 0.60 or TPR >= 3 % at 1 % FPR; the leakiest ones are kept.
2. **Grid**: every model at the kept regime(s), on seeds other than the sweep's (so the
   selection does not inflate the baseline), with the same budget for every model.

    python -m benchmarks.privacy_utility            # default: credit, < 30 min on 2 CPU cores
    python -m benchmarks.privacy_utility --quick    # smoke test
    python -m benchmarks.privacy_utility --full --jobs 14    # every table / model, many cores
    python -m benchmarks.privacy_utility --tables churn --seeds 1 2 3 --models ctgan k1 k2_l1
    python -m benchmarks.privacy_utility --regimes ctgan_leaky --seeds 1 2   # no sweep
    python -m benchmarks.privacy_utility --tables credit churn wage --regimes tvae_leaky \
        --models real tvae tvae_k2_l0 tvae_k2_l10 --rows-per-target 100 --latent

Each run is one JSON file under ``benchmarks/results/runs/<out>/`` (finished runs are
skipped when the command is repeated; ``--fresh`` starts over); the CSV of every run
(``--out``), its ``_jsd.csv`` curves, ``_summary.md`` and the figures are rebuilt from
them. DP baselines need smartnoise-synth's interpreter (``--dp-python``).
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.common import IMAGES, RESULTS, ROOT, quiet, set_threads
from benchmarks.models import MODELS, REGULARIZERS, get_model
from benchmarks.pu_report import (
    leaky_settings, plot_frontier, plot_jsd, summarize, sweep_table, write_plotly)
from benchmarks.pu_tasks import cell_key, execute, grid, max_members, show
from benchmarks.regimes import GAN_NETWORK, get_regime, parse_setting
from benchmarks.report import to_markdown
from benchmarks.runner import IMPORTED, add_run_options, open_runner, results_path
from benchmarks.tables import get_table


@dataclass(frozen=True)
class Profile:
    """A declarative study: tables, sweep regimes, kept regimes, seeds and models."""

    tables: tuple
    sweep: tuple
    seeds: tuple
    models: tuple
    keep: int = 1
    sweep_seed: int = 0
    probe: str = 'k1'        # the unregularized model of the sweep
    floor: str = 'real'
    baseline: str = 'k1'     # the report's paired deltas are against this model


PROFILES = {
    'quick': Profile(('credit',), ('100,200,40',), (1,),
                     ('real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'dpctgan_e3')),
    # K = 4, 8 and lambda = 0.3 are in the 5-seed run (docs/benchmarks.md); left out
    # here so that the default stays under 30 min when the 2 cores are busy.
    'default': Profile(('credit',), ('100,600,40', '100,2000,40', '300,2000,40'), (1, 2),
                       ('real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'k2_l3', 'dpctgan_e1',
                        'dpctgan_e10', 'mst_e3')),
    'full': Profile(('credit', 'churn', 'wage', 'penguins'),
                    tuple(f'{n},{steps},{batch}' for n in (100, 300, 1000)
                          for steps in (1000, 3000, 6000) for batch in (40, 80)),
                    (1, 2, 3, 4, 5), tuple(MODELS), keep=2),
}


def find_dp_python(option):
    for candidate in (option, ROOT / 'benchmarks' / '.venv-dp' / 'bin' / 'python'):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--quick', action='store_true', help='smoke test (~1 min)')
    size.add_argument('--full', action='store_true', help='every table, model and seed')
    size.add_argument('--profile', choices=list(PROFILES), help='a profile of PROFILES')
    parser.add_argument('--tables', nargs='+', help='registered tables (benchmarks.tables)')
    parser.add_argument('--seeds', nargs='+', type=int, help='grid seeds')
    parser.add_argument('--models', nargs='+', help=f'subset of {list(MODELS)}')
    parser.add_argument('--sweep', nargs='+', metavar='N,STEPS,BATCH',
                        help='sweep settings, e.g. 100,2000,40 300,2000,40')
    parser.add_argument('--skip-sweep', action='store_true',
                        help='use the first --sweep setting directly for the grid')
    parser.add_argument('--regimes', nargs='+',
                        help='named regimes (benchmarks.regimes) for the grid; no sweep')
    parser.add_argument('--keep', type=int, help='leaky settings kept per table')
    parser.add_argument('--device', default='cpu', help="torch device, e.g. 'cuda'")
    parser.add_argument('--dp-python', help='python of the smartnoise-synth venv')
    parser.add_argument('--resume', action='store_true',
                        help='also count the runs of an existing --out CSV as finished')
    add_run_options(parser)
    parser.add_argument('--images', type=Path, default=IMAGES, help='folder of the figures')
    parser.add_argument('--pac', type=int, help=f"CTGAN's pac for every GAN "
                                                f"(default {GAN_NETWORK['pac']})")
    parser.add_argument('--dim', type=int, help='generator/critic layer width (default '
                                                f"{GAN_NETWORK['generator_dim'][0]})")
    parser.add_argument('--plot-only', '--report-only', action='store_true', dest='plot_only',
                        help='redo the summary and figures from the existing CSV')
    parser.add_argument('--regularizer', choices=list(REGULARIZERS), default='averaged',
                        help='regularizer settings (benchmarks.models.REGULARIZERS)')
    parser.add_argument('--rows-per-target', type=int, default=None,
                        help='the attacker who holds the saved model draws this many rows '
                             'per member and attacks them too (drawn_* attacks)')
    parser.add_argument('--latent', action='store_true',
                        help='add the latent-reconstruction attack through the released '
                             'generators (models that release them)')
    args = parser.parse_args(argv)
    args.command = ' '.join(sys.argv[1:] if argv is None else argv)
    args.profile_name = args.profile or ('quick' if args.quick else 'full' if args.full
                                         else 'default')
    for name in args.models or ():
        if name not in MODELS:
            parser.error(f'unknown model {name!r}; choose from {list(MODELS)}')
    return args


def network_changes(args) -> dict:
    changes = {}
    if args.pac:
        changes['pac'] = args.pac
    if args.dim:
        changes['generator_dim'] = changes['discriminator_dim'] = (args.dim, args.dim)
    return changes


def output_paths(args):
    suffix = '' if args.profile_name == 'default' else f'_{args.profile_name}'
    out = results_path(args.out) if args.out else RESULTS / f'privacy_utility{suffix}.csv'
    return out, out.with_name(out.stem + '_jsd.csv')


def adopt(runner, out, curves_out):
    """Count the runs of an existing CSV as finished (``--resume``)."""
    frame = pd.read_csv(out)
    curves = pd.read_csv(curves_out) if curves_out.exists() else pd.DataFrame()
    for record in frame.to_dict('records'):
        key = cell_key(record['phase'], record['table'], record['setting'], record['model'],
                       record['seed'])
        if runner.path(key).exists():
            continue
        mine = []
        if not curves.empty:
            match = ((curves['table'] == record['table'])
                     & (curves['setting'] == record['setting'])
                     & (curves['model'] == record['model']) & (curves['seed'] == record['seed']))
            mine = curves[match].to_dict('records')
        runner.write(key, IMPORTED, {'record': record, 'curves': mine})


def frames(runner):
    results = runner.results()
    records = pd.DataFrame([result['record'] for result in results])
    curves = pd.DataFrame([point for result in results for point in result['curves']])
    return records, curves


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    quiet()
    profile = PROFILES[args.profile_name]
    out, curves_out = output_paths(args)
    if args.plot_only:
        frame = pd.read_csv(out)
        curves = pd.read_csv(curves_out) if curves_out.exists() else pd.DataFrame()
        return report(frame, curves, args, profile, out, None)
    tables = [get_table(name) for name in args.tables or profile.tables]
    seeds = args.seeds or list(profile.seeds)
    models = [get_model(name) for name in args.models or profile.models]
    changes = network_changes(args)
    sweep = [parse_setting(text).with_network(**changes)
             for text in args.sweep or profile.sweep]
    dp_python = find_dp_python(args.dp_python)
    if any(model.kind == 'dp' for model in models) and not dp_python:
        print('smartnoise-synth venv not found (--dp-python): DP baselines skipped.')
        models = [model for model in models if model.kind != 'dp']
    options = {'regularizer': args.regularizer, 'device': args.device,
               'dp_python': dp_python, 'threads': args.threads,
               'rows_per_target': args.rows_per_target, 'latent': args.latent}
    runner = open_runner(out, args)
    if args.resume and out.exists():
        adopt(runner, out, curves_out)
    start, failures = time.perf_counter(), 0

    if args.regimes:
        chosen = {table.name: [(get_regime(name).with_network(**changes), None)
                               for name in args.regimes] for table in tables}
    elif args.skip_sweep:
        chosen = {table.name: [(sweep[0], None)] for table in tables}
    else:  # phase 1: the sweep of the unregularized model
        cells = []
        for table in tables:
            members = max_members(len(table.load()[0]))  # loaded once per table
            for regime in sweep:
                if regime.n_members > members:
                    print(f'{table.name}: {regime.name} skipped, too few rows')
                    continue
                cells += grid('sweep', [table], [regime],
                              [get_model(profile.floor), get_model(profile.probe)],
                              [profile.sweep_seed], **options)
        print(f'== sweep: {len(cells)} runs', flush=True)
        failures += runner.run(cells, execute, show)
        frame, _ = frames(runner)
        chosen = {}
        for table in tables:
            names = {regime.name: regime for regime in sweep}
            rows = frame[(frame['phase'] == 'sweep') & (frame['table'] == table.name)
                         & frame['setting'].isin(names) & (frame['model'] == profile.probe)]
            chosen[table.name] = [(names[setting], leaks) for setting, leaks
                                  in leaky_settings(rows, args.keep or profile.keep)]

    cells = []  # phase 2: every model at the kept regime(s)
    for table in tables:
        for regime, leaks in chosen[table.name]:
            verdict = 'given' if leaks is None else 'leaks' if leaks else 'no setting leaks'
            print(f'== {table.name}: grid at {regime.name} ({verdict})', flush=True)
            cells += grid('grid', [table], [regime], models, seeds, **options)
    print(f'== grid: {len(cells)} runs', flush=True)
    failures += runner.run(cells, execute, show)
    frame, curves = frames(runner)
    frame.to_csv(out, index=False)
    if not curves.empty:
        curves.to_csv(curves_out, index=False)
    report(frame, curves, args, profile, out, time.perf_counter() - start)
    if failures:
        print(f'{failures} runs failed (see FAILED above); they are retried next time.')
        sys.exit(1)


def report(frame, curves, args, profile, out, elapsed):
    """Summary markdown, figures and console tables of the runs in ``frame``."""
    summary = summarize(frame, baseline=profile.baseline)
    sweep_summary = sweep_table(frame, probe=profile.probe, floor=profile.floor)
    summary_path = out.with_name(out.stem + '_summary.md')
    if elapsed is None:  # --plot-only: keep the command and wall time of the real run
        previous = summary_path.read_text().split('\n\n')[0] if summary_path.exists() else ''
        header = previous or 'Command: unknown'
    else:
        header = (f'Command: `python -m benchmarks.privacy_utility {args.command}`'
                  f'  \nWall time: {elapsed / 60:.1f} min')
    with open(summary_path, 'w') as handle:
        handle.write(header + f'\n\n## Sweep (unregularized, seed {profile.sweep_seed})\n\n')
        handle.write(to_markdown(sweep_summary) if not sweep_summary.empty else '-')
        handle.write('\n\n## Grid (mean ± sd over seeds)\n\n')
        handle.write(to_markdown(summary) if not summary.empty else '-')
        handle.write('\n')
    if args.profile_name == 'quick':
        frontier = out.with_name(out.stem + '_frontier.png')
        jsd_path = out.with_name(out.stem + '_jsd.png')
    else:  # <images>/privacy_utility_frontier<tag>.png, the tag from the CSV's name
        args.images.mkdir(parents=True, exist_ok=True)
        stem = out.stem
        tag = stem[len('privacy_utility'):] if stem.startswith('privacy_utility') else f'_{stem}'
        frontier = args.images / f'privacy_utility_frontier{tag}.png'
        jsd_path = args.images / f'jsd_vs_epochs{tag}.png'
    plot_frontier(frame, frontier)
    plot_jsd(curves, frame, jsd_path)
    try:
        write_plotly(frame, out.with_name(out.stem + '_frontier.html'))
    except Exception as error:  # noqa: BLE001 - the PNGs are the deliverable
        print(f'plotly HTML skipped: {error}')
    for table in (sweep_summary, summary):  # no sweep with --regimes
        if not table.empty:
            print(table.to_string(index=False))
    print(f'{header}; wrote {out}, {frontier}, {jsd_path}')


if __name__ == '__main__':
    main()
