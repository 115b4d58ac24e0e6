// The grade pipeline: stream records, send every (response, gold) pair to the checker pool one input batch
// at a time (so memory stays flat), write records in input order with the verdict spliced in. The loop
// around it (outputs, progress, order, cleanup) is jsonl/record-loop's, shared with decontam and classify.
import { writeOutputFile } from '../cli/output-file.js';
import { DataError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { readJsonlBatches, recordWhere, reportSkipped, runRecordLoop, withFields, type Json, type JsonlRecord, type OrderedPool } from '../jsonl/index.js';
import { CheckerPool, type PoolGrade } from '../checker/pool.js';
import { extractAnswer, type ExtractMode } from '../checker/extract.js';
import { deepseekGold, DEEPSEEK_FUNCTIONS, type DeepseekTask } from '../checker/deepseek.js';
import type { GradeContext } from '../checker/grade.js';

export interface GradeRunOptions {
  inputs: string[];
  output?: string;
  skipInvalid: boolean;
  responseField?: string;
  goldField?: string;
  extract: ExtractMode;
  /** With extract "deepseek": DeepSeek's extraction/eval pair. */
  task?: DeepseekTask;
  questionField?: string;
  ordered?: boolean;
  goldExtract: 'auto' | ExtractMode;
  symbolic: boolean;
  cas: 'ce' | 'mathjs';
  timeoutMs: number;
  workers?: number;
  correctField: string;
  extractedField: string;
  labels?: string;
  disagreements?: string;
  summary?: string;
}

const RESPONSE_FIELDS = ['response', 'completion', 'output', 'prediction', 'code'];
const GOLD_FIELDS = ['gold', 'answer', 'ground_truth', 'gt', 'target'];

function pickField(rec: JsonlRecord, explicit: string | undefined, candidates: string[], what: string): string {
  if (explicit) {
    if (!(explicit in rec.value)) throw new DataError(recordWhere(rec), `missing field "${explicit}"`);
    return explicit;
  }
  const f = candidates.find((c) => c in rec.value);
  if (!f) throw new DataError(recordWhere(rec), `no ${what} field (looked for ${candidates.join(', ')}; name it with --${what}-field)`);
  return f;
}

interface GradeInput {
  responses: string[];
  isArray: boolean;
  gold: string | null;
  ctx?: GradeContext;
}

const QUESTION_FIELDS = ['question', 'problem'];

/** A record's responses and gold answer, or a DataError naming the record. */
function gradeInput(rec: JsonlRecord, o: GradeRunOptions): GradeInput {
  const rf = pickField(rec, o.responseField, RESPONSE_FIELDS, 'response');
  const gf = pickField(rec, o.goldField, GOLD_FIELDS, 'gold');
  const rv = rec.value[rf];
  const gv = rec.value[gf];
  const goldText = typeof gv === 'number' ? String(gv) : gv;
  if (typeof goldText !== 'string') throw new DataError(recordWhere(rec), `field "${gf}" is not a string or number`);
  const responses = Array.isArray(rv) ? rv : [rv];
  if (!responses.every((x) => typeof x === 'string')) throw new DataError(recordWhere(rec), `field "${rf}" must be a string or an array of strings`);
  if (o.extract === 'deepseek') {
    // DeepSeek builds its gold from the raw field (a MATH solution's boxes, "#### N", cloze blanks).
    const qf = o.questionField ?? QUESTION_FIELDS.find((f) => typeof rec.value[f] === 'string');
    const qv = qf === undefined ? undefined : rec.value[qf];
    if (o.questionField && typeof qv !== 'string') throw new DataError(recordWhere(rec), `field "${o.questionField}" is not a string`);
    const question = typeof qv === 'string' ? qv : '';
    const task = o.task ?? 'math';
    return { responses: responses as string[], isArray: Array.isArray(rv), gold: goldText, ctx: { question, deepseekGold: deepseekGold(task, goldText, question) } };
  }
  return { responses: responses as string[], isArray: Array.isArray(rv), gold: goldAnswer(goldText, o.goldExtract), ...(o.ordered ? { ctx: { ordered: true } } : {}) };
}

/** The gold answer as written in the gold field: "#### 72" (GSM8K) and \boxed{} solutions are read. */
export function goldAnswer(text: string, mode: 'auto' | ExtractMode): string | null {
  if (mode === 'auto') {
    if (/####/.test(text)) return extractAnswer(text, 'gsm8k');
    if (/\\boxed|\\fbox/.test(text)) return extractAnswer(text, 'boxed');
    return text.trim();
  }
  return extractAnswer(text, mode);
}

function labelOf(v: Json | undefined): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && /^(true|false|0|1)$/i.test(v)) return /^(true|1)$/i.test(v);
  return null;
}

/** A record ready to grade. */
interface Gradable {
  rec: JsonlRecord;
  inp: GradeInput;
}

/** A record with its verdicts, one per response. */
interface Graded {
  rec: JsonlRecord;
  isArray: boolean;
  grades: PoolGrade[];
  /** What the verdicts compared against: DeepSeek's gold (built from the field) in deepseek mode. */
  gold: string | null;
}

