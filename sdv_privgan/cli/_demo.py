"""``demo``: PrivCTGAN beside SDV's CTGAN on a table that ships with a dependency.

Both models get the same budget on half of SDMetrics' student-placements table (107
rows of mixed types, missing values and dates), in the setting where CTGAN memorizes
(single-row critics, many steps on few rows). Each is
attacked by someone who holds its saved file and draws rows from it, and scored on the
same utility tests; what one seed of this shows across seeds and tables is in
docs/benchmarks.md.
"""

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sdv_privgan.cli._common import print_table, round_batch_size, write_html

#: The demo's budget: batch, pac and epochs (2 steps per epoch at 107 rows: 2,000 steps).
BUDGET = {'batch_size': 40, 'pac': 1, 'epochs': 1000}
#: Rows the attacker draws from each saved model per candidate row.
ROWS_PER_TARGET = 100
TABLE, TARGET = 'student_placements', 'degree_type'


def demo(args):
    """Fit PrivCTGAN and SDV's CTGAN on the same rows, attack both, compare utility."""
    if args.images:
        from sdv_privgan.image.demo import run_image_demo

        weight = {} if args.privacy_weight is None else {'privacy_weight': args.privacy_weight}
        run_image_demo(args.output or 'privgan_image_demo', epochs=args.epochs or 200,
                       n_partitions=args.n_partitions, seed=args.seed, **weight)
        return
    import torch
    from sdv.single_table import CTGANSynthesizer

    from sdv_privgan import PrivCTGANSynthesizer
    from sdv_privgan.datasets import load_student_placements
    from sdv_privgan.evaluation import split_for_evaluation

    output = Path(args.output or 'privgan_demo')
    output.mkdir(parents=True, exist_ok=True)
    data, metadata = load_student_placements()
    train, holdout, reference = split_for_evaluation(data, seed=args.seed)
    # Both models get the batch PrivCTGAN can split into whole pac groups per component.
    batch_size = round_batch_size(BUDGET['batch_size'], BUDGET['pac'], args.n_partitions)
    budget = {**BUDGET, 'epochs': args.epochs or BUDGET['epochs'], 'batch_size': batch_size}
    weight = 1.0 if args.privacy_weight is None else args.privacy_weight
    print(f"Student placements (SDMetrics' demo): {len(train)} training rows (the members), "
          f'{len(holdout)} held out, {len(reference)} reference rows.\n'
          f"Both models: {budget['epochs']} epochs of batch {budget['batch_size']} with "
          'single-row critics (pac=1), a setting in which CTGAN memorizes rows.\n'
          f'PrivCTGAN adds {args.n_partitions} components on disjoint partitions and the '
          f'regularizer (privacy_weight={weight:g}).')
    models = {
        'SDV CTGAN': lambda: CTGANSynthesizer(metadata, **budget),
        'PrivCTGAN': lambda: PrivCTGANSynthesizer(
            metadata, n_partitions=args.n_partitions, privacy_weight=weight, seed=args.seed,
            **budget),
    }
    results = {}
    for name, make in models.items():
        torch.manual_seed(args.seed)  # SDV's CTGAN takes no seed argument
        np.random.seed(args.seed)
        results[name] = _fit_and_evaluate(name, make(), train, holdout, reference, metadata,
                                          args.seed, output)
    _print_comparison(results, len(train), len(holdout))
    if args.n_partitions > 1:
        _print_gauge(results['PrivCTGAN']['synthesizer'], args.n_partitions)
    print(f'\nWrote {output}/: synthetic_*.csv, privctgan.pkl, attacks_*.html, '
          'losses.html (the HTML files share plotly.min.js).\n'
          'One table and one seed; the figures across seeds and tables are in '
          'docs/benchmarks.md.')


def _print_gauge(synthesizer, n_partitions):
    gauge = synthesizer.get_component_distinguishability(1000)
    print(f"\nPrivCTGAN's {n_partitions} components told apart by a fresh classifier: "
          f"ROC AUC {gauge['auc']:.3f}.\n  0.5 would mean that no classifier trained from "
          "scratch can tell which partition's generator made a row; the regularizer\n  pushes "
          'toward it. Components that differ only by training noise stay distinguishable '
          'without revealing anyone:\n  the attacks above are what says whether members can '
          'be told apart (docs/method.md).')


