"""A safe parser for the arithmetic typed on the command line: ``3*(a + b*c)``.

The text is parsed with Python's ``ast`` and then *walked*, never ``eval``'d: only numbers,
variable names, ``+ - * / ** @``, unary ``-``/``+`` and calls of the functions in
:data:`FUNCTIONS` are accepted, everything else (attribute access, subscripts, lambdas,
comprehensions, keyword arguments, strings, …) is rejected with a one-line
:class:`ExpressionError`. Several statements may name intermediate results, as the course
does::

    u = b*c; v = a + u; J = 3*v

The last statement gives the output; every earlier one must be used by a later one (so
nothing typed is silently dropped). Names are compared after NFKC normalisation, as Python
compares identifiers: ``ｂ`` and ``b`` are the same variable.

Every operation becomes one graph node with a short name, as the course writes the forward
pass: the name it is assigned to, or the next free one of u, v, w, … (the output is J), so
``3*(a + b*c)`` is recorded as the steps ``u = b * c``, ``v = a + u``, ``J = 3 * v`` and a
drawing of the graph reads like the course's.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import math
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from tinygrad_ng.autograd import no_grad
from tinygrad_ng.tensor import Tensor

#: Longest expression text accepted (characters).
MAX_LENGTH = 1000
#: Most syntax-tree nodes accepted (a bound on the size of the graph).
MAX_NODES = 400
#: Deepest nesting of sub-expressions accepted.
MAX_DEPTH = 60
#: Largest magnitude of a number literal.
MAX_NUMBER = 1e15
#: Largest magnitude of an exponent that is a constant (``x ** 9**9`` is refused).
MAX_EXPONENT = 100.0
#: Longest piece of the expression quoted in an error message (longer ones end in "…").
MAX_QUOTE = 60

Value = np.float64 | Tensor  # constants are folded into NumPy floats


class ExpressionError(ValueError):
    """The expression is not one this parser accepts, or cannot be evaluated."""


@dataclass(frozen=True)
class Func:
    """A whitelisted function: ``fn`` applied to ``tensors`` tensor arguments followed by up
    to ``constants`` number arguments (of which ``required`` are mandatory)."""

    fn: Callable[..., Tensor]
    tensors: int
    constants: int = 0
    required: int = 0
    doc: str = ""


def _reduction(name: str) -> Callable[[Tensor], Tensor]:
    return lambda x: getattr(x, name)()


def _max(x: Tensor, y: Tensor | None = None) -> Tensor:
    return x.max() if y is None else x.maximum(y)


def _min(x: Tensor, y: Tensor | None = None) -> Tensor:
    return x.min() if y is None else x.minimum(y)


def _clip(x: Tensor, lo: float, hi: float) -> Tensor:
    if lo > hi:
        raise ExpressionError(f"clip: the lower bound {lo:g} is above the upper bound {hi:g}")
    return x.clip(lo, hi)


#: The functions an expression may call, by name.
FUNCTIONS: dict[str, Func] = {
    "exp": Func(Tensor.exp, 1, doc="eˣ"),
    "log": Func(Tensor.log, 1, doc="natural log"),
    "sqrt": Func(Tensor.sqrt, 1),
    "abs": Func(Tensor.abs, 1),
    "square": Func(Tensor.square, 1, doc="x²"),
    "sigmoid": Func(Tensor.sigmoid, 1, doc="1/(1 + e⁻ˣ)"),
    "tanh": Func(Tensor.tanh, 1),
    "relu": Func(Tensor.relu, 1, doc="max(0, x)"),
    "leaky_relu": Func(Tensor.leaky_relu, 1, constants=1, doc="leaky_relu(x, slope=0.01)"),
    "clip": Func(_clip, 1, constants=2, required=2, doc="clip(x, lo, hi)"),
    "maximum": Func(Tensor.maximum, 2),
    "minimum": Func(Tensor.minimum, 2),
    "max": Func(_max, 1, doc="max(x): largest element; max(x, y): elementwise"),
    "min": Func(_min, 1, doc="min(x): smallest element; min(x, y): elementwise"),
    "sum": Func(_reduction("sum"), 1),
    "mean": Func(_reduction("mean"), 1),
    "var": Func(_reduction("var"), 1),
    "logsumexp": Func(_reduction("logsumexp"), 1),
    "softmax": Func(Tensor.softmax, 1),
    "log_softmax": Func(Tensor.log_softmax, 1),
}
#: Functions taking one more optional tensor argument (``max(x, y)``).
_OPTIONAL_TENSOR = {"max", "min"}
#: Named constants usable in expressions (a variable of the same name takes precedence).
CONSTANTS = {"pi": np.float64(math.pi)}

_BINARY = {
    ast.Add: (lambda a, b: a + b, "+"),
    ast.Sub: (lambda a, b: a - b, "-"),
    ast.Mult: (lambda a, b: a * b, "*"),
    ast.Div: (lambda a, b: a / b, "/"),
    ast.Pow: (lambda a, b: a ** b, "**"),
    ast.MatMult: (lambda a, b: a @ b, "@"),
}

_REFUSED = {
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.Subscript: "subscripts (x[i]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "'x if c else y' is not allowed",
    ast.NamedExpr: "':=' is not allowed; write 'name = expression' as a statement",
    ast.Starred: "'*args' is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.List: "lists are not allowed; give array values with --var x=1,2,3",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}

_ALLOWED = ("numbers, variable names, + - * / ** @, parentheses and the functions "
            + ", ".join(sorted(FUNCTIONS)))


@dataclass
class Step:
    """One node of the forward pass: ``name = definition`` (e.g. ``u = b * c``)."""

    name: str
    definition: str
    tensor: Tensor


@dataclass
class Result:
    """What :func:`evaluate` built: the output tensor and its name, the input variables
    (name → leaf tensor) and the forward pass, one :class:`Step` per node in order."""

    output: Tensor
    name: str
    variables: dict[str, Tensor]
    steps: list[Step] = field(default_factory=list)


def parse(text: str) -> list[ast.stmt]:
    """Parse ``text`` into statements, checking length and syntax (not yet the content)."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is "
                              f"{MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="exec")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ExpressionError(f"invalid syntax{where}: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:  # huge literals, deep nesting
        raise ExpressionError(f"cannot parse the expression: {e}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"the expression is too big (more than {MAX_NODES} syntax nodes)")
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested too deeply (more than {MAX_DEPTH} "
                              "levels)")
    return tree.body


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 1] + "…"


