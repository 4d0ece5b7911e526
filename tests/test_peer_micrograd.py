"""micrograd's own tests (``tests/peers/micrograd_test_engine.py``, as micrograd wrote them but for
the import), which compare Value with PyTorch: run where PyTorch is installed."""

import pytest

pytest.importorskip("torch", reason="micrograd's tests compare with PyTorch, which is not installed")

from tests.peers.micrograd_test_engine import test_more_ops, test_sanity_check, test_unary_tensor_fns

__all__ = ["test_more_ops", "test_sanity_check", "test_unary_tensor_fns"]
