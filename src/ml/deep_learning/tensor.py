"""A reverse-mode autograd engine on NumPy: a `Tensor` remembers how it was computed, and `backward()` walks that
record backwards applying the chain rule.

    x = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    w = Tensor(np.array([[3.0], [4.0]]), requires_grad=True)
    loss = (x @ w).relu().sum()
    loss.backward()          # x.grad == [[3, 4]], w.grad == [[1], [2]]

How it works. Every operation creates a new Tensor holding its result, the tensors it was computed from
(`parents`) and a function `backward_fn(g)` that turns g = dL/d(result) into dL/d(parent) for each parent: the
local derivative times g (the chain rule). `backward()` orders the graph so that each node comes after everything
that uses it, then sends gradients from the loss back to the leaves, summing where a tensor was used twice
(dL/dx = sum over its uses, the multivariable chain rule).

Broadcasting: if x of shape (3, 1) was stretched to (3, 4) in `x + y`, the gradient that comes back has shape
(3, 4); every stretched copy used the same x, so `unbroadcast` sums it back to (3, 1).

Only tensors created with requires_grad=True (parameters) and what is computed from them record a graph, and
nothing is recorded inside `with no_grad():` (inference), so evaluation costs no memory for backward.
"""

import contextlib

import numpy as np

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Inside this block operations record no graph (like torch.no_grad): for evaluation and weight updates."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape` again."""
    while grad.ndim > len(shape):  # leading axes that broadcasting prepended
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:  # an axis of length 1 stretched to match the other operand
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def as_tensor(value, dtype=None) -> "Tensor":
    """A Tensor as it is, anything else (number, array) as a constant Tensor of the given dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=dtype))


class Tensor:
    def __init__(self, data, requires_grad: bool = False, parents: tuple = (), backward_fn=None, op: str = ""):
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=np.float64)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise ValueError(f"only float tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = requires_grad
        self.grad: np.ndarray | None = None
        self.parents = parents
        self.backward_fn = backward_fn
        self.op = op

    # -- building the graph ----------------------------------------------------------------------------------
    @staticmethod
    def from_op(data: np.ndarray, parents: tuple["Tensor", ...], backward_fn, op: str) -> "Tensor":
        """The result of an operation: it records its parents only if gradients are on and one of them needs one."""
        if _grad_enabled and any(p.requires_grad for p in parents):
            return Tensor(data, requires_grad=True, parents=parents, backward_fn=backward_fn, op=op)
        return Tensor(data)

    def backward(self, grad: np.ndarray | None = None):
        """Fill .grad of every tensor this one depends on with d(self)/d(tensor). Without `grad`, self must be a
        single number (a loss) and the seed is 1. Gradients ADD UP across calls: zero them between steps."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no parameter led to it.")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar, this tensor has shape {self.shape}")
            grad = np.ones_like(self.data)
        order = self._topological_order()
        grads = {id(self): np.asarray(grad, dtype=self.data.dtype)}
        for node in reversed(order):  # from the loss back to the leaves
            g = grads.pop(id(node))  # the sum over all uses of node is complete here
            if node.backward_fn is None:  # a leaf: a parameter or an input that asked for its gradient
                node.grad = g if node.grad is None else node.grad + g
                continue
            for parent, parent_grad in zip(node.parents, node.backward_fn(g), strict=True):
                if parent.requires_grad and parent_grad is not None:
                    key = id(parent)
                    grads[key] = parent_grad if key not in grads else grads[key] + parent_grad

    def _topological_order(self) -> list["Tensor"]:
        """Every node after all of its parents (iterative DFS: an LSTM's graph is deeper than Python's stack)."""
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if p.requires_grad and id(p) not in visited)
        return order

    def zero_grad(self):
        self.grad = None

    def detach(self) -> "Tensor":
        return Tensor(self.data)

    # -- plain properties ------------------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{grad})"

    # -- elementwise arithmetic (broadcasting) ---------------------------------------------------------------
    def _other(self, other) -> "Tensor":
        return as_tensor(other, dtype=self.data.dtype)

    def __add__(self, other):
        other = self._other(other)
        a, b = self.shape, other.shape
        return Tensor.from_op(
            self.data + other.data, (self, other), lambda g: (unbroadcast(g, a), unbroadcast(g, b)), "add"
        )

    def __mul__(self, other):
        other = self._other(other)
        x, y = self.data, other.data
        return Tensor.from_op(
            x * y, (self, other), lambda g: (unbroadcast(g * y, x.shape), unbroadcast(g * x, y.shape)), "mul"
        )

    def __neg__(self):
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), "neg")

    def __sub__(self, other):
        return self + (-self._other(other))

    def __truediv__(self, other):
        other = self._other(other)
        x, y = self.data, other.data
        # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2
        return Tensor.from_op(
            x / y,
            (self, other),
            lambda g: (unbroadcast(g / y, x.shape), unbroadcast(-g * x / (y * y), y.shape)),
            "div",
        )

    def __pow__(self, exponent: float):
        if isinstance(exponent, Tensor):
            raise TypeError("Tensor ** Tensor is not supported; the exponent must be a number")
        x = self.data
        return Tensor.from_op(x**exponent, (self,), lambda g: (g * exponent * x ** (exponent - 1),), "pow")

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return self._other(other) - self

    def __rtruediv__(self, other):
        return self._other(other) / self

    def exp(self):
        out = np.exp(self.data)
        return Tensor.from_op(out, (self,), lambda g: (g * out,), "exp")  # (e^x)' = e^x

    def log(self):
        x = self.data
        return Tensor.from_op(np.log(x), (self,), lambda g: (g / x,), "log")

    # -- matrix product --------------------------------------------------------------------------------------
    def __matmul__(self, other):
        """A @ B for 2-D or batched (..., n, k) @ (..., k, m). dL/dA = G @ B^T and dL/dB = A^T @ G, each
        summed over batch axes that broadcasting added."""
        other = self._other(other)
        a, b = self.data, other.data
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul needs operands with >= 2 dimensions, got shapes {a.shape} and {b.shape}")

        def backward(g):
            return (
                unbroadcast(g @ b.swapaxes(-1, -2), a.shape),
                unbroadcast(a.swapaxes(-1, -2) @ g, b.shape),
            )

        return Tensor.from_op(a @ b, (self, other), backward, "matmul")

    # -- reductions ------------------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False):
        shape = self.shape

        def backward(g):
            if axis is not None and not keepdims:  # put the summed axes back as length 1, then stretch
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, shape).copy(),)

        return Tensor.from_op(self.data.sum(axis=axis, keepdims=keepdims), (self,), backward, "sum")

    def mean(self, axis=None, keepdims: bool = False):
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims: bool = False):
        """The gradient goes to the maximum; where several entries tie, it is shared equally among them."""
        x = self.data
        out = x.max(axis=axis, keepdims=True)

        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            winners = x == out
            return (winners * g / winners.sum(axis=axis, keepdims=True),)

        return Tensor.from_op(out if keepdims else np.squeeze(out, axis=axis), (self,), backward, "max")

    # -- shape -----------------------------------------------------------------------------------------------
    def reshape(self, *shape):
        old = self.shape
        return Tensor.from_op(self.data.reshape(*shape), (self,), lambda g: (g.reshape(old),), "reshape")

    def transpose(self, *axes):
        axes = axes or tuple(reversed(range(self.ndim)))
        inverse = np.argsort(axes)
        return Tensor.from_op(self.data.transpose(axes), (self,), lambda g: (g.transpose(inverse),), "transpose")

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """Slicing and fancy indexing. The gradient is scattered back with np.add.at, which sums when the same
        entry was picked more than once (x[[0, 0]])."""
        shape, dtype = self.shape, self.dtype

        def backward(g):
            full = np.zeros(shape, dtype=dtype)
            if _is_basic(index):  # slices and integers pick each entry at most once: a plain (fast) add
                full[index] += g
            else:
                np.add.at(full, index, g)
            return (full,)

        return Tensor.from_op(self.data[index], (self,), backward, "getitem")


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice) or p is None or p is Ellipsis for p in parts)


def stack(tensors: list[Tensor], axis: int = 0) -> Tensor:
    """Join equal-shape tensors along a new axis (an LSTM's hidden states over time); each gets its slice back."""
    data = np.stack([t.data for t in tensors], axis=axis)
    return Tensor.from_op(
        data, tuple(tensors), lambda g: tuple(np.take(g, i, axis=axis) for i in range(len(tensors))), "stack"
    )


def concatenate(tensors: list[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back the block of the gradient it filled."""
    data = np.concatenate([t.data for t in tensors], axis=axis)
    edges = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return Tensor.from_op(data, tuple(tensors), lambda g: tuple(np.split(g, edges, axis=axis)), "concatenate")
