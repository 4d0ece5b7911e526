"""Optimisers, and training to the optimum on the real data with a certificate."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value, nn
from tinygrad_lr.nn import functional as F


def quadratic_step(optimizer, p):
    optimizer.zero_grad()
    ((p - 3.0) * (p - 3.0)).sum().backward()  # gradient 2(p − 3)
    optimizer.step()


def test_sgd_with_momentum_and_weight_decay_follows_its_formula():
    p = Tensor([1.0, 5.0], requires_grad=True)
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    expected, velocity = np.array([1.0, 5.0]), np.zeros(2)
    for _ in range(3):
        g = 2 * (expected - 3) + 0.01 * expected
        velocity = 0.9 * velocity + g
        expected = expected - 0.1 * velocity
        quadratic_step(opt, p)
    assert np.allclose(p.data, expected, rtol=1e-14)


def test_adam_follows_its_formula():
    p = Tensor([1.0, 5.0], requires_grad=True)
    opt = tg.optim.Adam([p], lr=0.1)
    expected, m, v = np.array([1.0, 5.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 4):
        g = 2 * (expected - 3)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected = expected - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        quadratic_step(opt, p)
    assert np.allclose(p.data, expected, rtol=1e-14)


def test_optimisers_update_values_too():
    x = Value(0.0, label="x")
    opt = tg.optim.SGD([x], lr=0.25)
    for _ in range(20):
        opt.zero_grad()
        ((x - 2) * (x - 2)).backward()
        opt.step()
    assert x.data == pytest.approx(2.0)


def test_optimiser_errors_say_what_to_do():
    p = Tensor([1.0], requires_grad=True, label="w")
    with pytest.raises(
        RuntimeError, match=r"SGD.step: no parameter has a gradient; call loss.backward\(\) first"
    ):
        tg.optim.SGD([p], lr=0.1).step()
    p.grad = np.array([np.inf])
    with pytest.raises(FloatingPointError, match=r"parameter 1 \(w\) is not finite; lower the learning rate"):
        tg.optim.Adam([Tensor([2.0], requires_grad=True), p]).step()
    with pytest.raises(
        ValueError,
        match=r"SGD: nesterov needs a momentum above 0 and dampening 0, got momentum 0.9 and dampening 0.1",
    ):
        tg.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(TypeError, match="Adam: amsgrad must be True or False, got 1"):
        tg.optim.Adam([p], amsgrad=1)
    with pytest.raises(
        ValueError, match=r"SGD: unknown setting 'momentun'; the settings are lr, weight_decay, momentum"
    ):
        tg.optim.SGD([{"params": [p], "momentun": 0.9}], lr=0.1)
    with pytest.raises(ValueError, match=r"learning rate lr must be a finite number above 0, got 0"):
        tg.optim.SGD([p], lr=0)
    with pytest.raises(ValueError, match="no parameters"):
        tg.optim.SGD([], lr=0.1)


def test_a_parameter_the_loss_did_not_use_is_skipped_as_in_pytorch():
    for make in (
        lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: tg.optim.Adam(ps, lr=0.1, weight_decay=0.1),
        lambda ps: tg.optim.AdamW(ps, lr=0.1),
    ):
        used, unused = Tensor([1.0, 5.0], requires_grad=True), Tensor([2.0], requires_grad=True, label="u")
        opt = make([unused, used])
        for _ in range(3):
            quadratic_step(opt, used)
        assert unused.data.tolist() == [2.0] and unused.grad is None  # no gradient: no step, no decay
        assert unused not in opt.state and used in opt.state
        assert np.all(np.abs(used.data - 3.0) < [2.0, 2.0])


def test_param_groups_carry_their_own_settings_and_a_schedule_changes_them():
    w, b = Tensor([1.0, 5.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    opt = tg.optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, weight_decay=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1] == {"params": [b], "lr": 0.5, "weight_decay": 0.01, "momentum": 0.0,
                                   "dampening": 0.0, "nesterov": False}  # fmt: skip
    assert opt.weight_decay == 0.01 and opt.params == [w, b]
    with pytest.raises(
        AttributeError, match=r"SGD.lr differs between the parameter groups; read param_groups"
    ):
        print(opt.lr)

    def step_with(lr_w, lr_b):
        before_w, before_b = w.data.copy(), b.data.copy()
        opt.zero_grad()
        (((w - 3.0) ** 2).sum() + ((b - 1.0) ** 2).sum()).backward()
        opt.step()
        assert np.allclose(w.data, before_w - lr_w * (2 * (before_w - 3) + 0.01 * before_w), rtol=1e-15)
        assert np.allclose(b.data, before_b - lr_b * (2 * (before_b - 1) + 0.01 * before_b), rtol=1e-15)

    step_with(0.1, 0.5)
    opt.param_groups[0]["lr"] = 0.02  # what a scheduler does
    step_with(0.02, 0.5)
    opt.lr = 0.3  # every group's
    step_with(0.3, 0.3)
    assert opt.lr == 0.3
    with pytest.raises(
        ValueError, match=r"SGD: the learning rate lr must be a finite number above 0, got -1"
    ):
        opt.lr = -1
    with pytest.raises(ValueError, match="parameter 2 is parameter 0 again"):
        opt.add_param_group({"params": [w]})
    opt.add_param_group({"params": [Tensor([1.0], requires_grad=True)], "momentum": 0.5})
    assert opt.param_groups[2]["momentum"] == 0.5 and opt.param_groups[2]["lr"] == 0.1


TRAJECTORIES = json.loads((Path(__file__).parent / "data" / "torch_optim_trajectories.json").read_text())


@pytest.mark.parametrize("name", sorted(TRAJECTORIES["configs"]))
def test_optimisers_equal_torch_optim_over_50_steps(name):
    """The oracle: torch.optim's parameters (PyTorch 2.13, float64) after the steps ``stored``, from
    tests/data/make_torch_trajectories.py, which also defines the problem and the settings."""
    config = TRAJECTORIES["configs"][name]
    params = {key: Tensor(value, requires_grad=True) for key, value in TRAJECTORIES["start"].items()}
    groups = config["groups"] or [{"params": list(params)}]
    settings = {key: tuple(v) if key == "betas" else v for key, v in config["settings"].items()}
    opt = getattr(tg.optim, config["optimiser"])(
        [{**group, "params": [params[key] for key in group["params"]]} for group in groups], **settings
    )
    X, Y = Tensor(TRAJECTORIES["X"]), Tensor(TRAJECTORIES["Y"])
    ours = []
    for step in range(1, 51):
        if step - 1 == config["halve_lr_at"]:
            for group in opt.param_groups:
                group["lr"] /= 2
        opt.zero_grad()
        ((tg.tanh(X @ params["W"] + params["b"]) - Y) ** 2).mean().backward()
        opt.step()
        if step in TRAJECTORIES["stored"]:
            ours.append(np.concatenate([params["W"].data.ravel(), params["b"].data]))
    assert np.max(np.abs(np.array(ours) - np.array(config["W_then_b"]))) <= 1e-12
    assert params["unused"].data.tolist() == TRAJECTORIES["start"]["unused"]


def tiny_problem():
    rng = np.random.default_rng(3)
    return Tensor(rng.standard_normal((20, 3))), (rng.random(20) > 0.5).astype(float)


def train(model, opt, X, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(X).reshape(-1), y).backward()
        opt.step()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01),
        lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: tg.optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.01),
        lambda ps: tg.optim.AdamW([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "betas": (0.5, 0.9)}]),
    ],
)
def test_training_resumes_exactly_from_the_state_dicts(make):
    X, y = tiny_problem()
    model = lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))  # noqa: E731
    start = model().state_dict()

    def run(steps_before, steps_after):
        """Train from ``start``; halve the first group's lr (a schedule) after ``steps_before``."""
        net = model()
        net.load_state_dict(start)
        opt = make(net.parameters())
        train(net, opt, X, y, steps_before)
        opt.param_groups[0]["lr"] *= 0.5
        train(net, opt, X, y, steps_after)
        return net, opt

    uninterrupted, uninterrupted_opt = run(10, 10)
    first, opt = run(10, 0)
    saved_model, saved_opt = first.state_dict(), opt.state_dict()
    train(first, opt, X, y, 2)  # the saved state is a copy: training on changes nothing in it
    second = model()
    second.load_state_dict(saved_model)
    resumed = make(second.parameters())
    resumed.load_state_dict(saved_opt)
    train(second, resumed, X, y, 10)
    for name, value in uninterrupted.state_dict().items():
        assert np.array_equal(second.state_dict()[name], value), name
    assert resumed.state_dict()["param_groups"] == uninterrupted_opt.state_dict()["param_groups"]
    for i, state in uninterrupted_opt.state_dict()["state"].items():
        for key, value in state.items():
            assert np.array_equal(resumed.state_dict()["state"][i][key], value), (i, key)


