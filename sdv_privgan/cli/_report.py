"""``report``: utility and privacy of a synthetic CSV file against the real rows."""

import contextlib
import io
import math
from pathlib import Path

import pandas as pd

from sdv_privgan.cli._common import (
    UsageError,
    check_columns,
    check_output,
    load_metadata,
    load_model,
    print_table,
    read_csv,
    write_html,
)

#: The reports name their inputs by ``generate``'s arguments; users know the options.
_OPTION_NAMES = {'real_holdout_data': '--holdout', 'real_reference_data': '--reference',
                 'known_column_names': '--known-columns',
                 'sensitive_column_names': '--sensitive-columns', 'a target column': '--target'}
_NO_SKILL = ('the model trained on the real rows has no skill above chance on the holdout, '
             'so there is none to keep (see the ML efficacy table)')


def _read_tables(args):
    real = read_csv(args.real, 'real')
    tables = {'synthetic': read_csv(args.synthetic, 'synthetic')}
    for option in ('holdout', 'reference'):
        if getattr(args, option):
            tables[option] = read_csv(getattr(args, option), f'--{option}')
    for name, table in tables.items():
        missing = [column for column in real.columns if column not in table.columns]
        extra = [column for column in table.columns if column not in real.columns]
        if missing or extra:
            raise UsageError(f'{name} {getattr(args, name)!r} must have the columns of '
                             f'{args.real!r}; missing {missing}, unexpected {extra}.')
    return real, tables


def _metadata(args, real, synthesizer):
    if args.metadata:
        return load_metadata(args.metadata)[0], f'--metadata {args.metadata}'
    if synthesizer is not None:
        return synthesizer.get_metadata(), f'the metadata of {args.model}'
    from sdv_privgan.datasets import detect_metadata

    return detect_metadata(real, Path(args.real).stem)[0], f'detected from {args.real}'


def _generate(report, quiet, **arguments):
    # The report's own summary goes to stdout and says "not computed" without a reason;
    # this command prints a fuller one. Its progress bar (stderr) stays.
    with contextlib.redirect_stdout(io.StringIO()):
        report.generate(verbose=not quiet, **arguments)
    return report


def reason(report, name: str) -> str:
    """Why a property has no score, in the command line's terms."""
    details = report.get_details(name)
    if 'Error' in details and details['Error'].notna().any():
        text = str(details['Error'].dropna().iloc[0])
        for argument, option in _OPTION_NAMES.items():
            text = text.replace(argument, option)
        return text
    if name == 'ML Efficacy':
        return _NO_SKILL
    return 'the score is NaN; the details in the saved report (--output-dir) may say why'


def _print_properties(title, report):
    rows = []
    for name, score in report.get_properties().itertuples(index=False, name=None):
        shown = f'not computed: {reason(report, name)}' if math.isnan(score) else score
        rows.append((name, shown))
    print_table(title, pd.DataFrame(rows, columns=['Property', 'Score']))


def _print_verdict(verdict):
    from sdv_privgan.evaluation import ATTACK_LABELS

    best = ATTACK_LABELS.get(verdict['best_attack'], verdict['best_attack'])
    found = 'detected' if verdict['leakage_detected'] else 'not detected'
    print(f"\nMembership leakage: {found}. The best attack ({best}) reaches AUC "
          f"{verdict['max_auc']:.3f}; the noise floor, the best AUC chance alone reaches with "
          f"these sizes, is {verdict['floor_max_auc']:.3f} (p = {verdict['p_value']:.3g}).")


def _print_utility(utility, args):
    holdout = args.holdout or 'a --holdout'
    target = f'{args.target!r}' if args.target else 'a --target column'
    _print_properties(
        'Utility (1 = as good as the real rows)\n'
        f'  Column Shapes, Column Pair Trends: SDMetrics QualityReport, {args.synthetic} '
        f'against {args.real}.\n'
        f'  ML Efficacy: the share of a real-data model\'s skill at predicting {target} that '
        f'the same model trained on synthetic rows keeps, both tested on {holdout}.', utility)
    details = utility.get_details('ML Efficacy')
    if 'Train on real' in details:
        print_table(f'ML efficacy for {args.target!r} on {int(details["Test rows"].iloc[0])} '
                    'holdout rows', details[['Metric', 'Train on synthetic', 'Train on real']])


def _print_privacy(privacy):
    _print_properties('Privacy (1 = no measurable leakage)', privacy)
    if math.isnan(privacy.get_properties().set_index('Property')['Score']['Membership Inference']):
        return
    attacks = privacy.get_details('Membership Inference')
    members = len(privacy.get_membership_inference().is_member) // 2
    shown = [column for column in ('Attack', 'AUC', 'TPR at 1% FPR', 'TPR at 0.1% FPR')
             if column in attacks]
    print_table(f'Membership-inference attacks on {members} members and {members} non-members '
                '(ROC AUC: 0.5 = chance, 1 = every member found)', attacks[shown])
    _print_verdict(privacy.get_membership_verdict())


