"""What PrivacyReport and UtilityReport share: the SDMetrics report interface.

``generate`` fills ``self._properties`` (name -> score) and ``self._details``
(name -> DataFrame); the query methods, ``save`` and ``load`` work from those,
so a saved report holds scores and summaries, never the rows it was computed on.
"""

import datetime
import importlib.metadata
import pickle
import time
import warnings

import numpy as np
import pandas as pd
import tqdm


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - editable checkouts
        return None


class BaseEvaluationReport:
    """Base class; subclasses define ``PROPERTIES`` and ``generate``."""

    PROPERTIES = ()

    def __init__(self):
        self._properties = {}
        self._details = {}
        self._info = {}
        self.is_generated = False

    # -- generation helpers --------------------------------------------------------------------
    def _start(self, n_steps, verbose, description):
        self._properties, self._details, self._info = {}, {}, {}
        self.is_generated = False
        self._started = time.time()
        return tqdm.tqdm(total=n_steps, disable=not verbose, desc=description)

    def _run_property(self, name, progress, compute):
        """Run ``compute() -> (score, details)``; a failure becomes an ``Error`` row, as in SDMetrics."""
        progress.set_description(f'Computing {name}')
        try:
            score, details = compute()
        except Exception as error:  # noqa: BLE001 - one metric failing must not lose the report
            warnings.warn(f'{name} could not be computed: {error}')
            score, details = np.nan, pd.DataFrame([{'Metric': name, 'Score': np.nan,
                                                    'Error': f'{type(error).__name__}: {error}'}])
        self._properties[name] = score
        self._details[name] = details
        progress.update(1)

    def _skip_property(self, name, progress, reason):
        self._properties[name] = np.nan
        self._details[name] = pd.DataFrame([{'Metric': name, 'Score': np.nan, 'Error': reason}])
        progress.update(1)

    def _finish(self, progress, verbose, **info):
        progress.close()
        self._info = {
            'report_type': type(self).__name__,
            'generated_date': datetime.date.today().isoformat(),
            'sdmetrics_version': _version('sdmetrics'),
            'sdv_privgan_version': _version('sdv-privgan'),
            'generation_time': time.time() - self._started,
            **info,
        }
        self.is_generated = True
        if verbose:
            print(f'\nOverall Score (Average): {self.get_score():.2%}\n')
            print('Properties:')
            for name, score in self._properties.items():
                shown = 'not computed' if np.isnan(score) else f'{score:.2%}'
                print(f'- {name}: {shown}')

    # -- the SDMetrics report interface --------------------------------------------------------
    def _check_generated(self):
        if not self.is_generated:
            raise ValueError(
                'The report has not been generated. Please call `generate` first.'
            )

    def _check_property(self, property_name):
        self._check_generated()
        if property_name not in self._properties:
            raise ValueError(
                f'Invalid property name {property_name!r}. Valid property names are '
                f'{list(self._properties)}.'
            )

    def get_score(self):
        """The mean of the property scores that could be computed (SDMetrics' convention)."""
        self._check_generated()
        scores = [score for score in self._properties.values() if not np.isnan(score)]
        return float(np.mean(scores)) if scores else float('nan')

    def get_properties(self):
        """A DataFrame with one row per property: ``Property`` and ``Score`` (NaN when skipped)."""
        self._check_generated()
        return pd.DataFrame(
            {'Property': list(self._properties), 'Score': list(self._properties.values())}
        )

    def get_details(self, property_name):
        """The table behind one property's score (a copy)."""
        self._check_property(property_name)
        return self._details[property_name].copy()

    def get_info(self):
        """When and how the report was generated."""
        self._check_generated()
        return dict(self._info)

    def save(self, filepath):
        """Pickle the report (scores and summaries only, no data rows) to ``filepath``."""
        self._package_version = _version('sdv-privgan')
        with open(filepath, 'wb') as output:
            pickle.dump(self, output)

    @classmethod
    def load(cls, filepath):
        """Load a report saved with :meth:`save`; it must be an instance of this class."""
        with open(filepath, 'rb') as source:
            report = pickle.load(source)  # noqa: S301 - same trust model as SDMetrics' reports
        if not isinstance(report, cls):
            raise TypeError(f'{filepath} holds a {type(report).__name__}, not a {cls.__name__}.')
        saved_version = getattr(report, '_package_version', None)
        if saved_version != _version('sdv-privgan'):
            warnings.warn(
                f'The report was created with sdv_privgan {saved_version} but {_version("sdv-privgan")} '
                'is installed; some features may not work as intended.'
            )
        return report
