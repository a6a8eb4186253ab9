/**
 * A registry of many models, written straight into the server's database (the API would take minutes for
 * 100,000): names from a few families with versions and experiment numbers, a tag vocabulary with rare and
 * common tags, frameworks, one in ten archived, distinct update times spread over a year.
 */
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../packages/server/src/db/database.js';
import { newId } from '../../packages/server/src/util/ids.js';
import { isoDate } from '../../packages/server/src/util/time.js';
import { insertModels, type ModelSeed } from '../../packages/server/test/seed-models.js';
import type { CairnServerOptions } from './processes.js';

const FAMILIES = ['resnet50', 'resnet101', 'bert-base', 'bert-large', 'yolov8', 'unet', 'vit-b16', 'whisper-small', 'llama-7b', 'efficientnet'];
const FRAMEWORKS = ['PyTorch', 'TensorFlow', 'ONNX', 'Keras', 'scikit-learn'];
/** Tags and how often each is on a model (1 in N). */
const TAGS: [string, number][] = [
  ['baseline', 3],
  ['candidate', 5],
  ['production', 40],
  ['gold', 13],
  ['nightly', 2],
  ['ablation', 7],
  ['fp16', 4],
  ['int8', 11],
];
const ARCHIVED_EVERY = 10;
const START = Date.UTC(2025, 0, 1);

export interface SeededModel extends ModelSeed {
  project: string;
  framework: string;
}

function modelName(i: number): string {
  return `${FAMILIES[i % FAMILIES.length]}-v${(i >> 3) % 50}-exp-${String(i).padStart(6, '0')}`;
}

/** Opens the server's database from this process (its migrations have already run). */
export function openServerDatabase(options: CairnServerOptions): Promise<Db> {
  return openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, pgSchema: options.pgSchema });
}

export async function seedModels(db: Db, count: number, projects: string[]): Promise<SeededModel[]> {
  const { id: company } = await db.kysely.selectFrom('companies').select('id').executeTakeFirstOrThrow();
  const { id: user } = await db.kysely.selectFrom('users').select('id').where('company', '=', company).executeTakeFirstOrThrow();
  const seeded: SeededModel[] = [];
  const random = seededRandom(count);
  for (let i = 0; i < count; i++) {
    // Distinct update times, not in creation order (a walk by last_update is not the insert order).
    const lastUpdate = isoDate(START + ((i * 7919) % count) * 60_000 + 17);
    const tags = TAGS.filter(([, every]) => random() * every < 1).map(([tag]) => tag);
    const name = modelName(i);
    seeded.push({
      id: newId(),
      name,
      project: projects[i % projects.length]!,
      tags,
      archived: i % ARCHIVED_EVERY === 3,
      framework: FRAMEWORKS[i % FRAMEWORKS.length]!,
      created: isoDate(START + i * 1000),
      lastUpdate,
      user,
      comment: `trained on shard ${name.length % 7}`,
      uri: `http://store.example.com/${name}.bin`,
    });
  }
  await insertModels(db, company, seeded);
  // PostgreSQL's autovacuum analyzes a table this size within a minute of the load; do it now.
  if (db.dialect === 'postgres') await sql`analyze models`.execute(db.kysely);
  return seeded;
}

/** A small deterministic generator (mulberry32): the same data set on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
