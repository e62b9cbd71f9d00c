"""Does ``PrivCTGANSynthesizer`` run as a custom synthesizer in SDGym? (on local data)

SDGym is not a dependency of this project and 0.15.x does not import under SDV 2.0
as shipped (see SDV2_NOTES section 4). Run this script with an interpreter that has
sdgym installed beside sdv 2.0, e.g. a throwaway venv that sees the project's venv:

    python3 -m venv /tmp/venv-sdgym
    echo $PWD/.venv/lib/python3.11/site-packages > /tmp/venv-sdgym/lib/python3.11/site-packages/main.pth
    /tmp/venv-sdgym/bin/pip install sdgym
    /tmp/venv-sdgym/bin/python -m benchmarks.sdgym_check    # ~2 min on one core

It applies two import shims, writes two bundled tables (penguins, a 1,000-row sample
of credit) as SDGym local datasets (``<root>/single_table/<name>/{metadata.json,
data.zip}``), runs ``sdgym.benchmark_single_table`` with SDV's CTGAN and PrivCTGAN as
custom synthesizers (equal settings, few epochs: this checks the plumbing, it is not
a quality comparison) and writes SDGym's result table to
``benchmarks/results/sdgym_check.csv``.
"""

import argparse
import json
import os
import sys
import tempfile
import types
import zipfile
from pathlib import Path

from benchmarks.common import RESULTS, quiet, set_threads
from benchmarks.tables import load_table


def apply_shims():
    """The two names SDGym 0.15 imports from SDV 1.x."""
    import sdv.datasets.demo as demo
    import sdv.utils as utils

    if not hasattr(demo, '_get_first_v1_metadata_bytes'):
        demo._get_first_v1_metadata_bytes = demo._get_first_v2_metadata_bytes
    if 'sdv.utils.poc' not in sys.modules:
        poc = types.ModuleType('sdv.utils.poc')
        poc.get_random_subset = utils.get_random_subset
        utils.poc = poc
        sys.modules['sdv.utils.poc'] = poc


def write_dataset(root, name, data, metadata):
    folder = Path(root) / 'single_table' / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'metadata.json').write_text(json.dumps(metadata.to_dict()))
    with zipfile.ZipFile(folder / 'data.zip', 'w') as archive:
        archive.writestr(f'{name}.csv', data.to_csv(index=False))


def make_synthesizers(epochs):
    import sdgym
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer

    from sdv_privgan import PrivCTGANSynthesizer

    common = dict(epochs=epochs, batch_size=100, pac=10, generator_dim=(128, 128),
                  discriminator_dim=(128, 128), enable_gpu=False)

    def trainer(cls, **extra):
        def get_trained(data, metadata):  # metadata: the raw JSON dict
            md = Metadata.load_from_dict(metadata)
            synthesizer = cls(md, **common, **extra)
            synthesizer.fit({md._get_single_table_name(): data})
            return synthesizer
        return get_trained

    def sample(synthesizer, n_rows):
        return synthesizer.sample(n_rows)[synthesizer._table_name]

    privgan = trainer(PrivCTGANSynthesizer, n_partitions=2, privacy_weight=1.0,
                      privacy_loss='jsd', classifier_steps=5, classifier_lr=1e-3,
                      replay_size=500, seed=0)
    return [sdgym.create_single_table_synthesizer('CTGAN', trainer(CTGANSynthesizer), sample),
            sdgym.create_single_table_synthesizer('PrivCTGAN', privgan, sample)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--out', default=str(RESULTS / 'sdgym_check.csv'))
    parser.add_argument('--threads', type=int, default=1, help='torch and BLAS threads')
    args = parser.parse_args()
    set_threads(args.threads)
    quiet()
    apply_shims()
    import sdgym

    root = tempfile.mkdtemp(prefix='sdgym_local_')
    penguins, penguins_md = load_table('penguins')
    credit, credit_md = load_table('credit', 1000, seed=0)
    write_dataset(root, 'penguins', penguins, penguins_md)
    write_dataset(root, 'credit', credit, credit_md)
    # SDGym resolves each local dataset relative to the working directory first.
    here = os.getcwd()
    os.chdir(Path(root) / 'single_table')
    try:
        results = sdgym.benchmark_single_table(
            synthesizers=[], custom_synthesizers=make_synthesizers(args.epochs),
            sdv_datasets=None, additional_datasets_folder=root, timeout=None)
    finally:
        os.chdir(here)
    results.insert(0, 'sdgym_version', sdgym.__version__)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False)
    columns = [c for c in ['Synthesizer', 'Dataset', 'Train_Time', 'Sample_Time', 'Quality_Score',
                           'Diagnostic_Score', 'Privacy_Score', 'Error'] if c in results]
    print(results[columns].to_string(index=False))


if __name__ == '__main__':
    main()
