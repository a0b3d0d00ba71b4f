/** The part of the `jasmine` runner package (no bundled types) that run-suite.ts uses. */
declare module 'jasmine' {
  export default class Jasmine {
    constructor(opts?: { globals?: boolean });
    exitOnCompletion: boolean;
    jasmine: { DEFAULT_TIMEOUT_INTERVAL: number };
    env: {
      configure(opts: Record<string, unknown>): void;
      clearReporters(): void;
      addReporter(reporter: Record<string, (...args: never[]) => void>): void;
    };
    execute(files?: string[]): Promise<unknown>;
  }
}
