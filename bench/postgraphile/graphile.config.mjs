// PostGraphile 5 over partnerhub's tables, as the benchmark's reference: the amber preset (the
// recommended one), the public schema, no authorization of any kind.
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makePgService } from 'postgraphile/adaptors/pg';

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ['public'], poolConfig: { max: 16 } })],
  grafserv: { port: Number(process.env.PORT), host: '127.0.0.1', graphiql: false },
  grafast: { explain: false },
};
