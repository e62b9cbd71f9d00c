"""Configuration of the privacy-utility benchmark: the models, network settings and the
sweep / grid profiles (shared by the driver and its report)."""

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / 'results'
IMAGES = HERE.parent / 'docs' / 'images'

# ------------------------------------------------------------------------ configuration
#: Network and packing settings shared by every GAN (CTGAN, PrivCTGAN, DP-CTGAN).
#: pac=1: the critic scores single rows, the setting in which CTGAN's critic leaks
#: (with pac=10 nothing leaked at these sizes, see docs/benchmarks.md).
GAN = {'embedding_dim': 128, 'generator_dim': (256, 256), 'discriminator_dim': (256, 256),
       'pac': 1}
# --pac / --dim reach worker processes through the environment.
if os.environ.get('PRIVGAN_BENCH_GAN'):
    GAN.update({k: tuple(v) if isinstance(v, list) else v
                for k, v in json.loads(os.environ['PRIVGAN_BENCH_GAN']).items()})
#: Regularizer settings, passed explicitly so that results do not depend on defaults.
#: 'averaged' is the library's default; 'first' the setting of the first results
#: (five classifier steps, a replay buffer, the generators' last weights released).
REGULARIZERS = {
    'averaged': {'privacy_loss': 'jsd', 'classifier_steps': 1, 'classifier_lr': 1e-3,
                 'replay_size': 0, 'ema_decay': 0.995},
    'first': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
              'replay_size': 500, 'ema_decay': 0.0},
    'averaged_c5': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
                    'replay_size': 0, 'ema_decay': 0.995},
    'averaged_replay': {'privacy_loss': 'jsd', 'classifier_steps': 1, 'classifier_lr': 1e-3,
                        'replay_size': 500, 'ema_decay': 0.995},
    'averaged_c5_replay': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
                           'replay_size': 500, 'ema_decay': 0.995},
}
# --regularizer reaches worker processes through the environment.
REGULARIZER = dict(REGULARIZERS[os.environ.get('PRIVGAN_BENCH_REGULARIZER', 'averaged')])
N_SYNTHETIC = 1000            # rows sampled from every model for the attacks and utility
POSTHOC_ROWS = 1000           # rows per component for the post-hoc distinguishability
LEAK_AUC, LEAK_TPR = 0.60, 0.03
DP_DELTA = 1e-5


def _models():
    models = {
        # synthetic = 1,000 real rows that are neither members, holdout nor reference:
        # the attacks' noise floor (no model can leak less).
        'real': {'kind': 'real'},
        'ctgan': {'kind': 'ctgan'},                                   # SDV's CTGANSynthesizer
        'k1': {'kind': 'privctgan', 'n_partitions': 1, 'privacy_weight': 0.0},  # CTGAN + critic
    }
    for k in (2, 4, 8):
        for weight in (0.0, 0.3, 1.0, 3.0):
            models[f'k{k}_l{weight:g}'] = {'kind': 'privctgan', 'n_partitions': k,
                                           'privacy_weight': weight}
    for epsilon in (1.0, 3.0, 10.0):
        for method in ('dpctgan', 'patectgan', 'mst'):
            models[f'{method}_e{epsilon:g}'] = {'kind': 'dp', 'method': method,
                                                'epsilon': epsilon}
    return models


MODELS = _models()

#: (n_members, training steps, batch size) settings of the sweep.
PROFILES = {
    'quick': {
        'tables': ['credit'], 'sweep': [(100, 200, 40)], 'keep': 1, 'sweep_seed': 0,
        'seeds': [1], 'models': ['real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'dpctgan_e3']},
    'default': {
        'tables': ['credit'],
        'sweep': [(100, 600, 40), (100, 2000, 40), (300, 2000, 40)],
        'keep': 1, 'sweep_seed': 0, 'seeds': [1, 2],
        # K = 4, 8 and lambda = 0.3 are in the 5-seed run (docs/benchmarks.md); left
        # out here so that the default stays under 30 min when the 2 cores are busy.
        'models': ['real', 'ctgan', 'k1', 'k2_l0', 'k2_l1', 'k2_l3',
                   'dpctgan_e1', 'dpctgan_e10', 'mst_e3']},
    'full': {
        'tables': ['credit', 'churn', 'wage', 'penguins'],
        'sweep': [(n, steps, batch) for n in (100, 300, 1000) for steps in (1000, 3000, 6000)
                  for batch in (40, 80)],
        'keep': 2, 'sweep_seed': 0, 'seeds': [1, 2, 3, 4, 5],
        'models': list(MODELS)},
}
