/**
 * The webgpu tier runs test/gpu only: this brings in the async-read checks of test/unit/backend/async-reads.test.ts
 * (they run on the tier's backend, webgpu here, where a synchronous read of a GPU tensor has no OffscreenCanvas).
 */
import '../unit/backend/async-reads.test.js';
