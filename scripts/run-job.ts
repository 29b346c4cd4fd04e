// `npm run job -- <name>`: runs one cron job once, now, with the job's lock. See src/cli/run-job.ts.
import '../src/cli/run-job';
