"""Read a token dataset exactly as Megatron-LM's _IndexReader and IndexedDataset.get do
(megatron/core/datasets/indexed_dataset.py), and print its sequences as JSON, one list per line.
Used by megatron.test.ts to check that our .bin/.idx are byte-compatible. Usage: megatron_reader.py PREFIX"""
import json
import struct
import sys

import numpy

_INDEX_HEADER = b"MMIDIDX\x00\x00"
# DType codes of Megatron's enum (uint8=1, int8=2, int16=3, int32=4, int64=5, float64=6, float32=7, uint16=8).
DTYPES = {1: numpy.uint8, 2: numpy.int8, 3: numpy.int16, 4: numpy.int32, 5: numpy.int64, 6: numpy.float64, 7: numpy.float32, 8: numpy.uint16}

prefix = sys.argv[1]
with open(prefix + ".idx", "rb") as stream:
    assert stream.read(9) == _INDEX_HEADER, "bad header"
    version = struct.unpack("<Q", stream.read(8))[0]
    assert version == 1, version
    code = struct.unpack("<B", stream.read(1))[0]
    dtype = DTYPES[code]
    sequence_count = struct.unpack("<Q", stream.read(8))[0]
    document_count = struct.unpack("<Q", stream.read(8))[0]
    offset = stream.tell()
buf = memoryview(numpy.memmap(prefix + ".idx", mode="r", order="C"))
sequence_lengths = numpy.frombuffer(buf, dtype=numpy.int32, count=sequence_count, offset=offset)
sequence_pointers = numpy.frombuffer(buf, dtype=numpy.int64, count=sequence_count, offset=offset + sequence_lengths.nbytes)
document_indices = numpy.frombuffer(
    buf, dtype=numpy.int64, count=document_count, offset=offset + sequence_lengths.nbytes + sequence_pointers.nbytes
)
assert document_indices[0] == 0 and document_indices[-1] == sequence_count, "document indices"
assert len(buf) == offset + sequence_lengths.nbytes + sequence_pointers.nbytes + document_indices.nbytes, "trailing bytes in .idx"
bin_buffer = memoryview(numpy.memmap(prefix + ".bin", mode="r", order="C"))
for length, pointer in zip(sequence_lengths, sequence_pointers):
    seq = numpy.frombuffer(bin_buffer, dtype=dtype, count=int(length), offset=int(pointer))
    print(json.dumps([int(x) for x in seq]))
