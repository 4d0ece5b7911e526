"""Element types by the names PyTorch users write: ``tg.float32``, ``tg.int64``, ``tg.bool``.
They are numpy's dtypes (``tg.float32 == np.float32``), so either spelling works everywhere."""

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

__all__ = ["bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"]
