"""Element types by the names PyTorch users write: ``tg.float32``, ``tg.int64``, ``tg.long``,
``tg.bool``. They are numpy's dtypes (``tg.float32 == np.float32``), so either spelling works
everywhere. As PyTorch's, ``tg.float`` is float32 and ``tg.int`` int32 (the library's default
float is float64: ``tg.double``)."""

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8"]
__all__ += ["int16", "int32", "int64", "long", "short", "uint8"]
