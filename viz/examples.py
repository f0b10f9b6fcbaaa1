"""Small graphs to draw, taken from the course."""

from __future__ import annotations

from tinygrad_ng.tensor import Tensor


def course_example(backward: bool = True) -> Tensor:
    """The course's first computation graph: J = 3(a + b·c) with a = 5, b = 3, c = 2.

    Forward: u = bc = 6, v = a + u = 11, J = 3v = 33. With ``backward=True`` (the default)
    it has run ``J.backward(retain_graph=True, retain_grads=True)``, so every node holds its
    gradient (dJ/dv = 3, dJ/du = 3, dJ/da = 3, dJ/db = 6, dJ/dc = 9) and every edge can
    show what flowed along it.
    """
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    if backward:
        J.backward(retain_graph=True, retain_grads=True)
    return J
