// The Huffman tree of hierarchical softmax, built exactly as fastText builds it (HierarchicalSoftmaxLoss::
// buildTree) so that a fastText hs model's output rows mean the same internal nodes here.
export interface HsTree {
  /** For each label: internal-node rows (output matrix rows) from leaf to root, and the branch bits. */
  paths: Int32Array[];
  codes: Uint8Array[];
  left: Int32Array;
  right: Int32Array;
  nlabels: number;
}

export function buildTree(counts: number[]): HsTree {
  const osz = counts.length;
  const n = 2 * osz - 1;
  const parent = new Int32Array(n).fill(-1);
  const left = new Int32Array(n).fill(-1);
  const right = new Int32Array(n).fill(-1);
  const count = new Float64Array(n).fill(1e15);
  const binary = new Uint8Array(n);
  for (let i = 0; i < osz; i++) count[i] = counts[i];
  let leaf = osz - 1;
  let node = osz;
  for (let i = osz; i < n; i++) {
    const mini = [0, 0];
    for (let j = 0; j < 2; j++) {
      if (leaf >= 0 && count[leaf] < count[node]) mini[j] = leaf--;
      else mini[j] = node++;
    }
    left[i] = mini[0];
    right[i] = mini[1];
    count[i] = count[mini[0]] + count[mini[1]];
    parent[mini[0]] = i;
    parent[mini[1]] = i;
    binary[mini[1]] = 1;
  }
  const paths: Int32Array[] = [];
  const codes: Uint8Array[] = [];
  for (let i = 0; i < osz; i++) {
    const p: number[] = [];
    const c: number[] = [];
    for (let j = i; parent[j] !== -1; j = parent[j]) {
      p.push(parent[j] - osz);
      c.push(binary[j]);
    }
    paths.push(Int32Array.from(p));
    codes.push(Uint8Array.from(c));
  }
  return { paths, codes, left, right, nlabels: osz };
}