#: Names given to unnamed intermediate results, in order (then u1, u2, …), as the course
#: names them: u = bc, v = a + u, J = 3v.
AUTO_NAMES = ("u", "v", "w", "p", "q", "r", "s", "t", "h", "k")


class _Builder:
    """Walks the syntax tree, building tensors for sub-expressions that involve a variable
    and NumPy floats for constant ones (so ``2**3`` is folded into 8). Every new node gets
    a name (the assigned one, else the next free of :data:`AUTO_NAMES`) and a step
    ``name = definition`` in terms of earlier names."""

    def __init__(self, variables: Mapping[str, Tensor], taken: set[str]) -> None:
        self.variables = dict(variables)
        self.named: dict[str, Value] = {}
        self.used: set[str] = set()  # the assigned names read so far
        self.steps: list[Step] = []
        self.taken = taken | set(variables) | set(FUNCTIONS) | set(CONSTANTS)
        self.auto = (n for n in _auto_names() if n not in self.taken)

    # ---------------------------------------------------------------- statements
    def run(self, body: list[ast.stmt], output_name: str) -> Result:
        out = None
        assigned: list[tuple[str, ast.stmt]] = []  # (name, statement), but the last one
        for i, stmt in enumerate(body):
            last = i == len(body) - 1
            if isinstance(stmt, ast.Assign):
                output_name, out = self.assign(stmt)
                if not last:
                    assigned.append((output_name, stmt))
            elif isinstance(stmt, ast.Expr) and last:
                out = self.value(stmt.value, output_name)
            elif isinstance(stmt, ast.Expr):
                raise _never_used(stmt)
            else:
                raise ExpressionError(f"{type(stmt).__name__.lower()} statements are not "
                                      f"allowed; use {_ALLOWED}")
        for name, stmt in assigned:
            if name not in self.used:
                raise _never_used(stmt)
        if not isinstance(out, Tensor):
            raise ExpressionError("the expression does not depend on any variable; give at "
                                  "least one with --var NAME=VALUE and use it")
        return Result(out, output_name, self.variables, self.steps)

    def assign(self, stmt: ast.Assign) -> tuple[str, Value]:
        target = stmt.targets[0].id
        if target in self.variables:
            raise ExpressionError(f"'{target}' is an input variable (--var); pick another name "
                                  "for the result")
        if target in self.named:
            raise ExpressionError(f"'{target}' is assigned twice; give each result its own "
                                  "name")
        self.named[target] = value = self.value(stmt.value, target)  # 'w = u': an alias
        return target, value

    # ---------------------------------------------------------------- expressions
    def value(self, node: ast.expr, name: str | None = None) -> Value:
        """The value of ``node``; a new node it creates is called ``name`` if given."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, name)
        if isinstance(node, ast.BinOp):
            return self.binary(node, name)
        if isinstance(node, ast.Call):
            return self.call(node, name)
        reason = _REFUSED.get(type(node))
        if reason is None:
            reason = f"{type(node).__name__} is not allowed"
        raise ExpressionError(f"'{_text(node)}': {reason}; use {_ALLOWED}")

    def constant(self, node: ast.Constant) -> np.float64:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            kind = "a string" if isinstance(v, (str, bytes)) else repr(v)
            raise ExpressionError(f"'{_text(node)}': only numbers are allowed as constants, "
                                  f"got {kind}")
        if not abs(v) <= MAX_NUMBER:
            raise ExpressionError(f"a number in the expression is too large (the limit is "
                                  f"{MAX_NUMBER:g})")
        # NumPy arithmetic for constants too: 1/0 gives inf (reported below), not an error
        return np.float64(v)

    def name(self, node: ast.Name) -> Value:
        n = node.id
        if n in self.named:
            self.used.add(n)
        for scope in (self.named, self.variables, CONSTANTS):
            if n in scope:
                return scope[n]
        if n in FUNCTIONS:
            raise ExpressionError(f"'{n}' is a function: call it, as in {n}(x)")
        known = sorted(self.variables) + sorted(self.named)
        listing = ", ".join(known) if known else "none: give them with --var NAME=VALUE"
        raise ExpressionError(f"unknown variable '{n}'; known variables: {listing}")

    def unary(self, node: ast.UnaryOp, name: str | None) -> Value:
        x = self.value(node.operand)
        if isinstance(node.op, ast.USub):
            return self.result(node, -x, f"-{_symbol(x)}", name)
        if isinstance(node.op, ast.UAdd):
            return x
        raise ExpressionError(f"'{_text(node)}': the operator "
                              f"{type(node.op).__name__} is not allowed; use {_ALLOWED}")

    def binary(self, node: ast.BinOp, name: str | None) -> Value:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ExpressionError(f"'{_text(node)}': the operator {type(node.op).__name__} is "
                                  f"not allowed; use {_ALLOWED}")
        fn, symbol = op
        a, b = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Pow) and not isinstance(b, Tensor) and \
                abs(b) > MAX_EXPONENT:
            raise ExpressionError(f"'{_text(node)}': the exponent {b:g} is too large (the "
                                  f"limit is {MAX_EXPONENT:g})")
        return self.result(node, fn(a, b), f"{_symbol(a)} {symbol} {_symbol(b)}", name)

    def call(self, node: ast.Call, name: str | None) -> Value:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"'{_text(node)}': only calls of the functions "
                                  f"{', '.join(sorted(FUNCTIONS))} are allowed")
        fname = node.func.id
        f = FUNCTIONS.get(fname)
        if f is None:
            raise ExpressionError(f"unknown function '{fname}'; allowed: "
                                  f"{', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ExpressionError(f"'{_text(node)}': keyword arguments are not allowed; pass "
                                  "arguments by position")
        tensors = f.tensors + (fname in _OPTIONAL_TENSOR and len(node.args) > 1)
        low, high = tensors + f.required, tensors + f.constants
        if not low <= len(node.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            usage = f" ({f.doc})" if f.doc else ""
            raise ExpressionError(f"{fname}() takes {want} argument(s){usage}, got "
                                  f"{len(node.args)}")
        args = [self.value(a) for a in node.args]
        for a, arg in zip(node.args[tensors:], args[tensors:]):
            if isinstance(arg, Tensor):
                raise ExpressionError(f"{fname}(): the argument '{_text(a)}' must be a "
                                      "constant number")
        constant = not any(isinstance(a, Tensor) for a in args[:tensors])
        tensor_args = [a if isinstance(a, Tensor) else _const(a) for a in args[:tensors]]
        if constant:  # fold it into a number
            with no_grad():
                return _finite(f.fn(*tensor_args, *args[tensors:]).item(), node)
        definition = f"{fname}({', '.join(_symbol(a) for a in args)})"
        return self.result(node, f.fn(*tensor_args, *args[tensors:]), definition, name)

    def result(self, node: ast.expr, value: Value, definition: str, name: str | None) -> Value:
        """Name a new node (recording its step), or check a folded constant."""
        if not isinstance(value, Tensor):
            return _finite(value, node)
        value.name = name or next(self.auto)
        self.steps.append(Step(value.name, definition, value))
        return value


def _never_used(stmt: ast.stmt) -> ExpressionError:
    return ExpressionError(f"'{_text(stmt)}' computes a value that is never used; the last "
                           "statement is the output, and each earlier one must be used by a "
                           "later one")


def _auto_names() -> Iterator[str]:
    yield from AUTO_NAMES
    yield from (f"u{i}" for i in itertools.count(1))


def _symbol(x: Value) -> str:
    """How an operand is written in a step: its name, or the constant's value."""
    if isinstance(x, Tensor):
        return x.name
    text = f"{x:g}"
    return f"({text})" if text.startswith("-") else text