def test_state_dict_has_pytorchs_layout():
    w, b = Tensor([1.0, 5.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    opt = tg.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, amsgrad=True)
    quadratic_step(opt, w)  # b unused: no state
    state = opt.state_dict()
    assert list(state) == ["state", "param_groups"] and list(state["state"]) == [0]
    assert sorted(state["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    g = 2 * (np.array([1.0, 5.0]) - 3)  # the gradient of the first step
    assert state["state"][0]["step"] == 1 and np.allclose(state["state"][0]["exp_avg"], 0.1 * g, rtol=1e-15)
    assert np.allclose(state["state"][0]["max_exp_avg_sq"], 0.001 * g * g, rtol=1e-15)
    assert state["param_groups"][1] == {"lr": 0.5, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
        "amsgrad": True, "decoupled_weight_decay": False, "params": [1]}  # fmt: skip


def test_load_state_dict_refuses_the_state_of_another_optimiser_and_changes_nothing():
    w, b = Tensor([1.0, 5.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    opt = tg.optim.SGD([w, b], lr=0.1, momentum=0.9)
    quadratic_step(opt, w)
    good, before = opt.state_dict(), opt.state_dict()
    with pytest.raises(ValueError, match=r"saved groups hold \[1\] parameters, this optimiser's \[2\]"):
        opt.load_state_dict(tg.optim.SGD([w], lr=0.1).state_dict())
    wrong_shape = {**good, "state": {0: {"momentum_buffer": np.zeros(3)}}}
    with pytest.raises(
        ValueError, match=r"state 'momentum_buffer' of parameter 0 has shape \(3,\), the parameter \(2,\)"
    ):
        opt.load_state_dict(wrong_shape)
    bad_setting = {**good, "param_groups": [{**good["param_groups"][0], "momentum": 1.5}]}
    with pytest.raises(ValueError, match=r"SGD: momentum must be a finite number in \[0, 1\), got 1.5"):
        opt.load_state_dict(bad_setting)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert np.array_equal(after["state"][0]["momentum_buffer"], before["state"][0]["momentum_buffer"])


def test_hessian_comes_from_the_engine_and_matches_the_textbook():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), (rng.random(30) > 0.5).astype(float)
    w, b = Tensor(rng.standard_normal(3), requires_grad=True), Tensor(np.array(0.2), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(Tensor(X) @ w + b, y)
    g, H = tg.optim.hessian(loss, [w, b])
    p = 1 / (1 + np.exp(-(X @ w.data + b.data)))
    Xb = np.hstack([X, np.ones((30, 1))])
    assert np.allclose(g, Xb.T @ (p - y) / 30)
    assert np.allclose(H, Xb.T @ np.diag(p * (1 - p)) @ Xb / 30)


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = tg.data.load_breast_cancer()
    X_train, X_test, y_train, y_test = tg.data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    X_train, X_test = tg.data.standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def regularised_loss(model, X, y):
    w = model.linear.weight
    return F.binary_cross_entropy_with_logits(model.logits(Tensor(X)), y) + (w * w).sum() * (0.5 / len(y))


def gradient_norm(model, X, y):
    grads = tg.grad(regularised_loss(model, X, y), model.parameters())
    return np.sqrt(sum(float((g.data**2).sum()) for g in grads))


def test_training_reaches_the_optimum_with_a_certificate(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    model = nn.LogisticRegression(X_train.shape[1], seed=0)
    newton = tg.optim.Newton(model.parameters())
    for _ in range(15):
        newton.step(lambda: regularised_loss(model, X_train, y_train))
    assert gradient_norm(model, X_train, y_train) < 1e-8  # the certificate: ∇L = 0 at the optimum
    optimum = float(regularised_loss(model, X_train, y_train).data)
    assert tg.training.accuracy(model, X_test, y_test) >= 0.95

    for make in (lambda p: tg.optim.Adam(p, lr=0.05), lambda p: tg.optim.SGD(p, lr=1.0, momentum=0.9)):
        other = nn.LogisticRegression(X_train.shape[1], seed=1)
        opt = make(other.parameters())
        for _ in range(1500):
            opt.zero_grad()
            regularised_loss(other, X_train, y_train).backward()
            opt.step()
        assert float(regularised_loss(other, X_train, y_train).data) - optimum < 1e-4


def test_fit_with_minibatches_records_the_history(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    model = nn.MLP([X_train.shape[1], 8, 1], seed=0)
    history = tg.training.fit(
        model, tg.optim.Adam(model.parameters(), lr=0.01), X_train, y_train,
        epochs=15, batch_size=32, validation=(X_test, y_test),
    )  # fmt: skip
    assert len(history.train_loss) == len(history.val_loss) == 15
    assert history.train_loss[-1] < history.train_loss[0] / 2
    assert tg.training.accuracy(model, X_test, y_test) >= 0.93


@pytest.mark.parametrize("make", [tg.optim.SGD, tg.optim.Adam, tg.optim.Newton])
def test_a_parameter_that_is_not_a_leaf_is_refused_as_in_pytorch(make):
    # PyTorch: "can't optimize a non-leaf Tensor". Skipped instead, it would never move, silently
    w = tg.randn(3, requires_grad=True) * 0.5
    b = tg.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match=r"parameter 0 .* is not a leaf .*w.requires_grad = True"):
        make([w, b], lr=0.05)
