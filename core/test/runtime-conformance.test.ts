import { it } from 'vitest';
import { runtimeConformance } from '@odemor/conformance';
import { TfjsRuntime } from '@odemor/core';

runtimeConformance(it, () => new TfjsRuntime());