def _const(x: float) -> Tensor:
    return Tensor(np.float64(x))


def _finite(x: float, node: ast.expr) -> np.float64:
    x = np.float64(x)
    if not np.isfinite(x):
        raise ExpressionError(f"'{_text(node)}' = {x} (not a finite number)")
    return x


def normalize_name(name: str) -> str:
    """``name`` as Python's parser reads it in an expression (NFKC: ``ｂ`` → ``b``)."""
    return unicodedata.normalize("NFKC", name)


def evaluate(text: str, variables: Mapping[str, Value]) -> Result:
    """Build the computation graph of ``text`` over ``variables`` (name → number, array or
    Tensor; numbers and arrays become float64 leaves that require grad, named after the
    variable's normalised name). Raises :class:`ExpressionError` for anything outside the
    accepted grammar.
    """
    body = parse(text)
    leaves = {}
    for given, v in variables.items():
        n = normalize_name(given)
        if n in leaves:
            raise ExpressionError(f"the variable '{n}' is given twice (as '{given}' too)")
        if not n.isidentifier() or n.startswith("_") or keyword.iskeyword(n):
            raise ExpressionError(f"'{n}' is not a valid variable name (letters, digits and _, "
                                  "not starting with a digit or _, not a Python keyword)")
        if n in FUNCTIONS:
            raise ExpressionError(f"'{n}' is a function name; pick another variable name")
        t = v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=np.float64),
                                                   requires_grad=True)
        if t.name is None:
            t.name = n
        leaves[n] = t
    targets = _assigned_names(body)
    taken = set(leaves) | targets
    output_name = next(n for n in ("J", "out", "result") if n not in taken)
    with np.errstate(all="ignore"):
        try:
            return _Builder(leaves, targets).run(body, output_name)
        except (ValueError, TypeError, IndexError) as e:  # shape mismatches and the like
            if isinstance(e, ExpressionError):
                raise
            raise ExpressionError(str(e).splitlines()[0]) from None
        except OverflowError as e:
            raise ExpressionError(f"a constant overflows: {e}") from None


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """The names that statements assign to (each must be a single plain name)."""
    names = set()
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise ExpressionError(f"'{_text(stmt)}': assign to one plain name, as in "
                                      "'u = b*c'")
            target = stmt.targets[0].id
            if target in FUNCTIONS:
                raise ExpressionError(f"'{target}' is a function name; pick another name")
            names.add(target)
    return names
