/**
 * `evaluate.adaptive` on tiny sweeps: every original, reduced and fine-tuned row gets its adaptive solves (NFE,
 * accepted and rejected steps per sample, accuracy, ratios against the original at the same rtol) and its block's
 * stiffness indicators; a model whose block is linear has the spectral radius and stiffness ratio of its matrix;
 * results.md and report.html carry the section and the NFE-ratio plot; config errors name the key before any work.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Matrix, createRng, runExperiment, saveModel, type ExperimentResults, type ModelIR } from '@odemor/core';
import { cli, tmpDir, writeConfig } from './helpers.js';

const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;

const sweep = `name: adaptive
seed: 3
dataset: { use: spirals, classes: 3, train: 200, test: 120 }
model: { use: dense-node, hidden: 10, solver: { use: rk4, dt: 0.25 } }
train: { epochs: 3, batch: 40, optimizer: adam, lr: 0.03 }
snapshots: { use: stream, every: 1 }
reducers:
  - { use: deim, dims: [3, 10] }
  - { use: svd, dims: [4] }
finetune: { epochs: 1, dims: [3] }
evaluate: { repeats: 1, batch: 60, adaptive: { rtol: [1e-3, 1e-7], samples: 90, stiffness: { trajectories: 3, points: 4 } } }
report: { use: html }
`;

describe('evaluate.adaptive', () => {
  it('measures every model of a sweep under dopri5 at each rtol, with its ratios to the original and its stiffness', async () => {
    const out = tmpDir();
    const log: string[] = [];
    const { results } = await runExperiment(writeConfig(sweep), { outDir: out, log: (l) => log.push(l) });
    const rows = results.rows;
    expect(rows.map((r) => `${r.method}@${r.dim}:${r.stage}`)).toEqual(['original@10:original', 'deim@3:reduced', 'deim@3:finetuned', 'deim@10:reduced', 'svd@4:reduced']);
    for (const r of rows) {
      expect(r.adaptive?.map((a) => a.rtol)).toEqual([1e-3, 1e-7]);
      for (const a of r.adaptive!) {
        expect(a.error).toBeUndefined();
        expect(a.solver).toBe('dopri5');
        expect(a.samples).toBe(90);
        expect(a.batch).toBe(60);
        // Dormand–Prince with FSAL: 1 + 6 (accepted + rejected) evaluations per batch solve, averaged over samples
        expect(a.nfePerSample!).toBeCloseTo(1 + 6 * (a.acceptedPerSample! + a.rejectedPerSample!), 9);
        expect(a.nfePerSample!).toBeGreaterThan(6);
        expect(a.rejectedPerSample!).toBeGreaterThanOrEqual(0);
        expect(a.top1!).toBeGreaterThan(0.2);
        expect(a.wallSeconds).toBeGreaterThan(0);
        expect(a.runtime).toBe('onnx');
      }
      // a tighter tolerance takes more evaluations
      expect(r.adaptive![1]!.nfePerSample!).toBeGreaterThan(r.adaptive![0]!.nfePerSample!);
      const s = r.stiffness!;
      expect(s.method).toBe('exact');
      expect(s.trajectories).toBe(3);
      expect(s.times).toEqual([0, 1 / 3, 2 / 3, 1]);
      expect(s.points).toBe(12);
      expect(s.spectralRadius.max).toBeGreaterThanOrEqual(s.spectralRadius.median);
      expect(s.spectralRadius.median).toBeGreaterThan(0);
    }
    const original = rows[0]!;
    for (const a of original.adaptive!) {
      expect(a.nfeRatio).toBe(1);
      expect(a.timeRatio).toBe(1);
      expect(a.relativeTop1).toBe(1);
    }
    for (const r of rows.slice(1)) {
      r.adaptive!.forEach((a, i) => {
        const o = original.adaptive![i]!;
        expect(a.nfeRatio).toBeCloseTo(a.nfePerSample! / o.nfePerSample!, 12);
        expect(a.relativeTop1).toBeCloseTo(a.top1! / o.top1!, 12);
      });
    }
    // the reduced state dimension is what J acts on
    expect(rows[1]!.stiffness!.dim).toBe(3);
    expect(rows[4]!.stiffness!.dim).toBe(10);
    // fine-tuning trained the layers after the block only: the block, and so its stiffness, is the reduced one's
    expect(rows[2]!.stiffness!.spectralRadius).toEqual(rows[1]!.stiffness!.spectralRadius);
    // results.json on disk, results.md, the report and its plot
    expect(read(out).rows[3]!.adaptive![0]!.nfePerSample).toBe(rows[3]!.adaptive![0]!.nfePerSample);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('## Adaptive solver and stiffness');
    expect(md).toMatch(/\| NFE\/sample @1e-3 \| NFE ratio @1e-3 \| rejected\/sample @1e-3 \| top-1 @1e-3 \|/);
    expect(md).toMatch(/\| original \| 10 \| original \| \d+(\.\d)? \| 1\.00× \|/);
    expect(fs.existsSync(path.join(out, 'plots', 'nfe-ratio.svg'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'plots', 'spectral-radius.svg'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<h2>Adaptive solver and stiffness</h2>');
  }, 120_000);

  it('stages: only the listed stages (and the original, the baseline) are measured; the report and tables take the rest without', async () => {
    const out = tmpDir();
    const yaml = sweep.replace('adaptive: { rtol: [1e-3, 1e-7], samples: 90, stiffness: { trajectories: 3, points: 4 } }', 'adaptive: { rtol: 1e-3, samples: 60, stages: [finetuned], stiffness: false }');
    expect(yaml).toContain('stages: [finetuned]');
    const { results } = await runExperiment(writeConfig(yaml), { outDir: out, log: () => {} });
    const measured = results.rows.filter((r) => r.adaptive).map((r) => `${r.method}@${r.dim}:${r.stage}`);
    expect(measured).toEqual(['original@10:original', 'deim@3:finetuned']);
    expect(results.rows.every((r) => r.stiffness === undefined)).toBe(true);
    expect(results.rows[2]!.adaptive![0]!.nfeRatio).toBeCloseTo(results.rows[2]!.adaptive![0]!.nfePerSample! / results.rows[0]!.adaptive![0]!.nfePerSample!, 12);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('## Adaptive solver and stiffness');
    expect(md).toMatch(/\| deim \| 3 \| finetuned \| \d+(\.\d)? \|/);
    expect(md).not.toMatch(/\| svd \| 4 \| reduced \| \d+(\.\d)? \| \d/);
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<h2>Adaptive solver and stiffness</h2>');
    // an unknown stage is a config error naming the key
    const bad = tmpDir();
    const r = await cli(['run', writeConfig(sweep.replace('samples: 90,', 'samples: 90, stages: [tuned],')), '--out', bad, '--quiet']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/evaluate\.adaptive\.stages\[0\]/);
    expect(fs.readdirSync(bad)).toEqual([]);
  }, 120_000);

  it('a model whose block is linear (identity activation): ρ and the stiffness ratio are those of its matrix A = P⁻¹ diag(−20, −4, −2, −1) P', async () => {
    const n = 4;
    const d = [-20, -4, -2, -1];
    const rng = createRng(9);
    // P = I + U with U strictly upper triangular (nilpotent): P⁻¹ = I − U + U² − U³
    const U = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) U.set(i, j, 0.8 * rng.normal());
    const I = Matrix.eye(n, n);
    const P = I.clone().add(U);
    const U2 = U.mmul(U);
    const Pinv = I.clone().sub(U).add(U2).sub(U2.mmul(U));
    expect(P.mmul(Pinv).sub(I).norm()).toBeLessThan(1e-12);
    const A = Pinv.mmul(Matrix.diag(d)).mmul(P);
    const t = (data: ArrayLike<number>, shape: number[]) => ({ shape, data: Float32Array.from(data) });
    const model: ModelIR = {
      format: 'odemor-model',
      version: 1,
      input: { kind: 'tensor', shape: [2] },
      pre: [{ type: 'dense', weight: t(Array.from({ length: 2 * n }, () => rng.normal()), [n, 2]), bias: t(new Float32Array(n), [n]) }],
      block: { kind: 'ode', n, A: { type: 'dense', weight: t(A.to1DArray(), [n, n]) }, b: t([0.1, -0.2, 0.3, 0], [n]), activation: 'identity' },
      post: [{ type: 'dense', weight: t(Array.from({ length: 3 * n }, () => rng.normal()), [3, n]), bias: t(new Float32Array(3), [3]) }],
      solver: { use: 'rk4', dt: 0.05, t0: 0, t1: 1 },
      outputs: 3,
    };
    const dir = tmpDir();
    await saveModel(path.join(dir, 'linear.odemor'), model);
    const config = `name: linear
dataset: { use: spirals, classes: 3, train: 100, test: 40 }
model: { use: dense-node, checkpoint: linear.odemor }
snapshots: { use: stream, every: 1 }
reducers: [ { use: svd, dims: [4] } ]
evaluate: { repeats: 1, adaptive: { rtol: 1e-4, samples: 40, stiffness: { trajectories: 2, points: 3 } } }
`;
    fs.writeFileSync(path.join(dir, 'config.yaml'), config);
    const { results } = await runExperiment(path.join(dir, 'config.yaml'), { outDir: path.join(dir, 'out'), log: () => {} });
    for (const r of results.rows) {
      const s = r.stiffness!;
      expect(s.method).toBe('exact');
      expect(s.points).toBe(6);
      // float32 weights: the eigenvalues to about 1e-5 relative
      expect(s.spectralRadius.median).toBeCloseTo(20, 3);
      expect(s.spectralRadius.max).toBeCloseTo(20, 3);
      expect(s.stiffnessRatio!.median).toBeCloseTo(20, 3);
      expect(s.maxReal!.max).toBeCloseTo(-1, 4);
    }
    expect(results.rows[0]!.adaptive![0]!.nfeRatio).toBe(1);
    expect(results.rows[0]!.adaptive![0]!.nfePerSample!).toBeGreaterThan(6);
  }, 60_000);

  it('config errors name the key before any work: a non-positive rtol, a solver that is not adaptive, a comparison', async () => {
    const base = `name: bad
dataset: { use: spirals, train: 100, test: 50 }
model: { use: dense-node, hidden: 8, solver: { use: rk4, dt: 0.25 } }
train: { epochs: 1 }
`;
    const fail = async (yaml: string, pattern: RegExp) => {
      const out = tmpDir();
      const r = await cli(['run', writeConfig(yaml), '--out', out, '--quiet']);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(pattern);
      expect(fs.readdirSync(out)).toEqual([]);
    };
    await fail(base + 'evaluate: { adaptive: { rtol: [1e-3, 0] } }\n', /config\.yaml:5:\d+: evaluate\.adaptive\.rtol\[1\]: must be > 0/);
    await fail(base + 'evaluate: { adaptive: { rtol: -1 } }\n', /evaluate\.adaptive\.rtol: must be > 0/);
    await fail(base + 'evaluate:\n  adaptive: { use: rk4 }\n', /config\.yaml:6:\d+: evaluate\.adaptive\.use: solver 'rk4' is not adaptive/);
    await fail(base + 'evaluate: { adaptive: { use: dopri9 } }\n', /evaluate\.adaptive\.use: .*dopri9/);
    await fail(base + 'evaluate: { adaptive: { samples: 0 } }\n', /evaluate\.adaptive\.samples/);
    await fail(base + 'evaluate: { adaptive: { stiffnes: {} } }\n', /unknown key 'stiffnes'.*did you mean 'stiffness'/);
    await fail(base + 'evaluate: { adaptive: {} }\ncompare: { solvers: [ { use: rk4 } ] }\n', /evaluate\.adaptive: .*comparison/);
  }, 60_000);
});
