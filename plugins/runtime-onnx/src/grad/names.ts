/** Names shared by the gradient graphs (`program.ts`, `adaptive.ts`). */
/** Names of the gradient graph's extra inputs and outputs. */
export const GRADIENT_GRAPH_NAMES = {
  /** targets [batch, outputs]: one-hot labels (cross-entropy) or regression targets (mse) */
  target: 'target',
  /** scalar 1/batch (cross-entropy, l1) or 1/(batch·outputs) (mse) */
  scale: 'scale',
  /** scalar 1/(batch · steps · state size): the mean over the remainder terms (a step program that returns them) */
  remainderScale: 'remainderScale',
  loss: 'loss',
  logits: 'logits',
  /** mean |R| over steps, batch and state (a step program that returns remainders) */
  remainderAbsMean: 'remainderAbsMean',
} as const;
