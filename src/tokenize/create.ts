// Opening an output dataset, with the failure reported as an I/O error (exit 74) naming the file.
import { IoError } from '../cli/errors.js';
import { IndexedDatasetWriter, type TokenDType } from '../dataset/indexed.js';

export function createDataset(prefix: string, dtype: TokenDType): IndexedDatasetWriter {
  try {
    return IndexedDatasetWriter.create(prefix, dtype);
  } catch (e) {
    throw new IoError(`cannot write ${prefix}.bin: ${(e as Error).message}`);
  }
}
