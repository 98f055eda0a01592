import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { htmlReportOptionsSchema } from '../src/index.js';

describe('the option schema', () => {
  it('takes file and markPoints, nothing else', async () => {
    expect(htmlReportOptionsSchema.safeParse({}).success).toBe(true);
    expect(htmlReportOptionsSchema.safeParse({ file: 'r.html', markPoints: 0 }).success).toBe(true);
    expect(htmlReportOptionsSchema.safeParse({ markPoints: 2.5 }).success).toBe(false);
    expect(htmlReportOptionsSchema.safeParse({ fil: 'r.html' }).success).toBe(false);
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Report', 'html')?.options).toBe(htmlReportOptionsSchema);
  });
});
