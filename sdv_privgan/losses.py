"""The per-epoch loss table both synthesizers keep, and its plot."""

import plotly.graph_objects as go
from sdmetrics import visualization

LOSS_COLUMNS = ['Epoch', 'Generator Loss', 'Discriminator Loss', 'Classifier Loss',
                'JSD Estimate']
_COLORS = [visualization.PlotConfig.DATACEBO_DARK, visualization.PlotConfig.DATACEBO_GREEN,
           '#7f7f7f', '#d62728']


def loss_values_plot(losses, title):
    """Generator, critic and classifier losses per epoch, with the JSD estimate (nats) on a
    second axis: the losses are unitless scores, the estimate is in nats."""
    figure = go.Figure()
    for name, color in zip(LOSS_COLUMNS[1:], _COLORS):
        figure.add_trace(go.Scatter(
            x=losses['Epoch'], y=losses[name], name=name, line={'color': color},
            yaxis='y2' if name == 'JSD Estimate' else 'y'))
    figure.update_layout(
        title=title, template='plotly_white', xaxis_title='Epoch', yaxis_title='Loss',
        yaxis2={'title': 'JSD estimate (nats)', 'overlaying': 'y', 'side': 'right',
                'rangemode': 'tozero'},
        plot_bgcolor=visualization.PlotConfig.BACKGROUND_COLOR,
        font={'size': visualization.PlotConfig.FONT_SIZE})
    return figure
