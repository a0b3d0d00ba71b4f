/** Reply shapes of the explorer API (kept in step with lib/explore/api-*.ts, whose types they import). */
export type { LensGrid, TokenTrace } from '../../lib/explore/api-lens.js';
export type { PatternReply, HeadScoresReply } from '../../lib/explore/api-attention.js';
export type { PatchingReply } from '../../lib/explore/api-patching.js';
export type { SaturationReply } from '../../lib/explore/api-saturation.js';
export type { ShortcutsView, ProbeLogView } from '../../lib/explore/api-uploads.js';
export type { VitLensReply } from '../../lib/explore/api-vit.js';
export type { WhisperLensReply } from '../../lib/explore/api-whisper.js';

/** `GET /api/info`. */
export interface Info {
  model: string;
  backend: string;
  nLayers: number;
  nHeads: number;
  dVocab: number;
  nCtx: number;
  /** The image view's ViT, when the server has one. */
  vit?: { model: string; nLayers: number; numLabels: number; imageSize: [number, number]; patchSize: number } | null;
  /** The audio view's Whisper, when the server has one. */
  whisper?: { model: string; nLayers: number; tokenizer: boolean; decoderStartTokenId: number } | null;
}

/** Data of a static snapshot (the demo report): what the views show without a server. */
export interface Snapshot {
  title: string;
  info: Info;
  lens: { text: string; grid: import('../../lib/explore/api-lens.js').LensGrid };
  heads: import('../../lib/explore/api-attention.js').HeadScoresReply;
  pattern: import('../../lib/explore/api-attention.js').PatternReply;
  /** Extra paragraphs (plain text) shown above the views. */
  notes: string[];
}
