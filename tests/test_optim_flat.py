"""Group-at-once updates (``optim.optimizer._Flat``) against the same rules run parameter by
parameter: identical results, per-parameter state kept in step, fallbacks when the group's
parameters cannot be updated together."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import optim

RULES = {
    "sgd": lambda ps, cls: cls(ps, lr=0.1),
    "sgd_nesterov_l2": lambda ps, cls: cls(ps, lr=0.05, momentum=0.9, nesterov=True,
                                           weight_decay=0.01),
    "momentum": lambda ps, cls: cls(ps, lr=0.1, beta=0.8),
    "rmsprop": lambda ps, cls: cls(ps, lr=0.01, alpha=0.9, weight_decay=0.1),
    "adam": lambda ps, cls: cls(ps, lr=0.01, betas=(0.8, 0.99)),
    "adamw": lambda ps, cls: cls(ps, lr=0.01, weight_decay=0.1),
}
CLASSES = {"sgd": optim.SGD, "sgd_nesterov_l2": optim.SGD, "momentum": optim.Momentum,
           "rmsprop": optim.RMSprop, "adam": optim.Adam, "adamw": optim.AdamW}


def _one_by_one(cls: type) -> type:
    """The same rule with the group-at-once path switched off: the reference."""
    return type(cls.__name__, (cls,), {"elementwise": False})


def _params(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [tg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _drive(rule, cls, shapes, dtype, grads, skips):
    """Run ``steps`` updates; parameter j gets no gradient on the steps in skips[j]."""
    params = _params(shapes, dtype)
    opt = RULES[rule](params, cls)
    for t, step in enumerate(grads):
        for j, (p, g) in enumerate(zip(params, step)):
            p.grad = None if t in skips[j] else g.astype(dtype)
        opt.step()
    return params, opt


shape_lists = st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
                       min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(rule=st.sampled_from(sorted(RULES)), shapes=shape_lists,
       dtype=st.sampled_from([np.float32, np.float64]), steps=st.integers(1, 5),
       skip_seed=st.integers(0, 2**16), seed=st.integers(0, 2**16))
def test_group_update_equals_update_one_by_one(rule, shapes, dtype, steps, skip_seed, seed):
    rng = np.random.default_rng(seed)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]
    skip_rng = np.random.default_rng(skip_seed)  # some parameters miss some steps
    skips = [set(np.flatnonzero(skip_rng.random(steps) < 0.25).tolist()) for _ in shapes]
    got, opt = _drive(rule, CLASSES[rule], shapes, dtype, grads, skips)
    want, ref = _drive(rule, _one_by_one(CLASSES[rule]), shapes, dtype, grads, skips)
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g.data, w.data, rtol=1e-6 if dtype == np.float32 else 1e-13,
                                   atol=1e-7 if dtype == np.float32 else 1e-15)
    for p, q in zip(got, want):  # the per-parameter states agree too
        mine, theirs = opt.state.get(p, {}), ref.state.get(q, {})
        assert mine.keys() == theirs.keys()
        for key in mine:
            np.testing.assert_allclose(mine[key], theirs[key], rtol=1e-6, atol=1e-7)
            assert np.shape(mine[key]) == np.shape(theirs[key])


def test_per_parameter_state_are_live_views_of_the_group_buffers():
    params = _params([(3, 2), (2,)], np.float32)
    opt = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt.step()
    v = opt.state[params[0]]["exp_avg"]
    assert v.shape == (3, 2) and v.dtype == np.float32
    np.testing.assert_allclose(v, 0.1)
    opt.step()
    assert opt.state[params[0]]["exp_avg"] is v  # the same array, updated in place
    np.testing.assert_allclose(v, 0.19)
    assert [opt.state[p]["step"] for p in params] == [2, 2]


def test_state_entry_replaced_by_hand_is_used():
    params = _params([(2,), (3,)], np.float64)
    ref_params = _params([(2,), (3,)], np.float64)
    opt, ref = optim.Adam(params), _one_by_one(optim.Adam)(ref_params)
    for _ in range(2):
        for p, q in zip(params, ref_params):
            p.grad = q.grad = np.full(p.shape, 0.5)
        opt.step()
        ref.step()
    for o in (opt, ref):  # reset one moment by hand, as a user may
        first = next(iter(o.state))
        o.state[first]["exp_avg"] = np.zeros(2)
    for p, q in zip(params, ref_params):
        p.grad = q.grad = np.full(p.shape, -1.0)
    opt.step()
    ref.step()
    for p, q in zip(params, ref_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_then_group_update_continues_exactly():
    shapes = [(4, 3), (3,), (1,)]
    rng = np.random.default_rng(1)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(6)]
    straight, _ = _drive("adam", optim.Adam, shapes, np.float64, grads, [set()] * 3)
    first, opt = _drive("adam", optim.Adam, shapes, np.float64, grads[:3], [set()] * 3)
    resumed = [tg.Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = RULES["adam"](resumed, optim.Adam)
    opt2.load_state_dict(opt.state_dict())
    for step in grads[3:]:
        for p, g in zip(resumed, step):
            p.grad = g
        opt2.step()
    for p, q in zip(resumed, straight):
        np.testing.assert_array_equal(p.data, q.data)


def test_group_update_rebinds_a_locked_parameter_and_keeps_the_graph_safe():
    params = _params([(2, 2), (2,)], np.float32)
    opt = optim.SGD(params, lr=0.5)
    x = tg.Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    kept = x @ params[0]  # params[0].data is saved for ∂/∂x: read-only until backward
    before = params[0].data
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt.step()
    assert params[0].data is not before and not before.flags.writeable
    np.testing.assert_array_equal(params[0].data, before - 0.5)
    kept.sum().backward()
    np.testing.assert_array_equal(x.grad, before.sum(axis=1) * np.ones((2, 1)))  # 1·Wᵀ
    np.testing.assert_array_equal(params[0].grad, np.full((2, 2), 3.0))  # 1 + Xᵀ·1


def test_mixed_dtypes_in_a_group_still_update_each_in_its_dtype():
    a = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = tg.Tensor(np.ones(2, np.float64), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(3, np.float32), np.ones(2)
    opt.step()
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_allclose(a.data, 0.9, rtol=1e-6)
    np.testing.assert_allclose(b.data, 0.9)


@pytest.mark.parametrize("bad", [np.ones((3, 2)), [1.0, 2.0]])
def test_gradient_of_the_wrong_shape_raises_naming_the_shapes(bad):
    params = _params([(2, 3), (4,)], np.float64)
    opt = optim.Adam(params)
    params[0].grad, params[1].grad = bad, np.ones(4)
    with pytest.raises(ValueError, match=r"Adam: a parameter of shape \(2, 3\) has a gradient "
                                         r"of shape \((3, 2|2,)\)"):
        opt.step()


def test_gradient_given_as_a_list_of_the_right_shape_is_accepted():
    params = _params([(2,), (3,)], np.float64)
    start = [p.data.copy() for p in params]
    opt = optim.SGD(params, lr=1.0)
    params[0].grad, params[1].grad = [1.0, 2.0], np.ones(3)
    opt.step()
    np.testing.assert_array_equal(params[0].data, start[0] - [1.0, 2.0])
    np.testing.assert_array_equal(params[1].data, start[1] - 1.0)


def test_a_group_too_big_to_join_is_updated_one_by_one_with_the_same_result():
    shapes = [(300, 230), (230,)]  # over FLAT_MAX elements: not joined (copies would cost more)
    assert 300 * 230 > optim.optimizer.FLAT_MAX
    rng = np.random.default_rng(2)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    got, opt = _drive("adam", optim.Adam, shapes, np.float32, grads, [set(), set()])
    want, _ = _drive("adam", _one_by_one(optim.Adam), shapes, np.float32, grads, [set(), set()])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.data, w.data)
    assert opt.state[got[0]]["exp_avg"].base is None  # its own array, not a view
