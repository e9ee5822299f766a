/**
 * The miner's state as bytes (UTF-8 JSON) for `PersistentState`. The runner adds the
 * checksum and replaces the file atomically; this module only checks that a payload that
 * passed the checksum also makes sense, and throws (so that the runner starts empty) when it
 * does not.
 */
import { z } from 'zod';
import { isTemplateId } from './template-id';
import type { MinerState } from './template-miner';

export const SNAPSHOT_FORMAT = 'olp.classify.templates';
/** 2 added per-slot word counts (`slots`); version-1 snapshots still load (their shapes have none). */
export const SNAPSHOT_VERSION = 2;

const id = z.string().refine(isTemplateId, 'not a template id');

const schema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    version: z.union([z.literal(1), z.literal(SNAPSHOT_VERSION)]),
    families: z.array(z.object({ text: z.string() }).strict()),
    shapes: z.array(
      z
        .object({
          tokens: z.array(z.string()).min(0),
          seps: z.array(z.string()),
          count: z.number().int().min(0),
          family: z.number().int().min(0),
          slots: z.array(z.tuple([z.number().int().min(0), z.array(z.tuple([z.string(), z.number().int().min(0)])).min(1), z.number().int().min(1)])).optional(),
        })
        .strict(),
    ),
    aliases: z.array(z.tuple([id, id])),
  })
  .strict()
  .superRefine((s, ctx) => {
    s.shapes.forEach((shape, i) => {
      if (shape.seps.length !== shape.tokens.length + 1) ctx.addIssue({ code: 'custom', path: ['shapes', i, 'seps'], message: 'must have one more entry than tokens' });
      if (shape.family >= s.families.length) ctx.addIssue({ code: 'custom', path: ['shapes', i, 'family'], message: 'no such family' });
      shape.slots?.forEach((slot, k) => {
        if (slot[0] >= shape.tokens.length) ctx.addIssue({ code: 'custom', path: ['shapes', i, 'slots', k], message: 'no such position' });
      });
    });
  });

export function encodeSnapshot(state: MinerState): Uint8Array {
  return Buffer.from(JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, ...state }), 'utf8');
}

/** Parses and validates a snapshot; throws an Error saying what is wrong. */
export function decodeSnapshot(data: Uint8Array): MinerState {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (e) {
    throw new Error(`template snapshot is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`invalid template snapshot at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}
