"""Optimisers, and training to the optimum on the real data with a certificate."""

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
        RuntimeError, match=r"parameter 0 \(w\) has no gradient; call loss.backward\(\) first"
    ):
        tg.optim.SGD([p], lr=0.1).step()
    p.grad = np.array([np.inf])
    with pytest.raises(FloatingPointError, match="not finite; lower the learning rate"):
        tg.optim.Adam([p]).step()
    with pytest.raises(ValueError, match=r"learning rate lr must be a finite number above 0, got 0"):
        tg.optim.SGD([p], lr=0)
    with pytest.raises(ValueError, match="no parameters"):
        tg.optim.SGD([], lr=0.1)


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
