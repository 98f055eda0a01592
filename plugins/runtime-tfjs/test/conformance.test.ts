import { it } from 'vitest';
import { runtimeConformance } from '@odemor/conformance';
import { TfjsRuntime } from '../src/index.js';

runtimeConformance(it, () => new TfjsRuntime());