def _fit_and_evaluate(name, synthesizer, train, holdout, reference, metadata, seed, output):
    from sdv_privgan.evaluation import PrivacyReport, UtilityReport

    slug = name.lower().replace(' ', '_')
    print(f'\n{name}: fitting ...', end=' ', flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        started = time.time()
        synthesizer.fit({TABLE: train})
        fit_seconds = time.time() - started
        print(f'{fit_seconds:.0f} s; attacking the saved model ...', flush=True)
        synthetic = synthesizer.sample(len(train))[TABLE]
        privacy = PrivacyReport(seed=seed)
        privacy.generate(train, synthetic, metadata, real_holdout_data=holdout,
                         real_reference_data=reference, synthesizer=synthesizer,
                         rows_per_target=ROWS_PER_TARGET, verbose=False)
        utility = UtilityReport(seed=seed)
        utility.generate(train, synthetic, metadata, real_holdout_data=holdout,
                         target=TARGET, verbose=False)
    synthetic.to_csv(output / f'synthetic_{slug}.csv', index=False)
    write_html(privacy.get_visualization('Membership Inference', plot='auc'),
               output / f'attacks_{slug}.html')
    if hasattr(synthesizer, 'get_component_distinguishability'):
        synthesizer.save(output / 'privctgan.pkl')
        write_html(synthesizer.get_loss_values_plot(), output / 'losses.html')
    scores = utility.get_properties().set_index('Property')['Score']
    return {'synthesizer': synthesizer, 'verdict': privacy.get_membership_verdict(),
            'efficacy': utility.get_details('ML Efficacy').set_index('Metric'),
            'ml_efficacy': scores['ML Efficacy'],
            'quality': scores[['Column Shapes', 'Column Pair Trends']].mean(),  # SDMetrics'
            'fit_seconds': fit_seconds}


def _print_comparison(results, n_members, n_holdout):
    def attack(r):
        v = r['verdict']
        return f"{v['max_auc']:.3f} [{v['max_auc_low']:.3f}, {v['max_auc_high']:.3f}]"

    def verdict(r):
        v = r['verdict']
        return f"{'yes' if v['leakage_detected'] else 'no'} (p = {v['p_value']:.3f})"

    real_auc = next(iter(results.values()))['efficacy'].loc['ROC AUC', 'Train on real']
    rows = [
        ('Best attack, ROC AUC [95 % interval]', attack),
        ('Noise floor (real rows in place of synthetic)',
         lambda r: f"{r['verdict']['floor_max_auc']:.3f}"),
        ('Leakage detected at the 5 % level', verdict),
        (f'Train on synthetic, test on real: ROC AUC for {TARGET}',
         lambda r: f"{r['efficacy'].loc['ROC AUC', 'Train on synthetic']:.3f}"),
        ('ML Efficacy (share of the real rows\' skill)', lambda r: f"{r['ml_efficacy']:.2f}"),
        ('Quality score (SDMetrics QualityReport)', lambda r: f"{r['quality']:.3f}"),
        ('Fit seconds', lambda r: f"{r['fit_seconds']:.0f}"),
    ]
    frame = pd.DataFrame({'': [label for label, _ in rows],
                          **{name: [cell(r) for _, cell in rows] for name, r in results.items()}})
    print_table(f'Can an attacker holding the saved model tell the {n_members} training rows '
                f'from {n_holdout} held-out ones? (0.5 = chance; it draws {ROWS_PER_TARGET} '
                'rows per candidate)', frame)
    for name, r in results.items():
        print(f"  Best attack on {name}: {r['verdict']['best_attack_label']}.")
    print(f'  Trained on the real rows instead, the classifier scores ROC AUC {real_auc:.3f}.\n'
          '  The floor is the best attack when other real rows stand in for the synthetic '
          'ones;\n  the verdict tests the best of all attacks against chance, corrected for '
          'being the best of many.')


def register(commands, parents, formatter):
    p = commands.add_parser(
        'demo', parents=parents, formatter_class=formatter,
        help='PrivCTGAN beside SDV CTGAN on shipped data: attacks, verdict, utility',
        description=demo.__doc__)
    p.add_argument('--images', action='store_true', help='the image demo (8x8 digits)')
    p.add_argument('--epochs', type=int, help=f"training epochs (default: {BUDGET['epochs']} "
                   'for the table, 200 for images)')
    p.add_argument('--n-partitions', type=int, default=2, help='generator components')
    p.add_argument('--privacy-weight', type=float, help='weight of the membership regularizer '
                   '(default: 1 for the table, 3 for images)')
    p.add_argument('--seed', type=int, default=0, help='seeds the split, training and reports')
    p.add_argument('--output', help='folder for the outputs (default: privgan_demo, or '
                   'privgan_image_demo with --images)')
    p.set_defaults(run=demo)
