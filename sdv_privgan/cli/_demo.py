"""``demo``: the end-to-end run on data that ships with the package."""

import warnings
from pathlib import Path

import pandas as pd

from sdv_privgan.cli._common import print_table, write_html


def demo(args):
    """Fit on the bundled penguins table, sample, and print quality and privacy."""
    if args.images:
        from sdv_privgan.image.demo import run_image_demo

        weight = {} if args.privacy_weight is None else {'privacy_weight': args.privacy_weight}
        run_image_demo(args.output or 'privgan_image_demo', epochs=args.epochs or 200,
                       n_partitions=args.n_partitions, seed=args.seed, **weight)
        return
    from sdv_privgan import PrivCTGANSynthesizer
    from sdv_privgan.datasets import load_penguins
    from sdv_privgan.evaluation import PrivacyReport, UtilityReport, split_for_evaluation

    output = Path(args.output or 'privgan_demo')
    output.mkdir(parents=True, exist_ok=True)
    data, metadata = load_penguins()
    train, holdout, reference = split_for_evaluation(data, seed=args.seed)
    print(f'Penguins: {len(train)} training rows, {len(holdout)} held out, '
          f'{len(reference)} reference rows.')
    synthesizer = PrivCTGANSynthesizer(
        metadata, epochs=args.epochs or 300, batch_size=100, n_partitions=args.n_partitions,
        privacy_weight=1.0 if args.privacy_weight is None else args.privacy_weight,
        keep_training_state=True, verbose=True,
        seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'penguins': train})
        synthetic = synthesizer.sample(len(train))['penguins']
        utility = UtilityReport()
        utility.generate(train, synthetic, metadata, real_holdout_data=holdout,
                         target='species', verbose=False)
        privacy = PrivacyReport()
        privacy.generate(train, synthetic, metadata, real_holdout_data=holdout,
                         real_reference_data=reference, synthesizer=synthesizer,
                         known_column_names=['island', 'sex'],
                         sensitive_column_names=['species'], verbose=False)
    synthetic.to_csv(output / 'synthetic.csv', index=False)
    synthesizer.save(output / 'synthesizer.pkl')
    write_html(synthesizer.get_loss_values_plot(), output / 'losses.html')
    write_html(privacy.get_visualization('Membership Inference'), output / 'attacks.html')
    print_table('Utility (higher is better)', utility.get_properties())
    print_table('Privacy (1 = no measurable leakage)', privacy.get_properties())
    attacks = privacy.get_details('Membership Inference')
    print_table('Membership-inference attacks (ROC AUC, 0.5 = chance)', attacks[['Attack', 'AUC']])
    if args.n_partitions > 1:
        gauge = synthesizer.get_component_distinguishability(1000)
        print_table('Components told apart by a fresh classifier (0.5 = indistinguishable)',
                    pd.DataFrame({'Measure': ['AUC', 'JSD (nats)'],
                                  'Value': [gauge['auc'], gauge['jsd']]}))
    print(f'\nWrote {output}/synthetic.csv, synthesizer.pkl, losses.html, attacks.html '
          '(the HTML files share plotly.min.js)')


def register(commands, parents, formatter):
    p = commands.add_parser(
        'demo', parents=parents, formatter_class=formatter,
        help='end-to-end demo on data that ships with the package', description=demo.__doc__)
    p.add_argument('--images', action='store_true', help='the image demo (8x8 digits)')
    p.add_argument('--epochs', type=int, help='training epochs (default: 300 for the table, '
                   '200 for images)')
    p.add_argument('--n-partitions', type=int, default=2, help='generator components')
    p.add_argument('--privacy-weight', type=float, help='weight of the membership regularizer '
                   '(default: 1 for the table, 3 for images)')
    p.add_argument('--seed', type=int, default=0, help='seeds the split, training and reports')
    p.add_argument('--output', help='folder for the outputs (default: privgan_demo, or '
                   'privgan_image_demo with --images)')
    p.set_defaults(run=demo)
