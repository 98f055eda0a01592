import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

let registered = false;

/**
 * Register a `Conv2DBackpropFilter` kernel for the wasm backend (which has none): the filter gradient is
 * dW = im2col(x)ᵀ · dy, with the im2col matrix built in JS on the wasm heap and the product done by the
 * wasm `BatchMatMul` kernel. NHWC only. Safe to call more than once.
 */
export function registerWasmConv2DBackpropFilter(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    registered = true;
    return;
  }
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!matMul) return;
  const config: KernelConfig = {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmBackendLike;
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'same' | 'valid' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (dataFormat === 'NCHW') throw new Error('odemor wasm Conv2DBackpropFilter supports NHWC only');
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
      const top = info.padInfo.top;
      const left = info.padInfo.left;
      const P = batchSize * outHeight * outWidth;
      const K = filterHeight * filterWidth * inChannels;
      const cols = be.makeOutput([1, P, K], 'float32');
      const colsData = be.typedArrayFromHeap(cols);
      const xData = be.typedArrayFromHeap(x);
      let p = 0;
      for (let b = 0; b < batchSize; b++) {
        const xb = b * inHeight * inWidth * inChannels;
        for (let oh = 0; oh < outHeight; oh++) {
          for (let ow = 0; ow < outWidth; ow++, p++) {
            let q = p * K;
            for (let fh = 0; fh < filterHeight; fh++) {
              const ih = oh * strideHeight + fh - top;
              for (let fw = 0; fw < filterWidth; fw++) {
                const iw = ow * strideWidth + fw - left;
                if (ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth) {
                  colsData.fill(0, q, q + inChannels);
                } else {
                  const src = xb + (ih * inWidth + iw) * inChannels;
                  for (let c = 0; c < inChannels; c++) colsData[q + c] = xData[src + c]!;
                }
                q += inChannels;
              }
            }
          }
        }
      }
      const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, P, outChannels], dtype: 'float32' };
      const out = matMul.kernelFunc({
        inputs: { a: cols, b: dy3 },
        backend,
        attrs: { transposeA: true, transposeB: false },
      }) as TensorInfo;
      be.disposeData(cols.dataId);
      return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
    },
  };
  tf.registerKernel(config);
  registered = true;
}
