// fastText's test metrics (Meter): precision and recall at k over all examples, and per-label
// precision, recall and F1 over the predictions made at k (and threshold).
export interface LabelMetrics {
  label: string;
  gold: number;
  predicted: number;
  correct: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface TestReport {
  examples: number;
  k: number;
  threshold: number;
  precision: number | null;
  recall: number | null;
  labels: LabelMetrics[];
}

export class Meter {
  examples = 0;
  private gold = 0;
  private predicted = 0;
  private correct = 0;
  private readonly perGold: number[];
  private readonly perPred: number[];
  private readonly perCorrect: number[];

  constructor(private readonly labelNames: string[]) {
    this.perGold = labelNames.map(() => 0);
    this.perPred = labelNames.map(() => 0);
    this.perCorrect = labelNames.map(() => 0);
  }

  log(gold: number[], predicted: number[]): void {
    this.examples++;
    this.gold += gold.length;
    this.predicted += predicted.length;
    for (const p of predicted) {
      this.perPred[p]++;
      if (gold.includes(p)) {
        this.perCorrect[p]++;
        this.correct++;
      }
    }
    for (const g of gold) this.perGold[g]++;
  }

  report(k: number, threshold: number, prefix: string): TestReport {
    const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
    const labels = this.labelNames.map((name, i) => {
      const precision = ratio(this.perCorrect[i], this.perPred[i]);
      const recall = ratio(this.perCorrect[i], this.perGold[i]);
      const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
      return {
        label: name.startsWith(prefix) ? name.slice(prefix.length) : name,
        gold: this.perGold[i],
        predicted: this.perPred[i],
        correct: this.perCorrect[i],
        precision,
        recall,
        f1,
      };
    });
    return {
      examples: this.examples,
      k,
      threshold,
      precision: ratio(this.correct, this.predicted),
      recall: ratio(this.correct, this.gold),
      labels,
    };
  }
}