def _write_outputs(folder, utility, privacy):
    folder = Path(folder)
    written = []
    for name, report in (('utility_report.pkl', utility), ('privacy_report.pkl', privacy)):
        report.save(check_output(folder / name))
        written.append(name)
    scores = {**utility.get_properties().set_index('Property')['Score'],
              **privacy.get_properties().set_index('Property')['Score']}
    figures = [('column_shapes.html', utility, 'Column Shapes', {}),
               ('ml_efficacy.html', utility, 'ML Efficacy', {}),
               ('attacks_roc.html', privacy, 'Membership Inference', {'plot': 'roc'}),
               ('attacks_scores.html', privacy, 'Membership Inference', {'plot': 'histogram'})]
    for name, report, prop, options in figures:
        if not math.isnan(scores[prop]):
            write_html(report.get_visualization(prop, **options), folder / name)
            written.append(name)
    print(f'\nWrote {folder}: {", ".join(written)} (the HTML files share plotly.min.js).')


def report(args):
    """Utility and privacy of synthetic rows against the real rows they were fitted on."""
    from sdv_privgan.evaluation import PrivacyReport, UtilityReport

    real, tables = _read_tables(args)
    columns = list(real.columns)
    check_columns([args.target] if args.target else [], columns, '--target')
    known = check_columns(args.known_columns, columns, '--known-columns')
    sensitive = check_columns(args.sensitive_columns, columns, '--sensitive-columns')
    if bool(known) != bool(sensitive):
        raise UsageError('Disclosure Protection needs both --known-columns and '
                         '--sensitive-columns.')
    synthesizer = load_model(args.model) if args.model else None
    metadata, source = _metadata(args, real, synthesizer)
    print(f'Real: {len(real)} rows of {args.real}; synthetic: {len(tables["synthetic"])} rows; '
          f'metadata: {source}.')
    common = {'real_training_data': real, 'synthetic_data': tables['synthetic'],
              'metadata': metadata, 'real_holdout_data': tables.get('holdout')}
    utility = _generate(UtilityReport(seed=args.seed), args.quiet, target=args.target,
                        task=args.task, **common)
    privacy = _generate(
        PrivacyReport(max_candidates=args.max_candidates, seed=args.seed), args.quiet,
        real_reference_data=tables.get('reference'), synthesizer=synthesizer,
        known_column_names=known or None, sensitive_column_names=sensitive or None, **common)
    _print_utility(utility, args)
    _print_privacy(privacy)
    if args.output_dir:
        _write_outputs(args.output_dir, utility, privacy)


def register(commands, parents, formatter):
    p = commands.add_parser(
        'report', parents=parents, formatter_class=formatter,
        help='utility and privacy report of a synthetic CSV file',
        description=report.__doc__ + ' Split the data first (the split command): the '
        'membership attacks tell training rows from --holdout rows.')
    p.add_argument('real', help='CSV file of the rows the synthesizer was fitted on')
    p.add_argument('synthetic', help='CSV file of sampled rows')
    p.add_argument('--holdout', help='CSV file of real rows never fitted on: needed for the '
                   'membership attacks, DCR Overfitting Protection and ML efficacy')
    p.add_argument('--reference', help='CSV file of further real rows for the calibrated '
                   'attacks (default: half the holdout)')
    p.add_argument('--metadata', help='SDV metadata JSON (default: that of --model, else '
                   'detected from the real rows)')
    p.add_argument('--model', help='the fitted synthesizer; with keep_training_state it adds '
                   'the white-box attacks')
    p.add_argument('--target', help='column to predict for ML efficacy')
    p.add_argument('--task', choices=('classification', 'regression'),
                   help="ML efficacy task (default: from the target's sdtype)")
    p.add_argument('--known-columns', nargs='+', metavar='COLUMN', help='columns an attacker '
                   'knows, for Disclosure Protection (with --sensitive-columns)')
    p.add_argument('--sensitive-columns', nargs='+', metavar='COLUMN', help='columns an '
                   'attacker tries to infer, for Disclosure Protection')
    p.add_argument('--max-candidates', type=int, default=5000, help='most members (and as '
                   'many non-members) attacked')
    p.add_argument('--seed', type=int, default=0, help='seeds the subsamples and models of '
                   'both reports')
    p.add_argument('--output-dir', help='also save both reports (.pkl) and their figures '
                   '(HTML) in this folder')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.set_defaults(run=report)
