import { it } from 'vitest';
import { runtimeConformance } from '@odemor/conformance';
import { OnnxRuntime } from '../src/index.js';

runtimeConformance(it, () => new OnnxRuntime({ threads: 1 }));
