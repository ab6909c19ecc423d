/**
 * zod, as the functions use it: zod/mini (the same core and checks as classic zod, without its
 * per-schema method tables), so a Lambda's cold start does not pay classic zod's load (issue 17:
 * cold import of the ingest bundle). Issues keep classic zod's English messages: the locale classic
 * zod installs on first use is installed here.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
