/** The sizes every decoder-only language model config has (TransformerLens names), shared by GPT-2 and the Llama family. */

/** Decoder-only language model dimensions and special ids. */
export interface DecoderLmDims {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dHead: number;
  dMlp: number;
  /** Context length (`n_positions` / `max_position_embeddings`). */
  nCtx: number;
  dVocab: number;
  bosTokenId?: number;
  eosTokenId?: number;
}
