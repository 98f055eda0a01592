import cliProgress from 'cli-progress';
import type { OdemorHooks, ProgressEvent } from '../hooks.js';

/**
 * Taps `hooks.progress` and `hooks.epoch` to show progress bars on a terminal, or one line per 25%
 * (and per epoch) when output is not a terminal (CI logs).
 */
export class ProgressReporter {
  static readonly PLUGIN_NAME = 'OdemorProgressReporter';
  private multibar?: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly lastQuarter = new Map<string, number>();
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  apply(hooks: OdemorHooks): void {
    hooks.progress.tap(ProgressReporter.PLUGIN_NAME, (e) => this.onProgress(e));
    hooks.epoch.tap(ProgressReporter.PLUGIN_NAME, async (info) => {
      this.log(
        `${info.phase} epoch ${info.epoch}/${info.epochs}: loss ${info.loss.toFixed(4)}${Number.isFinite(info.accuracy) ? `, accuracy ${(info.accuracy * 100).toFixed(1)}%` : ''}, lr ${info.lr.toPrecision(3)}${info.spectralRadius !== undefined ? `, ρ(W − Wᵀ) ${info.spectralRadius.toPrecision(3)}` : ''}, ${info.seconds.toFixed(1)} s`,
      );
    });
    hooks.evaluated.tap(ProgressReporter.PLUGIN_NAME, async (row) => {
      // a regression row reports its test MSE, a classification row its top-1 accuracy
      const metric = row.testMse !== undefined ? `test MSE ${row.testMse.toPrecision(4)}` : `top-1 ${((row.top1 ?? Number.NaN) * 100).toFixed(2)}%`;
      this.log(`evaluated ${row.method}${row.stage === 'original' || row.stage === 'compared' ? '' : `@${row.dim}`} (${row.stage}): ${metric}, ${row.wallSeconds.toFixed(3)} s, speedup ${row.speedup.toFixed(2)}×`);
    });
  }

  private log(line: string): void {
    if (this.multibar) this.multibar.log(line + '\n');
    else this.stream.write(line + '\n');
  }

  private onProgress(e: ProgressEvent): void {
    if (this.stream.isTTY) {
      this.multibar ??= new cliProgress.MultiBar(
        { format: ' {label} [{bar}] {value}/{total} {detail}', hideCursor: true, clearOnComplete: false, stream: this.stream, barsize: 30 },
        cliProgress.Presets.shades_classic,
      );
      let bar = this.bars.get(e.task);
      if (!bar) {
        bar = this.multibar.create(e.total, 0, { label: e.label.padEnd(22), detail: e.detail ?? '' });
        this.bars.set(e.task, bar);
      }
      bar.setTotal(e.total);
      bar.update(e.done, { detail: e.detail ?? '' });
      if (e.done >= e.total) {
        bar.stop();
      }
      return;
    }
    const quarter = e.total > 0 ? Math.floor((4 * e.done) / e.total) : 4;
    if ((this.lastQuarter.get(e.task) ?? -1) < quarter) {
      this.lastQuarter.set(e.task, quarter);
      if (quarter > 0) this.stream.write(`${e.label}: ${e.done}/${e.total}${e.detail ? ` ${e.detail}` : ''}\n`);
    }
  }

  stop(): void {
    this.multibar?.stop();
  }
}
