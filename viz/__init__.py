"""Computation-graph drawings and training plots (installed as ``tinygrad_ng.viz``).

    from tinygrad_ng.viz import draw_graph
    J.backward(retain_graph=True, retain_grads=True)
    draw_graph(J)                      # inline SVG in Jupyter
    save(J, "graph.svg")               # or .png / .pdf / .dot
    draw_graph(J, check=True)          # leaves coloured by a gradient check
    for frame in backprop_steps(J): …  # backpropagation one node at a time
    backprop_html(J).save("bp.html")   # the same, as a page you step through (inline too)

Plots (``plot_history``, ``plot_decision_boundary``, ``plot_misclassified``, and the
training pictures ``plot_gradient_flow``, ``plot_optimizer_state``) need matplotlib,
imported on use.
"""

from .check import LeafCheck, check_graph, replay
from .dynamics import (
    GradientFlow,
    OptimizerTrace,
    optimizer_state,
    plot_gradient_flow,
    plot_optimizer_state,
)
from .examples import course_example
from .graph import GraphDrawing, draw_graph, save
from .page import BackpropPage, backprop_html
from .plots import plot_decision_boundary, plot_history, plot_misclassified, predicted_labels
from .steps import backprop_steps, save_gif, save_steps

__all__ = [
    "BackpropPage", "GradientFlow", "GraphDrawing", "LeafCheck", "OptimizerTrace",
    "backprop_html", "backprop_steps", "check_graph", "course_example", "draw_graph",
    "optimizer_state", "plot_decision_boundary", "plot_gradient_flow", "plot_history",
    "plot_misclassified", "plot_optimizer_state", "predicted_labels", "replay", "save",
    "save_gif", "save_steps",
]
