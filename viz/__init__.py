"""Computation-graph drawings and training plots (installed as ``tinygrad_ng.viz``).

    from tinygrad_ng.viz import draw_graph
    J.backward(retain_graph=True, retain_grads=True)
    draw_graph(J)                      # inline SVG in Jupyter
    save(J, "graph.svg")               # or .png / .pdf / .dot
    draw_graph(J, check=True)          # leaves coloured by a gradient check
    for frame in backprop_steps(J): …  # backpropagation one node at a time
    backprop_html(J).save("bp.html")   # the same, as a page you step through (inline too)

Plots (``plot_history``, ``plot_decision_boundary``, ``plot_misclassified``) need matplotlib,
imported on use.
"""

from .check import LeafCheck, check_graph, replay
from .examples import course_example
from .graph import GraphDrawing, draw_graph, save
from .plots import plot_decision_boundary, plot_history, plot_misclassified, predicted_labels
from .page import BackpropPage, backprop_html
from .steps import backprop_steps, save_gif, save_steps

__all__ = [
    "BackpropPage", "GraphDrawing", "LeafCheck", "backprop_html", "backprop_steps", "check_graph", "course_example",
    "draw_graph", "plot_decision_boundary", "plot_history", "plot_misclassified",
    "predicted_labels", "replay",
    "save", "save_gif", "save_steps",
]