/**
 * The checker pool as the record loop's ordered pool: every check of a batch is posted at once, and the
 * records come back in input order, one batch at a time (so memory stays flat).
 */
function gradingPool(pool: CheckerPool, extract: ExtractMode): OrderedPool<Gradable[], Graded> {
  return {
    async *map(batches) {
      for await (const batch of batches) {
        const pending = batch.map(({ rec, inp }) => {
          const { responses, gold } = inp;
          const grades: Promise<PoolGrade>[] = responses.map((r) =>
            gold === null ? Promise.resolve({ pred: extractAnswer(r, extract), correct: false }) : pool.grade(r, gold, inp.ctx),
          );
          const shownGold = inp.ctx?.deepseekGold === undefined ? gold : Array.isArray(inp.ctx.deepseekGold) ? inp.ctx.deepseekGold.join(', ') : inp.ctx.deepseekGold;
          return { rec, isArray: inp.isArray, grades: Promise.all(grades), gold: shownGold };
        });
        for (const p of pending) yield { ...p, grades: await p.grades };
      }
    },
    close: () => pool.close(),
  };
}

export async function runGrade(o: GradeRunOptions): Promise<void> {
  const pool = new CheckerPool({ workers: o.workers, timeoutMs: o.timeoutMs, opts: { extract: o.extract, symbolic: o.symbolic, cas: o.cas, task: o.task } });
  let grades = 0;
  let correct = 0;
  let noAnswer = 0;
  let compared = 0;
  let agree = 0;
  const t0 = performance.now();
  const { stats } = await runRecordLoop<Gradable[], Graded>({
    label: 'grade',
    inputs: o.inputs,
    output: o.output,
    side: o.disagreements,
    async *batches(stats) {
      for await (const batch of readJsonlBatches(o.inputs, { skipInvalid: o.skipInvalid, stats })) {
        yield batch.flatMap((rec) => {
          try {
            return [{ rec, inp: gradeInput(rec, o) }];
          } catch (e) {
            // Without a usable response or gold the record is a bad line like any other: skipped and counted.
            if (!o.skipInvalid || !(e instanceof DataError)) throw e;
            stats.skipped++;
            stats.records--;
            return [];
          }
        });
      }
    },
    pool: gradingPool(pool, o.extract),
    emit(p) {
      const gs = p.grades;
      grades += gs.length;
      for (const g of gs) {
        if (g.correct) correct++;
        if (g.pred === null) noAnswer++;
      }
      const side: string[] = [];
      if (o.labels) {
        const lv = p.rec.value[o.labels];
        const labels = Array.isArray(lv) ? lv.map((x) => labelOf(x)) : [labelOf(lv)];
        if (labels.length !== gs.length || labels.some((l) => l === null)) {
          throw new DataError(recordWhere(p.rec), `labels field "${o.labels}" must hold one bool or 0/1 per response`);
        }
        gs.forEach((g, k) => {
          compared++;
          if (g.correct === labels[k]) agree++;
          else if (o.disagreements) {
            const id = p.rec.value.id ?? p.rec.value.idx ?? p.rec.value.example_id ?? null;
            side.push(JSON.stringify({ where: recordWhere(p.rec), id, sample: k, extracted: g.pred, gold: p.gold, ours: g.correct, label: labels[k], timedOut: g.timedOut ?? false }));
          }
        });
      }
      const fields: Record<string, Json> = p.isArray
        ? { [o.extractedField]: gs.map((g) => g.pred), [o.correctField]: gs.map((g) => g.correct) }
        : { [o.extractedField]: gs[0]!.pred, [o.correctField]: gs[0]!.correct };
      return { out: [withFields(p.rec, fields)], side };
    },
  });
  const secs = (performance.now() - t0) / 1000;
  reportSkipped(stats);
  if (pool.timeouts) warn(`${pool.timeouts} check${pool.timeouts === 1 ? '' : 's'} timed out after ${o.timeoutMs / 1000}s and counted as incorrect`);
  const summary = {
    extract: o.extract,
    ...(o.extract === 'deepseek' ? { deepseek_task: o.task ?? 'math', deepseek_functions: DEEPSEEK_FUNCTIONS[o.task ?? 'math'] } : {}),
    records: stats.records,
    grades,
    correct,
    accuracy: grades ? correct / grades : 0,
    no_answer: noAnswer,
    timeouts: pool.timeouts,
    skipped: stats.skipped,
    seconds: secs,
    grades_per_s: secs > 0 ? grades / secs : 0,
    ...(o.labels ? { compared, agree, agreement: compared ? agree / compared : 0, disagreements: compared - agree } : {}),
  };
  if (o.summary) writeOutputFile(o.summary, JSON.stringify(summary, null, 2) + '\n');
  let line = `${o.extract === 'deepseek' ? `[deepseek ${o.task ?? 'math'}] ` : ''}${grades} grades, ${correct} correct (${(100 * summary.accuracy).toFixed(2)}%), ${noAnswer} without an answer, ${summary.grades_per_s.toFixed(0)} grades/s`;
  if (o.labels) line += `; agreement with "${o.labels}": ${agree}/${compared} (${(100 * (summary.agreement ?? 0)).toFixed(2)}%)`;
  info(line);
}
