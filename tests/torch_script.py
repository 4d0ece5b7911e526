"""A PyTorch training script, written as PyTorch users write one; the test runs it unchanged on
tinygrad_lr after replacing the import block below (``tests/test_torch_script.py``).

A two-layer network with dropout, trained with Adam on cross-entropy in minibatches, checkpointed
to a file (model and optimiser), reloaded into a fresh model and optimiser, trained on, and
evaluated without gradients.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, n_in, n_hidden, n_out, p):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def train(model, optimizer, loss_fn, X, y, epochs, batch_size):
    model.train()
    for _ in range(epochs):
        for start in range(0, X.size(0), batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(X[start : start + batch_size]), y[start : start + batch_size])
            loss.backward()
            optimizer.step()
    return loss.item()


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
        return (logits.argmax(dim=1) == y).float().mean().item()


def make(n_in, n_out, p):
    model = Net(n_in, 16, n_out, p)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    return model, optimizer


def main(X, y, initial, checkpoint, p=0.0, epochs=(6, 4), batch_size=30):
    """Train from the weights ``initial`` for ``epochs[0]`` epochs, save a checkpoint at the path
    ``checkpoint``, load it into a new model and optimiser, train ``epochs[1]`` more; returns the
    final weights as arrays, the last minibatch's loss and the accuracy on ``X``."""
    X = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(y, dtype=torch.long)
    n_in, n_out = X.size(1), int(y.max().item()) + 1
    loss_fn = nn.CrossEntropyLoss()

    model, optimizer = make(n_in, n_out, p)
    model.load_state_dict({name: torch.tensor(value) for name, value in initial.items()})
    train(model, optimizer, loss_fn, X, y, epochs[0], batch_size)
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epochs[0]}, checkpoint
    )

    model, optimizer = make(n_in, n_out, p)
    saved = torch.load(checkpoint)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    loss = train(model, optimizer, loss_fn, X, y, epochs[1], batch_size)

    weights = {name: param.detach().numpy().copy() for name, param in model.named_parameters()}
    return weights, loss, evaluate(model, X, y)
