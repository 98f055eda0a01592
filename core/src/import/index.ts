export * from './safetensors.js';
export * from './torch.js';
export * from './map.js';
