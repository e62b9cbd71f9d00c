"""The ``sdv-privgan`` command line: demo, fit, sample, report."""

import argparse
import json
import sys
import warnings
from pathlib import Path


def _threads(count):
    # On small shared machines several OpenMP threads are far slower than one.
    import joblib
    import torch

    torch.set_num_threads(count)
    joblib.parallel_config(backend='threading')


def _print_table(title, rows):
    print(f'\n{title}')
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        shown = f'{value:.3f}' if isinstance(value, float) else str(value)
        print(f'  {name:<{width}}  {shown}')


def demo(args):
    """Fit on the bundled penguins table, sample, and print quality and privacy."""
    if args.images:
        from sdv_privgan.image.demo import run_image_demo

        run_image_demo(args.output, epochs=args.epochs or 200, seed=args.seed)
        return
    from sdv_privgan import PrivCTGANSynthesizer
    from sdv_privgan.datasets import load_penguins
    from sdv_privgan.evaluation import PrivacyReport, UtilityReport, split_for_evaluation

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    data, metadata = load_penguins()
    train, holdout, reference = split_for_evaluation(data, seed=args.seed)
    print(f'Penguins: {len(train)} training rows, {len(holdout)} held out, '
          f'{len(reference)} reference rows.')
    synthesizer = PrivCTGANSynthesizer(
        metadata, epochs=args.epochs or 300, batch_size=100, n_partitions=args.n_partitions,
        privacy_weight=args.privacy_weight, keep_training_state=True, verbose=True,
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
    synthesizer.get_loss_values_plot().write_html(output / 'losses.html')
    privacy.get_visualization('Membership Inference').write_html(output / 'attacks.html')
    _print_table('Utility (higher is better)', list(utility.get_properties().itertuples(
        index=False, name=None)))
    _print_table('Privacy (1 = no measurable leakage)', list(privacy.get_properties()[
        ['Property', 'Score']].itertuples(index=False, name=None)))
    attacks = privacy.get_details('Membership Inference')
    _print_table('Membership-inference attacks (ROC AUC, 0.5 = chance)', list(
        attacks[['Attack', 'AUC']].itertuples(index=False, name=None)))
    if args.n_partitions > 1:
        gauge = synthesizer.get_component_distinguishability(1000)
        _print_table('Components told apart by a fresh classifier (0.5 = indistinguishable)',
                     [('AUC', gauge['auc']), ('JSD (nats)', gauge['jsd'])])
    print(f'\nWrote {output}/synthetic.csv, synthesizer.pkl, losses.html, attacks.html')


def fit(args):
    import pandas as pd
    from sdv.metadata import Metadata

    from sdv_privgan import PrivCTGANSynthesizer

    metadata = Metadata.load_from_json(args.metadata)
    table = metadata._get_single_table_name()
    options = json.loads(args.options) if args.options else {}
    synthesizer = PrivCTGANSynthesizer(metadata, epochs=args.epochs, verbose=True, **options)
    synthesizer.fit({table: pd.read_csv(args.data)})
    synthesizer.save(args.output)
    print(f'Saved {args.output}')


def sample(args):
    from sdv.utils import load_synthesizer

    synthesizer = load_synthesizer(args.model)
    rows = synthesizer.sample(args.num_rows)
    next(iter(rows.values())).to_csv(args.output, index=False)
    print(f'Wrote {args.num_rows} rows to {args.output}')


def report(args):
    import pandas as pd
    from sdv.metadata import Metadata

    from sdv_privgan.evaluation import PrivacyReport

    metadata = Metadata.load_from_json(args.metadata)
    privacy = PrivacyReport()
    privacy.generate(pd.read_csv(args.real), pd.read_csv(args.synthetic), metadata,
                     real_holdout_data=pd.read_csv(args.holdout) if args.holdout else None)
    print(privacy.get_properties().to_string(index=False))
    if args.output:
        privacy.save(args.output)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='sdv-privgan', description=__doc__)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: fastest on small shared machines)')
    commands = parser.add_subparsers(dest='command', required=True)

    p = commands.add_parser('demo', help='end-to-end demo on data that ships with the package')
    p.add_argument('--images', action='store_true', help='the image demo (8x8 digits)')
    p.add_argument('--epochs', type=int, default=None)
    p.add_argument('--n-partitions', type=int, default=2)
    p.add_argument('--privacy-weight', type=float, default=1.0)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--output', default='privgan_demo')
    p.set_defaults(run=demo)

    p = commands.add_parser('fit', help='fit PrivCTGANSynthesizer on a CSV file')
    p.add_argument('data')
    p.add_argument('--metadata', required=True, help='SDV metadata JSON')
    p.add_argument('--epochs', type=int, default=300)
    p.add_argument('--options', help='more constructor arguments as JSON')
    p.add_argument('--output', default='synthesizer.pkl')
    p.set_defaults(run=fit)

    p = commands.add_parser('sample', help='sample rows from a saved synthesizer')
    p.add_argument('model')
    p.add_argument('--num-rows', type=int, default=1000)
    p.add_argument('--output', default='synthetic.csv')
    p.set_defaults(run=sample)

    p = commands.add_parser('report', help='privacy report of a synthetic CSV')
    p.add_argument('real')
    p.add_argument('synthetic')
    p.add_argument('--metadata', required=True)
    p.add_argument('--holdout')
    p.add_argument('--output', help='save the report here')
    p.set_defaults(run=report)

    args = parser.parse_args(argv)
    _threads(args.threads)
    args.run(args)


if __name__ == '__main__':
    sys.exit(main())
