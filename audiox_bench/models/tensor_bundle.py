"""Read TensorFlow checkpoints (tensor bundles) with numpy alone.

A bundle is a ``.index`` file, a LevelDB-format table mapping variable names to ``BundleEntryProto``
records (dtype, shape, and where the bytes are), and a ``.data-00000-of-00001`` file of raw little-endian
tensors. This module parses just what reading float tensors needs: the table's footer and blocks
(prefix-compressed keys, no compression), and the few protobuf fields of an entry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audiox_bench.core.errors import InvalidInputError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64}  # TensorFlow DataType enum values


def _varint(data: bytes, position: int) -> tuple[int, int]:
    """A base-128 varint at ``position``; returns (value, next position)."""
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _fields(message: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as ints, length-delimited as bytes; fixed
    32/64-bit values as ints."""
    fields, position = [], 0
    while position < len(message):
        tag, position = _varint(message, position)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, position = _varint(message, position)
        elif wire == 2:
            length, position = _varint(message, position)
            value, position = message[position : position + length], position + length
        elif wire == 5:
            value, position = int.from_bytes(message[position : position + 4], "little"), position + 4
        elif wire == 1:
            value, position = int.from_bytes(message[position : position + 8], "little"), position + 8
        else:
            raise InvalidInputError(f"unsupported protobuf wire type {wire} in a checkpoint entry")
        fields.append((number, value))
    return fields


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """(key, value) of every entry of a table block (keys share prefixes with the previous key)."""
    n_restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 - 4 * n_restarts
    entries, key, position = [], b"", 0
    while position < end:
        shared, position = _varint(block, position)
        unshared, position = _varint(block, position)
        value_length, position = _varint(block, position)
        key = key[:shared] + block[position : position + unshared]
        position += unshared
        entries.append((key, block[position : position + value_length]))
        position += value_length
    return entries


def _block(table: bytes, handle: bytes) -> bytes:
    offset, position = _varint(handle, 0)
    size, _ = _varint(handle, position)
    if table[offset + size] != 0:
        raise InvalidInputError("compressed checkpoint blocks are not supported")
    return table[offset : offset + size]


def read_entries(index: bytes) -> dict[str, tuple[int, tuple[int, ...], int, int]]:
    """Variable name -> (dtype, shape, offset, size) from the bytes of a ``.index`` file."""
    if len(index) < FOOTER_BYTES or int.from_bytes(index[-8:], "little") != TABLE_MAGIC:
        raise InvalidInputError("not a TensorFlow checkpoint index (bad table footer)")
    footer = index[-FOOTER_BYTES:]
    _, position = _varint(footer, 0)  # metaindex handle: offset, size (unused)
    _, position = _varint(footer, position)
    index_handle = footer[position:]
    entries = {}
    for _, data_handle in _block_entries(_block(index, index_handle)):
        for key, value in _block_entries(_block(index, data_handle)):
            if not key:  # the bundle header
                continue
            dtype, shape, offset, size = 0, [], 0, 0
            for number, field in _fields(value):
                if number == 1:
                    dtype = field
                elif number == 2:
                    shape = [dict(_fields(dim)).get(1, 0) for n, dim in _fields(field) if n == 2]
                elif number == 4:
                    offset = field
                elif number == 5:
                    size = field
            entries[key.decode()] = (dtype, tuple(shape), offset, size)
    return entries


def read_checkpoint(prefix: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint at ``prefix`` (``prefix.index`` and ``prefix.data-00000-of-00001``;
    a directory means the files ``.index`` and ``.data-00000-of-00001`` in it).

    Raises
    ------
    InvalidInputError
        If the files are missing or are not a readable, uncompressed tensor bundle.
    """
    prefix = str(prefix) + ("/" if Path(prefix).is_dir() else "")
    index_path, data_path = Path(prefix + ".index"), Path(prefix + ".data-00000-of-00001")
    for path in (index_path, data_path):
        if not path.is_file():
            raise InvalidInputError(f"checkpoint file {str(path)!r} does not exist")
    data = data_path.read_bytes()
    tensors = {}
    for name, (dtype, shape, offset, size) in read_entries(index_path.read_bytes()).items():
        if dtype not in DTYPES:
            continue
        array = np.frombuffer(
            data,
            dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"),
            count=size // 4 if DTYPES[dtype] in (np.float32, np.int32) else size // 8,
            offset=offset,
        )
        tensors[name] = array.reshape(shape).astype(DTYPES[dtype])
    return tensors
