/** The local stack's public surface (one entry point: tests/setup/global.ts loads it in one go). */
export * from './stack.ts';
export * from './handler.ts';
export * from './queue.ts';
export type { SnsMessage } from './sns.ts';
