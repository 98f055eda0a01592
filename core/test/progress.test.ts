import { describe, expect, it } from 'vitest';
import { EpochMeter, duration, trainProgressDetail } from '../src/util/progress.js';

describe('training progress line', () => {
  it('formats durations', () => {
    expect(duration(7)).toBe('7s');
    expect(duration(75)).toBe('1m15s');
    expect(duration(4000)).toBe('1h06m');
    expect(duration(Number.NaN)).toBe('?');
  });

  it('estimates the time left from the batches this process did, not those of a run it resumed', () => {
    const base = { epoch: 22, epochs: 30, loss: 0.24, accuracy: 0.93, samples: 1280, seconds: 10 };
    // 9849 batches were done before the resume; this process did 1 of them in 10 s; 4220 are left
    const resumed = trainProgressDetail({ ...base, done: 9850, total: 14070, elapsed: 10, doneHere: 1 });
    expect(resumed).toContain('ETA 11h43m'); // 4220 × 10 s
    // without doneHere every done batch counts as this process's own (a fresh run)
    const fresh = trainProgressDetail({ ...base, done: 10, total: 20, elapsed: 10 });
    expect(fresh).toContain('ETA 10s');
    expect(fresh).toContain('128 samples/s');
  });

  it('EpochMeter counts a resumed run\'s earlier batches toward done only', () => {
    const meter = new EpochMeter('train', 2, 4, 2);
    meter.begin(1, 0.1);
    const line = meter.batch(0.5, 3, 4);
    expect(line).toMatch(/^epoch 2\/2 loss 0\.5000 acc 75\.0% /);
    expect(meter.done).toBe(3);
    const info = meter.end();
    expect(info).toMatchObject({ epoch: 2, epochs: 2, loss: 0.5, accuracy: 0.75, lr: 0.1, phase: 'train' });
  });
});
