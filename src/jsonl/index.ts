export * from './read.js';
export * from './write.js';
export { readLineBatches, decodeLine, lineText, type Line, type LineStats } from './lines.js';
export { readBytes, totalSize, displayName, STDIN } from './input.js';
export { runRecordLoop, type RecordLoop, type OrderedPool, type Emitted, type LoopEnd } from './record-loop.js';
