import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { LinuxResources } from '../../config/types.js';
import { logger } from '../../runtime/log.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';
import { resourcesFromFlags, type UpdateFlags } from '../update-flags.js';

interface UpdateArgs extends GlobalArgs, UpdateFlags {
  id: string;
  resources: string | undefined;
}

/** runc update's flags, all read as strings: update-flags.ts parses them. */
const FLAGS: ReadonlyArray<[keyof UpdateFlags, string, { alias?: string; hidden?: boolean }?]> = [
  ['blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'],
  ['cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpu-burst', 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period'],
  ['cpu-share', 'CPU shares (relative weight vs. other containers)', { alias: 'cpu-shares' }],
  ['cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpuset-cpus', 'CPU(s) to use'],
  ['cpuset-mems', 'Memory node(s) to use'],
  ['cpu-idle', 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE'],
  ['kernel-memory', '(obsoleted; do not use)', { hidden: true }],
  ['kernel-memory-tcp', '(obsoleted; do not use)', { hidden: true }],
  ['memory', 'Memory limit (in bytes; 512m, 1g... are accepted)'],
  ['memory-reservation', 'Memory reservation or soft_limit (in bytes)'],
  ['memory-swap', "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ['pids-limit', 'Maximum number of pids allowed in the container; -1 for no limit'],
  ['l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema'],
  ['mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema'],
];

export function updateCommand(context: CliContext): CommandModule<GlobalArgs, UpdateArgs> {
  return {
    command: 'update <id>',
    describe: 'update container resource constraints',
    builder: (y) => {
      let built = y.positional('id', { type: 'string', demandOption: true }).option('resources', {
        alias: 'r',
        type: 'string',
        describe: "path to a JSON file with the linux.resources to update, or '-' for stdin; all other options are then ignored",
      });
      for (const [name, describe, extra] of FLAGS) built = built.option(name, { type: 'string', describe, ...extra });
      // Options added in a loop are not tracked by yargs' types.
      return built as unknown as Argv<UpdateArgs>;
    },
    handler: async (argv) => {
      const changes = argv.resources === undefined ? resourcesFromFlags(argv) : readResources(argv.resources, argv);
      await context.actions.update(globalOptions(argv), argv.id, changes);
    },
  };
}

/** --resources: a file, or "-" for stdin, holding a linux.resources object; like runc, it overrides every flag. */
function readResources(source: string, argv: UpdateFlags): LinuxResources {
  const ignored = FLAGS.map(([name]) => name).filter((name) => argv[name] !== undefined);
  if (ignored.length > 0) logger.warn(`--resources is given, so ${ignored.map((n) => `--${n}`).join(', ')} ${ignored.length > 1 ? 'are' : 'is'} ignored (as with runc)`);
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new Error(`--resources ${source}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--resources ${source}: not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`--resources ${source}: expected a JSON object of linux.resources ({"memory": {"limit": ...}, ...})`);
  }
  return value as LinuxResources;
}
